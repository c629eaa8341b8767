"""colorize: automatic colorization of greyscale photos with a BiGRU fusion network (TensorFlow / Keras 3)."""
__version__ = "0.1.0"

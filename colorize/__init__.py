"""colorize: automatic colorization of greyscale photos with a BiGRU fusion network (TensorFlow / Keras 3).

    import colorize
    colorizer = colorize.load_pretrained()
    rgb = colorizer.colorize("old_photo.jpg")   # uint8 (H, W, 3), same size as the input
    colorize.save(rgb, "colour.jpg", like="old_photo.jpg")   # its EXIF, ICC, XMP and DPI kept

Importing the package has no side effects: it sets no environment variables, touches no file descriptor or
logger and starts no threads. The names below are imported when first used (``colorize._lazy``, the same door as
every room's), so that ``import colorize`` (and the command line's ``--help``) does not load TensorFlow.
"""
from colorize._lazy import lazy_door
from colorize._version import __version__  # noqa: F401 (public: colorize.__version__)

_NAMES = {
    "Colorizer": "pipeline", "load_pretrained": "pipeline", "save": "pipeline", "list_presets": "presets",
    "build_model": "model", "build_question_block_fixed": "model", "train": "training",
    "rgb_to_lab": "color", "lab_to_rgb": "color", "Config": "config", "load_config": "config",
    "ColorizeError": "errors", "InputError": "errors", "ConfigError": "errors", "WeightsError": "errors",
    "TrainingError": "errors", "WriteError": "errors", "OutputExistsError": "errors",
    "ReferenceReport": "errors",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

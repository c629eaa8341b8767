"""Exporting a ``Colorizer`` for serving: a SavedModel of the whole pipeline, or a TFLite model of the network.

``export_savedmodel`` writes a SavedModel whose ``serving_default`` signature takes a uint8 image (H, W, C) of
any size, C = 1 (grey; also 2, grey + alpha) or 3 (also 4, RGBA; alpha dropped), and returns the colorized
uint8 (H, W, 3): Lab conversion, resize and pad, network, readout, upsampling and Lab -> RGB all run in the
graph, through the very ``tf.function``s that ``Colorizer.colorize`` calls. Decoding files stays outside.

``export_tflite`` writes the network alone: scaled L (1, S, S, 1) float32 in, ab in Lab units (1, S, S, 2) out
(the readout of the Colorizer, regression or annealed, included). Pre- and post-processing are the caller's.

Both write atomically (``colorize.io.atomic``: a temporary path next to the target, then a rename) and refuse to
replace an existing path unless ``overwrite=True`` (``colorize.OutputExistsError``); an unwritable target is a
``colorize.WriteError`` naming it. Even with ``overwrite=True`` a folder is replaced only if it is a SavedModel
or empty: anything else in it is a user's, never deleted (``colorize.WriteError``).
"""
from pathlib import Path

import tensorflow as tf

from colorize._internals import freeze_variables
from colorize.errors import WriteError
from colorize.io import writing

SIGNATURE_KEY = "serving_default"
SAVEDMODEL_ENTRIES = {"saved_model.pb", "saved_model.pbtxt", "variables", "assets", "assets.extra", "fingerprint.pb",
                      "keras_metadata.pb"}  # what tf.saved_model.save (and Keras) put in the folder


class _ServingModule(tf.Module):
    def __init__(self, colorizer):
        super().__init__(name="colorizer")
        self._colorizer = colorizer
        self.model = colorizer.model  # tracked, so that its variables are saved with the graph

        @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.uint8, name="image")])
        def serve(image):
            channels = tf.shape(image)[-1]
            tf.debugging.assert_greater(channels, 0, message="the image needs at least one channel")
            rgb = tf.cond(channels < 3,
                          lambda: tf.tile(image[..., :1], [1, 1, 3]),   # grey (or grey + alpha)
                          lambda: image[..., :3])                        # RGB (or RGBA)
            rgb = tf.cast(rgb, tf.float32) / 255.0
            l_scaled, lightness, h, w = colorizer.preprocessor.prepare_fn(rgb)
            ab = colorizer.network_fn(l_scaled[None], None, h[None], w[None])[0]
            return {"rgb": colorizer.postprocessor.finish_fn(lightness, ab, h, w)}

        self.serve = serve


def serving_module(colorizer):
    """The ``tf.Module`` that ``export_savedmodel`` saves; ``module.serve(uint8 image)`` -> {"rgb": uint8}."""
    return _ServingModule(colorizer)


def export_savedmodel(colorizer, path, overwrite=False):
    """Save the full pipeline of ``colorizer`` as a SavedModel folder at ``path`` (see the module docstring)."""
    if overwrite:
        _check_replaceable(Path(path))
    module = serving_module(colorizer)
    with writing(path, overwrite, directory=True) as tmp:
        tf.saved_model.save(module, str(tmp), signatures={SIGNATURE_KEY: module.serve})
    return Path(path)


def _check_replaceable(path):
    """With overwrite: refuse a folder that is neither a SavedModel nor empty (``-o ~/Documents --overwrite`` must
    not delete the documents)."""
    if not path.is_dir() or path.is_symlink():
        return
    try:
        entries = sorted(p.name for p in path.iterdir())
    except OSError as err:
        raise WriteError(f"{path} cannot be read ({err.strerror or err}); pass another path") from None
    others = [n for n in entries if n not in SAVEDMODEL_ENTRIES]
    if others or (entries and not {"saved_model.pb", "saved_model.pbtxt"} & set(entries)):
        shown = ", ".join(others[:3] or entries[:3]) + (", ..." if len(others or entries) > 3 else "")
        raise WriteError(f"{path} is a folder that is not a SavedModel (it holds {shown}); overwrite replaces only a "
                         "SavedModel folder or an empty one: pass another path")


def tflite_bytes(colorizer):
    """The network of ``colorizer`` as a TFLite flatbuffer: scaled L (1, S, S, 1) -> ab (1, S, S, 2)."""
    size = colorizer.config.input_size

    @tf.function(input_signature=[tf.TensorSpec([1, size, size, 1], tf.float32, name="l_scaled")])
    def network(l_scaled):
        # Traced at batch 1, every shape in the GRU loops is static, which TFLite needs to lower them to builtin
        # ops (no Flex delegate required). The readout's cast is estimated on the whole canvas.
        return {"ab": colorizer.network_fn(l_scaled)}

    # Variables folded into constants, those read inside the GRUs' while loops included, which the TFLite
    # converter would otherwise leave as READ_VARIABLE ops that fail at run time.
    frozen = freeze_variables(network.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter.convert()


def export_tflite(colorizer, path, overwrite=False):
    """Write the network of ``colorizer`` as a ``.tflite`` file at ``path`` (see the module docstring)."""
    with writing(path, overwrite) as tmp:  # an existing or unwritable path is refused before converting
        tmp.write_bytes(tflite_bytes(colorizer))
    return Path(path)

"""Exporting a ``Colorizer`` for serving: a SavedModel of the whole pipeline, or a TFLite model of the network.

``export_savedmodel`` writes a SavedModel whose ``serving_default`` signature takes a uint8 image (H, W, C) of
any size, C = 1 (grey; also 2, grey + alpha) or 3 (also 4, RGBA; alpha dropped), and returns the colorized
uint8 (H, W, 3): Lab conversion, resize and pad, network, readout, upsampling and Lab -> RGB all run in the
graph, through the very ``tf.function``s that ``Colorizer.colorize`` calls. Decoding files stays outside.

``export_tflite`` writes the network alone: scaled L (1, S, S, 1) float32 in, ab in Lab units (1, S, S, 2) out
(the readout of the Colorizer, regression or annealed, included). Pre- and post-processing are the caller's.

Both write atomically (a temporary path next to the target, then a rename) and refuse to replace an existing
path unless ``overwrite=True``.
"""
import os
import shutil
import tempfile
from pathlib import Path

import tensorflow as tf

from .errors import InputError

SIGNATURE_KEY = "serving_default"


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


def _check_target(path, overwrite):
    path = Path(path)
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise InputError(f"{path} already exists; pass overwrite=True (--overwrite on the command line)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the folder {path.parent} ({err})") from err
    return path


def _move_into_place(tmp, path):
    """Rename ``tmp`` to ``path``; an existing ``path`` (file or folder) is replaced with no moment lacking one."""
    if path.is_dir() and not path.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        os.replace(path, old / path.name)
        try:
            os.replace(tmp, path)
        except BaseException:
            os.replace(old / path.name, path)
            raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def _write_atomically(path, overwrite, write, is_dir):
    path = _check_target(path, overwrite)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    target = tmp if is_dir else tmp / path.name
    try:
        write(target)
        _move_into_place(target, path)
    except InputError:
        raise
    except Exception as err:
        raise InputError(f"cannot write {path} ({type(err).__name__}: {err}); check that the folder is "
                         "writable and the disk is not full") from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def serving_module(colorizer):
    """The ``tf.Module`` that ``export_savedmodel`` saves; ``module.serve(uint8 image)`` -> {"rgb": uint8}."""
    return _ServingModule(colorizer)


def export_savedmodel(colorizer, path, overwrite=False):
    """Save the full pipeline of ``colorizer`` as a SavedModel folder at ``path`` (see the module docstring)."""
    module = serving_module(colorizer)

    def write(target):
        tf.saved_model.save(module, str(target), signatures={SIGNATURE_KEY: module.serve})
    return _write_atomically(path, overwrite, write, is_dir=True)


def tflite_bytes(colorizer):
    """The network of ``colorizer`` as a TFLite flatbuffer: scaled L (1, S, S, 1) -> ab (1, S, S, 2)."""
    # TensorFlow's own helper (no public alias): it folds variables into constants, those read inside the
    # GRUs' while loops included, which the TFLite converter would otherwise leave as READ_VARIABLE ops that
    # fail at run time.
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    size = colorizer.config.input_size

    @tf.function(input_signature=[tf.TensorSpec([1, size, size, 1], tf.float32, name="l_scaled")])
    def network(l_scaled):
        # Traced at batch 1, every shape in the GRU loops is static, which TFLite needs to lower them to builtin
        # ops (no Flex delegate required). The readout's cast is estimated on the whole canvas.
        return {"ab": colorizer.network_fn(l_scaled)}

    frozen = convert_variables_to_constants_v2(network.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter.convert()


def export_tflite(colorizer, path, overwrite=False):
    """Write the network of ``colorizer`` as a ``.tflite`` file at ``path`` (see the module docstring)."""
    data = tflite_bytes(colorizer)

    def write(target):
        with open(target, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return _write_atomically(path, overwrite, write, is_dir=False)

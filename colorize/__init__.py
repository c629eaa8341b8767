"""colorize: automatic colorization of greyscale photos with a BiGRU fusion network (TensorFlow / Keras 3).

    import colorize
    colorizer = colorize.load_pretrained()
    rgb = colorizer.colorize("old_photo.jpg")   # uint8 (H, W, 3), same size as the input
    colorize.save(rgb, "colour.jpg", like="old_photo.jpg")   # its EXIF, ICC, XMP and DPI kept

Importing the package has no side effects: it sets no environment variables and starts no threads, and the
names below (and the submodules) are imported when first used, so that ``import colorize`` (and the command
line's ``--help``) does not load TensorFlow. When that first use imports TensorFlow, its start-up log lines are
held back (``colorize._lazy``; set ``TF_CPP_MIN_LOG_LEVEL`` yourself to see them).
"""
import importlib
import importlib.util
import os
import typing

from colorize._lazy import first_tensorflow_import as _first_tensorflow_import
from colorize._version import __version__  # noqa: F401 (public: colorize.__version__)

_PUBLIC = {
    "Colorizer": "pipeline", "load_pretrained": "pipeline", "save": "pipeline", "list_presets": "presets",
    "build_model": "model", "build_question_block_fixed": "model",
    "rgb_to_lab": "color", "lab_to_rgb": "color", "Config": "config", "load_config": "config",
    "ColorizeError": "errors", "InputError": "errors", "ConfigError": "errors", "WeightsError": "errors",
    "TrainingError": "errors", "WriteError": "errors", "OutputExistsError": "errors",
    "ReferenceReport": "errors",
}

if typing.TYPE_CHECKING:  # for type checkers only: importing them here would load TensorFlow
    from colorize.config import Config

__all__ = [
    "Colorizer", "load_pretrained", "save", "list_presets", "build_model", "build_question_block_fixed",
    "rgb_to_lab", "lab_to_rgb", "Config", "load_config", "train",
    "ColorizeError", "InputError", "ConfigError", "WeightsError", "TrainingError", "WriteError", "OutputExistsError",
    "ReferenceReport",
]


def __getattr__(name):
    if name in _PUBLIC:
        with _first_tensorflow_import():  # TensorFlow's start-up lines held back, as on the command line
            value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        with _first_tensorflow_import():
            return importlib.import_module(f".{name}", __name__)  # colorize.color etc. without importing it first
    raise AttributeError(f"module 'colorize' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


def train(config: "Config", workdir: "str | os.PathLike", **kwargs) -> dict:
    """Train a model from a ``Config`` in ``workdir`` (resumes from its checkpoints); returns the run record. See
    colorize.training.train for the options."""
    with _first_tensorflow_import():
        from colorize.training import train as _train
    return _train(config, workdir, **kwargs)

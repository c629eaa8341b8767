"""colorize: automatic colorization of greyscale photos with a BiGRU fusion network (TensorFlow / Keras 3).

    import colorize
    colorizer = colorize.load_pretrained()
    rgb = colorizer.colorize("old_photo.jpg")   # uint8 (H, W, 3), same size as the input
"""
__version__ = "0.1.0"

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter is not for users

from .color import lab_to_rgb, rgb_to_lab
from .config import Config, load_config
from .errors import ColorizeError, ConfigError, InputError, TrainingError, WeightsError
from .model import build_model
from .predict import Colorizer, load_pretrained
from .presets import list_presets
from .question_block import build_question_block_fixed

__all__ = [
    "Colorizer", "load_pretrained", "list_presets", "build_model", "build_question_block_fixed",
    "rgb_to_lab", "lab_to_rgb", "Config", "load_config", "train",
    "ColorizeError", "InputError", "ConfigError", "WeightsError", "TrainingError",
]


def train(config, workdir, **kwargs):
    """Train a model from a ``Config`` in ``workdir`` (resumes from its checkpoints). See colorize.training.train."""
    from .training import train as _train
    return _train(config, workdir, **kwargs)

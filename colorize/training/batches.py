"""What a training or validation batch is, and the one place where its RGB becomes the network's (L, ab) pair.

The built-in pipelines (``colorize.data``) yield ``{"rgb", "position"}`` dicts (float RGB in [0, 1], and where each
image was in the stream), with a ``"label"`` too when the model has a class head; a user's own stream may yield float
RGB or (scaled L, scaled ab) pairs instead. The conversion runs here,
inside the training step, so the Lab maths runs on the accelerator and not on the input pipeline's host CPU.
"""
import tensorflow as tf

from colorize import data
from colorize.model import bins

# XLA fuses the conversion's few dozen element-wise ops into one pass over the pixels (docs/benchmarks.md).
_to_training_pair_fused = tf.function(data.to_training_pair, jit_compile=True)


def as_training_pair(batch):
    """A batch -> (scaled L, scaled ab): RGB batches are converted, (L, ab) pairs pass through, dict batches
    give their RGB's pair."""
    if isinstance(batch, dict):
        batch = batch["rgb"]
    if isinstance(batch, (tuple, list)):
        return tuple(batch)
    return _to_training_pair_fused(batch)


def labels_of(batch):
    """The class labels of a dict batch that has them, else None."""
    return batch.get("label") if isinstance(batch, dict) else None


def model_inputs(model_config, l, hint_channels=None, palette=None):
    """The network's input for scaled L: L itself, or [L, hint channels] (no hints: zeros) for a hint model, and
    the palette (none: zeros) for a palette model."""
    if not model_config.hints:
        return l
    if hint_channels is None:
        hint_channels = tf.zeros(tf.concat([tf.shape(l)[:-1], [3]], 0), l.dtype)
    if not model_config.palette:
        return [l, hint_channels]
    if palette is None:
        palette = tf.zeros([tf.shape(l)[0], bins.num_bins() + 1], l.dtype)
    return [l, hint_channels, palette]

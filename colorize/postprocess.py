"""The pipeline's last step: the network's outputs -> a full-resolution uint8 RGB photo.

Readout (the heads -> one ab image, the cast estimated on the photo's own area, never the canvas's padding) ->
upsampling of ab to the photo's size, guided by its full-resolution L (or bilinear) -> hints honoured at full
resolution, if any -> Lab -> sRGB uint8 with gamut fitting, in XLA-compiled chunks (``colorize.per_pixel``).
"""
import numpy as np
import tensorflow as tf

from . import hints as hint_lib
from . import upsample
from .errors import InputError
from .per_pixel import coefficients_to_rgb8
from .readout import Readout

UPSAMPLERS = ("bilinear", "guided")


def photo_area(heights, widths, size):
    """(B, size, size, 1) float mask: 1 on each photo's top-left ``heights[i]`` x ``widths[i]`` box of the canvas."""
    idx = tf.range(size)
    rows = idx[None, :] < heights[:, None]
    cols = idx[None, :] < widths[:, None]
    return tf.cast(rows[:, :, None, None] & cols[:, None, :, None], tf.float32)


class Postprocessor:
    """Model outputs -> ab on the canvas (``read``, batched) -> uint8 RGB at full resolution (``finish``)."""

    def __init__(self, input_size, readout="regression", upsampling="guided"):
        if upsampling not in UPSAMPLERS:
            raise InputError(f"upsampling must be one of {UPSAMPLERS}, got {upsampling!r}")
        self.input_size = input_size
        self.readout = readout if isinstance(readout, Readout) else Readout(kind=readout)
        self.upsampling = upsampling
        size = input_size
        box = [tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)]
        self._finish = tf.function(self.finish_fn, input_signature=[
            tf.TensorSpec([None, None, 1]), tf.TensorSpec([size, size, 2]), *box])
        self._upsample = tf.function(self.upsample, input_signature=[
            tf.TensorSpec([None, None, 1]), tf.TensorSpec([size, size, 2]), *box])
        self._to_rgb = tf.function(self.to_rgb, input_signature=[
            tf.TensorSpec([None, None, 1]), tf.TensorSpec([None, None, 4])])

    def read(self, outputs, heights=None, widths=None, hinted=None):
        """Model outputs dict -> ab (B, S, S, 2) in Lab units; ``heights``/``widths`` (B,) are the photos' boxes
        on the canvas (None: the whole canvas is photo); ``hinted`` (B,) marks photos given colour hints, whose
        colour cast is theirs to keep."""
        area = None if heights is None else photo_area(heights, widths, self.input_size)
        return self.readout(outputs, self.input_size, area, hinted)

    def upsample(self, lightness, ab, h, w):
        """ab on the canvas (S, S, 2), cropped to the box h, w -> coefficients (H, W, 4) at the size of
        ``lightness``: ab = c[..., :2] * L + c[..., 2:] (guided filter; for bilinear, the first two are 0)."""
        ab_small = ab[None, :h, :w]
        if self.upsampling == "guided":
            l_small = tf.image.resize(lightness[None], tf.stack([h, w]), method="area", antialias=True)
            small = tf.concat(upsample.guided_coefficients(ab_small, l_small), axis=-1)
        else:
            small = tf.concat([tf.zeros_like(ab_small), ab_small], axis=-1)
        return upsample.bilinear(small, tf.shape(lightness)[:2])[0]  # one resize for all four channels

    def to_rgb(self, lightness, coefficients):
        """L (H, W, 1) and coefficients (H, W, 4) -> uint8 RGB (H, W, 3), gamut fitted."""
        return coefficients_to_rgb8(lightness, coefficients)

    def finish_fn(self, lightness, ab, h, w):
        """The traceable ``finish`` without hints (used inside exported graphs too)."""
        return self.to_rgb(lightness, self.upsample(lightness, ab, h, w))

    def finish(self, lightness, ab, h, w, hints=()):
        """L (H, W, 1), ab on the canvas (S, S, 2) and the box -> uint8 RGB (H, W, 3) as a numpy array; parsed
        ``hints`` (``colorize.hints.Hint``) are honoured at full resolution (``colorize.hints.enforce``)."""
        if not hints:
            return self._finish(lightness, ab, h, w).numpy()
        coefficients = self._upsample(lightness, ab, h, w).numpy()
        coefficients = hint_lib.enforce(coefficients, np.asarray(lightness), hints, self.input_size)
        return self._to_rgb(lightness, tf.constant(coefficients)).numpy()

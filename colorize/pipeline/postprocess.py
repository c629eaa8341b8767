"""The pipeline's last step: the network's outputs -> a full-resolution uint8 RGB photo.

Readout (the heads -> one ab image, the cast estimated on the photo's own area, never the canvas's padding) ->
upsampling of ab to the photo's size, guided by its full-resolution L (or bilinear) -> hints honoured at full
resolution, if any -> Lab -> sRGB uint8 with gamut fitting, in XLA-compiled kernels (``colorize.pipeline.per_pixel``).

``finish`` resizes the upsampling's coefficients across the columns once, at the network's few rows, and
interpolates the rows from them just as TensorFlow's bilinear resize does (same weights, same float32 operations),
so the photo's full-resolution coefficients (16 bytes a pixel) never exist: without hints, inside the per-tile
kernel that also makes the RGB (``per_pixel.finish_tiles``); with hints, a strip of rows at a time, each strip
honouring the hints whose windows meet it
(``colorize.pipeline.hint_enforcement.enforce``), with the same bits as on the whole photo.
"""

import numpy as np
import tensorflow as tf

from colorize.errors import InputError
from colorize.pipeline import upsample
from colorize.pipeline.hint_enforcement import enforce
from colorize.pipeline.per_pixel import coefficients_to_rgb8, finish_tiles, row_strips
from colorize.pipeline.readout import Readout
from colorize.pipeline.saturation import check_saturation

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
        self._across = tf.function(self.upsample_across, input_signature=[
            tf.TensorSpec([None, None, 1]), tf.TensorSpec([size, size, 2]), *box])
        self._across_small = tf.function(self.across_from_small, input_signature=[
            tf.TensorSpec([None, None, 1]), tf.TensorSpec([size, size, 2]), *box, tf.TensorSpec([], tf.int32)])
        rows = [tf.TensorSpec([None, None, 4]), tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None])]
        self._finish_strip = tf.function(self.strip_to_rgb, input_signature=[tf.TensorSpec([None, None, 1]), *rows])
        self._strip_coefficients = tf.function(self.strip_coefficients, input_signature=rows)
        self._upsample = tf.function(self.upsample, input_signature=[
            tf.TensorSpec([None, None, 1]), tf.TensorSpec([size, size, 2]), *box])
        self._to_rgb = tf.function(self.to_rgb, input_signature=[
            tf.TensorSpec([None, None, 1]), tf.TensorSpec([None, None, 4])])

    def tracing_count(self):
        """How often the compiled whole-photo steps were traced, the most of any (1 however many image sizes)."""
        return max(f.experimental_get_tracing_count() for f in (
            self._finish, self._across, self._across_small, self._upsample, self._to_rgb, self._strip_coefficients))

    def read(self, outputs, heights=None, widths=None, hinted=None):
        """Model outputs dict -> ab (B, S, S, 2) in Lab units; ``heights``/``widths`` (B,) are the photos' boxes
        on the canvas (None: the whole canvas is photo); ``hinted`` (B,) marks photos given colour hints, whose
        colour cast is theirs to keep."""
        area = None if heights is None else photo_area(heights, widths, self.input_size)
        return self.readout(outputs, self.input_size, area, hinted)

    def coefficients(self, lightness, ab, h, w, small=False):
        """ab on the canvas (S, S, 2), cropped to the box h, w -> the coefficients (1, h, w, 4) at that size, for
        ab = c[..., :2] * L + c[..., 2:] (guided filter against ``lightness`` brought to h x w, or given at that
        size with ``small``; for bilinear, the first two are 0)."""
        ab_small = ab[None, :h, :w]
        if self.upsampling == "guided":
            l_small = lightness[None] if small else tf.image.resize(lightness[None], tf.stack([h, w]), method="area",
                                                                    antialias=True)
            return tf.concat(upsample.guided_coefficients(ab_small, l_small), axis=-1)
        return tf.concat([tf.zeros_like(ab_small), ab_small], axis=-1)

    def upsample(self, lightness, ab, h, w):
        """ab on the canvas (S, S, 2), cropped to the box h, w -> coefficients (H, W, 4) at the size of
        ``lightness`` (see ``coefficients``)."""
        small = self.coefficients(lightness, ab, h, w)
        return upsample.bilinear(small, tf.shape(lightness)[:2])[0]  # one resize for all four channels

    def upsample_across(self, lightness, ab, h, w):
        """The coefficients resized to the photo's width only: (h, W, 4); ``strip_to_rgb`` does the rows."""
        small = self.coefficients(lightness, ab, h, w)
        return upsample.bilinear(small, tf.stack([h, tf.shape(lightness)[1]]))[0]

    def across_from_small(self, small_lightness, ab, h, w, width):
        """As ``upsample_across`` for a photo ``width`` pixels wide, from its L at the box's size (h, w, 1)."""
        small = self.coefficients(small_lightness, ab, h, w, small=True)
        return upsample.bilinear(small, tf.stack([h, width]))[0]

    def strip_coefficients(self, across, lower, upper, weight):
        """``upsample_across``'s (h, W, 4) -> the coefficients of a strip of R rows (R, W, 4): each row is
        ``across[lower] + (across[upper] - across[lower]) * weight`` (``row_weights``), as the bilinear resize
        computes it."""
        top, bottom = tf.gather(across, lower), tf.gather(across, upper)
        return top + (bottom - top) * weight[:, None, None]

    def strip_to_rgb(self, lightness, across, lower, upper, weight):
        """L of a strip of rows (R, W, 1) and ``upsample_across``'s (h, W, 4) -> uint8 RGB (R, W, 3) (see
        ``strip_coefficients``)."""
        return self.to_rgb(lightness, self.strip_coefficients(across, lower, upper, weight))

    def to_rgb(self, lightness, coefficients):
        """L (H, W, 1) and coefficients (H, W, 4) -> uint8 RGB (H, W, 3), gamut fitted."""
        return coefficients_to_rgb8(lightness, coefficients)

    def finish_fn(self, lightness, ab, h, w):
        """The traceable ``finish`` without hints (used inside exported graphs too)."""
        return self.to_rgb(lightness, self.upsample(lightness, ab, h, w))

    def finish(self, lightness, ab, h, w, hints=(), saturation=1.0, small_lightness=None):
        """L (H, W, 1), ab on the canvas (S, S, 2) and the box -> uint8 RGB (H, W, 3) as a numpy array; parsed
        ``hints`` (``colorize.pipeline.hints.Hint``) are honoured at full resolution (``hint_enforcement.enforce``);
        with hints, a photo larger than ``per_pixel.STRIP_PIXELS`` is finished a strip of rows at a time.
        ``saturation`` (``check_saturation``) multiplies the chroma (ab) of the result before the gamut fitting;
        lightness is untouched and 0 gives the grey photo. ``small_lightness``: L at the box's size (h, w, 1), if
        the caller has it (unstretched), saves a pass over the full-resolution L."""
        saturation = np.float32(check_saturation(saturation))
        if saturation == 0:  # the grey photo: R = G = B exactly (a = b = 0 alone leaves 1/255 of float error)
            rgb = self.finish(lightness, np.zeros([self.input_size, self.input_size, 2], np.float32), h, w,
                              small_lightness=small_lightness)
            return np.round(rgb.mean(axis=-1, keepdims=True)).astype(np.uint8).repeat(3, axis=-1)
        if not hints:  # the upsampling is linear in ab: scaling the canvas's ab scales the photo's ab
            ab = np.asarray(ab, np.float32) * saturation
            height, width = (int(n) for n in lightness.shape[:2])
            if small_lightness is None:
                across = self._across(lightness, ab, h, w).numpy()
            else:
                across = self._across_small(small_lightness, ab, h, w, width).numpy()
            return finish_tiles(lightness, across, *row_weights(across.shape[0], height), self.input_size)
        lightness = lightness if isinstance(lightness, tf.Tensor) else tf.convert_to_tensor(lightness, tf.float32)
        height, width = (int(n) for n in lightness.shape[:2])
        strips = row_strips(height, width)
        if len(strips) == 1:
            coefficients = self._upsample(lightness, ab, h, w).numpy()
            coefficients = enforce(coefficients, lightness, hints, self.input_size) * saturation
            return self._to_rgb(lightness, coefficients).numpy()
        across = self._across(lightness, ab, h, w)
        lower, upper, weight = row_weights(int(across.shape[0]), height)
        out = np.empty((height, width, 3), np.uint8)
        for start, stop in strips:
            rows = (across, lower[start:stop], upper[start:stop], weight[start:stop])
            coefficients = enforce(self._strip_coefficients(*rows).numpy(), lightness, hints,
                                   self.input_size, start) * saturation
            out[start:stop] = self._to_rgb(lightness[start:stop], coefficients).numpy()
        return out


def row_weights(rows, height):
    """TensorFlow's bilinear resize (half-pixel centres) of ``rows`` rows to ``height``: for each output row the
    two input rows and the weight of the second, in the float32 arithmetic of its kernel."""
    scale = np.float32(rows) / np.float32(height)
    position = (np.arange(height, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    floor = np.floor(position)
    lower = np.maximum(floor, 0).astype(np.int32)
    upper = np.minimum(np.ceil(position), rows - 1).astype(np.int32)
    return lower, upper, (position - floor).astype(np.float32)

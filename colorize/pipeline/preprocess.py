"""The pipeline's first step: a decoded RGB photo -> its full-resolution L and L at the network's input size.

The network runs at its fixed input size on the photo's L channel, resized with its aspect ratio kept (``fit =
"pad"``: the rest of the square canvas repeats the edge pixels) or stretched to the square (``"squash"``).
``Prepared.height`` / ``.width`` give the photo's own box on the canvas (top-left), which the readout and the
upsampling use so that the padding never counts as part of the photo.

A faded photo's L is stretched for the network (``prints.stretch_lightness``); a scan's border is found
(``prints.find_border``) and left out: the network then sees the photo inside it (``Prepared.frame``), while
``Prepared.lightness`` stays the whole input's own L.
"""
import typing

import tensorflow as tf

from colorize import color
from colorize import io as imageio
from colorize.errors import InputError
from colorize.pipeline import per_pixel, prints
from colorize.pipeline.per_pixel import full_resolution_lightness

FITS = ("pad", "squash")


class Prepared(typing.NamedTuple):
    """One photo, ready for the network: ``l_input`` (S, S, 1) scaled L on the canvas; ``lightness`` (H, W, 1)
    the photo's L in Lab units; ``box`` (h, w) the photo's extent on the canvas (int32 scalars); ``frame``: the
    border found or given (``prints.Frame``), whose inside alone is on the canvas, or None."""
    l_input: tf.Tensor
    lightness: tf.Tensor
    box_height: tf.Tensor
    box_width: tf.Tensor
    frame: prints.Frame | None = None

    @property
    def height(self):
        return int(self.lightness.shape[0])

    @property
    def width(self):
        return int(self.lightness.shape[1])


class Preprocessor:
    """Decode-checked RGB (H, W, 3) float32 in [0, 1] -> ``Prepared``; ``load`` decodes and checks any input."""

    def __init__(self, input_size, fit="pad", max_pixels=imageio.MAX_FILE_PIXELS):
        if fit not in FITS:
            raise InputError(f"fit must be one of {FITS}, got {fit!r}")
        self.input_size, self.fit, self.max_pixels = input_size, fit, max_pixels
        self._prepare = tf.function(self.prepare_fn, input_signature=[tf.TensorSpec([None, None, 3], tf.float32)])
        self._from_lightness = tf.function(self.from_lightness,
                                           input_signature=[tf.TensorSpec([None, None, 1], tf.float32)])

    def tracing_count(self):
        """How often the compiled whole-photo steps were traced, the most of either (1 however many image sizes)."""
        return max(self._prepare.experimental_get_tracing_count(),
                   self._from_lightness.experimental_get_tracing_count())

    def load(self, image, name=None):
        """A path, PIL image or array -> float32 RGB (H, W, 3) (see ``colorize.io.images.load_rgb``)."""
        return imageio.load_rgb(image, name=name, max_pixels=self.max_pixels)

    def decode(self, image, name=None):
        """As ``load``, but the samples stay as decoded (uint8, uint16 or float32 RGB; ``imageio.load_array``): a
        quarter of the memory for 8-bit photos, and ``__call__`` takes them as they are."""
        return imageio.load_array(image, name=name, max_pixels=self.max_pixels)

    def __call__(self, rgb, border=False):
        """RGB (H, W, 3) (array or tensor): float32 in [0, 1], or uint8 / uint16 as ``decode`` gives it ->
        ``Prepared`` (its ``lightness`` a numpy array), L made from the samples as they are, a tile at a time
        (``per_pixel.lightness``: no float copy of the photo). ``border``: True finds a border and leaves it out of
        the network's input, a ``prints.Frame`` gives it; False (or none found): the whole photo, as it was."""
        lightness = per_pixel.lightness(rgb)
        l_input, h, w = self._from_lightness(lightness)
        prepared = Prepared(l_input, lightness, h, w)
        frame = border if isinstance(border, prints.Frame) else \
            prints.find_border(lightness) if border else None
        if frame is None:
            return prepared
        l_input, h, w = self._from_lightness(prepared.lightness[frame.top:frame.bottom, frame.left:frame.right])
        return Prepared(l_input, prepared.lightness, h, w, frame)

    def prepare_fn(self, rgb):
        """The traceable body of ``__call__`` for float32 RGB, in one piece (also inside exported graphs)."""
        lightness = full_resolution_lightness(rgb)
        l_input, h, w = self.from_lightness(lightness)
        return l_input, lightness, h, w

    def from_lightness(self, lightness):
        """Full-resolution L (H, W, 1) -> scaled L on the network's canvas (S, S, 1) and the box h, w (a faded
        photo's L stretched: ``prints.stretch_lightness``)."""
        padded, h, w = self.shrink(lightness)
        return color.scale_l(prints.stretch_lightness(padded, h, w)), h, w

    def shrink(self, lightness):
        """Full-resolution L (H, W, 1) -> L at the network size (S, S, 1), edge-padded, and the box h, w."""
        size = self.input_size
        shape = tf.shape(lightness)
        if self.fit == "squash":
            h = w = tf.constant(size)
        else:
            longest = tf.cast(tf.maximum(shape[0], shape[1]), tf.float32)
            h = tf.maximum(1, tf.cast(tf.round(tf.cast(shape[0], tf.float32) * size / longest), tf.int32))
            w = tf.maximum(1, tf.cast(tf.round(tf.cast(shape[1], tf.float32) * size / longest), tf.int32))
        small = tf.image.resize(lightness, tf.stack([h, w]), method="area", antialias=True)
        rows = tf.minimum(tf.range(size), h - 1)
        cols = tf.minimum(tf.range(size), w - 1)
        padded = tf.gather(tf.gather(small, rows, axis=0), cols, axis=1)
        return padded, h, w

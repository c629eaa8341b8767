"""``Colorizer``: from any image (path, PIL image, array) to a same-size colour image.

The network runs at its fixed input size on the photo's L channel, resized with its aspect ratio kept and the
rest padded by repeating edge pixels. The predicted ab is cropped back, brought up to full resolution and joined
with the photo's own full-resolution L, so no detail is lost. Everything after decoding runs in TensorFlow ops.

Speed: the per-pixel colour work at full resolution (L of the photo; ab = a * L + b, Lab -> sRGB with gamut
fitting, rounding to uint8) runs in XLA-compiled kernels on fixed-size chunks of pixels (``_per_pixel``), each
fused into one loop; fixed shapes mean they compile once per process, not once per image size, and the
``tf.function``s around them have fixed signatures, so nothing retraces for a new image size either.
"""
import numpy as np
import tensorflow as tf

from . import color, imageio, upsample
from .config import ModelConfig
from .errors import InputError, WeightsError
from .model import build_model
from .presets import get_preset
from .readout import Readout
from .weights_io import load_weights

UPSAMPLERS = ("bilinear", "guided")
FIT_ITERATIONS = 8       # bisection steps of the gamut fitting (see color.fit_chroma_to_gamut)
_CHUNK = 2 ** 16         # pixels per kernel call over the whole image
_FIT_CHUNK = 2 ** 14     # pixels per kernel call of the gamut fitting, which sees only out-of-gamut pixels


def _per_pixel(kernel, inputs, out_spec, chunk):
    """``kernel`` (jit-compiled for inputs (chunk, c_i) -> outputs ``out_spec``, shapes without the chunk axis) run
    on the n pixels of ``inputs`` ((n, c_i) each), ``chunk`` at a time, the last chunk zero padded."""
    n = tf.shape(inputs[0])[0]
    m = (n + chunk - 1) // chunk
    chunks = tuple(tf.reshape(tf.pad(x, [[0, m * chunk - n], [0, 0]]), [m, chunk, x.shape[-1]]) for x in inputs)
    signature = tf.nest.map_structure(lambda s: tf.TensorSpec([chunk, *s.shape], s.dtype), out_spec)
    out = tf.map_fn(lambda xs: kernel(*xs), chunks, fn_output_signature=signature, parallel_iterations=2)
    return tf.nest.map_structure(lambda o, s: tf.reshape(o, [m * chunk, *s.shape])[:n], out, out_spec)


_lightness_kernel = tf.function(color.rgb_to_lightness, jit_compile=True)


def _rgb8(lightness, coefficients, fit_iterations):
    l = lightness[:, 0]
    a = coefficients[:, 0] * l + coefficients[:, 2]
    b = coefficients[:, 1] * l + coefficients[:, 3]
    return color.lab_to_rgb8(l, a, b, fit_iterations)


_rgb8_clipped_kernel = tf.function(lambda l, c: _rgb8(l, c, 0), jit_compile=True)
_rgb8_fitted_kernel = tf.function(lambda l, c: _rgb8(l, c, FIT_ITERATIONS), jit_compile=True)
_RGB8_SPEC = (tf.TensorSpec([3], tf.uint8), tf.TensorSpec([], tf.bool))


def full_resolution_lightness(rgb):
    """RGB (H, W, 3) in [0, 1] -> L (H, W, 1), as ``color.rgb_to_lightness``, in XLA-compiled chunks."""
    lightness = _per_pixel(_lightness_kernel, [tf.reshape(rgb, [-1, 3])], tf.TensorSpec([1]), _CHUNK)
    return tf.reshape(lightness, tf.concat([tf.shape(rgb)[:2], [1]], 0))


def coefficients_to_rgb8(lightness, coefficients, fit_gamut=True):
    """L (H, W, 1) and per-pixel coefficients (H, W, 4) = (a_a, a_b, b_a, b_b), giving ab = a * L + b -> uint8
    RGB (H, W, 3): ``color.lab_to_rgb`` of ``color.fit_chroma_to_gamut`` (or clipped, without ``fit_gamut``).

    A first pass converts every pixel, clipped, and finds those out of gamut; only they go through the
    bisection, in a second pass."""
    l, coefficients = tf.reshape(lightness, [-1, 1]), tf.reshape(coefficients, [-1, 4])
    rgb, inside = _per_pixel(_rgb8_clipped_kernel, [l, coefficients], _RGB8_SPEC, _CHUNK)
    if fit_gamut:
        outside = tf.where(~inside)
        fitted, _ = _per_pixel(_rgb8_fitted_kernel, [tf.gather_nd(l, outside), tf.gather_nd(coefficients, outside)],
                               _RGB8_SPEC, _FIT_CHUNK)
        rgb = tf.tensor_scatter_nd_update(rgb, outside, fitted)
    return tf.reshape(rgb, tf.concat([tf.shape(lightness)[:2], [3]], 0))


class Colorizer:
    """Colorizes images with one network. Build it with ``load_pretrained`` or ``Colorizer.from_weights``."""

    def __init__(self, model, config, readout="regression", upsampling="guided", fit="pad",
                 max_pixels=imageio.DEFAULT_MAX_PIXELS, name="model"):
        """``readout``: a ``colorize.readout.Readout``, or its kind (regression, annealed, restrained)."""
        readout = readout if isinstance(readout, Readout) else Readout(kind=readout)
        if upsampling not in UPSAMPLERS:
            raise ValueError(f"upsampling must be one of {UPSAMPLERS}, got {upsampling!r}")
        if fit not in ("pad", "squash"):
            raise ValueError(f"fit must be 'pad' or 'squash', got {fit!r}")
        if readout.needs_bins and not config.bins_head:
            raise ValueError(f"readout {readout.kind!r} needs a model with bins_head")
        self.model, self.config, self.name = model, config, name
        self.readout, self.upsampling, self.fit = readout, upsampling, fit
        self.max_pixels = max_pixels
        size = config.input_size
        self._prepare = tf.function(self._prepare_fn, input_signature=[tf.TensorSpec([None, None, 3], tf.float32)])
        self._network = tf.function(self._network_fn, input_signature=[tf.TensorSpec([None, size, size, 1])])
        self._finish = tf.function(self._finish_fn, input_signature=[
            tf.TensorSpec([None, None, 1]), tf.TensorSpec([size, size, 2]), tf.TensorSpec([], tf.int32),
            tf.TensorSpec([], tf.int32)])

    @classmethod
    def from_weights(cls, path, config, sha256, **kwargs):
        """A Colorizer for your own ``.weights.h5`` (checked against ``sha256``) and its ``ModelConfig``."""
        config = getattr(config, "model", config)
        model = build_model(config)
        load_weights(model, path, sha256, f"model {config}")
        return cls(model, config, name=str(path), **kwargs)

    # -- the pipeline, in TensorFlow ops ------------------------------------------------------------------
    def _prepare_fn(self, rgb):
        lightness = full_resolution_lightness(rgb)
        padded, h, w = self._shrink_fn(lightness)
        return color.scale_l(padded), lightness, h, w

    def _shrink_fn(self, lightness):
        """Full-resolution L (H, W, 1) -> L at the model size (S, S, 1), edge-padded, and its unpadded h, w."""
        size = self.config.input_size
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

    def _network_fn(self, l_scaled):
        return self.readout(self.model(l_scaled, training=False), self.config.input_size)

    def _finish_fn(self, lightness, ab, h, w):
        return self._to_rgb_fn(lightness, self._upsample_fn(lightness, ab, h, w))

    def _upsample_fn(self, lightness, ab, h, w):
        """ab at the model size (S, S, 2), cropped to h, w -> coefficients (H, W, 4) at the size of ``lightness``:
        ab = coefficients[..., :2] * L + coefficients[..., 2:] (guided filter; for bilinear, the first two are 0)."""
        ab_small = ab[None, :h, :w]
        if self.upsampling == "guided":
            l_small = tf.image.resize(lightness[None], tf.stack([h, w]), method="area", antialias=True)
            small = tf.concat(upsample.guided_coefficients(ab_small, l_small), axis=-1)
        else:
            small = tf.concat([tf.zeros_like(ab_small), ab_small], axis=-1)
        return upsample.bilinear(small, tf.shape(lightness)[:2])[0]  # one resize for all four channels

    def _to_rgb_fn(self, lightness, coefficients):
        """L (H, W, 1) and the coefficients of ``_upsample_fn`` (H, W, 4) -> uint8 RGB (H, W, 3), gamut fitted."""
        return coefficients_to_rgb8(lightness, coefficients)

    # -- the public calls ---------------------------------------------------------------------------------
    def colorize(self, image, name=None):
        """Colorize one image: a path, a PIL image or an array ((H,W), (H,W,1), (H,W,3) or (H,W,4); uint8, or
        float in [0, 1]). Returns a uint8 (H, W, 3) RGB array of the same height and width."""
        return self.colorize_batch([image], names=None if name is None else [name])[0]

    def colorize_batch(self, images, batch_size=16, names=None):
        """Colorize a list of images, running the network on up to ``batch_size`` of them at a time."""
        if isinstance(images, np.ndarray) and images.ndim == 4:
            images = list(images)
        if len(images) == 0:
            raise InputError("empty batch: pass at least one image to colorize_batch")
        results = []
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            chunk_names = names[start:start + batch_size] if names else [None] * len(chunk)
            prepared = [self._prepare(self.load(image, name)) for image, name in zip(chunk, chunk_names)]
            ab = self._network(tf.stack([p[0] for p in prepared])).numpy()
            results += [self._finish(p[1], ab_i, p[2], p[3]).numpy() for p, ab_i in zip(prepared, ab)]
        return results

    def load(self, image, name=None):
        """Decode and check an input image (see ``colorize.imageio.load_rgb``) -> float32 (H, W, 3)."""
        return imageio.load_rgb(image, name=name, max_pixels=self.max_pixels)


def load_pretrained(name=None, **kwargs):
    """The Colorizer of a registered preset (default: the shipped 64x64 BiGRU fusion model), weights verified."""
    preset = get_preset(name)
    config = preset.model_config
    if preset.weights_path is None:
        raise WeightsError(f"preset {preset.name!r} has no trained weights yet; train one with "
                           f"scripts/train.py --config {preset.recipe} and use Colorizer.from_weights")
    model = build_model(config)
    load_weights(model, preset.weights_path, preset.sha256, f"preset {preset.name!r}")
    options = dict(kwargs)
    kind = options.get("readout") or preset.readout.get("kind", "regression")
    if isinstance(kind, str):  # a kind names the preset's tuned parameters with that kind
        options["readout"] = Readout(**{**preset.readout, "kind": kind})
    return Colorizer(model, config, name=preset.name, **options)

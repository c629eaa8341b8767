"""The per-pixel colour work at full resolution, in XLA-compiled kernels run on fixed-size chunks of pixels.

L of the photo, then ab = a * L + b, Lab -> sRGB with gamut fitting and rounding to uint8: each kernel is fused
into one loop, and the fixed chunk shapes mean it compiles once per process, not once per image size.

A photo larger than ``STRIP_PIXELS`` is worked on a strip of rows at a time (``row_strips``,
``lightness_in_strips``), so the memory it takes beyond its input and output is that of one strip, not of the
photo: a pixel's result does not depend on which strip or chunk it is in, so the output is the same, bit for bit.
"""
import numpy as np
import tensorflow as tf

from colorize import color
from colorize import io as imageio

FIT_ITERATIONS = 8       # bisection steps of the gamut fitting (see color.fit_chroma_to_gamut)
_CHUNK = 2 ** 16         # pixels per kernel call over the whole image
STRIP_PIXELS = 2 ** 21   # pixels per strip of a larger photo worked on at once (~100 MB of temporaries)
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


def row_strips(height, width, pixels=None):
    """``(start, stop)`` row ranges of about ``pixels`` (default ``STRIP_PIXELS``) pixels each, covering ``height``
    rows of ``width`` pixels."""
    rows = max(1, (pixels or STRIP_PIXELS) // max(1, width))
    return [(y, min(height, y + rows)) for y in range(0, height, rows)]


_lightness_strip = tf.function(full_resolution_lightness, input_signature=[tf.TensorSpec([None, None, 3])])


def lightness_in_strips(rgb):
    """Decoded RGB (H, W, 3): uint8, uint16 or float32 in [0, 1] (``imageio.load_array``; array or tensor) ->
    L (H, W, 1) float32 tensor, as ``full_resolution_lightness``, converted to float a strip at a time."""
    rgb = rgb.numpy() if isinstance(rgb, tf.Tensor) else np.asarray(rgb)
    strips = [_lightness_strip(imageio.to_float(rgb[start:stop])) for start, stop in row_strips(*rgb.shape[:2])]
    return strips[0] if len(strips) == 1 else tf.concat(strips, axis=0)

"""sRGB <-> CIE Lab (D65, 2 degree observer) in TensorFlow ops, and the L/ab scaling the network uses.

This module is the only place in the package that converts colour. The formulas and constants match
``skimage.color.rgb2lab`` / ``lab2rgb`` so that results can be checked against scikit-image.
Every function accepts any number of leading batch dimensions and works eagerly, inside ``tf.data`` and
under ``tf.function``. ``rgb_to_lightness``, ``samples_to_lightness`` and ``lab_to_rgb8`` use elementwise ops
only, so that under XLA (``jit_compile=True``) each compiles to one loop over the pixels: ``Colorizer`` runs them
that way. The last two are the full-resolution forms: the sRGB curves as polynomials and the cube root by Newton's
method (multiply-adds, where ``exp(p log x)`` costs two transcendental functions and a table lookup a gather, both
several times slower under XLA on a CPU), within 0.002 of L and 0.003 of an 8-bit level of the exact formulas.
"""
import numpy as np
import tensorflow as tf

# Network scaling: L in [0, 100] -> [-1, 1]; ab -> ab / AB_SCALE so tanh outputs cover the sRGB gamut.
L_CENTER = 50.0
L_SCALE = 50.0
AB_SCALE = 110.0

_XYZ_FROM_RGB = [[0.412453, 0.357580, 0.180423],
                 [0.212671, 0.715160, 0.072169],
                 [0.019334, 0.119193, 0.950227]]
_WHITE_D65 = [0.95047, 1.0, 1.08883]
_EPSILON = 0.008856  # (6/29)**3, as rounded by scikit-image
_KAPPA_SLOPE = 7.787
# Linear RGB from (f^-1(fx), f^-1(fy), f^-1(fz)): the inverse of _XYZ_FROM_RGB with the white point folded in.
_RGB_FROM_F = (np.linalg.inv(np.array(_XYZ_FROM_RGB)) * np.array(_WHITE_D65)).tolist()
_GAMUT_TOLERANCE = 1e-4


def _polynomial(fn, low, degree):
    """Coefficients (highest power first) of the least-squares polynomial of ``fn`` on [low, 1]."""
    x = np.linspace(low, 1.0, 20001)
    fit = np.polynomial.Chebyshev.fit(x, fn(x), degree).convert(kind=np.polynomial.Polynomial)
    return [float(c) for c in fit.coef[::-1]]


# sRGB -> linear above its linear toe, in the sample value; linear -> 255 * sRGB above the toe, in linear ** (1/4)
# (smooth there, where linear ** (1/2.4) itself is not): errors 2e-6 and 0.003 of a level.
_DECODE = _polynomial(lambda c: ((c + 0.055) / 1.055) ** 2.4, 0.04045, 8)
_ENCODE = _polynomial(lambda q: 255.0 * (1.055 * q ** (4 / 2.4) - 0.055), 0.0031308 ** 0.25, 6)


def _as_float(x):
    x = tf.convert_to_tensor(x)
    if x.dtype.is_integer:
        raise TypeError("colour conversion needs float input in [0, 1]; divide uint8 images by 255 first")
    return tf.cast(x, tf.float32) if x.dtype != tf.float64 else x


def _mat(rows, dtype):
    return tf.constant(rows, dtype=dtype)


# One (pixels, 3) x (3, 3) matmul rather than a matvec broadcast over the pixels, and exp(p log x) rather than a
# fractional tf.pow: both far faster on CPU (figures in docs/benchmarks.md, "Why the code looks as it does").
def _apply(matrix, x):
    """``matrix`` (3, 3) applied to the colour vector of every pixel of ``x`` (..., 3)."""
    return tf.reshape(tf.matmul(tf.reshape(x, [-1, 3]), matrix, transpose_b=True), tf.shape(x))


def _pow(x, exponent):
    """x ** exponent for x > 0."""
    return tf.exp(exponent * tf.math.log(x))


def _srgb_to_linear(rgb):
    return tf.where(rgb > 0.04045, _pow((tf.maximum(rgb, 0.04045) + 0.055) / 1.055, 2.4), rgb / 12.92)


def _f(t):
    """Lab's f(t) = t^(1/3), linear near 0."""
    return tf.where(t > _EPSILON, _pow(tf.maximum(t, _EPSILON), 1.0 / 3.0), _KAPPA_SLOPE * t + 16.0 / 116.0)


def rgb_to_lab(rgb: tf.Tensor | np.ndarray) -> tf.Tensor:
    """sRGB in [0, 1], shape (..., 3) -> Lab, shape (..., 3): L in [0, 100], a and b roughly in [-110, 110]."""
    rgb = _as_float(rgb)
    linear = _srgb_to_linear(rgb)
    xyz = _apply(_mat(_XYZ_FROM_RGB, rgb.dtype), linear) / tf.constant(_WHITE_D65, rgb.dtype)
    fx, fy, fz = tf.unstack(_f(xyz), axis=-1)
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def _horner(x, coefficients):
    out = coefficients[0]
    for c in coefficients[1:]:
        out = out * x + c
    return out


def _cbrt(x):
    """x ** (1/3) for x > 0 in float32: a guess from the exponent bits, two Newton steps (relative error ~1e-6)."""
    guess = tf.bitcast(tf.bitcast(x, tf.int32) // 3 + 709921077, tf.float32)
    for _ in range(2):
        guess = guess - (guess * guess * guess - x) / (3.0 * guess * guess)
    return guess


def samples_to_lightness(rgb):
    """RGB samples (..., 3): uint8, uint16 (full range) or float in [0, 1] -> L of Lab (...), float32; as
    ``rgb_to_lightness`` within 0.002 (the fast form: polynomial sRGB curve, Newton cube root)."""
    rgb = tf.convert_to_tensor(rgb)
    scale = {tf.uint8: 1 / 255, tf.uint16: 1 / 65535}.get(rgb.dtype, 1.0)
    c = tf.cast(rgb, tf.float32) * scale
    linear = tf.where(c > 0.04045, _horner(c, _DECODE), c / 12.92)
    weights = _XYZ_FROM_RGB[1]  # white Y is 1
    y = weights[0] * linear[..., 0] + weights[1] * linear[..., 1] + weights[2] * linear[..., 2]
    return tf.where(y > _EPSILON, 116.0 * _cbrt(tf.maximum(y, _EPSILON)) - 16.0, 116.0 * _KAPPA_SLOPE * y)


def rgb_to_lightness(rgb):
    """sRGB in [0, 1], shape (..., 3) -> L of Lab, shape (..., 1): ``rgb_to_lab(rgb)[..., :1]`` without a and b
    (L depends on Y alone)."""
    rgb = _as_float(rgb)
    linear = _srgb_to_linear(rgb)
    r, g, b = tf.split(linear, 3, axis=-1)
    y = _XYZ_FROM_RGB[1][0] * r + _XYZ_FROM_RGB[1][1] * g + _XYZ_FROM_RGB[1][2] * b  # white Y is 1
    return 116.0 * _f(y) - 16.0


def _f_inverse(f):
    f3 = f * f * f
    return tf.where(f3 > _EPSILON, f3, (f - 16.0 / 116.0) / _KAPPA_SLOPE)


def _lab_to_linear_channels(l, a, b):
    """L, a, b (same shapes) -> [R, G, B] linear, elementwise ops only (under XLA, one loop)."""
    fy = (l + 16.0) / 116.0
    x = _f_inverse(fy + a / 500.0)
    y = _f_inverse(fy)
    z = _f_inverse(tf.maximum(fy - b / 200.0, 0.0))
    return [m[0] * x + m[1] * y + m[2] * z for m in _RGB_FROM_F]


def _lab_to_linear(lab):
    l, a, b = tf.unstack(lab, axis=-1)
    return tf.stack(_lab_to_linear_channels(l, a, b), axis=-1)


def _in_gamut(l, a, b):
    ok = None
    for c in _lab_to_linear_channels(l, a, b):
        inside = (c >= -_GAMUT_TOLERANCE) & (c <= 1.0 + _GAMUT_TOLERANCE)
        ok = inside if ok is None else ok & inside
    return ok


def _chroma_scale(l, a, b, iterations):
    """The largest scale of (a, b) in [0, 1] on the bisection grid that keeps the colour inside sRGB (1 where the
    colour is inside already); elementwise ops only. Bisection kept as one array: the lower end, to which step i
    adds 2^-(i+1) where that stays inside (the midpoint of an interval that is 2^-i wide)."""
    def step(i, low):
        candidate = low + tf.pow(0.5, tf.cast(i + 1, l.dtype))
        return i + 1, tf.where(_in_gamut(l, a * candidate, b * candidate), candidate, low)

    # A loop, not unrolled: under XLA it compiles in a fraction of the time, and runs faster.
    _, low = tf.while_loop(lambda i, low: i < iterations, step, [0, tf.zeros_like(l)])
    return tf.where(_in_gamut(l, a, b), tf.ones_like(low), low)


def _linear_to_srgb(linear):
    srgb = tf.where(linear > 0.0031308, 1.055 * _pow(tf.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055,
                    12.92 * linear)
    return tf.clip_by_value(srgb, 0.0, 1.0)


def lab_to_rgb(lab: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Lab, shape (..., 3) -> sRGB in [0, 1], shape (..., 3); out-of-gamut colours are clipped per channel
    (as scikit-image does), which changes their lightness: see ``fit_chroma_to_gamut``."""
    return _linear_to_srgb(_lab_to_linear(_as_float(lab)))


def _linear_to_srgb8(linear):
    """Linear RGB (any shape) -> round(255 * sRGB), clipped, as uint8: ``_linear_to_srgb``'s fast form."""
    linear = tf.clip_by_value(linear, 0.0, 1.0)
    curve = _horner(tf.sqrt(tf.sqrt(tf.maximum(linear, 0.0031308))), _ENCODE)
    level = tf.where(linear > 0.0031308, curve, (255.0 * 12.92) * linear)
    return tf.cast(tf.round(tf.clip_by_value(level, 0.0, 255.0)), tf.uint8)


def lab_to_rgb8(l, a, b, fit_iterations=0):
    """L, a, b (same shapes, float32) -> (sRGB uint8, shape (..., 3); in_gamut, bool, shape (...)).

    With ``fit_iterations`` the chroma of out-of-gamut colours is first fitted as ``fit_chroma_to_gamut`` does;
    without, they are clipped as ``lab_to_rgb`` does. ``in_gamut`` says which colours were inside as given.
    Elementwise ops only: under XLA it is one loop over the pixels, bisection included. The sRGB curve is the fast
    form (within 0.003 of a level of ``round(255 * lab_to_rgb(...))``).
    """
    inside = _in_gamut(l, a, b)
    if fit_iterations:
        scale = _chroma_scale(l, a, b, fit_iterations)
        a, b = a * scale, b * scale
    return tf.stack([_linear_to_srgb8(c) for c in _lab_to_linear_channels(l, a, b)], axis=-1), inside


def lab_to_rgb8_packed(l, a, b, fit_iterations=0):
    """As ``lab_to_rgb8``, one int32 a pixel: R + G << 8 + B << 16, + 1 << 24 where the colour was outside sRGB
    as given (an interleaved uint8 result or a second output makes XLA's CPU loop several times slower; on a
    little-endian machine the first three bytes of each int32 are R, G, B)."""
    inside = _in_gamut(l, a, b)
    if fit_iterations:
        scale = _chroma_scale(l, a, b, fit_iterations)
        a, b = a * scale, b * scale
    r, g, b = (tf.cast(_linear_to_srgb8(c), tf.int32) for c in _lab_to_linear_channels(l, a, b))
    return r + g * 256 + b * 65536 + tf.cast(~inside, tf.int32) * 16777216


def fit_chroma_to_gamut(lab, iterations=8):
    """Scale each pixel's ab towards zero just enough that the colour is inside sRGB, keeping L exactly.

    Clipping an out-of-gamut colour per channel darkens or brightens it; shrinking its chroma (bisection on the
    scale, ``iterations`` steps) keeps the photo's own lightness, so detail in shadows and highlights survives.
    """
    lab = _as_float(lab)
    # Only the pixels outside the gamut go through the bisection (speed: most pixels are inside).
    flat = tf.reshape(lab, [-1, 3])
    l, a, b = tf.unstack(flat, axis=-1)
    outside = tf.where(~_in_gamut(l, a, b))
    pixels = tf.gather_nd(flat, outside)
    l, ab = pixels[:, :1], pixels[:, 1:]
    scale = _chroma_scale(l, ab[:, :1], ab[:, 1:], iterations)
    fitted = tf.tensor_scatter_nd_update(flat, outside, tf.concat([l, ab * scale], axis=-1))
    return tf.reshape(fitted, tf.shape(lab))


def rgb_to_gray(rgb):
    """The greyscale an old photo would have: sRGB with L from Lab and a = b = 0 (shape (..., 3))."""
    lab = rgb_to_lab(rgb)
    return lab_to_rgb(tf.concat([lab[..., :1], tf.zeros_like(lab[..., 1:])], axis=-1))


def scale_l(l):
    """L in [0, 100] -> network input in [-1, 1]."""
    return (tf.cast(l, tf.float32) - L_CENTER) / L_SCALE


def scale_ab(ab):
    """ab in Lab units -> network target (tanh range)."""
    return tf.cast(ab, tf.float32) / AB_SCALE


def unscale_ab(ab):
    """Network output (tanh range) -> ab in Lab units."""
    return tf.cast(ab, tf.float32) * AB_SCALE

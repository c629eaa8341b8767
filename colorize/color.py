"""sRGB <-> CIE Lab (D65, 2 degree observer) in TensorFlow ops, and the L/ab scaling the network uses.

This module is the only place in the package that converts colour. The formulas and constants match
``skimage.color.rgb2lab`` / ``lab2rgb`` so that results can be checked against scikit-image.
Every function accepts any number of leading batch dimensions and works eagerly, inside ``tf.data`` and
under ``tf.function``.
"""
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


def _as_float(x):
    x = tf.convert_to_tensor(x)
    if x.dtype.is_integer:
        raise TypeError("colour conversion needs float input in [0, 1]; divide uint8 images by 255 first")
    return tf.cast(x, tf.float32) if x.dtype != tf.float64 else x


def _mat(rows, dtype):
    return tf.constant(rows, dtype=dtype)


# Speed (TF 2.21 on CPU): ``tf.linalg.matvec`` with a 3x3 matrix broadcast over every pixel runs ~15x slower
# than one (pixels, 3) x (3, 3) matmul, and ``tf.pow`` with a fractional exponent ~4x slower than exp(p log x).
def _apply(matrix, x):
    """``matrix`` (3, 3) applied to the colour vector of every pixel of ``x`` (..., 3)."""
    return tf.reshape(tf.matmul(tf.reshape(x, [-1, 3]), matrix, transpose_b=True), tf.shape(x))


def _pow(x, exponent):
    """x ** exponent for x > 0."""
    return tf.exp(exponent * tf.math.log(x))


def rgb_to_lab(rgb):
    """sRGB in [0, 1], shape (..., 3) -> Lab, shape (..., 3): L in [0, 100], a and b roughly in [-110, 110]."""
    rgb = _as_float(rgb)
    linear = tf.where(rgb > 0.04045,
                      _pow((tf.maximum(rgb, 0.04045) + 0.055) / 1.055, 2.4),
                      rgb / 12.92)
    xyz = _apply(_mat(_XYZ_FROM_RGB, rgb.dtype), linear) / tf.constant(_WHITE_D65, rgb.dtype)
    f = tf.where(xyz > _EPSILON,
                 _pow(tf.maximum(xyz, _EPSILON), 1.0 / 3.0),
                 _KAPPA_SLOPE * xyz + 16.0 / 116.0)
    fx, fy, fz = tf.unstack(f, axis=-1)
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def _lab_to_linear(lab):
    l, a, b = tf.unstack(lab, axis=-1)
    fy = (l + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = tf.maximum(fy - b / 200.0, 0.0)
    f = tf.stack([fx, fy, fz], axis=-1)
    f3 = tf.pow(tf.maximum(f, 0.0), 3.0)
    xyz = tf.where(f3 > _EPSILON, f3, (f - 16.0 / 116.0) / _KAPPA_SLOPE) * tf.constant(_WHITE_D65, lab.dtype)
    return _apply(tf.linalg.inv(_mat(_XYZ_FROM_RGB, lab.dtype)), xyz)


def lab_to_rgb(lab):
    """Lab, shape (..., 3) -> sRGB in [0, 1], shape (..., 3); out-of-gamut colours are clipped per channel
    (as scikit-image does), which changes their lightness: see ``fit_chroma_to_gamut``."""
    lab = _as_float(lab)
    linear = _lab_to_linear(lab)
    srgb = tf.where(linear > 0.0031308,
                    1.055 * _pow(tf.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055,
                    12.92 * linear)
    return tf.clip_by_value(srgb, 0.0, 1.0)


def fit_chroma_to_gamut(lab, iterations=8):
    """Scale each pixel's ab towards zero just enough that the colour is inside sRGB, keeping L exactly.

    Clipping an out-of-gamut colour per channel darkens or brightens it; shrinking its chroma (bisection on the
    scale, ``iterations`` steps) keeps the photo's own lightness, so detail in shadows and highlights survives.
    """
    lab = _as_float(lab)
    tolerance = 1e-4

    def inside(l, ab, scale):
        linear = _lab_to_linear(tf.concat([l, ab * scale], axis=-1))
        return tf.reduce_all((linear >= -tolerance) & (linear <= 1 + tolerance), axis=-1, keepdims=True)

    # Only the pixels outside the gamut go through the bisection (speed: most pixels are inside).
    flat = tf.reshape(lab, [-1, 3])
    outside = tf.where(~inside(flat[:, :1], flat[:, 1:], 1.0)[:, 0])
    pixels = tf.gather_nd(flat, outside)
    l, ab = pixels[:, :1], pixels[:, 1:]
    low, high = tf.zeros_like(l), tf.ones_like(l)
    for _ in range(iterations):
        mid = 0.5 * (low + high)
        ok = inside(l, ab, mid)
        low, high = tf.where(ok, mid, low), tf.where(ok, high, mid)
    fitted = tf.tensor_scatter_nd_update(flat, outside, tf.concat([l, ab * low], axis=-1))
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

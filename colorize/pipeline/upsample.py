"""Bringing the model's low-resolution ab up to the photo's full resolution.

``bilinear`` interpolates ab alone. ``guided`` is the fast guided filter (He & Sun, 2015): at the model's
resolution it fits, in every window, ab = A * L + B against the low-resolution L; A and B are then upsampled
bilinearly and applied to the full-resolution L, so colour edges follow the edges of the photo instead of
bleeding across them.
"""
import tensorflow as tf

GUIDED_RADIUS = 1
GUIDED_EPS = 4.0  # in Lab L units squared: flat regions (L variance below ~2^2) keep the plain ab


def _box(x, radius):
    k = 2 * radius + 1
    return tf.nn.avg_pool2d(x, ksize=k, strides=1, padding="SAME")  # SAME averages over valid pixels only


def bilinear(ab_small, size):
    """(B, h, w, C) -> (B, H, W, C)."""
    return tf.image.resize(ab_small, size, method="bilinear")


def guided_coefficients(ab_small, l_small, radius=GUIDED_RADIUS, eps=GUIDED_EPS):
    """The guided filter's per-pixel fit at low resolution: ab ~ a * L + b, as (a, b), each (B, h, w, 2)."""
    mean_l = _box(l_small, radius)
    mean_ab = _box(ab_small, radius)
    cov = _box(l_small * ab_small, radius) - mean_l * mean_ab
    var = _box(l_small * l_small, radius) - mean_l * mean_l
    a = cov / (var + eps)
    b = mean_ab - a * mean_l
    return _box(a, radius), _box(b, radius)

"""Image quality metrics for colorization, in TensorFlow ops: PSNR, SSIM, colorfulness (Hasler & Suesstrunk
2003) and AuC of the ab error (Zhang et al. 2016). Images are float RGB in [0, 1], shape (..., H, W, 3)."""
import tensorflow as tf

from colorize import color

AUC_THRESHOLDS = 151  # t = 0, 1, ..., 150 Lab units


def psnr(pred, truth):
    """Per-image PSNR in dB over RGB in [0, 1]."""
    return tf.image.psnr(tf.cast(pred, tf.float32), tf.cast(truth, tf.float32), max_val=1.0)


def ssim(pred, truth):
    """Per-image SSIM over RGB in [0, 1] (images smaller than 11 px get a smaller window)."""
    pred, truth = tf.cast(pred, tf.float32), tf.cast(truth, tf.float32)
    size = int(min(11, pred.shape[-3] or 11, pred.shape[-2] or 11))
    return tf.image.ssim(pred, truth, max_val=1.0, filter_size=max(1, size), filter_sigma=1.5 * size / 11)


def colorfulness(rgb):
    """Hasler & Suesstrunk colorfulness on the 0-255 scale, per image."""
    rgb = tf.cast(rgb, tf.float32) * 255.0
    r, g, b = tf.unstack(rgb, axis=-1)
    rg, yb = r - g, 0.5 * (r + g) - b
    axes = [-2, -1]
    std = tf.sqrt(tf.math.reduce_variance(rg, axes) + tf.math.reduce_variance(yb, axes))
    mean = tf.sqrt(tf.square(tf.reduce_mean(rg, axes)) + tf.square(tf.reduce_mean(yb, axes)))
    return std + 0.3 * mean


def auc(pred, truth):
    """Per-image area under the curve of 'share of pixels with ab error <= t', t = 0..150, in percent."""
    d = tf.norm(color.rgb_to_lab(pred)[..., 1:] - color.rgb_to_lab(truth)[..., 1:], axis=-1)
    thresholds = tf.range(AUC_THRESHOLDS, dtype=tf.float32)
    within = tf.cast(d[..., None] <= thresholds, tf.float32)
    return 100.0 * tf.reduce_mean(within, axis=[-3, -2, -1])


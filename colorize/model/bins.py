"""Quantized ab bins for the classification head (Zhang et al., ECCV 2016): the in-gamut grid, soft targets,
class rebalancing weights and the annealed-mean readout."""
import numpy as np
import tensorflow as tf

from colorize import color

BIN_SIZE = 10.0
SOFT_SIGMA = 5.0

# The bin table, as data: for each a centre, the first and last b centre of the 10x10 ab cells that hold at least
# one in-gamut sRGB colour (the cells of one a are contiguous). ``construct_bin_centers`` derives it; a test checks
# that both agree. 263 bins.
_B_RANGE_BY_A = {-85: (55, 85), -75: (35, 85), -65: (5, 85), -55: (-15, 85), -45: (-25, 95), -35: (-35, 95),
                 -25: (-45, 95), -15: (-45, 95), -5: (-55, 85), 5: (-65, 85), 15: (-75, 85), 25: (-75, 75),
                 35: (-85, 75), 45: (-95, 75), 55: (-95, 75), 65: (-105, 65), 75: (-105, 65), 85: (-95, 65),
                 95: (-75, -25)}
_CENTERS = np.array([(a, b) for a, (low, high) in sorted(_B_RANGE_BY_A.items())
                     for b in range(low, high + 1, int(BIN_SIZE))], np.float32)
_CENTERS.setflags(write=False)


def bin_centers():
    """(Q, 2) float32 ab centres of the 10x10 grid cells that hold at least one in-gamut sRGB colour (a table:
    usable anywhere, inside a ``tf.function`` too)."""
    return _CENTERS


def construct_bin_centers():
    """``bin_centers`` computed from the colour maths: every cell's 4x4 sub-grid of ab at 25 lightness levels,
    kept if any of them survives Lab -> sRGB -> Lab (eagerly, with TensorFlow ops)."""
    edges = np.arange(-110.0, 110.0, BIN_SIZE)
    centers = np.stack(np.meshgrid(edges + BIN_SIZE / 2, edges + BIN_SIZE / 2, indexing="ij"), -1).reshape(-1, 2)
    offsets = np.linspace(-BIN_SIZE / 2 + 0.5, BIN_SIZE / 2 - 0.5, 4)
    sub = (centers[:, None, None, :] + np.stack(np.meshgrid(offsets, offsets, indexing="ij"), -1).reshape(1, -1, 1, 2))
    lightness = np.linspace(2.0, 98.0, 25)
    lab = np.concatenate([np.broadcast_to(lightness[None, None, :, None], sub.shape[:2] + (25, 1)),
                          np.broadcast_to(sub, sub.shape[:2] + (25, 2))], -1).astype(np.float32)
    back = color.rgb_to_lab(color.lab_to_rgb(lab)).numpy()
    in_gamut = (np.abs(back[..., 1:] - lab[..., 1:]).max(-1) < 1.0).any(axis=(1, 2))
    return centers[in_gamut].astype(np.float32)


def num_bins():
    return len(bin_centers())


def soft_encode(ab):
    """ab (..., 2) in Lab units -> (..., Q) soft one-hot: Gaussian weights (sigma 5) on the bin centres, which
    leaves only the nearest few bins with weight that matters (Zhang et al. keep 5).

    softmax(-|ab - c|^2 / 2s^2) over the centres c equals softmax((2 ab.c - |c|^2) / 2s^2), since |ab|^2 is the
    same for every c: one matmul with a bias (both constant) instead of a (..., Q, 2) difference tensor."""
    centers = bin_centers()
    kernel = tf.constant(centers.T / SOFT_SIGMA ** 2)
    bias = tf.constant(-np.square(centers).sum(-1) / (2.0 * SOFT_SIGMA ** 2))
    flat = tf.reshape(tf.cast(ab, tf.float32), [-1, 2])
    logits = tf.nn.bias_add(tf.matmul(flat, kernel), bias)
    return tf.reshape(tf.nn.softmax(logits, axis=-1), tf.concat([tf.shape(ab)[:-1], [len(centers)]], 0))


def histogram(ab, weights):
    """ab (B, H, W, 2) in Lab units and weights (B, H, W) -> (B, Q): each image's weighted mean soft encoding (a
    palette: how much of the weighted area has each bin's colour; sums to 1 where the weights are not all 0)."""
    weights = tf.cast(weights, tf.float32)
    total = tf.einsum("bhw,bhwq->bq", weights, soft_encode(ab))
    return total / tf.maximum(tf.reduce_sum(weights, axis=[1, 2])[:, None], 1e-6)


def rebalance_weights(bin_histogram, lam=0.5, smoothing_sigma=5.0, keep_mean=False):
    """Per-bin loss weights from an empirical bin histogram: w ~ ((1-lam) p + lam/Q)^-1, E_p[w] = 1.

    The weights make rare colours count more, and so move the colours a head trained with them expects (the
    weighted prior p w) towards the mean of the bins' grid, which is warm (a +15, b +7: the sRGB gamut holds more
    reds and yellows than blues): on Tiny ImageNet, lam 0.5 moves the prior's mean from b +9.6 to b +16. With
    ``keep_mean`` the weights are tilted, w exp(t . c) for the bin centres c, by the t that gives the weighted prior
    the histogram's own mean ab: rare colours still count more, and no colour cast is added."""
    p = np.asarray(bin_histogram, np.float64)
    p = p / max(p.sum(), 1e-12)
    centers = bin_centers().astype(np.float64)
    d2 = ((centers[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-d2 / (2 * smoothing_sigma ** 2))
    p = kernel @ p
    p = p / p.sum()
    w = 1.0 / ((1 - lam) * p + lam / len(p))
    if keep_mean:
        w = w * np.exp(centers @ _tilt(p * w / (p * w).sum(), centers, p @ centers))
    return (w / (p * w).sum()).astype(np.float32)


def _tilt(q, centers, target, steps=50):
    """The t for which the distribution q exp(t . c), normalised, has the mean ``target`` (Newton's method on the
    convex log-partition function; its gradient is the tilted mean, its Hessian the tilted covariance)."""
    t = np.zeros(2)
    for _ in range(steps):
        logits = np.log(np.maximum(q, 1e-300)) + centers @ t
        r = np.exp(logits - logits.max())
        r /= r.sum()
        mean = r @ centers
        cov = (centers - mean).T @ ((centers - mean) * r[:, None])
        step = np.linalg.solve(cov + 1e-9 * np.eye(2), mean - target)
        t -= step
        if np.abs(mean - target).max() < 1e-6:
            break
    return t


def annealed_mean(logits, temperature=0.38):
    """(..., Q) logits -> (..., 2) ab: the mean of the distribution sharpened by temperature T (T=1: the mean)."""
    probs = tf.nn.softmax(tf.cast(logits, tf.float32) / temperature, axis=-1)
    return tf.linalg.matmul(probs, tf.constant(bin_centers()))


def spread(logits):
    """(..., Q) logits -> (...,) standard deviation of ab under the predicted distribution (uncertainty)."""
    probs = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
    centers = tf.constant(bin_centers())
    mean = tf.linalg.matmul(probs, centers)
    second = tf.linalg.matmul(probs, tf.reduce_sum(tf.square(centers), -1, keepdims=True))[..., 0]
    return tf.sqrt(tf.maximum(second - tf.reduce_sum(tf.square(mean), -1), 0.0))

"""Colour hints simulated from the truth for training hint models (Zhang, Zhu et al. 2017): the local hints
(``simulate``) and the global palette (``simulate_palette``). The recipe is the config's ``hints`` section
(``colorize.config.HintsConfig``); users' hints are parsed in ``colorize.pipeline.hints``, a reference's palette in
``colorize.pipeline.reference``."""
import math

import tensorflow as tf

from colorize import color
from colorize.config import HintsConfig
from colorize.model import bins


def simulate(ab, seed, recipe=None):
    """Hint channels (B, S, S, 3) simulated from scaled truth ab (B, S, S, 2), reproducible from ``seed``
    (a shape-[2] int tensor): per image, no hint (``none_share``), or 1 + Geometric(p) points, each a square patch
    of random side (1..max_patch) holding the patch's mean ab; rarely (``dense_share``) the whole ab. ``recipe``: a
``HintsConfig`` (the config's ``hints`` section; default: its defaults), checked here (``ConfigError``)."""
    recipe = HintsConfig() if recipe is None else recipe
    recipe.check()  # geometric_p = 0 would divide by log 1
    shape = tf.shape(ab)
    batch, size = shape[0], ab.shape[1]
    k = recipe.max_points
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 6)
    u_none = tf.random.stateless_uniform([batch], seeds[0])
    u_count = tf.random.stateless_uniform([batch], seeds[1], minval=1e-7, maxval=1.0)
    count = 1 + tf.floor(tf.math.log(u_count) / math.log(max(1e-12, 1.0 - recipe.geometric_p)))
    count = tf.where(u_none < recipe.none_share, 0.0, tf.minimum(count, float(k)))
    sides = tf.random.stateless_uniform([batch, k], seeds[2], 1, recipe.max_patch + 1, tf.int32)
    tops = tf.cast(tf.random.stateless_uniform([batch, k], seeds[3]) * tf.cast(size - sides + 1, tf.float32),
                   tf.int32)
    lefts = tf.cast(tf.random.stateless_uniform([batch, k], seeds[4]) * tf.cast(size - sides + 1, tf.float32),
                    tf.int32)
    active = tf.cast(tf.range(k)[None, :], tf.float32) < count[:, None]                  # (B, K)
    idx = tf.range(size)
    rows = (idx[None, None, :] >= tops[..., None]) & (idx[None, None, :] < (tops + sides)[..., None])
    cols = (idx[None, None, :] >= lefts[..., None]) & (idx[None, None, :] < (lefts + sides)[..., None])
    boxes = tf.cast(rows[..., :, None] & cols[..., None, :] & active[..., None, None], ab.dtype)  # (B, K, S, S)
    area = tf.maximum(tf.reduce_sum(boxes, axis=[2, 3]), 1.0)                             # (B, K)
    means = tf.einsum("bkhw,bhwc->bkc", boxes, ab) / area[..., None]                    # (B, K, 2)
    cover = tf.reduce_sum(boxes, axis=1)                                                   # (B, S, S)
    hint_ab = tf.einsum("bkhw,bkc->bhwc", boxes, means) / tf.maximum(cover, 1.0)[..., None]
    mask = tf.minimum(cover, 1.0)[..., None]
    dense = (tf.random.stateless_uniform([batch], seeds[5]) < recipe.dense_share)[:, None, None, None]
    hint_ab = tf.where(dense, ab, hint_ab)
    mask = tf.where(dense, tf.ones_like(mask), mask)
    return tf.concat([hint_ab, mask], axis=-1)


def simulate_palette(ab, seed, recipe=None):
    """A palette input (B, Q + 1) for a palette model (``model.palette``), simulated from scaled truth ab
    (B, S, S, 2), reproducible from ``seed``: for a share ``palette_share`` of the images, the histogram of their
    own colours over the bins (``bins.histogram``) and a 1 flag, else zeros. For a share ``palette_crop_share`` of
    those, the colours of a neighbour crop (a random window, ``palette_min_crop`` to all of the side), and every
    palette's colours shifted by one random ab offset (``palette_jitter``): what a reference photo of another
    such scene gives, whose colours are not where this photo's are and not quite these colours."""
    recipe = HintsConfig() if recipe is None else recipe
    recipe.check()
    batch, size = tf.shape(ab)[0], ab.shape[1]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    small = max(1, size // 4)  # the histogram of a quarter-size ab: the same colours, 16 times less work
    ab_lab = tf.image.resize(tf.cast(ab, tf.float32), [small, small], method="area") * color.AB_SCALE
    ab_lab += tf.random.stateless_normal([batch, 1, 1, 2], seeds[0], stddev=recipe.palette_jitter)
    crop = tf.random.stateless_uniform([batch], seeds[1]) < recipe.palette_crop_share
    side = tf.random.stateless_uniform([batch], seeds[2], recipe.palette_min_crop, 1.0) * small
    side = tf.where(crop, tf.maximum(side, 1.0), float(small))
    corner = tf.random.stateless_uniform([batch, 2], seeds[3]) * (float(small) - side[:, None])
    idx = tf.range(small, dtype=tf.float32) + 0.5
    rows = (idx[None] >= corner[:, :1]) & (idx[None] < corner[:, :1] + side[:, None])
    cols = (idx[None] >= corner[:, 1:]) & (idx[None] < corner[:, 1:] + side[:, None])
    window = tf.cast(rows[:, :, None] & cols[:, None, :], tf.float32)                    # (B, s, s)
    given = tf.cast(tf.random.stateless_uniform([batch], seeds[4]) < recipe.palette_share, tf.float32)[:, None]
    return tf.concat([bins.histogram(ab_lab, window), tf.ones_like(given)], -1) * given

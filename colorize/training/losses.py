"""The training losses and their targets: the regression penalties on ab, the soft-encoded bin targets of the
classification head with class rebalancing (Zhang et al. 2016), and the semantic class loss (Iizuka et al. 2016).

Every loss is a per-image sum of weighted terms, averaged over the global batch (``tf.distribute``'s
``compute_average_loss``: each replica's batch as it comes, times the replicas), so gradients summed over replicas
equal those of one device with the whole batch, whatever batch size a ``dataset=`` stream has.
"""
import numpy as np
import tensorflow as tf

from colorize import color
from colorize.model import bins
from colorize.training.batches import as_training_pair

HUBER_DELTA = 5.0 / color.AB_SCALE  # 5 Lab units
LOG_MSE_FLOOR = (1.0 / color.AB_SCALE) ** 2  # 1 Lab unit RMS: below it a photo is as good as exact
LOG_MSE_WEIGHT = 2.0  # matches the L2 term's gradient at a typical error of 15 Lab units


def bins_target(ab, size, mode="pixels", seed=None):
    """Soft-encoded bin targets of scaled ab (B, S, S, 2) at the bins head's resolution ``size``, one per
    (S/size)^2 block:

    - ``pixels``: the mean of the block's per-pixel soft encodings (a red/green edge stays red and green);
    - ``sample``: the soft encoding of one pixel per block, drawn uniformly (stateless, from ``seed``). The
      cross-entropy is linear in its target, so its expected loss and gradient equal those of ``pixels``, at the
      cost of ``block`` (Zhang et al. 2016 take one pixel per block too, always the same one);
    - ``block``: the soft encoding of the block's mean ab (area pooling first): what colorize did before 0.9, which
      averages the very multimodality the bins head exists to model.
    """
    factor = ab.shape[1] // size
    if factor * size != ab.shape[1]:
        raise ValueError(f"ab of size {ab.shape[1]} does not divide into {size}x{size} blocks")
    if factor == 1:
        return bins.soft_encode(ab * color.AB_SCALE)
    if mode == "block":
        return bins.soft_encode(tf.nn.avg_pool2d(ab, factor, factor, "VALID") * color.AB_SCALE)
    blocks = tf.nn.space_to_depth(ab, factor)  # (B, size, size, factor^2 * 2): each block's pixels, in order
    blocks = tf.reshape(blocks, tf.concat([tf.shape(blocks)[:3], [factor * factor, 2]], 0))
    if mode == "pixels":
        return tf.reduce_mean(bins.soft_encode(blocks * color.AB_SCALE), axis=3)
    seed = tf.constant([0, 0], tf.int64) if seed is None else seed
    pick = tf.random.stateless_uniform(tf.shape(blocks)[:3], seed, maxval=factor * factor, dtype=tf.int32)
    return bins.soft_encode(tf.gather(blocks, pick, batch_dims=3) * color.AB_SCALE)


def bin_loss_weights(batches, rebalance, sample_images=512, keep_mean=False):
    """Class-rebalancing weights from the ab histogram of the first training images (deterministic), at the
    bins head's quarter resolution: the mean per-pixel encodings, which the loss's targets are (or estimate)."""
    hist = np.zeros(bins.num_bins(), np.float64)
    pairs = batches.map(lambda *b: as_training_pair(b if len(b) == 2 else b[0]))
    for _, ab in pairs.unbatch().take(sample_images).batch(64):
        soft = bins_target(ab, ab.shape[1] // 4, "pixels")
        hist += tf.reduce_sum(soft, axis=[0, 1, 2]).numpy()
    return bins.rebalance_weights(hist, rebalance, keep_mean=keep_mean)


def soft_cross_entropy(target, logits):
    """Cross-entropy of soft targets (summing to 1 over the last axis) with logits, per position.

    Equals ``tf.nn.softmax_cross_entropy_with_logits`` in value and gradient (softmax - target): since the targets
    sum to 1, CE = logsumexp(logits) - sum(target * logits). Written so it is faster on a CPU, because TF's fused
    op also materializes the gradient in the forward pass (bench/train_throughput.py measures the step).
    """
    logits = tf.cast(logits, tf.float32)
    return tf.reduce_logsumexp(logits, axis=-1) - tf.reduce_sum(target * logits, axis=-1)


def regression_penalty(kind, ab_pred, ab_true):
    """Per-image regression loss on scaled ab: ``huber`` or ``l2`` (mean per pixel, in units where a 5 Lab-unit
    error costs 1/4), or ``log_mse`` (what a mean of per-image PSNRs rewards: near-grey photos count fully)."""
    err = tf.abs(ab_pred - ab_true)
    if kind == "log_mse":
        mse = tf.reduce_mean(tf.square(err), axis=[1, 2, 3])
        return LOG_MSE_WEIGHT * tf.math.log(mse + LOG_MSE_FLOOR)
    penalty = 0.5 * tf.square(err) if kind == "l2" else tf.where(
        err < HUBER_DELTA, 0.5 * tf.square(err), HUBER_DELTA * (err - 0.5 * HUBER_DELTA))
    return tf.reduce_mean(penalty, axis=[1, 2, 3]) * (color.AB_SCALE / 5.0) ** 2 / 2.0


class Losses:
    """The loss of a training config: ``Losses(config, bin_weights)(outputs, ab_true, labels)``.

    ``train.loss`` picks the heads (regression, classification or both), ``train.regression_loss`` the regression
    penalty, ``train.bins_weight`` and ``train.class_weight`` the weights of the classification and class terms;
    ``bin_weights`` are the per-bin rebalancing weights (``bin_loss_weights``), needed with a classification head.
    """

    def __init__(self, config, bin_weights, with_labels=False):
        self.kind, self.bins_weight = config.train.loss, config.train.bins_weight
        self.class_weight = config.train.class_weight if with_labels else 0.0
        self.regression = config.train.regression_loss
        self.target_mode = config.train.bins_target
        self.weights = tf.constant(bin_weights) if bin_weights is not None else None

    def __call__(self, outputs, ab_true, labels=None, seed=None):
        """``seed``: a (2,) int64 stateless seed for ``train.bins_target: sample`` (the step's, so a resumed run
        draws the same pixels)."""
        per_image = tf.zeros([tf.shape(ab_true)[0]])
        if self.class_weight and labels is not None:  # Iizuka et al. 2016: the global features name the scene
            per_image += self.class_weight * tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=tf.cast(outputs["class_logits"], tf.float32))
        if self.kind in ("regression", "both"):
            per_image += regression_penalty(self.regression, outputs["ab"], ab_true)
        if self.kind in ("classification", "both"):
            half = outputs["ab_bins"].shape[1]
            target = bins_target(ab_true, half, self.target_mode, seed)
            pixel_weight = tf.gather(self.weights, tf.argmax(target, axis=-1))
            ce = soft_cross_entropy(target, outputs["ab_bins"])
            scale = self.bins_weight if self.kind == "both" else 1.0
            per_image += scale * tf.reduce_mean(ce * pixel_weight, axis=[1, 2])
        return tf.nn.compute_average_loss(per_image)  # the batch's own size: a dataset= stream may differ

"""The training loop: one function, ``train(config, workdir)``, used by ``scripts/train.py`` and ``colorize train``.

Distribution, mixed precision and checkpointing come from TensorFlow (``tf.distribute``, Keras dtype policies,
``tf.train.CheckpointManager``, whose state file is replaced atomically, so a crash while saving leaves the
previous checkpoint usable). Re-running the same command in the same workdir resumes: weights, optimizer,
step and the position in the seeded data stream.
"""
import dataclasses
import json
import logging
import math
import os
import shutil
import subprocess
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import bins, color, data, hints, metrics
from .config import Config
from .errors import TrainingError
from .model import build_model

log = logging.getLogger(__name__)
MIN_FREE_BYTES = 200 * 2 ** 20
HUBER_DELTA = 5.0 / color.AB_SCALE  # 5 Lab units
LOG_MSE_FLOOR = (1.0 / color.AB_SCALE) ** 2  # 1 Lab unit RMS: below it a photo is as good as exact
LOG_MSE_WEIGHT = 2.0  # matches the L2 term's gradient at a typical error of 15 Lab units


def pick_strategy():
    """TPU if one is attached, several workers from TF_CONFIG, several GPUs, else the default strategy."""
    if os.environ.get("TF_CONFIG"):
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except (ValueError, tf.errors.NotFoundError, RuntimeError):
        pass
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def check_workdir(workdir):
    """Fail before any training step if the workdir cannot hold checkpoints."""
    workdir = Path(workdir)
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        probe = workdir / ".write_probe"
        probe.write_bytes(b"x" * 4096)
        probe.unlink()
    except OSError as err:
        raise TrainingError(f"workdir {workdir} is not writable ({err.strerror or err}); "
                            "pass --workdir with a folder you can write to") from None
    free = shutil.disk_usage(workdir).free
    if free < MIN_FREE_BYTES:
        raise TrainingError(f"workdir {workdir} has only {free / 2**20:.0f} MiB free; checkpoints need at least "
                            f"{MIN_FREE_BYTES / 2**20:.0f} MiB: free some space or choose another --workdir")
    return workdir


def _code_version():
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, timeout=10)
        if out.returncode == 0:
            return out.stdout.strip()
    except OSError:
        pass
    from . import __version__
    return __version__


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, peak, warmup, total):
        self.peak, self.warmup, self.total = peak, max(1, warmup), max(2, total)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warm = self.peak * (step + 1) / self.warmup
        progress = tf.clip_by_value((step - self.warmup) / max(1, self.total - self.warmup), 0.0, 1.0)
        cosine = self.peak * (0.02 + 0.98 * 0.5 * (1 + tf.cos(math.pi * progress)))
        return tf.where(step < self.warmup, warm, cosine)

    def get_config(self):
        return {"peak": self.peak, "warmup": self.warmup, "total": self.total}


def bins_target(ab, size):
    """Soft-encoded bin targets of scaled ab (B, S, S, 2) at the bins head's resolution ``size``: the mean of each
    (S/size)^2 block, i.e. an area resize, written as average pooling because XLA (``jit_compile``) has no
    ResizeArea kernel."""
    factor = ab.shape[1] // size
    if factor * size != ab.shape[1]:
        raise ValueError(f"ab of size {ab.shape[1]} does not divide into {size}x{size} blocks")
    pooled = tf.nn.avg_pool2d(ab, factor, factor, "VALID") if factor > 1 else ab
    return bins.soft_encode(pooled * color.AB_SCALE)


# XLA fuses the conversion's few dozen element-wise ops into one pass over the pixels (~3x faster on a CPU).
_to_training_pair_fused = tf.function(data.to_training_pair, jit_compile=True)


def as_training_pair(batch):
    """A training batch -> (scaled L, scaled ab): RGB batches (the built-in pipeline) are converted here, inside
    the training step, so the Lab maths runs on the accelerator; (L, ab) pairs pass through; dict batches
    ({"rgb", "label"}, when the model has a class head) give their RGB's pair."""
    if isinstance(batch, dict):
        batch = batch["rgb"]
    if isinstance(batch, (tuple, list)):
        return tuple(batch)
    return _to_training_pair_fused(batch)


def model_inputs(model_config, l, hint_channels=None):
    """The network's input for scaled L: L itself, or [L, hint channels] (no hints: zeros) for a hint model."""
    if not model_config.hints:
        return l
    if hint_channels is None:
        hint_channels = tf.zeros(tf.concat([tf.shape(l)[:-1], [3]], 0), l.dtype)
    return [l, hint_channels]


def bin_loss_weights(batches, rebalance, sample_images=512):
    """Class-rebalancing weights from the ab histogram of the first training images (deterministic), at the
    bins head's quarter resolution, the same targets the loss sees."""
    hist = np.zeros(bins.num_bins(), np.float64)
    pairs = batches.map(lambda *b: as_training_pair(b if len(b) == 2 else b[0]))
    for _, ab in pairs.unbatch().take(sample_images).batch(64):
        soft = bins_target(ab, ab.shape[1] // 4)
        hist += tf.reduce_sum(soft, axis=[0, 1, 2]).numpy()
    return bins.rebalance_weights(hist, rebalance)


def soft_cross_entropy(target, logits):
    """Cross-entropy of soft targets (summing to 1 over the last axis) with logits, per position.

    Equals ``tf.nn.softmax_cross_entropy_with_logits`` in value and gradient (softmax - target): since the targets
    sum to 1, CE = logsumexp(logits) - sum(target * logits). Written so, it takes 25-40% less time on a CPU (~4 ms
    of a default-model training step), because TF's fused op also materializes the gradient in the forward pass.
    """
    logits = tf.cast(logits, tf.float32)
    return tf.reduce_logsumexp(logits, axis=-1) - tf.reduce_sum(target * logits, axis=-1)


class _Losses:
    def __init__(self, config, global_batch, weights):
        self.kind, self.bins_weight = config.train.loss, config.train.bins_weight
        self.class_weight = config.train.class_weight if data.with_labels(config) else 0.0
        self.regression = config.train.regression_loss
        self.global_batch = global_batch
        self.weights = tf.constant(weights) if weights is not None else None

    def __call__(self, outputs, ab_true, labels=None):
        per_image = tf.zeros([tf.shape(ab_true)[0]])
        if self.class_weight and labels is not None:  # Iizuka et al. 2016: the global features name the scene
            per_image += self.class_weight * tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=tf.cast(outputs["class_logits"], tf.float32))
        if self.kind in ("huber", "both"):
            err = tf.abs(outputs["ab"] - ab_true)
            if self.regression == "log_mse":  # what a mean of per-image PSNRs rewards: near-grey photos count fully
                mse = tf.reduce_mean(tf.square(err), axis=[1, 2, 3])
                per_image += LOG_MSE_WEIGHT * tf.math.log(mse + LOG_MSE_FLOOR)
            else:
                penalty = 0.5 * tf.square(err) if self.regression == "l2" else tf.where(
                    err < HUBER_DELTA, 0.5 * tf.square(err), HUBER_DELTA * (err - 0.5 * HUBER_DELTA))
                per_image += tf.reduce_mean(penalty, axis=[1, 2, 3]) * (color.AB_SCALE / 5.0) ** 2 / 2.0
        if self.kind in ("classification", "both"):
            half = outputs["ab_bins"].shape[1]
            target = bins_target(ab_true, half)
            pixel_weight = tf.gather(self.weights, tf.argmax(target, axis=-1))
            ce = soft_cross_entropy(target, outputs["ab_bins"])
            scale = self.bins_weight if self.kind == "both" else 1.0
            per_image += scale * tf.reduce_mean(ce * pixel_weight, axis=[1, 2])
        return tf.nn.compute_average_loss(per_image, global_batch_size=self.global_batch)


def _grey_predicted_truth(model, l, ab):
    """Scaled (L, ab) batch -> RGB of the grey baseline, the model's regression readout (no hints) and the truth."""
    lightness = l * color.L_SCALE + color.L_CENTER
    hinted = len(model.inputs) > 1
    predicted = model([l, tf.zeros(tf.concat([tf.shape(l)[:-1], [3]], 0))] if hinted else l, training=False)["ab"]
    return [color.lab_to_rgb(tf.concat([lightness, chroma], -1))
            for chroma in (tf.zeros_like(ab), color.unscale_ab(predicted), color.unscale_ab(ab))]


def validate(model, val_ds, samples=0):
    """Mean PSNR / AuC / colorfulness of the model's ab readout and of the grey baseline on validation pairs, and
    (with ``samples``) the first ``samples`` images side by side (grey | predicted | truth), else None."""
    sums, n, sheet = {}, 0, None
    for l, ab in val_ds:
        grey, pred, truth = _grey_predicted_truth(model, l, ab)
        if samples and sheet is None:
            sheet = tf.concat([grey[:samples], pred[:samples], truth[:samples]], axis=2)
        for prefix, image in (("", pred), ("grey_", grey)):
            for k in ("psnr", "auc"):
                sums[prefix + k] = sums.get(prefix + k, 0.0) + float(tf.reduce_sum(getattr(metrics, k)(image, truth)))
            sums[prefix + "colorfulness"] = sums.get(prefix + "colorfulness", 0.0) + float(
                tf.reduce_sum(metrics.colorfulness(image)))
        sums["truth_colorfulness"] = sums.get("truth_colorfulness", 0.0) + float(
            tf.reduce_sum(metrics.colorfulness(truth)))
        n += int(l.shape[0])
    return {k: v / max(n, 1) for k, v in sums.items()}, sheet


def _atomic_write_text(path, text):
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def train(config, workdir, max_steps=None, verbose=True, dataset=None):
    """Train ``config`` (a ``Config``) in ``workdir``, resuming from its latest checkpoint. Returns the run record.

    ``max_steps`` stops after that many global steps in total (for tests and short runs). ``dataset`` replaces
    the configured source with your own endless tf.data stream of global batches, (scaled L, scaled ab) pairs or
    float RGB in [0, 1]; a resumed run skips the batches already trained on.
    """
    assert isinstance(config, Config)
    workdir = check_workdir(workdir)
    tc = config.train
    if tc.deterministic:
        keras.utils.set_random_seed(tc.seed)
        tf.config.experimental.enable_op_determinism()
    keras.mixed_precision.set_dtype_policy(tc.precision)
    try:
        return _train(config, workdir, max_steps, verbose, dataset)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def _train(config, workdir, max_steps, verbose, dataset):
    tc = config.train
    strategy = pick_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    is_chief = resolver is None or resolver.task_type in (None, "chief") or (
        resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict())
    steps_per_epoch = tc.steps_per_epoch or _count_steps(config)
    total_steps = steps_per_epoch * tc.epochs
    if tc.steps_per_epoch is None and dataset is not None:
        raise TrainingError("training on your own dataset needs train.steps_per_epoch in the config")
    batches = dataset if dataset is not None else data.train_dataset(config)
    weights = bin_loss_weights(batches, tc.rebalance) if tc.loss != "huber" else None

    with strategy.scope():
        model = build_model(config)
        schedule = WarmupCosine(tc.learning_rate, tc.warmup_steps, total_steps)
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=tc.weight_decay, clipnorm=None)
        if tc.precision == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        optimizer.build(model.trainable_variables)
        checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step)
    ckpt_dir = workdir / "checkpoints"
    if not is_chief:  # every worker must write (saving is collective); only the chief's copy is kept
        ckpt_dir = workdir / f"worker_tmp_{resolver.task_id}"
    manager = tf.train.CheckpointManager(checkpoint, ckpt_dir, max_to_keep=2)
    latest = tf.train.latest_checkpoint(workdir / "checkpoints")  # the chief's, on every worker
    if latest:
        checkpoint.restore(latest).expect_partial()
        if verbose:
            print(f"resumed from {latest} at step {int(step.numpy())}")
    start = int(step.numpy())
    losses = _Losses(config, tc.batch_size, weights)

    recipe = hints.HintRecipe(**dataclasses.asdict(config.hints))
    replica_seed = tf.constant(tc.seed, tf.int64)

    def step_fn(batch):
        l, ab = as_training_pair(batch)
        labels = batch["label"] if isinstance(batch, dict) else None
        hint_channels = None
        if config.model.hints:  # seeded by the step and the replica, so a resumed run sees the same hints
            replica = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int64)
            seed = tf.stack([replica_seed * 1000 + replica, step])
            hint_channels = hints.simulate(ab, seed, recipe)
        with tf.GradientTape() as tape:
            outputs = model(model_inputs(config.model, l, hint_channels), training=True)
            loss = losses(outputs, ab, labels)
            scaled = optimizer.scale_loss(loss) if hasattr(optimizer, "scale_loss") else loss
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function(jit_compile=tc.jit_compile or None, reduce_retracing=True)
    def _replica_step(batch):
        return step_fn(batch)

    @tf.function
    def train_step(iterator):
        per_replica = strategy.run(_replica_step if tc.jit_compile else step_fn, args=(next(iterator),))
        step.assign_add(1)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    batches = dataset.skip(start) if dataset is not None else data.train_dataset(config, start_step=start)
    dist = strategy.experimental_distribute_dataset(batches)
    iterator = iter(dist)
    val_ds = data.val_dataset(config) if config.data.val_limit else None
    writer = tf.summary.create_file_writer(str(workdir / "tensorboard")) if is_chief else tf.summary.create_noop_writer()
    last_stop = min(total_steps, max_steps) if max_steps else total_steps
    history, val = [], {}
    started, done_at_start = time.time(), start
    progbar = keras.utils.Progbar(last_stop, stateful_metrics=["loss", "lr"]) if verbose else None

    while int(step.numpy()) < last_stop:
        loss = float(train_step(iterator))
        current = int(step.numpy())
        if not math.isfinite(loss):
            last_good = tf.train.latest_checkpoint(workdir / "checkpoints") or "none yet"
            raise TrainingError(
                f"loss became {loss} at step {current}; stopped without saving. The last good checkpoint "
                f"({last_good}) is intact: check the data for NaN or lower train.learning_rate, then re-run to resume")
        lr = float(schedule(current))
        if progbar:
            progbar.update(current, [("loss", loss), ("lr", lr)])
        if current % tc.log_every == 0 or current == last_stop:
            history.append({"step": current, "loss": loss})
            with writer.as_default(step=current):
                tf.summary.scalar("loss", loss)
                tf.summary.scalar("learning_rate", lr)
        epoch_end = current % steps_per_epoch == 0
        if current % tc.checkpoint_every == 0 or epoch_end or current == last_stop:
            manager.save(checkpoint_number=current)
        if (epoch_end or current == last_stop) and val_ds is not None:
            val, sheet = validate(model, val_ds, samples=tc.samples_every_epoch)
            with writer.as_default(step=current):
                for k, v in val.items():
                    tf.summary.scalar("val/" + k, v)
                if sheet is not None:
                    tf.summary.image("grey|predicted|truth", sheet, max_outputs=tc.samples_every_epoch)
            if verbose:
                print("\nvalidation at step %d: %s" % (current, json.dumps({k: round(v, 3) for k, v in val.items()})))
    writer.flush()

    record = {"config": config.to_dict(), "data": {"source": config.data.source, "split": config.data.train_split,
                                                  "data_dir": config.data.data_dir},
              "steps": int(step.numpy()), "total_steps": total_steps, "resumed_from_step": start,
              "images_per_second": (int(step.numpy()) - done_at_start) * tc.batch_size / max(time.time() - started, 1e-9),
              "final_loss": history[-1]["loss"] if history else None, "loss_history": history,
              "validation": val, "code_version": _code_version(), "strategy": type(strategy).__name__,
              "replicas": strategy.num_replicas_in_sync,
              "weights_checksum": float(sum(np.abs(w.numpy()).sum() for w in model.trainable_weights))}
    if is_chief:
        tmp = workdir / "final.weights.h5.tmp.weights.h5"
        model.save_weights(tmp)
        os.replace(tmp, workdir / "final.weights.h5")
        _atomic_write_text(workdir / "record.json", json.dumps(record, indent=1, default=str))
    return record


def _count_steps(config):
    ds, _ = data.records(config.data, config.data.train_split)
    n = int(ds.cardinality())
    if n < 0:
        n = int(ds.reduce(0, lambda c, _: c + 1))
    return max(1, n // config.train.batch_size)


def export_checkpoint(config, checkpoint, out_path):
    """Write the model weights of a training checkpoint (a path prefix, or a workdir for its latest) to a
    ``.weights.h5`` file, atomically. Returns the path."""
    path = Path(checkpoint)
    if path.is_dir():
        latest = tf.train.latest_checkpoint(path / "checkpoints" if (path / "checkpoints").is_dir() else path)
        if latest is None:
            raise TrainingError(f"no checkpoint found in {checkpoint}")
        path = Path(latest)
    model = build_model(config)
    try:
        tf.train.Checkpoint(model=model).restore(str(path)).expect_partial()
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as err:
        raise TrainingError(f"cannot read checkpoint {path}: {err.message.splitlines()[0]}") from None
    out_path = Path(out_path)
    tmp = out_path.with_name(out_path.name.replace(".weights.h5", "") + ".tmp.weights.h5")
    model.save_weights(tmp)
    os.replace(tmp, out_path)
    return out_path

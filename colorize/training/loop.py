"""The training loop: ``train(config, workdir)``, used by ``scripts/train.py`` and ``colorize train``.

It reads top to bottom: the run's length, the data, the model and optimizer under a ``tf.distribute`` strategy,
resuming from the workdir's newest good checkpoint, the step (``colorize.training.steps``), then the loop, which
runs several steps per call into the graph and touches the host only to log, validate and save. Losses live in
``colorize.training.losses``, batches in ``colorize.training.batches``, checkpoints in
``colorize.training.checkpoints``, the workdir lock in ``colorize.training.workdir``, reports in
``colorize.training.log``. Re-running the same command resumes: weights, optimizer, step and data position.
"""
import contextlib
import dataclasses
import math
import os
import signal
import time

import keras
import numpy as np
import tensorflow as tf
import yaml

from colorize import data
from colorize.config import MAX_STEPS, Config
from colorize.errors import ConfigError, TrainingError
from colorize.io import write_text
from colorize.model import build_model, sha256_of
from colorize.training import card, checkpoints, losses, runtime
from colorize.training import input as train_input
from colorize.training.log import (
    Console,
    RunRecord,
    StartingPoint,
    export_weights,
    previous_record,
    validate,
    validation_readout,
    write_record,
)
from colorize.training.steps import MAX_SKIPS_IN_A_ROW, make_train_steps
from colorize.training.warm_start import warm_start
from colorize.training.workdir import WorkdirLock, check_workdir

# Changing these on resume changes what the checkpoint means or where the data stream stands.
BREAKING_CHANGES = ("model.", "train.batch_size", "train.seed", "train.precision", "data.source", "data.data_dir",
                    "data.train_split", "data.shuffle_buffer", "data.random_crop", "data.cache")


class TrainingInterrupted(TrainingError):
    """SIGTERM or SIGINT stopped training after a step; a checkpoint of that step was saved."""

    def __init__(self, message, signum):
        super().__init__(message)
        self.signum = signum


def train(config: Config, workdir: str | os.PathLike, max_steps: int | None = None, verbose: bool = True,
          dataset: tf.data.Dataset | None = None, *, restart: bool = False, allow_config_change: bool = False,
          log: str = "auto") -> dict:
    """Train ``config`` (a ``Config``) in ``workdir``, resuming from its newest checkpoint that restores. Returns the
    run record (also in ``WORKDIR/record.json``).

    ``max_steps`` stops after that many global steps in total (for tests and short runs). ``dataset`` replaces
    the configured source with your own endless tf.data stream of global batches, (scaled L, scaled ab) pairs or
    float RGB in [0, 1]; a resumed run skips the batches already trained on. ``restart`` moves existing checkpoints
    aside and starts from step 0; ``allow_config_change`` resumes even after changes that break the run (model,
    batch size, data); ``log`` is ``bar``, ``plain`` (one line per log interval) or ``auto`` (bar on a terminal).
    The process's Keras dtype policy and TensorFlow op determinism are as before when it returns.
    """
    if not isinstance(config, Config):  # not an assert: python -O drops those
        raise ConfigError(f"train() takes a colorize Config (colorize.load_config(path)), got {type(config).__name__}")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer))
                                  or not 1 <= max_steps <= MAX_STEPS):  # 0 read as "no limit"; -1 trained nothing
        raise ConfigError(f"--max-steps (max_steps) must be from 1 to {MAX_STEPS:,}, or left out for the config's "
                          f"whole run; got {max_steps!r}")
    workdir = check_workdir(workdir)
    precision = runtime.choose_precision(config.train, None if restart else _stored_precision(workdir))
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, precision=precision.policy))
    with runtime.process_state(config.train):
        strategy = runtime.pick_strategy(config.train)
        chief = runtime.is_chief(strategy)
        with WorkdirLock(workdir) if chief else contextlib.nullcontext():
            return _train(config, workdir, strategy, chief, max_steps, dataset, restart, allow_config_change,
                          Console(None, verbose, log), precision)


def _train(config, workdir, strategy, chief, max_steps, dataset, restart, allow_config_change, out, precision):
    tc = config.train
    out.say(precision.line())  # the run's first line: what it computes in, and why

    # ---- how long: steps per epoch from the data, total steps from train.steps or epochs
    steps_per_epoch, total_steps, epoch_steps = _run_length(config, dataset)
    last_stop = min(total_steps, max_steps) if max_steps else total_steps
    out.total = last_stop
    warnings = _length_warnings(tc, total_steps, max_steps, steps_per_epoch,
                                epoch_steps if dataset is None and not tc.steps_per_epoch else None)
    warnings = ([precision.warning] if precision.warning else []) + warnings
    validate_every = tc.validate_every or steps_per_epoch * math.ceil(tc.checkpoint_every / steps_per_epoch)

    # ---- data, model, optimizer, checkpoint
    batches = dataset if dataset is not None else data.train_dataset(config)
    bin_weights = losses.bin_loss_weights(batches, tc.rebalance, keep_mean=tc.rebalance_keeps_mean) \
        if tc.loss != "regression" else None
    with strategy.scope():
        model = build_model(config, synchronized_bn=tc.sync_batch_norm)
        schedule = WarmupCosine(tc.learning_rate, tc.warmup_steps, total_steps)
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=tc.weight_decay, clipnorm=None)
        if tc.precision == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        optimizer.build(model.trainable_variables)
        checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step)

    # ---- resume from the newest checkpoint that restores (the chief's, on every worker)
    for text in warnings:
        out.warn(text)
    ckpt_dir = workdir / "checkpoints"
    resumed = _resume(checkpoint, ckpt_dir, config, restart, allow_config_change, chief, out)
    start = int(step.numpy())
    if resumed:
        out.say(f"resumed from {resumed} at step {start}")
    elif tc.init_weights:
        fresh = warm_start(model, tc.init_weights)
        out.say(f"started from {tc.init_weights}; layers it lacks start fresh: {', '.join(fresh) or 'none'}")
    if config.data.val_limit and chief and dataset is None:
        out.say(data.describe_validation(config.data))
    writer = checkpoints.CheckpointWriter(
        checkpoint, ckpt_dir if chief else workdir / f"worker_tmp_{strategy.cluster_resolver.task_id}",
        tc.keep_checkpoints, config.to_dict(), scratch=not chief)
    run = RunRecord(config, strategy, model, start, total_steps, previous_record(workdir, start), warnings)

    def run_record(current, finished):
        return {**run.record(current, finished), "precision": precision.record()}

    # ---- the step, several per call: a replica's step, then the loop over steps in the graph
    inputs = train_input.TrainInput(config, strategy, start, dataset=dataset,
                                    stored=checkpoints.stored_entry(resumed, "data_positions") if resumed else None)
    if inputs.note:
        out.warn(inputs.note)
    stop_flag = tf.Variable(False, trainable=False, name="stop_requested")  # set by a stop signal, read each step
    train_steps = make_train_steps(config, strategy, model, optimizer, step, inputs.positions,
                                    losses.Losses(config, bin_weights, data.with_labels(config)), stop_flag)
    iterator = inputs.iterator
    val_ds = data.val_dataset(config) if config.data.val_limit and chief else None
    readout = validation_readout(tc, config.model)  # the readout the weights will ship with, if named
    summaries = tf.summary.create_file_writer(str(workdir / "tensorboard")) if chief else \
        tf.summary.create_noop_writer()
    if chief:
        out.say(f"TensorBoard logs: tensorboard --logdir {workdir / 'tensorboard'}")
    baseline = StartingPoint(tc.init_weights, config.model) if val_ds is not None else None
    interval_loss, interval_steps = 0.0, 0

    # ---- the loop
    current = start
    with runtime.stop_on_signals(not runtime.is_multi_worker(strategy), stop_flag) as stop, run.watch("loop"):
        while current < last_stop and not stop.signum:
            n = min(_until_next(current, every) for every in (tc.log_every, tc.checkpoint_every, validate_every,
                                                              last_stop))
            began = time.perf_counter()
            with run.watch("steps"):
                result = train_steps(iterator, tf.constant(n, tf.int32))
                # The loop's one sync point: the host waits for the device here, once per call.
                loss_sum, done, status, last_loss, skipped = (float(result[0]), int(result[1]), int(result[2]),
                                                              float(result[3]), int(result[4]))
            current += done
            if status:
                _stop_on_non_finite(status, last_loss, current, ckpt_dir)
            run.rate.add(done, time.perf_counter() - began)
            run.skipped, run.calls = run.skipped + skipped, run.calls + 1
            interval_loss, interval_steps = interval_loss + loss_sum, interval_steps + done - skipped
            at_end = current == last_stop
            if current % tc.log_every == 0 or at_end or stop.signum:
                mean, lr = interval_loss / max(interval_steps, 1), float(schedule(current))
                run.history.append({"step": current, "loss": mean})
                with summaries.as_default(step=current):
                    tf.summary.scalar("loss", mean)
                    tf.summary.scalar("learning_rate", lr)
                out.progress(current, current / epoch_steps, mean, run.rate.images_per_second, lr,
                             run.rate.eta(last_stop - current), final=at_end)
                interval_loss, interval_steps = 0.0, 0
            if (current % validate_every == 0 or at_end) and val_ds is not None:
                with run.watch("validation"):
                    val, sheet = validate(model, config.model, val_ds, samples=tc.samples_every_epoch, readout=readout)
                    run.validated(current, val, workdir)
                    with summaries.as_default(step=current):
                        for k, v in val.items():
                            tf.summary.scalar("val/" + k, v)
                        if sheet is not None:
                            tf.summary.image("grey|predicted|truth", sheet, max_outputs=tc.samples_every_epoch)
                    out.say(f"validation at step {current}: " + ", ".join(f"{k} {v:.3f}" for k, v in val.items()))
                    if baseline is not None and (len(run.validations) == 1 or at_end):  # did fine-tuning help?
                        line = baseline.compare(val, val_ds)
                        if line:
                            out.say(line)
            if current % tc.checkpoint_every == 0 or current % validate_every == 0 or at_end or stop.signum:
                with run.watch("checkpoints"):
                    _check_finite_weights(model, current, ckpt_dir)
                    writer.save(current, {"data_positions": inputs.stored()})
                    if chief:
                        write_record(workdir, run_record(current, finished=False))
    summaries.flush()

    # ---- the end: final weights with their sha256, the record, how to use them
    if stop.signum:
        name = signal.Signals(stop.signum).name
        if chief:
            write_record(workdir, {**run_record(current, finished=False), "interrupted_by": name})
        raise TrainingInterrupted(f"stopped by {name} at step {current}: checkpoint {ckpt_dir / f'ckpt-{current}'} "
                                  "saved; re-run the same command to resume", stop.signum)
    record = run_record(current, finished=current >= total_steps)
    if chief:
        # a new file for every export (the step in its name), never rewritten: each printed line keeps working
        final, final_config = export_weights(workdir, "final", current, model, config.to_dict(),
                                             reuse=current == start)
        write_text(workdir / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False), overwrite=True)
        record.update(weights=str(final), weights_sha256=sha256_of(final), weights_config=str(final_config))
        # its own preset card: the readout of the preset it started from, so that it is used as that one is
        record["preset_card"] = str(card.write_card(final, record["weights_sha256"], model.count_params(), config,
                                                    current, record["validation"]))
        record["predict_command"] = card.predict_command(record["preset_card"])
        write_record(workdir, record)
        out.say(f"weights: {final} (sha256 {record['weights_sha256']})\n"
                f"colorize with them: {record['predict_command']}")
    return record


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


# ---------------------------------------------------------------------------------------------- helpers

def count_steps_per_epoch(config):
    """Steps in one pass over the training split (at least 1)."""
    return max(1, data.count_records(config) // config.train.batch_size)


def _run_length(config, dataset):
    """(steps per epoch, total steps, steps per epoch as shown in the progress lines)."""
    tc = config.train
    if dataset is not None and tc.steps_per_epoch is None and tc.steps is None:
        raise TrainingError("training on your own dataset needs train.steps (or train.steps_per_epoch) in the config")
    if tc.steps_per_epoch or dataset is not None:
        steps_per_epoch = tc.steps_per_epoch or tc.steps
        return steps_per_epoch, tc.steps or steps_per_epoch * tc.epochs, steps_per_epoch
    # the data counted once: steps per epoch, and the epoch shown as passes over the data (58 photos in batches of
    # 32: 0.55 a step)
    epoch_steps = data.count_records(config) / tc.batch_size
    steps_per_epoch = max(1, int(epoch_steps))
    return steps_per_epoch, tc.steps or steps_per_epoch * tc.epochs, epoch_steps


def _length_warnings(tc, total_steps, max_steps, steps_per_epoch, epoch_steps=None):
    """One line for each thing about the run's length a user would not expect; ``epoch_steps``: batches in the
    training split (counted), or None."""
    found = []
    if epoch_steps is not None and epoch_steps < 1:
        found.append(f"the training split holds {round(epoch_steps * tc.batch_size)} images, fewer than one batch of "
                     f"{tc.batch_size}: every batch repeats them; add photos or lower train.batch_size")
    if max_steps and max_steps < tc.warmup_steps < total_steps:
        found.append(f"--max-steps {max_steps} ends inside the learning-rate warm-up (train.warmup_steps "
                     f"{tc.warmup_steps}): the learning rate never reaches train.learning_rate; pass more steps or "
                     "lower train.warmup_steps")
    if max_steps and max_steps > total_steps:
        found.append(f"--max-steps {max_steps} is more than the {total_steps} steps this config trains "
                     f"({'train.steps' if tc.steps else f'{tc.epochs} epochs of {steps_per_epoch} steps'}): training "
                     "stops there; raise train.steps to train longer")
    if tc.warmup_steps >= total_steps:
        found.append(f"train.warmup_steps {tc.warmup_steps} is not less than the run's {total_steps} steps: the "
                     "learning rate never reaches train.learning_rate; lower train.warmup_steps")
    return found


def _until_next(current, every):
    return every - current % every


def _resume(checkpoint, ckpt_dir, config, restart, allow_config_change, chief, out):
    if restart:
        moved = checkpoints.move_aside(ckpt_dir) if chief else None
        if moved:
            out.say(f"--restart: moved the old checkpoints to {moved}; starting from step 0")
        return None
    if chief:  # the workdir lock is held: a ckpt-N_temp/ here is a killed run's
        checkpoints.remove_dead_temporaries(ckpt_dir)
    prefix = checkpoints.restore_newest(checkpoint, ckpt_dir, config.to_dict(), say=out.warn)
    stored = checkpoints.stored_config(prefix) if prefix else None
    if stored is None:
        return prefix
    changes = checkpoints.config_differences(_normalized(stored), config.to_dict())
    breaking = [c for c in changes if c[0].startswith(BREAKING_CHANGES)]
    listed = ", ".join(f"{k} {a} -> {b}" for k, a, b in changes)
    if breaking and not allow_config_change:
        raise TrainingError(f"the config differs from the one {prefix} was trained with: {listed}; "
                            f"{', '.join(k for k, _, _ in breaking)} change what the checkpoint means or where the "
                            "data stream stands: use another --workdir, or pass --allow-config-change to go on")
    if changes:
        out.warn(f"resuming with a changed config: {listed}")
    return prefix


def _stored_precision(workdir):
    """The precision the newest checkpoint of ``workdir`` was trained in, or None (no checkpoint, or one made
    before its config was stored beside it)."""
    newest = checkpoints.list_checkpoints(workdir / "checkpoints")
    stored = checkpoints.stored_config(newest[0]) if newest else None
    return ((stored or {}).get("train") or {}).get("precision")


def _normalized(stored):
    train = dict(stored.get("train") or {})
    if train.get("loss") == "huber":  # the old name of "regression"
        train["loss"] = "regression"
    return {**stored, "train": train}


def _stop_on_non_finite(status, last_loss, current, ckpt_dir):
    last_good = tf.train.latest_checkpoint(ckpt_dir) or "none yet"
    what = f"loss became {last_loss}" if status == 1 else \
        f"the gradients were non-finite {MAX_SKIPS_IN_A_ROW} steps in a row (each skipped)"
    raise TrainingError(f"{what} at step {current}; stopped without saving. The last good checkpoint ({last_good}) is "
                        "intact: check the data for NaN or lower train.learning_rate, then re-run to resume")


def _check_finite_weights(model, current, ckpt_dir):
    if not all(bool(tf.reduce_all(tf.math.is_finite(w))) for w in model.trainable_variables):
        last_good = tf.train.latest_checkpoint(ckpt_dir) or "none yet"
        raise TrainingError(f"the weights are not finite at step {current}; not saved. The last good checkpoint "
                            f"({last_good}) is intact: lower train.learning_rate, then re-run to resume")



"""What a training run reports: validation metrics, the progress lines, and ``record.json``, kept cumulative across
resumes (the loss history of every earlier segment of the run is carried over, up to the step resumed from)."""
import contextlib
import json
import math
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from colorize import color
from colorize._version import __version__
from colorize.evaluation import metrics
from colorize.io import atomic
from colorize.model.weights import sha256_of
from colorize.training.batches import as_training_pair, model_inputs


def _grey_predicted_truth(model, model_config, l, ab):
    """Scaled (L, ab) batch -> RGB of the grey baseline, the model's regression readout (no hints) and the truth."""
    lightness = l * color.L_SCALE + color.L_CENTER
    predicted = model(model_inputs(model_config, l), training=False)["ab"]
    return [color.lab_to_rgb(tf.concat([lightness, chroma], -1))
            for chroma in (tf.zeros_like(ab), color.unscale_ab(predicted), color.unscale_ab(ab))]


def validate(model, model_config, val_ds, samples=0):
    """Mean PSNR / AuC / colorfulness of the model's ab readout and of the grey baseline on validation batches (RGB
    or (L, ab) pairs), and (with ``samples``) the first ``samples`` images side by side (grey | predicted | truth),
    else None."""
    sums, n, sheet = {}, 0, None
    for batch in val_ds:
        l, ab = as_training_pair(batch)
        grey, pred, truth = _grey_predicted_truth(model, model_config, l, ab)
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


def _duration(seconds):
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


class Console:
    """Progress output: with ``mode="bar"`` (a terminal) one line rewritten in place, with ``"plain"`` (a log file)
    one line per log interval; messages always get lines of their own. ``"auto"`` picks by ``stream.isatty()``."""

    def __init__(self, total, verbose=True, mode="auto", stream=None):
        self.stream = stream or sys.stdout
        self.total, self.verbose = total, verbose
        if mode == "auto":
            mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "plain"
        self.mode = mode
        self._open_bar = False

    def progress(self, step, epoch, loss, images_per_second, lr, eta_seconds, final=False):
        if not self.verbose:
            return
        line = (f"step {step}/{self.total}  epoch {epoch:.2f}  loss {loss:.4f}  {images_per_second:.0f} img/s  "
                f"lr {lr:.2e}  eta {_duration(eta_seconds)}")
        if self.mode == "bar":
            self.stream.write("\r" + line.ljust(100) + ("\n" if final else ""))
            self._open_bar = not final
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def say(self, text, error=False):
        if not self.verbose and not error:
            return
        if self._open_bar:
            self.stream.write("\n")
            self._open_bar = False
        print(text, file=sys.stderr if error else self.stream, flush=True)

    def warn(self, text):
        self.say(f"colorize: warning: {text}", error=True)


class Throughput:
    """Images/s and ETA from this run's own measured rate (steps of earlier segments don't count, nor does the
    first call, which traces the graph, while later calls exist)."""

    def __init__(self, batch_size):
        self.batch_size, self.steps, self.seconds, self.first = batch_size, 0, 0.0, None

    def add(self, steps, seconds):
        if self.first is None:
            self.first = (steps, seconds)
        else:
            self.steps += steps
            self.seconds += seconds

    def _measured(self):
        return (self.steps, self.seconds) if self.steps else (self.first or (0, 0.0))

    @property
    def images_per_second(self):
        steps, seconds = self._measured()
        return steps * self.batch_size / seconds if seconds > 0 else 0.0

    def eta(self, remaining_steps):
        steps, seconds = self._measured()
        return remaining_steps * seconds / steps if steps else 0.0


def previous_record(workdir, upto_step):
    """The record of earlier segments of this run, cut at ``upto_step`` (the step resumed from): loss and
    validation history, the best validation; an empty record for a fresh run."""
    try:
        old = json.loads((Path(workdir) / "record.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"loss_history": [], "validation_history": [], "segments": [], "best": None}
    keep = lambda entries: [e for e in entries or [] if isinstance(e, dict) and e.get("step", math.inf) <= upto_step]
    best = old.get("best")
    if not isinstance(best, dict) or best.get("step", math.inf) > upto_step:
        best = None
    return {"loss_history": keep(old.get("loss_history")), "validation_history": keep(old.get("validation_history")),
            "segments": [s for s in old.get("segments") or [] if s.get("from", math.inf) < upto_step], "best": best}


def write_record(workdir, record):
    atomic.write_text(Path(workdir) / "record.json", json.dumps(record, indent=1, default=str), overwrite=True)


def predict_command(weights, sha256, config_path):
    return (f"colorize predict PHOTOS -o colorized --weights {shlex.quote(str(weights))} --sha256 {sha256} "
            f"--config {shlex.quote(str(config_path))}")


class StopWatch:
    """Seconds spent per kind of work (spans still running included), so the loop can report its host overhead."""

    def __init__(self):
        self.seconds, self.running = {}, {}

    @contextlib.contextmanager
    def __call__(self, kind):
        self.running[kind] = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[kind] = self.seconds.get(kind, 0.0) + time.perf_counter() - self.running.pop(kind)

    def totals(self):
        now = time.perf_counter()
        return {k: self.seconds.get(k, 0.0) + (now - self.running[k] if k in self.running else 0.0)
                for k in set(self.seconds) | set(self.running)}


class RunRecord:
    """What the run has done so far, earlier segments included: the record's contents."""

    def __init__(self, config, strategy, model, start, total_steps, earlier, warnings):
        self.config, self.strategy, self.model = config, strategy, model
        self.start, self.total_steps = start, total_steps
        self.earlier, self.warnings = earlier, warnings
        self.history, self.validations, self.best = earlier["loss_history"], earlier["validation_history"], \
            earlier["best"]
        self.rate, self.watch, self.skipped, self.calls = Throughput(config.train.batch_size), StopWatch(), 0, 0
        self.code_version = code_version()

    def validated(self, current, val, workdir):
        self.validations.append({"step": current, **val})
        if self.best is None or self.best.get("psnr", -math.inf) < val.get("psnr", -math.inf):
            path = atomic.write_with(Path(workdir) / "best.weights.h5", self.model.save_weights, overwrite=True)
            self.best = {"step": current, "psnr": val.get("psnr"), "weights": str(path), "sha256": sha256_of(path)}

    def record(self, current, finished):
        config, seconds, steps = self.config, self.watch.totals(), max(current - self.start, 1)
        segments = self.earlier["segments"] + ([{"from": self.start, "to": current,
                                                 "images_per_second": self.rate.images_per_second}]
                                               if current > self.start else [])
        host = seconds.get("loop", 0.0) - sum(seconds.get(k, 0.0) for k in ("steps", "validation", "checkpoints"))
        return {"config": config.to_dict(), "data": {"source": config.data.source, "split": config.data.train_split,
                                                     "data_dir": config.data.data_dir},
                "steps": current, "total_steps": self.total_steps, "resumed_from_step": self.start,
                "finished": finished,
                "images_per_second": segments[-1]["images_per_second"] if segments else None,
                "segments": segments,
                "final_loss": self.history[-1]["loss"] if self.history else None, "loss_history": self.history,
                "validation": self.validations[-1] if self.validations else {},
                "validation_history": self.validations, "best": self.best, "skipped_steps": self.skipped,
                "warnings": self.warnings,
                "graph_calls": self.calls,
                "seconds": {**seconds, "step_calls_per_step": seconds.get("steps", 0.0) / steps,
                            "host_per_step": host / steps},
                "code_version": self.code_version, "strategy": type(self.strategy).__name__,
                "replicas": self.strategy.num_replicas_in_sync,
                "weights_checksum": float(sum(np.abs(w.numpy()).sum() for w in self.model.trainable_weights))}


def code_version():
    """The installed package's version (a ``git describe`` of the package folder timed out uncaught, and inside a
    user's own repository named that repository's commit)."""
    return __version__

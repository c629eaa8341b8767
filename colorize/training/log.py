"""What a training run reports: validation metrics, the progress lines, and ``record.json``, kept cumulative across
resumes (the loss history of every earlier segment of the run is carried over, up to the step resumed from)."""
import contextlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from colorize import color
from colorize._version import __version__
from colorize.errors import OutputExistsError, WriteError
from colorize.evaluation import auc, colorfulness, psnr
from colorize.io import write_text, write_with
from colorize.model import sha256_of
from colorize.training import card
from colorize.training.batches import as_training_pair, model_inputs


def _grey_predicted_truth(model, model_config, l, ab, readout=None):
    """Scaled (L, ab) batch -> RGB of the grey baseline, the model's regression readout (no hints) and the truth,
    and with ``readout`` (a ``colorize.pipeline.readout.Readout``) that readout's RGB too (gamut-fitted, as a
    Colorizer finishes a photo)."""
    lightness = l * color.L_SCALE + color.L_CENTER
    outputs = model(model_inputs(model_config, l), training=False)
    rgbs = [color.lab_to_rgb(tf.concat([lightness, chroma], -1))
            for chroma in (tf.zeros_like(ab), color.unscale_ab(outputs["ab"]), color.unscale_ab(ab))]
    if readout is not None:
        chroma = tf.cast(readout(outputs, model_config.input_size), tf.float32)
        rgbs.append(color.lab_to_rgb(color.fit_chroma_to_gamut(tf.concat([lightness, chroma], -1))))
    return rgbs


def validate(model, model_config, val_ds, samples=0, readout=None):
    """Mean PSNR / AuC / colorfulness of the model's regression head and of the grey baseline on validation batches
    (RGB or (L, ab) pairs), with ``readout`` (the one a preset ships; ``readout_`` keys) that readout's too, and
    (with ``samples``) the first ``samples`` images side by side (grey | predicted | truth; predicted by
    ``readout`` when given), else None."""
    sums, n, sheet = {}, 0, None
    for batch in val_ds:
        l, ab = as_training_pair(batch)
        grey, pred, truth, *read = _grey_predicted_truth(model, model_config, l, ab, readout)
        if samples and sheet is None:
            sheet = tf.concat([grey[:samples], (read or [pred])[0][:samples], truth[:samples]], axis=2)
        for prefix, image in [("", pred), ("grey_", grey)] + [("readout_", image) for image in read]:
            for k in ("psnr", "auc"):
                score = {"psnr": psnr, "auc": auc}[k](image, truth)
                sums[prefix + k] = sums.get(prefix + k, 0.0) + float(tf.reduce_sum(score))
            sums[prefix + "colorfulness"] = sums.get(prefix + "colorfulness", 0.0) + float(
                tf.reduce_sum(colorfulness(image)))
        sums["truth_colorfulness"] = sums.get("truth_colorfulness", 0.0) + float(
            tf.reduce_sum(colorfulness(truth)))
        n += int(l.shape[0])
    return {k: v / max(n, 1) for k, v in sums.items()}, sheet


def validation_readout(train_config, model_config):
    """The readout a run validates with beside the regression head (``train.validation_readout``): None for
    ``regression``, else the ``Readout`` of the named preset's card (what the run's weights will ship with)."""
    name = train_config.validation_readout
    if name == "regression" or not model_config.bins_head:
        return None
    from colorize.pipeline import Readout
    from colorize.presets import get_preset
    return Readout(**get_preset(name[len("preset:"):]).readout)


class StartingPoint:
    """The preset a run started from (``train.init_weights: preset:NAME``), measured on the run's own validation
    images once, so that the first and last validation lines can show whether fine-tuning helped."""

    def __init__(self, init_weights, model_config):
        self.name = init_weights[len("preset:"):] if (init_weights or "").startswith("preset:") else None
        self.model_config, self.figures = model_config, None

    def compare(self, val, val_ds):
        """One line: the preset's figures beside the run's ``val``; None when the run did not start from a preset
        (or from one of another input size, whose figures would not be comparable)."""
        if self.name is None:
            return None
        if self.figures is None:
            from colorize.model import build_model, load_weights
            from colorize.presets import get_preset
            preset = get_preset(self.name)
            if preset.model_config.input_size != self.model_config.input_size:
                self.name = None
                return None
            model = load_weights(build_model(preset.model_config), preset.weights_path, preset.sha256,
                                 f"preset {preset.name!r}")
            self.figures, _ = validate(model, preset.model_config, val_ds)
        shown = [k for k in ("psnr", "auc", "colorfulness") if k in val and k in self.figures]
        return (f"  the starting preset {self.name} on the same images: "
                + ", ".join(f"{k} {self.figures[k]:.3f} (this run {val[k]:.3f}, {val[k] - self.figures[k]:+.3f})"
                            for k in shown))


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
    write_text(Path(workdir) / "record.json", json.dumps(record, indent=1, default=str), overwrite=True)


def export_weights(workdir, kind, step, model, config_dict, reuse=False):
    """Write ``model``'s weights as ``WORKDIR/{kind}-step{step}.weights.h5``, its config beside it (``.yaml``, as
    ``train.init_weights`` and the predict line read it) -> (weights path, config path). Never over an existing
    weights file, so that every line printed with one keeps working: a name already taken (a run that reached the
    same step before a --restart) gets ``-2``, ``-3``...; with ``reuse``, an existing file of that name is returned
    as it is (a resume that trained no further step)."""
    import yaml
    text = yaml.safe_dump(config_dict, sort_keys=False)
    for n in range(1, 10_000):
        stem = f"{kind}-step{step}" + (f"-{n}" if n > 1 else "")
        weights, config_path = Path(workdir) / f"{stem}.weights.h5", Path(workdir) / f"{stem}.yaml"
        if weights.exists():
            if reuse and config_path.exists():
                return weights, config_path
            continue
        write_text(config_path, text, overwrite=True)  # no weights file names it yet
        try:
            write_with(weights, model.save_weights, overwrite=False)
        except OutputExistsError:  # another process took the name meanwhile
            continue
        return weights, config_path
    raise WriteError(f"{workdir} holds 10,000 {kind}-step{step} weights files; use another --workdir")


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
        """Record a validation; the best so far (by the PSNR of the validation readout where there is one, else
        of the regression head) is exported as ``best-stepN``."""
        self.validations.append({"step": current, **val})
        key = "readout_psnr" if "readout_psnr" in val else "psnr"
        if self.best is None or self.best.get(key, -math.inf) < val.get(key, -math.inf):
            path, config_path = export_weights(workdir, "best", current, self.model, self.config.to_dict())
            self.best = {"step": current, "psnr": val.get("psnr"), key: val.get(key), "selected_on": key,
                         "weights": str(path), "sha256": sha256_of(path), "config": str(config_path)}
            self.best["preset_card"] = str(card.write_card(path, self.best["sha256"], self.model.count_params(),
                                                           self.config, current, {"step": current, **val}))

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

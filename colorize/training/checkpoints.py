"""A training's checkpoints (saved, rotated, restored with a fallback to the newest one that restores) and the
config stored beside each checkpoint. The workdir's lock: ``workdir``; exporting weights: ``checkpoint_export``.

The checkpoint object is TensorFlow's (``tf.train.Checkpoint(model=, optimizer=, step=)``), named ``ckpt-STEP`` in
``WORKDIR/checkpoints`` with the usual ``checkpoint`` state file, so ``tf.train.latest_checkpoint`` and older
workdirs keep working. A run deletes only checkpoints it wrote itself: the one it resumed from, and every older
one, stay until someone deletes them.

A checkpoint counts only once all its files are in and parse: TensorFlow's ``.index`` and ``.data-*`` and then
``ckpt-STEP.json`` (its config and data position), written last. One that a kill cut short is named and skipped,
and the newest complete one used; TensorFlow's own ``ckpt-STEP_temp/`` of a killed write is removed on resume.
Only checkpoints of the layout before the ``.json`` existed (TensorFlow's ``CheckpointManager``) count without it.
"""
import json
import re
import shutil
import time
from pathlib import Path

import tensorflow as tf

from colorize.errors import TrainingError, WriteError
from colorize.io import write_text

STATE_FILE = "checkpoint"
_CKPT = re.compile(r"^ckpt-(\d+)$")
_CKPT_TEMP = re.compile(r"^ckpt-\d+_temp")  # TensorFlow writes the shards there, then merges them into ckpt-N


def _step_of(prefix):
    match = _CKPT.match(Path(prefix).name)
    return int(match.group(1)) if match else -1


def _state_file_names(directory):
    """Checkpoint names the state file mentions (an unreadable or garbled state file mentions none)."""
    try:
        text = (Path(directory) / STATE_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    return {Path(name).name for name in re.findall(r'checkpoint_paths?: "([^"]+)"', text)}


def list_checkpoints(directory):
    """Prefixes ``ckpt-N`` found in ``directory`` (by their files, or named by the state file), newest first."""
    directory = Path(directory)
    names = {p.name.split(".")[0] for p in directory.glob("ckpt-*.index")}
    names |= {p.name.split(".")[0] for p in directory.glob("ckpt-*.data-*")}
    names |= _state_file_names(directory)
    return [directory / n for n in sorted((n for n in names if _CKPT.match(n)), key=_step_of, reverse=True)]


def _legacy_names(directory):
    """Checkpoints of the layout before ``ckpt-N.json`` existed: those named by a state file that TensorFlow's
    ``CheckpointManager`` wrote (with its timestamps; ``CheckpointWriter`` rewrites the state file without them)."""
    try:
        text = (Path(directory) / STATE_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    return _state_file_names(directory) if "last_preserved_timestamp" in text else set()


def _missing_files(prefix):
    """Why the checkpoint ``prefix`` is not complete, as "its file ... is missing / is corrupt (...)", or None."""
    prefix = Path(prefix)
    missing = _missing_tensorflow_files(prefix)
    if missing:
        return f"its file {missing} is missing"
    sidecar = prefix.with_name(prefix.name + ".json")
    try:
        entry = json.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if prefix.name in _legacy_names(prefix.parent):
            return None
        return f"its file {sidecar.name} is missing (the run was stopped while saving it)"
    except (OSError, ValueError) as err:
        return f"its file {sidecar.name} is corrupt ({' '.join(str(err).split())[:100]})"
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        return f"its file {sidecar.name} is corrupt (it holds no config)"
    return None


def remove_dead_temporaries(directory):
    """Remove the ``ckpt-N_temp`` folders that a write killed midway left (TensorFlow removes its own when it
    finishes); call only while holding the workdir lock. Returns how many were removed."""
    removed = 0
    for path in Path(directory).glob("ckpt-*_temp*"):
        if _CKPT_TEMP.match(path.name):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            removed += 1
    return removed


def _missing_tensorflow_files(prefix):
    prefix = Path(prefix)
    if not prefix.with_name(prefix.name + ".index").is_file():
        return f"{prefix.name}.index"
    shards = sorted(prefix.parent.glob(prefix.name + ".data-*-of-*"))
    if not shards:
        return f"{prefix.name}.data-*"
    expected = int(shards[0].name.rsplit("-of-", 1)[1])
    present = {int(s.name.split(".data-", 1)[1].split("-of-")[0]) for s in shards}
    missing = [i for i in range(expected) if i not in present]
    return f"{prefix.name}.data-{missing[0]:05d}-of-{expected:05d}" if missing else None


def stored_config(prefix):
    """The config dict saved beside a checkpoint (``ckpt-N.json``), or None for checkpoints made before it was."""
    return stored_entry(prefix, "config")


def stored_entry(prefix, key):
    """An entry of the JSON saved beside a checkpoint (``config``, ``data_positions``...), or None."""
    try:
        return json.loads(Path(str(prefix) + ".json").read_text(encoding="utf-8"))[key]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def config_differences(old, new, section=None):
    """[(key, old value, new value)] of two config dicts (``section`` limits it to one section)."""
    changes = []
    for name in sorted(set(old) | set(new)):
        if section and name != section:
            continue
        a, b = old.get(name, {}), new.get(name, {})
        if not isinstance(a, dict) or not isinstance(b, dict):
            continue
        for key in sorted(set(a) | set(b)):
            va, vb = a.get(key), b.get(key)
            if isinstance(va, (list, tuple)) and isinstance(vb, (list, tuple)):
                va, vb = list(va), list(vb)
            if va != vb:
                changes.append((f"{name}.{key}", va, vb))
    return changes


def _problem(prefix, err, current_config):
    """One line on why ``prefix`` did not restore."""
    missing = _missing_files(prefix)
    if missing:
        return missing
    old = stored_config(prefix)
    if old is not None and current_config is not None:
        changed = config_differences(old, current_config, "model")
        if changed:
            return "it was trained with a different model: " + ", ".join(
                f"{k.split('.', 1)[1]} {a} vs {b}" for k, a, b in changed)
    text = getattr(err, "message", None) or str(err) or type(err).__name__
    first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    if isinstance(err, tf.errors.DataLossError) or "corrupt" in first.lower() or "checksum" in first.lower():
        return f"it is corrupt ({first[:200]})"
    if isinstance(err, (ValueError, AssertionError)):
        return f"it does not fit this model, probably trained with another config ({first[:200]})"
    return f"it cannot be read ({type(err).__name__}: {first[:200]})"


def restore(checkpoint, prefix):
    """Restore ``checkpoint`` from ``prefix``, requiring every object of ``checkpoint`` to be found there."""
    status = checkpoint.read(str(prefix))  # read, unlike restore, adds no save counter of its own
    status.assert_existing_objects_matched()
    status.expect_partial()  # extra objects in the file (e.g. its save counter) are fine


def restore_newest(checkpoint, directory, current_config=None, say=print):
    """Restore the newest checkpoint in ``directory`` that restores; ``say`` one line for each newer one skipped.

    Returns its prefix, or None when ``directory`` has no checkpoint at all. Raises TrainingError, naming each
    checkpoint and its problem, when there are checkpoints and none restores: never a silent fresh start.
    """
    found = list_checkpoints(directory)
    problems = []
    for prefix in found:
        missing = _missing_files(prefix)
        try:
            if missing:
                raise FileNotFoundError(missing)
            restore(checkpoint, prefix)
        except Exception as err:  # TensorFlow raises OpErrors, ValueErrors and AssertionErrors for bad files
            problems.append(f"{prefix.name}: {_problem(prefix, err, current_config)}")
            continue
        if problems:
            say(f"checkpoint {prefix} chosen to resume from, skipping newer ones that do not restore: "
                + "; ".join(problems))
        return prefix
    if problems:
        raise TrainingError(f"no checkpoint in {directory} can be restored ({'; '.join(problems)}); fix or remove "
                            "them, or pass --restart to move them aside and start again from step 0")
    return None


def move_aside(directory):
    """Rename a checkpoints folder to ``NAME.old-TIMESTAMP`` (for a deliberate restart); returns the new path."""
    directory = Path(directory)
    if not directory.exists():
        return None
    target = directory.with_name(f"{directory.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
    directory.rename(target)
    return target


class CheckpointWriter:
    """Saves ``ckpt-STEP`` checkpoints with the config beside each, and rotates only its own.

    ``keep`` newest checkpoints written by this writer are kept; checkpoints it did not write (the one a run
    resumed from, and every older one) are never deleted. ``directory`` is where this process writes; on a
    multi-worker non-chief that is a scratch folder, removed after each save (saving is collective: every worker
    must write, and only the chief's copy is kept).
    """

    def __init__(self, checkpoint, directory, keep, config_dict, scratch=False):
        self.checkpoint, self.directory, self.keep = checkpoint, Path(directory), keep
        self.config_dict, self.scratch = config_dict, scratch
        self.written = []

    def save(self, step, extra=None):
        self.directory.mkdir(parents=True, exist_ok=True)
        prefix = self.directory / f"ckpt-{step}"
        try:
            self.checkpoint.write(str(prefix))
        except (tf.errors.OpError, OSError) as err:  # a full disk, mostly: its cause kept on the one line
            text = " ".join((getattr(err, "message", None) or str(err) or type(err).__name__).split())
            raise WriteError(f"cannot write checkpoint {prefix} ({text[:300]}); check that the disk is not full") \
                from None
        if self.scratch:
            shutil.rmtree(self.directory, ignore_errors=True)
            return prefix
        write_text(str(prefix) + ".json", json.dumps(
            {"step": step, "config": self.config_dict, **(extra or {})}, indent=1, default=str), overwrite=True)
        if prefix not in self.written:
            self.written.append(prefix)
        while len(self.written) > self.keep:
            _delete(self.written.pop(0))
        self._write_state(prefix)
        return prefix

    def _write_state(self, latest):
        names = [p.name for p in list_checkpoints(self.directory) if not _missing_files(p)][::-1]
        lines = [f'model_checkpoint_path: "{latest.name}"'] + [f'all_model_checkpoint_paths: "{n}"' for n in names]
        write_text(self.directory / STATE_FILE, "\n".join(lines) + "\n", overwrite=True)


def _delete(prefix):
    for path in Path(prefix).parent.glob(Path(prefix).name + ".*"):
        if path.name.split(".")[0] == Path(prefix).name:
            path.unlink(missing_ok=True)

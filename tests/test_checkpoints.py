"""Checkpoints and the workdir: fallback to the newest checkpoint that restores, no deletion of older ones, one-line
problems, --restart, the workdir lock, resuming checkpoints written by the code before colorize.training.checkpoints."""
import json
import socket
import subprocess
import sys

import pytest
import tensorflow as tf
from training_helpers import fast, pairs

from colorize.errors import TrainingError
from colorize.training import checkpoints
from colorize.training.loop import train


def run(workdir, steps, *overrides, **kwargs):
    return train(fast(*overrides), workdir, max_steps=steps, verbose=False, dataset=pairs(), **kwargs)


def names(workdir):
    return sorted(p.name[:-6] for p in (workdir / "checkpoints").glob("ckpt-*.index"))


def test_falls_back_to_the_newest_good_checkpoint_and_keeps_older_ones(tmp_path, capsys):
    run(tmp_path, 3)
    assert names(tmp_path) == ["ckpt-2", "ckpt-3"]
    (tmp_path / "checkpoints" / "ckpt-3.index").unlink()  # the newest checkpoint lost a file
    (tmp_path / "checkpoints" / "checkpoint").write_bytes(b"\x00garbage\xff")  # and the state file is garbled
    record = train(fast(), tmp_path, max_steps=6, dataset=pairs(), log="plain")
    err = capsys.readouterr().err
    skipped = [line for line in err.splitlines() if "ckpt-3" in line]
    assert len(skipped) == 1 and "ckpt-2" in skipped[0] and "ckpt-3.index is missing" in skipped[0]
    assert record["resumed_from_step"] == 2 and record["steps"] == 6
    assert {"ckpt-2", "ckpt-5", "ckpt-6"} <= set(names(tmp_path))  # the one resumed from is never deleted
    assert tf.train.latest_checkpoint(tmp_path / "checkpoints").endswith("ckpt-6")


def test_no_restorable_checkpoint_stops_with_a_clear_error_and_restart_moves_them_aside(tmp_path):
    run(tmp_path, 2)
    for f in (tmp_path / "checkpoints").glob("ckpt-*.data-*"):
        f.write_bytes(b"")  # truncated to nothing
    with pytest.raises(TrainingError, match=r"no checkpoint .* can be restored \(ckpt-2: .*ckpt-1: .*--restart"):
        run(tmp_path, 4)
    record = run(tmp_path, 1, restart=True)
    assert record["resumed_from_step"] == 0 and record["steps"] == 1
    assert len(list(tmp_path.glob("checkpoints.old-*/ckpt-2.index"))) == 1


def test_a_corrupt_checkpoint_is_named_with_its_problem_in_one_line(tmp_path, capsys):
    run(tmp_path, 2)
    data = next((tmp_path / "checkpoints").glob("ckpt-2.data-*"))
    raw = bytearray(data.read_bytes())
    for i in range(0, len(raw), 7):
        raw[i] ^= 0xFF
    data.write_bytes(bytes(raw))
    record = train(fast(), tmp_path, max_steps=3, dataset=pairs(), log="plain")
    line = [x for x in capsys.readouterr().err.splitlines() if "ckpt-2" in x]
    assert len(line) == 1 and "ckpt-2: it is corrupt" in line[0] and "ckpt-1" in line[0]
    assert record["resumed_from_step"] == 1


def test_a_workdir_of_another_model_names_the_difference(tmp_path):
    run(tmp_path, 1)
    with pytest.raises(TrainingError, match=r"ckpt-1: it was trained with a different model: row_units 8 vs 16"):
        run(tmp_path, 2, "model.row_units=16")


def test_a_live_lock_refuses_a_second_training_and_a_stale_one_is_taken_over(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, json, os, socket, sys, time\n"
        "f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "f.write(json.dumps({'pid': os.getpid(), 'host': socket.gethostname()})); f.flush()\n"
        "print('locked', flush=True); time.sleep(120)\n"), str(tmp_path / "train.lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(TrainingError, match=f"in use by the training process {holder.pid} on"):
            run(tmp_path, 1)
    finally:
        holder.kill()
        holder.wait()
    (tmp_path / "train.lock").write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname()}))
    assert run(tmp_path, 1)["steps"] == 1  # the dead process's lock is stale
    assert not (tmp_path / "train.lock").exists()


def test_checkpoints_written_the_old_way_still_resume(tmp_path):
    """The checkpoint layout of the code before colorize.training.checkpoints (CheckpointManager, no config beside
    it)."""
    import keras

    from colorize.model.network import build_model
    from colorize.training.loop import WarmupCosine
    config = fast()
    model = build_model(config)
    optimizer = keras.optimizers.AdamW(WarmupCosine(0.003, 1, 100), weight_decay=1e-4)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
    optimizer.build(model.trainable_variables)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step)
    manager = tf.train.CheckpointManager(checkpoint, tmp_path / "checkpoints", max_to_keep=2)
    step.assign(7)
    model.trainable_variables[0].assign(tf.fill(model.trainable_variables[0].shape, 0.125))
    manager.save(checkpoint_number=7)
    record = run(tmp_path, 8)
    assert record["resumed_from_step"] == 7 and record["steps"] == 8
    assert (tmp_path / "checkpoints" / "ckpt-7.index").exists()


def test_writer_rotates_only_its_own_checkpoints(tmp_path):
    holder = tf.train.Checkpoint(v=tf.Variable(1.0))
    old = checkpoints.CheckpointWriter(holder, tmp_path, keep=1, config_dict={})
    old.save(1)
    writer = checkpoints.CheckpointWriter(holder, tmp_path, keep=2, config_dict={"train": {"seed": 0}})
    for step in (2, 3, 4):
        writer.save(step)
    assert [p.name for p in checkpoints.list_checkpoints(tmp_path)] == ["ckpt-4", "ckpt-3", "ckpt-1"]
    assert checkpoints.stored_config(tmp_path / "ckpt-4") == {"train": {"seed": 0}}
    assert checkpoints.restore_newest(holder, tmp_path, say=print).name == "ckpt-4"


# -- round 3 of hostile input (issue 26): killed mid-save -------------------------------------------------------
def test_a_checkpoint_without_its_json_is_incomplete_and_the_newest_complete_one_is_used(tmp_path, capsys):
    """Issue 26.10: killed after TensorFlow's files but before ckpt-N.json, a resume took the checkpoint for one
    of an older colorize (no data position: another data order)."""
    run(tmp_path, 3)
    (tmp_path / "checkpoints" / "ckpt-3.json").unlink()
    record = train(fast(), tmp_path, max_steps=4, dataset=pairs(), log="plain")
    line = [x for x in capsys.readouterr().err.splitlines() if "ckpt-3" in x]
    assert len(line) == 1 and "ckpt-3: its file ckpt-3.json is missing" in line[0] and "ckpt-2" in line[0]
    assert record["resumed_from_step"] == 2


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_the_config_change_guard_holds_whatever_happened_to_the_json(tmp_path, damage):
    """Issue 26.10: with ckpt-N.json missing or corrupt ({bad), another train.batch_size and train.seed went
    through, where the intact checkpoint refuses them."""
    run(tmp_path, 2)
    sidecar = tmp_path / "checkpoints" / "ckpt-2.json"
    sidecar.unlink() if damage == "missing" else sidecar.write_text("{bad")
    with pytest.raises(TrainingError, match=r"differs from the one .*ckpt-1.*train.batch_size"):
        run(tmp_path, 4, "train.batch_size=8", "train.seed=5")
    (tmp_path / "checkpoints" / "ckpt-1.json").write_text("{bad")
    with pytest.raises(TrainingError, match=r"no checkpoint .* can be restored \(ckpt-2: its file ckpt-2.json is "
                                            r".*ckpt-1: its file ckpt-1.json is corrupt"):
        run(tmp_path, 4, "train.batch_size=8", "train.seed=5")


def test_dead_temporaries_of_a_killed_tensorflow_write_are_removed(tmp_path):
    """Issue 26.10: a kill during TensorFlow's own write left ckpt-N_temp/ for ever."""
    run(tmp_path, 2)
    dead = tmp_path / "checkpoints" / "ckpt-9_temp"  # of a step this run does not reach (TensorFlow reuses its own)
    dead.mkdir()
    (dead / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"\0" * 1024)
    assert run(tmp_path, 3)["resumed_from_step"] == 2
    assert not dead.exists() and "ckpt-3" in names(tmp_path)

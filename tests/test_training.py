"""The training loop: loss falls, smoke run, crash-resume, NaN stop, determinism, workdir checks, data pipeline,
losses, process state, run length, records, console, signals, config changes on resume."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import skimage.color
import tensorflow as tf
from conftest import REPO

from colorize.config import load_config
from colorize.data import streams as data
from colorize.errors import TrainingError
from colorize.model import bins
from colorize.training import check_workdir
from colorize.training.batches import as_training_pair
from colorize.training.loop import train

SMOKE = REPO / "configs" / "smoke.yaml"
ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}


def smoke(*overrides):
    return load_config(SMOKE, list(overrides))


def test_loss_falls_on_a_tiny_dataset(tmp_path):
    record = train(smoke("train.epochs=1", "train.steps_per_epoch=40", "train.log_every=1", "data.val_limit=0",
                         "train.warmup_steps=2"), tmp_path, verbose=False)
    losses = [h["loss"] for h in record["loss_history"]]
    assert len(losses) == 40
    assert np.mean(losses[-8:]) < 0.8 * np.mean(losses[:4])


def test_smoke_config_runs_end_to_end_through_the_script(tmp_path):
    import colorize
    users_repo = tmp_path / "users_repo"  # run from inside a user's own git repository: not the code's version
    users_repo.mkdir()
    subprocess.run(["git", "init", "-q", str(users_repo)], check=False, capture_output=True)
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), "--config", str(SMOKE),
                          "--workdir", str(tmp_path)], env=ENV, capture_output=True, text=True, timeout=300,
                         cwd=users_repo)
    assert out.returncode == 0, out.stderr[-2000:]
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["code_version"] == colorize.__version__
    assert record["steps"] == 20 and record["config"]["data"]["source"] == "skimage"
    assert {"psnr", "grey_psnr", "colorfulness", "truth_colorfulness"} <= set(record["validation"])
    assert record["weights"] == str(tmp_path / "final-step20.weights.h5")
    assert (tmp_path / "final-step20.weights.h5").stat().st_size > 0
    assert any((tmp_path / "tensorboard").iterdir())
    from colorize.model.network import build_model
    build_model(smoke()).load_weights(tmp_path / "final-step20.weights.h5")


def test_resume_after_sigkill_continues_from_the_checkpoint(tmp_path):
    args = [sys.executable, str(REPO / "scripts" / "train.py"), "--config", str(SMOKE), "--workdir", str(tmp_path),
            "--set", "train.steps_per_epoch=400", "--set", "train.checkpoint_every=10", "--set", "data.val_limit=0"]
    proc = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while not list(tmp_path.glob("checkpoints/ckpt-20.index")) and time.time() < deadline:
            time.sleep(0.2)
        assert list(tmp_path.glob("checkpoints/ckpt-20.index")), "no checkpoint written in time"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    saved = max(int(p.name[5:-6]) for p in tmp_path.glob("checkpoints/ckpt-*.index"))
    out = subprocess.run(args + ["--max-steps", str(saved + 5)], env=ENV, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "resumed from" in out.stdout and f"at step {saved}" in out.stdout
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["resumed_from_step"] == saved and record["steps"] == saved + 5


def _batches(nan_at=None):
    rng = np.random.default_rng(0)
    l = rng.uniform(-1, 1, (8, 4, 32, 32, 1)).astype("float32")
    ab = (0.3 * l[..., :1] * np.ones(2)).astype("float32")
    if nan_at is not None:
        ab[nan_at] = np.nan
    return tf.data.Dataset.from_tensor_slices((l, ab)).repeat()


def test_nan_in_the_data_stops_training_and_keeps_the_last_checkpoint(tmp_path):
    config = smoke("train.steps_per_epoch=100", "train.checkpoint_every=4", "data.val_limit=0",
                   "train.loss=regression")
    with pytest.raises(TrainingError, match="loss became nan at step 7"):
        train(config, tmp_path, verbose=False, dataset=_batches(nan_at=6))
    ckpt = tf.train.latest_checkpoint(tmp_path / "checkpoints")
    assert ckpt.endswith("ckpt-4")
    from colorize.model.network import build_model
    model = build_model(config)
    tf.train.Checkpoint(model=model).restore(ckpt).expect_partial()
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_two_seeded_deterministic_runs_give_identical_weights(tmp_path):
    config = smoke("train.deterministic=true", "data.val_limit=0", "train.epochs=1", "train.steps_per_epoch=6")
    a = train(config, tmp_path / "a", verbose=False)
    b = train(config, tmp_path / "b", verbose=False)
    assert a["weights_checksum"] == b["weights_checksum"]
    import h5py
    with h5py.File(a["weights"]) as fa, h5py.File(b["weights"]) as fb:
        names = []
        fa.visit(lambda n: names.append(n) if isinstance(fa[n], h5py.Dataset) else None)
        assert names and all(np.array_equal(fa[n][()], fb[n][()]) for n in names)


def test_unwritable_or_full_workdir_fails_before_training(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(TrainingError, match="not writable"):
        train(smoke(), blocker / "run", verbose=False)
    import shutil
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10, 10, 1024))
    with pytest.raises(TrainingError, match="MiB free"):
        check_workdir(tmp_path / "run")


def test_pipeline_lab_matches_skimage_on_the_same_pixels():
    config = smoke("data.val_limit=2")
    records, is_path = data.records(config.data, "train")
    for encoded in records.take(2):
        image = data.decode(encoded, is_path)
        rgb = data.crop_and_resize(image, 32).numpy()
        l, ab = data.to_training_pair(rgb)
        ref = skimage.color.rgb2lab(rgb.astype(np.float64))
        assert np.abs(l.numpy()[..., 0] * 50 + 50 - ref[..., 0]).max() <= 1e-3
        assert np.abs(ab.numpy() * 110 - ref[..., 1:]).max() <= 1e-3


def test_l2_regression_loss_is_the_squared_error_and_grows_faster_than_huber():
    from colorize.training.losses import Losses
    truth = tf.zeros([1, 4, 4, 2])
    small, large = tf.fill([1, 4, 4, 2], 0.01), tf.fill([1, 4, 4, 2], 0.5)  # 1.1 and 55 Lab units
    losses = {kind: Losses(smoke("train.loss=regression", f"train.regression_loss={kind}"), None)
              for kind in ("huber", "l2")}
    value = {(kind, name): float(fn({"ab": x}, truth)) for kind, fn in losses.items()
             for name, x in (("small", small), ("large", large))}
    scale = (110 / 5) ** 2 / 2
    assert value["l2", "large"] == pytest.approx(0.5 * 0.25 * scale, rel=1e-5)
    assert value["l2", "small"] == pytest.approx(value["huber", "small"], rel=1e-5)  # same inside Huber's delta
    assert value["l2", "large"] > 4 * value["huber", "large"]


def test_log_mse_loss_is_per_photo_and_weighs_a_near_grey_photo_like_a_colourful_one():
    from colorize.training.losses import LOG_MSE_FLOOR, LOG_MSE_WEIGHT, Losses
    loss = Losses(smoke("train.loss=regression", "train.regression_loss=log_mse"), None)
    truth = tf.zeros([2, 4, 4, 2])
    pred = tf.stack([tf.fill([4, 4, 2], 0.01), tf.fill([4, 4, 2], 0.3)])
    expected = LOG_MSE_WEIGHT * np.log(np.array([0.01, 0.3]) ** 2 + LOG_MSE_FLOOR)
    assert float(loss({"ab": pred}, truth)) == pytest.approx(expected.sum() / 2, rel=1e-5)
    with tf.GradientTape() as tape:
        tape.watch(pred)
        value = loss({"ab": pred}, truth)
    grad = tape.gradient(value, pred).numpy()
    assert grad[0].mean() > 5 * grad[1].mean() > 0  # the small error of the near-grey photo pulls harder


def test_soft_cross_entropy_equals_tensorflows_in_value_and_gradient():
    from colorize.training.losses import soft_cross_entropy
    rng = np.random.default_rng(3)
    target = tf.nn.softmax(tf.constant(rng.normal(0, 3, (2, 3, 5, 263)), tf.float32))
    logits = tf.constant(rng.normal(0, 8, (2, 3, 5, 263)), tf.float32)
    results = []
    for fn in (soft_cross_entropy, tf.nn.softmax_cross_entropy_with_logits):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            ce = fn(target, logits)
            weighted = tf.reduce_sum(ce * tf.range(1.0, 6.0))
        results.append((ce.numpy(), tape.gradient(weighted, logits).numpy()))
    (ours, our_grad), (ref, ref_grad) = results
    assert ours.shape == ref.shape == (2, 3, 5) and ref.min() > 0.1
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
    np.testing.assert_allclose(our_grad, ref_grad, atol=1e-6)


def test_jit_compile_trains(tmp_path):
    record = train(smoke("train.jit_compile=true", "train.epochs=1", "train.steps_per_epoch=3", "data.val_limit=0"),
                   tmp_path, verbose=False)
    assert record["steps"] == 3 and np.isfinite(record["final_loss"])


def test_bins_target_of_the_old_block_mode_pools_like_an_area_resize():
    from colorize.training.losses import bins_target
    ab = tf.random.uniform([2, 16, 16, 2], -0.5, 0.5)
    np.testing.assert_allclose(bins_target(ab, 4, "block").numpy(),
                               bins.soft_encode(tf.image.resize(ab, [4, 4], method="area") * 110.0).numpy(), atol=1e-5)


def _red_green_stripes():
    """Scaled ab (1, 8, 8, 2): columns alternate a = +60 and a = -60 (red and green), so every 4x4 block is both."""
    ab = np.zeros((1, 8, 8, 2), np.float32)
    ab[..., 0::2, 0], ab[..., 1::2, 0] = 60 / 110.0, -60 / 110.0
    return tf.constant(ab)


def test_bins_targets_keep_a_red_green_block_red_and_green_instead_of_its_brown_mean():
    from colorize.training.losses import bins_target
    centers = bins.bin_centers()
    red, green = np.argmin(np.abs(centers - (55, 5)).sum(-1)), np.argmin(np.abs(centers - (-55, 5)).sum(-1))
    neutral = np.argmin(np.abs(centers - (5, 5)).sum(-1))
    pixels = bins_target(_red_green_stripes(), 2, "pixels").numpy()[0, 0, 0]
    block = bins_target(_red_green_stripes(), 2, "block").numpy()[0, 0, 0]
    assert pixels[red] > 0.1 and pixels[green] > 0.1 and pixels[neutral] < 1e-3  # two modes, nothing between
    assert block[neutral] > 0.1 and block[red] < 1e-3  # the old target: the mean's grey-brown, neither colour
    sample = bins_target(_red_green_stripes(), 2, "sample", tf.constant([0, 1], tf.int64)).numpy()[0]
    assert all(sample[i, j, red] > 0.1 or sample[i, j, green] > 0.1 for i in range(2) for j in range(2))


def test_a_sampled_bins_target_is_an_unbiased_draw_of_the_mean_encoding_and_repeats_with_its_seed():
    from colorize.training.losses import bins_target
    ab = tf.random.stateless_uniform([1, 8, 8, 2], [3, 4], -0.5, 0.5)
    draws = [bins_target(ab, 2, "sample", tf.constant([0, i], tf.int64)).numpy() for i in range(400)]
    mean = bins_target(ab, 2, "pixels").numpy()
    assert np.abs(np.mean(draws, 0) - mean).max() < 0.06 < np.abs(draws[0] - mean).max()
    again = bins_target(ab, 2, "sample", tf.constant([0, 7], tf.int64)).numpy()
    np.testing.assert_array_equal(again, draws[7])
    assert not np.array_equal(draws[7], draws[8])


def test_greyscale_images_are_dropped():
    grey = tf.constant(np.full((8, 8, 3), 120, np.uint8))
    colour = tf.constant(np.dstack([np.full((8, 8), 120), np.full((8, 8), 100), np.full((8, 8), 90)]).astype(np.uint8))
    assert not bool(data.is_colour(grey)) and bool(data.is_colour(colour))
    near = np.full((8, 8, 3), 120, np.uint8)
    near[3, 4] = (122, 120, 121)  # within 2/255: grey
    assert not bool(data.is_colour(near))
    near[5, 1] = (120, 123, 120)  # one pixel 3/255 apart: colour
    assert bool(data.is_colour(near))
    assert not bool(data.is_colour(tf.zeros([0, 0, 3], tf.uint8)))  # an undecodable file's empty stand-in


def test_folder_source_skips_corrupt_files(tmp_path, photos, caplog):
    from PIL import Image
    for name, image in photos.items():
        (tmp_path / "sub").mkdir(exist_ok=True)
        Image.fromarray(image[:64, :64]).save(tmp_path / "sub" / f"{name}.png")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")  # counted and skipped (tests/test_data.py)
    config = smoke(f"data.source={tmp_path}", "train.batch_size=2")
    batch = next(iter(data.train_dataset(config)))
    assert batch["rgb"].shape == (2, 32, 32, 3) and batch["rgb"].dtype == tf.float32
    l, ab = as_training_pair(batch)
    assert l.shape == (2, 32, 32, 1) and ab.shape == (2, 32, 32, 2)


@pytest.mark.slow
def test_multi_worker_mirrored_strategy_two_local_workers_agree(tmp_path):
    import socket
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    script = (
        "import json, sys\n"
        "from colorize.config import load_config\nfrom colorize.training.loop import train\n"
        f"c = load_config({str(SMOKE)!r}, ['data.val_limit=0', 'train.epochs=1', 'train.steps_per_epoch=4',"
        " 'train.batch_size=4'])\n"
        "r = train(c, sys.argv[1], verbose=False)\n"
        "print('RESULT', json.dumps({'checksum': r['weights_checksum'], 'replicas': r['replicas'],"
        " 'strategy': r['strategy'], 'steps': r['steps']}))\n")
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker",
                                                                                   "index": index}}
        env = {**ENV, "TF_CONFIG": json.dumps(tf_config)}
        procs.append(subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "run")], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.split("RESULT", 1)[1]))
    assert results[0]["strategy"] in ("MultiWorkerMirroredStrategy", "CollectiveAllReduceStrategy")
    assert results[0]["replicas"] == 2
    assert results[0]["steps"] == results[1]["steps"] == 4
    assert results[0]["checksum"] == results[1]["checksum"]  # trainable weights are mirrored exactly
    assert (tmp_path / "run" / "final-step4.weights.h5").exists()
    assert not list((tmp_path / "run").glob("worker_tmp_*"))  # the non-chief's scratch checkpoints are removed
    # Each worker reads only its half of the 4 bundled photos: after 4 steps of 2 photos per worker it stands in
    # the 4th pass over its own 2 (reading all 4 photos, it would stand at the end of the 2nd pass).
    positions = json.loads((tmp_path / "run" / "checkpoints" / "ckpt-4.json").read_text())["data_positions"]
    assert [data.split_position(p) for p in positions] == [(3, 2), (3, 2)]


# ---- the loop in parts: process state, run length, records, console, signals, config changes on resume

def test_train_puts_back_the_dtype_policy_and_op_determinism(tmp_path):
    import keras
    from tensorflow.python.framework import config as tf_config
    from training_helpers import fast, pairs
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        train(fast("train.precision=mixed_bfloat16", "train.deterministic=true"), tmp_path, max_steps=1,
              verbose=False, dataset=pairs())
        assert keras.config.dtype_policy().name == "mixed_float16"
        assert not tf_config.is_op_determinism_enabled()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
        tf_config.disable_op_determinism()


def test_a_small_folder_trains_train_steps_validates_and_saves_sparingly_and_prints_the_weights_sha256(
        tmp_path, photos, capsys):
    from PIL import Image

    from colorize.model.weights import sha256_of
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        for name, image in photos.items():
            Image.fromarray(image[i * 40:i * 40 + 96, :96]).save(folder / f"{name}{i}.png")
    config = smoke(f"data.source={folder}", "data.val_share=0", "train.batch_size=4", "train.steps=6",
                   "train.warmup_steps=500", "train.checkpoint_every=5", "train.log_every=3")
    record = train(config, tmp_path / "run", max_steps=50, log="plain")
    out, err = capsys.readouterr()
    assert record["steps"] == 6 and record["total_steps"] == 6  # train.steps, though an epoch is 2 steps
    assert [v["step"] for v in record["validation_history"]] == [6]  # not at each 2-step epoch
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("*.index")) == ["ckpt-5.index",
                                                                                           "ckpt-6.index"]
    assert "--max-steps 50 is more than the 6 steps" in err and "train.warmup_steps 500" in err
    assert len(record["warnings"]) == 2
    weights = tmp_path / "run" / "final-step6.weights.h5"
    assert record["weights_sha256"] == sha256_of(weights) and record["weights_sha256"] in out
    assert f"colorize predict PHOTOS -o colorized --preset-file {tmp_path / 'run' / 'final-step6.preset.json'}" in out
    assert load_config(tmp_path / "run" / "final-step6.yaml") == config  # what the predict command's --config reads
    assert record["best"]["sha256"] == sha256_of(tmp_path / "run" / "best-step6.weights.h5")


def test_the_loop_runs_several_steps_per_graph_call_and_logs_one_plain_line_per_interval(tmp_path, capsys):
    from training_helpers import fast, pairs
    record = train(fast("train.log_every=6", "train.checkpoint_every=100"), tmp_path, max_steps=12,
                   dataset=pairs(), log="plain")
    out = capsys.readouterr().out
    assert record["graph_calls"] == 2 and record["steps"] == 12
    lines = [line for line in out.splitlines() if line.startswith("step ")]
    assert "\r" not in out and "\x1b" not in out and [line.split()[1] for line in lines] == ["6/12", "12/12"]
    assert all(k in lines[0] for k in ("epoch", "loss", "img/s", "lr", "eta"))
    assert [h["step"] for h in record["loss_history"]] == [6, 12]
    assert record["seconds"]["host_per_step"] >= 0


def test_a_resumed_run_trains_on_exactly_the_photos_of_an_uninterrupted_one(tmp_path, capsys):
    """The stream position stored beside the checkpoint puts a resumed run where the data stood, in the middle of
    an epoch (batches of 3 over the 4 bundled photos, cached after the first pass): bit-identical weights. A
    checkpoint without it (an older colorize) resumes at the start of its epoch, and says so."""
    config = smoke("data.val_limit=0", "train.steps=6", "train.steps_per_epoch=null", "train.batch_size=3",
                   "data.cache=true", "train.deterministic=true", "train.checkpoint_every=100", "train.loss=regression")
    whole = train(config, tmp_path / "whole", log="plain")
    last = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step ")][-1]
    assert last.split()[:4] == ["step", "6/6", "epoch", "4.50"]  # 18 photos seen of 4: passes over the data
    train(config, tmp_path / "resumed", max_steps=2, verbose=False)
    resumed = train(config, tmp_path / "resumed", verbose=False)
    assert resumed["resumed_from_step"] == 2 and resumed["weights_checksum"] == whole["weights_checksum"]
    train(config, tmp_path / "old", max_steps=2, verbose=False)
    sidecar = tmp_path / "old" / "checkpoints" / "ckpt-2.json"
    stored = json.loads(sidecar.read_text())
    assert [data.split_position(p) for p in stored.pop("data_positions")] == [(1, 2)]  # 6 photos: 1 pass + 2
    sidecar.write_text(json.dumps(stored))
    capsys.readouterr()
    old = train(config, tmp_path / "old", verbose=False)
    assert "the data resumes at the start of epoch 1" in capsys.readouterr().err
    assert old["weights_checksum"] != whole["weights_checksum"]


def test_a_resumed_run_with_mosaics_and_sampled_bins_targets_is_bit_identical(tmp_path):
    """The mosaics (seeded by the batch's stream position) and the bins targets' pixels (by the step) repeat."""
    config = smoke("data.val_limit=0", "train.steps=4", "train.steps_per_epoch=null", "train.batch_size=3",
                   "train.deterministic=true", "train.checkpoint_every=100", "train.loss=both", "data.mosaic=0.7")
    whole = train(config, tmp_path / "whole", verbose=False)
    train(config, tmp_path / "resumed", max_steps=2, verbose=False)
    resumed = train(config, tmp_path / "resumed", verbose=False)
    assert resumed["resumed_from_step"] == 2 and resumed["weights_checksum"] == whole["weights_checksum"]


def test_the_record_is_cumulative_across_resumes_and_reruns(tmp_path):
    from training_helpers import fast, pairs
    train(fast(), tmp_path, max_steps=3, verbose=False, dataset=pairs())
    train(fast(), tmp_path, max_steps=5, verbose=False, dataset=pairs())
    again = train(fast("train.steps=5"), tmp_path, verbose=False, dataset=pairs())  # finished: nothing to do
    assert [h["step"] for h in again["loss_history"]] == [1, 2, 3, 4, 5]
    assert [(s["from"], s["to"]) for s in again["segments"]] == [(0, 3), (3, 5)]
    assert again["images_per_second"] == again["segments"][-1]["images_per_second"] and again["steps"] == 5


def test_a_breaking_config_change_on_resume_is_refused_unless_allowed_and_others_are_listed(tmp_path, capsys):
    from training_helpers import fast, pairs
    train(fast(), tmp_path, max_steps=2, verbose=False, dataset=pairs())
    with pytest.raises(TrainingError, match=r"train\.batch_size 4 -> 8.*--allow-config-change"):
        train(fast("train.batch_size=8"), tmp_path, max_steps=3, verbose=False, dataset=pairs(8))
    record = train(fast("train.batch_size=8"), tmp_path, max_steps=3, verbose=False, dataset=pairs(8),
                   allow_config_change=True)
    assert record["steps"] == 3
    capsys.readouterr()
    train(fast("train.batch_size=8", "train.learning_rate=0.001"), tmp_path, max_steps=4, dataset=pairs(8))
    assert "resuming with a changed config: train.learning_rate 0.003 -> 0.001" in capsys.readouterr().err


def test_loss_scaling_skips_an_overflowing_step_on_one_device(tmp_path):
    from training_helpers import fast, pairs
    record = train(fast("train.precision=mixed_float16", "train.regression_loss=l2"), tmp_path, max_steps=1,
                   verbose=False, dataset=pairs(poison=slice(2, 4)))
    assert record["skipped_steps"] == 1 and np.isfinite(record["weights_checksum"])


def test_strategy_auto_does_not_probe_for_a_tpu(monkeypatch):
    from colorize.config import TrainConfig
    from colorize.training.runtime import pick_strategy

    def probe(*args, **kwargs):
        raise AssertionError("probed for a TPU")
    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", probe)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert pick_strategy(TrainConfig()).num_replicas_in_sync == 1


def _train_in_background(workdir, *extra):
    args = [sys.executable, str(REPO / "scripts" / "train.py"), "--config", str(SMOKE), "--workdir", str(workdir),
            "--set", "train.steps=1000", "--set", "train.checkpoint_every=1000", "--set", "train.log_every=1",
            "--set", "data.val_limit=0", "--set", "train.loss=regression", "--log", "plain", *extra]
    return subprocess.Popen(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_save_a_checkpoint_and_exit_with_one_line(tmp_path, signum):
    proc = _train_in_background(tmp_path)
    try:
        for line in proc.stdout:
            if line.startswith("step 2/"):
                break
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    name = signal.Signals(signum).name
    lines = [line for line in err.splitlines() if line.startswith("colorize:")]
    assert proc.returncode == 128 + signum and len(lines) == 1 and f"stopped by {name} at step" in lines[0]
    step = int(lines[0].split(" at step ")[1].split(":")[0])
    assert step >= 2 and (tmp_path / "checkpoints" / f"ckpt-{step}.index").exists()
    assert json.loads((tmp_path / "record.json").read_text())["interrupted_by"] == name


def test_train_refuses_a_config_that_is_not_one_even_under_python_O(tmp_path):
    """train() checked its argument with assert, which python -O removes."""
    code = ("import sys, colorize\n"
            "try:\n    colorize.train({'model': {}}, sys.argv[1])\n"
            "except colorize.ConfigError as err:\n    print('refused:', err)\n")
    out = subprocess.run([sys.executable, "-O", "-c", code, str(tmp_path / "w")], capture_output=True, text=True,
                         timeout=300)
    assert "refused: train() takes a colorize Config" in out.stdout, out.stderr[-2000:]


def test_pick_strategy_without_a_config_on_two_gpus(monkeypatch):
    """pick_strategy(None) read train_config.devices of None on a host with 2+ GPUs."""
    from colorize.training import runtime
    made = []
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind=None: ["gpu0", "gpu1"] if kind == "GPU" else [])
    monkeypatch.setattr(tf.distribute, "MirroredStrategy", lambda devices=None: made.append(devices) or "mirrored")
    assert runtime.pick_strategy(None) == "mirrored" and made == [None]


# -- round 3 of hostile input (issue 26) ---------------------------------------------------------------------
@pytest.mark.parametrize("steps", [0, -1])
def test_max_steps_zero_or_negative_is_refused_before_anything(tmp_path, capsys, steps):
    """Issue 26.17: --max-steps 0 trained the whole run (0 read as no limit); -1 wrote final.weights.h5 from
    untrained weights and printed the command to use them."""
    from training_helpers import fast, pairs

    from colorize.cli import main
    from colorize.errors import ConfigError
    with pytest.raises(ConfigError, match="--max-steps"):
        train(fast(), tmp_path / "api", max_steps=steps, verbose=False, dataset=pairs())
    workdir = tmp_path / "cli"
    assert main(["train", "--config", str(REPO / "configs" / "smoke.yaml"), "--workdir", str(workdir),
                 "--max-steps", str(steps)]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and f"got {steps}" in captured.err and "colorize predict" not in captured.out
    assert not workdir.exists() and not (tmp_path / "api").exists()


def test_a_full_disk_keeps_its_cause_in_the_one_line(tmp_path):
    """Issue 26.11: h5py's message on a full disk holds a ctime() with its newline, and the one line shown was cut
    there, before "No space left on device". /dev/full answers every write with that error (ENOSPC)."""
    from training_helpers import fast

    from colorize.cli.common import one_line
    from colorize.errors import WriteError
    from colorize.io import atomic
    from colorize.model.network import build_model
    model = build_model(fast())
    full = tmp_path / "full.weights.h5"
    full.symlink_to("/dev/full")
    with pytest.raises(WriteError) as err:  # as the loop writes the final weights: through atomic.write_with
        atomic.write_with(tmp_path / "final.weights.h5", lambda tmp: model.save_weights(str(full)), overwrite=True)
    line = one_line(err.value)
    assert "No space left on device" in line and "final.weights.h5" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.weights.h5"]  # no temporary left


# -- own training, for a new user (issue 25) ---------------------------------------------------------------------
def test_each_export_is_a_new_file_so_a_printed_predict_line_keeps_working_after_a_resume(tmp_path, capsys):
    from training_helpers import fast, pairs

    from colorize import Colorizer
    from colorize.model.weights import sha256_of
    config = fast("train.checkpoint_every=100")
    first = train(config, tmp_path, max_steps=3, dataset=pairs(), log="plain")
    out = capsys.readouterr().out
    assert first["weights"] == str(tmp_path / "final-step3.weights.h5") and first["predict_command"] in out
    assert first["predict_command"].endswith(f"--preset-file {tmp_path / 'final-step3.preset.json'}")
    again = train(config, tmp_path, max_steps=3, dataset=pairs(), log="plain")  # nothing more to train
    assert again["weights"] == first["weights"] and again["weights_sha256"] == first["weights_sha256"]
    resumed = train(config, tmp_path, max_steps=5, dataset=pairs(), log="plain")
    out = capsys.readouterr().out
    assert resumed["weights"] == str(tmp_path / "final-step5.weights.h5")
    assert out.rstrip().endswith(resumed["predict_command"])  # the new line, at the end
    assert sha256_of(first["weights"]) == first["weights_sha256"]  # the first line's file is unchanged...
    Colorizer.from_weights(first["weights"], load_config(tmp_path / "final-step3.yaml"), first["weights_sha256"])
    restarted = train(config, tmp_path, max_steps=3, dataset=pairs(), restart=True, verbose=False)
    assert restarted["weights"] == str(tmp_path / "final-step3-2.weights.h5")  # ...even after a --restart
    assert sha256_of(first["weights"]) == first["weights_sha256"]


def test_a_new_user_is_warned_about_a_tiny_split_and_a_run_stopped_in_the_warm_up_and_told_where_tensorboard_is(
        tmp_path, photos, capsys):
    from PIL import Image
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, image in photos.items():
        Image.fromarray(image[:96, :96]).save(folder / f"{name}.png")
    config = smoke(f"data.source={folder}", "data.val_share=0", "data.val_limit=0", "train.batch_size=8",
                   "train.steps=20", "train.steps_per_epoch=null", "train.warmup_steps=10")
    record = train(config, tmp_path / "run", max_steps=2, log="plain")
    out, err = capsys.readouterr()
    assert "the training split holds 3 images, fewer than one batch of 8" in err
    assert "--max-steps 2 ends inside the learning-rate warm-up (train.warmup_steps 10)" in err
    assert len(record["warnings"]) == 2
    assert f"tensorboard --logdir {tmp_path / 'run' / 'tensorboard'}" in out


def test_fine_tuning_from_a_preset_shows_the_presets_figures_beside_the_runs(tmp_path, photos, capsys):
    from PIL import Image

    from colorize.presets import get_preset
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        for name, image in photos.items():
            Image.fromarray(image[i * 64:i * 64 + 96, :96]).save(folder / f"{name}{i}.png")
    model = get_preset("bigru_fusion_64").model
    config = smoke(*(f"model.{k}={json.dumps(v)}" for k, v in model.items()),
                   "train.init_weights=preset:bigru_fusion_64", f"data.source={folder}", "data.val_share=0.34",
                   "data.val_limit=2", "train.batch_size=2",
                   "train.steps=4", "train.warmup_steps=1", "train.validate_every=2", "train.checkpoint_every=2",
                   "train.samples_every_epoch=0")
    train(config, tmp_path / "run", log="plain")
    lines = capsys.readouterr().out.splitlines()
    shown = [i for i, line in enumerate(lines) if "the starting preset bigru_fusion_64 on the same images" in line]
    validations = [i for i, line in enumerate(lines) if line.startswith("validation at step")]
    assert len(validations) == 2 and shown == [v + 1 for v in validations]  # at the first and the last
    assert "psnr" in lines[shown[0]] and "(this run" in lines[shown[0]]



def test_validation_scores_the_readout_a_preset_ships_beside_the_regression_head():
    from colorize.model.network import build_model
    from colorize.pipeline.readout import Readout
    from colorize.training.log import validate
    config = smoke()
    model = build_model(config.model)
    rgb = tf.random.stateless_uniform([6, 32, 32, 3], [5, 6])
    val_ds = tf.data.Dataset.from_tensor_slices(rgb).batch(3)
    plain, _ = validate(model, config.model, val_ds)
    assert not any(k.startswith("readout_") for k in plain)
    grey, sheet = validate(model, config.model, val_ds, samples=2, readout=Readout("restrained", gain=0.0))
    assert grey["readout_colorfulness"] < 0.05 and abs(grey["readout_psnr"] - grey["grey_psnr"]) < 0.05
    assert grey["psnr"] == plain["psnr"] and sheet.shape == (2, 32, 96, 3)
    assert np.allclose(sheet[:, :, 32:64].numpy(), sheet[:, :, :32].numpy(), atol=2e-3)  # the readout's panel
    same, _ = validate(model, config.model, val_ds, readout=Readout("regression"))
    assert abs(same["readout_psnr"] - same["psnr"]) < 0.5  # the regression head, gamut-fitted


def test_the_best_checkpoint_is_picked_on_the_validation_readout(tmp_path):
    config = smoke("train.validation_readout=preset:bigru_fusion_64", "train.epochs=3", "train.checkpoint_every=10")
    record = train(config, tmp_path / "run", verbose=False)
    history = record["validation_history"]
    assert len(history) == 3 and all("readout_psnr" in v and "psnr" in v for v in history)
    best = max(history, key=lambda v: v["readout_psnr"])
    assert record["best"]["selected_on"] == "readout_psnr" and record["best"]["step"] == best["step"]
    assert (tmp_path / "run" / f"best-step{best['step']}.weights.h5").is_file()

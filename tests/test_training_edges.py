"""The training loop's sharp edges: the precision picked for the hardware (bfloat16 only where it is native), a
non-finite gradient skipped without loss scaling, the loss averaged over the batch as it comes, and a stop signal
acted on within seconds however slow a step, with the same exact resume."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO
from training_helpers import fast, pairs

from colorize.config import load_config
from colorize.errors import TrainingError
from colorize.training import losses, runtime
from colorize.training.loop import MAX_SKIPS_IN_A_ROW, train

ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}


@pytest.fixture
def cpu(monkeypatch):
    """A machine without GPUs whose CPU flags the test sets: ``cpu({"avx2"})``."""
    devices = tf.config.list_physical_devices
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [] if kind == "GPU" else devices(kind))

    def with_flags(flags):
        monkeypatch.setattr(runtime, "cpu_flags", lambda: set(flags))
    return with_flags


def _asked(precision):
    return load_config(REPO / "configs" / "smoke.yaml", [f"train.precision={precision}"]).train


def test_auto_picks_bfloat16_only_on_a_cpu_that_computes_in_it(cpu):
    cpu({"avx2", "fma"})  # an AMD EPYC of the AVX2 generation, most laptops
    chosen = runtime.choose_precision(_asked("auto"))
    assert chosen.policy == "float32" and chosen.warning is None and "no native bfloat16" in chosen.why
    cpu({"avx2", "avx512f", "avx512_bf16"})
    chosen = runtime.choose_precision(_asked("auto"))
    assert chosen.policy == "mixed_bfloat16" and "avx512_bf16" in chosen.why
    assert chosen.line() == "precision mixed_bfloat16 (auto: this CPU has avx512_bf16)"
    cpu({"amx_bf16"})
    assert runtime.choose_precision(_asked("auto")).policy == "mixed_bfloat16"


def test_an_explicit_precision_is_kept_with_a_warning_where_it_is_emulated(cpu):
    cpu({"avx2"})
    chosen = runtime.choose_precision(_asked("mixed_bfloat16"))
    assert chosen.policy == "mixed_bfloat16" and "is emulated on this machine" in chosen.warning
    assert runtime.choose_precision(_asked("float32")).warning is None
    assert "emulated" in runtime.choose_precision(_asked("mixed_float16")).warning
    cpu({"avx512_bf16"})
    assert runtime.choose_precision(_asked("mixed_bfloat16")).warning is None


def test_auto_resumes_in_the_precision_of_the_checkpoints(cpu):
    cpu({"avx512_bf16"})
    chosen = runtime.choose_precision(_asked("auto"), resumed="float32")
    assert chosen.policy == "float32" and chosen.warning is None  # the resume stays exact
    cpu({"avx2"})
    chosen = runtime.choose_precision(_asked("auto"), resumed="mixed_bfloat16")
    assert chosen.policy == "mixed_bfloat16" and "emulated" in chosen.warning


@pytest.mark.parametrize("capability, policy", [((8, 6), "mixed_bfloat16"), ((7, 5), "mixed_float16"),
                                                ((6, 1), "float32")])
def test_auto_on_a_gpu_goes_by_its_compute_capability(monkeypatch, capability, policy):
    gpu = tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [gpu] if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda d: {"compute_capability": capability})
    chosen = runtime.choose_precision(_asked("auto"))
    assert chosen.policy == policy and f"compute capability {capability[0]}.{capability[1]}" in chosen.why
    assert (runtime.choose_precision(_asked("mixed_bfloat16")).warning is None) == (capability >= (8, 0))


def test_the_shipped_training_configs_pick_their_precision_by_the_hardware():
    shipped = sorted((REPO / "colorize" / "configs").glob("*.yaml"))
    assert len(shipped) >= 5
    for path in shipped:
        expected = "float32" if path.name == "smoke.yaml" else "auto"  # the tests' config: the same everywhere
        assert load_config(path).train.precision == expected, path.name
    assert load_config(None).train.precision == "auto"  # the default


def test_a_run_says_its_precision_first_and_in_the_record(tmp_path, cpu, capsys):
    cpu({"avx2"})
    record = train(fast("train.precision=auto"), tmp_path / "a", max_steps=1, dataset=pairs(), log="plain")
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == ("precision float32 (auto: this CPU has no native bfloat16 (AVX-512 BF16 or AMX): "
                                   "TensorFlow would emulate it, several times slower)")
    assert record["precision"]["asked"] == "auto" and record["precision"]["used"] == "float32"
    stored = json.loads((tmp_path / "a" / "record.json").read_text())
    assert stored["precision"] == record["precision"] and stored["config"]["train"]["precision"] == "float32"
    record = train(fast("train.precision=mixed_bfloat16"), tmp_path / "b", max_steps=1, dataset=pairs())
    out, err = capsys.readouterr()
    assert out.startswith("precision mixed_bfloat16 (train.precision: ")
    assert "colorize: warning: train.precision mixed_bfloat16 is emulated on this machine" in err
    assert any("is emulated" in w for w in record["warnings"])


# -- a non-finite gradient without loss scaling ---------------------------------------------------------------------
@pytest.fixture
def infinite_gradients(monkeypatch):
    """The loss of a batch holding an ab of 1 (``pairs(poison=...)``, or ``every`` batch) keeps its value and gets
    infinite gradients, as one overflowing bfloat16 step would."""
    original = losses.Losses.__call__

    def call(self, outputs, ab_true, labels=None, seed=None):
        loss = original(self, outputs, ab_true, labels, seed)
        poisoned = tf.reduce_max(ab_true) >= 1.0 if not call.every else tf.constant(True)

        @tf.custom_gradient
        def overflowing(x):
            return tf.identity(x), lambda dy: dy * tf.where(poisoned, np.float32(np.inf), np.float32(1.0))
        return overflowing(loss)
    call.every = False
    monkeypatch.setattr(losses.Losses, "__call__", call)
    return call


def test_an_inf_gradient_in_bfloat16_skips_the_step_and_training_goes_on(tmp_path, infinite_gradients):
    record = train(fast("train.precision=mixed_bfloat16", "train.regression_loss=l2"), tmp_path, max_steps=3,
                   verbose=False, dataset=pairs(poison=slice(2, 4)))
    assert record["steps"] == 3 and record["skipped_steps"] == 1 and np.isfinite(record["weights_checksum"])


def test_a_run_of_non_finite_gradients_stops_training_in_one_line(tmp_path, infinite_gradients):
    infinite_gradients.every = True
    with pytest.raises(TrainingError) as err:
        train(fast("train.regression_loss=l2"), tmp_path, max_steps=50, verbose=False, dataset=pairs())
    assert f"non-finite {MAX_SKIPS_IN_A_ROW} steps in a row" in str(err.value)
    assert f"at step {MAX_SKIPS_IN_A_ROW}; stopped without saving" in str(err.value)


# -- the loss of a batch of another size -----------------------------------------------------------------------------
def test_the_loss_averages_over_the_batch_it_gets_not_the_configs_batch_size():
    config = load_config(REPO / "configs" / "smoke.yaml", ["train.loss=regression", "train.regression_loss=l2",
                                                           "train.batch_size=8"])
    loss = losses.Losses(config, None)
    truth = tf.zeros([2, 4, 4, 2])
    pred = tf.fill([2, 4, 4, 2], 5.0 / 110)  # a 5 Lab-unit error: 0.25 a photo (the docstring's unit)
    assert float(loss({"ab": pred}, truth)) == pytest.approx(0.25, rel=1e-5)
    per_replica = tf.distribute.get_strategy().run(lambda: loss({"ab": pred}, truth))
    assert float(per_replica) == pytest.approx(0.25, rel=1e-5)


# -- SIGTERM within seconds ------------------------------------------------------------------------------------------
_SLOW_RUN = """
import sys, time
import tensorflow as tf
sys.path.insert(0, {tests!r})
from training_helpers import fast, pairs
from colorize.training.loop import TrainingInterrupted, train
def served(a, b):  # a slow step: its batch takes 0.4 s, and says when it is served
    time.sleep(0.4)
    print("batch", flush=True)
    return a, b
slow = pairs().map(lambda l, ab: tf.py_function(served, [l, ab], [tf.float32] * 2))
slow = slow.map(lambda l, ab: (tf.ensure_shape(l, [4, 32, 32, 1]), tf.ensure_shape(ab, [4, 32, 32, 2])))
try:
    train(fast("train.deterministic=true", "train.log_every=1000", "train.checkpoint_every=1000", "train.steps=1000"),
          {workdir!r}, dataset=slow, log="plain")
except TrainingInterrupted as err:  # as colorize train reports it
    print("stopped at", time.time(), flush=True)
    print("colorize:", err, file=sys.stderr)
    sys.exit(128 + err.signum)
"""


@pytest.mark.slow
def test_sigterm_stops_a_run_of_slow_steps_within_seconds_and_it_resumes_exactly(tmp_path):
    workdir = tmp_path / "interrupted"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_RUN.format(tests=str(REPO / "tests"), workdir=str(workdir))],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        served = 0
        for line in proc.stdout:  # into the first graph call, which would run 1,000 steps of 0.4 s
            served += line.startswith("batch")
            if served == 10:
                break
        sent = time.time()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    lines = [line for line in err.splitlines() if line.startswith("colorize:")]
    assert proc.returncode == 128 + signal.SIGTERM and "stopped by SIGTERM at step" in lines[-1], err
    took = float(out.split("stopped at ")[1].split()[0]) - sent
    assert took < 10, took  # the step under way (0.4 s) and the checkpoint, not 1,000 steps
    step = int(lines[-1].split(" at step ")[1].split(":")[0])
    assert 1 <= step < 100 and (workdir / "checkpoints" / f"ckpt-{step}.index").exists()
    # resumed to a few steps past the stop: the weights of a run that was never stopped
    config = fast("train.deterministic=true", "train.log_every=1000", "train.checkpoint_every=1000",
                  "train.steps=1000")
    resumed = train(config, workdir, max_steps=step + 3, verbose=False, dataset=pairs())
    straight = train(config, tmp_path / "straight", max_steps=step + 3, verbose=False, dataset=pairs())
    assert resumed["weights_checksum"] == straight["weights_checksum"]

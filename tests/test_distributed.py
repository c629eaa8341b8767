"""Two replicas on two logical CPU devices (MirroredStrategy), in a subprocess since logical devices must be set
before TensorFlow starts: a float16 overflow on one replica skips the step on both, as on one device; plain
training runs on both, with and without jit_compile (one XLA function per replica); synchronized batch norm makes two
replicas train as one device on the whole batch."""
import json
import subprocess
import sys

from conftest import REPO

PREAMBLE = """
import json, sys, tempfile, warnings
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
from training_helpers import fast, pairs
from colorize.training.loop import train
two = ["train.strategy=mirrored", "train.devices=['/cpu:0', '/cpu:1']"]
out = {}
"""
SCRIPT = PREAMBLE + """
fp16 = ["train.precision=mixed_float16", "train.regression_loss=l2", "train.deterministic=true"]  # same init
for name, extra in (("one_device", ["train.strategy=default"]), ("two_replicas", two)):
    r = train(fast(*fp16, *extra), tempfile.mkdtemp(), max_steps=1, verbose=False, dataset=pairs(poison=slice(2, 4)))
    out[name] = {k: r[k] for k in ("skipped_steps", "weights_checksum", "replicas", "steps")}
r = train(fast(*two), tempfile.mkdtemp(), max_steps=4, verbose=False, dataset=pairs())
out["float32"] = {k: r[k] for k in ("weights_checksum", "replicas", "steps", "final_loss", "graph_calls")}
seeded = ["train.deterministic=true"]  # the same initial weights
r = train(fast(*two, *seeded, "train.jit_compile=true"), tempfile.mkdtemp(), max_steps=3, verbose=False,
          dataset=pairs())
out["jit"] = {k: r[k] for k in ("weights_checksum", "replicas", "steps", "final_loss")}
r = train(fast(*two, *seeded), tempfile.mkdtemp(), max_steps=3, verbose=False, dataset=pairs())
out["no_jit"] = {k: r[k] for k in ("weights_checksum", "replicas", "steps", "final_loss")}
print("RESULT", json.dumps(out))
"""


# Batch norm over the global batch: two replicas of 2 photos each train as one device with all 4 photos (without
# it, the weights' checksum after 2 steps differs from one device's by 3e-4 of itself: 2020.18 against 2020.81). In
# a process of its own: TensorFlow keeps collective instances by key across strategies, so the same key with
# another shape in an earlier strategy of the process would clash.
SYNC_SCRIPT = PREAMBLE + """
f32 = ["train.regression_loss=l2", "train.deterministic=true"]
for name, extra in (("one_device", ["train.strategy=default"]), ("two_sync", [*two, "train.sync_batch_norm=true"])):
    r = train(fast(*f32, *extra), tempfile.mkdtemp(), max_steps=2, verbose=False, dataset=pairs())
    out[name] = r["weights_checksum"]
print("RESULT", json.dumps(out))
"""


def run(script):
    proc = subprocess.run([sys.executable, "-c", script, str(REPO / "tests")], capture_output=True, text=True,
                          timeout=900, env={"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2",
                                            "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.split("RESULT", 1)[1])


def test_synchronized_batch_norm_makes_two_replicas_train_as_one_device():
    out = run(SYNC_SCRIPT)
    assert abs(out["two_sync"] - out["one_device"]) <= 1e-6 * out["one_device"], out


def test_two_replicas_skip_a_float16_overflow_together_and_train_with_and_without_jit(tmp_path):
    out = run(SCRIPT)
    one, two = out["one_device"], out["two_replicas"]
    assert one["replicas"] == 1 and two["replicas"] == 2
    assert one["skipped_steps"] == two["skipped_steps"] == 1  # replica 0's gradients were finite, replica 1's not
    assert two["weights_checksum"] == one["weights_checksum"]  # both kept their (seeded) initial weights
    assert out["float32"]["replicas"] == 2 and out["float32"]["steps"] == 4 and out["float32"]["graph_calls"] == 4
    jit, plain = out["jit"], out["no_jit"]
    assert jit["replicas"] == 2 and jit["steps"] == 3
    assert abs(jit["final_loss"] - plain["final_loss"]) <= 1e-3 * plain["final_loss"]  # XLA: the same maths
    print(json.dumps(out))  # the two-replica figures, for the record (pytest -s)

"""Two replicas on two logical CPU devices (MirroredStrategy), in a subprocess since logical devices must be set
before TensorFlow starts: a float16 overflow on one replica skips the step on both, as on one device; plain
training runs on both, with and without jit_compile (one XLA function per replica)."""
import json
import subprocess
import sys

from conftest import REPO

SCRIPT = """
import json, sys, tempfile, warnings
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
from training_helpers import fast, pairs
from colorize.training import train
two = ["train.strategy=mirrored", "train.devices=['/cpu:0', '/cpu:1']"]
fp16 = ["train.precision=mixed_float16", "train.regression_loss=l2", "train.deterministic=true"]  # same init
out = {}
for name, extra in (("one_device", ["train.strategy=default"]), ("two_replicas", two)):
    r = train(fast(*fp16, *extra), tempfile.mkdtemp(), max_steps=1, verbose=False, dataset=pairs(poison=slice(2, 4)))
    out[name] = {k: r[k] for k in ("skipped_steps", "weights_checksum", "replicas", "steps")}
r = train(fast(*two), tempfile.mkdtemp(), max_steps=4, verbose=False, dataset=pairs())
out["float32"] = {k: r[k] for k in ("weights_checksum", "replicas", "steps", "final_loss", "graph_calls")}
r = train(fast(*two, "train.jit_compile=true"), tempfile.mkdtemp(), max_steps=3, verbose=False, dataset=pairs())
out["jit"] = {k: r[k] for k in ("weights_checksum", "replicas", "steps", "final_loss")}
print("RESULT", json.dumps(out))
"""


def test_two_replicas_skip_a_float16_overflow_together_and_train_with_and_without_jit(tmp_path):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(REPO / "tests")], capture_output=True, text=True,
                          timeout=900, env={"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2",
                                            "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.split("RESULT", 1)[1])
    one, two = out["one_device"], out["two_replicas"]
    assert one["replicas"] == 1 and two["replicas"] == 2
    assert one["skipped_steps"] == two["skipped_steps"] == 1  # replica 0's gradients were finite, replica 1's not
    assert two["weights_checksum"] == one["weights_checksum"]  # both kept their (seeded) initial weights
    assert out["float32"]["replicas"] == 2 and out["float32"]["steps"] == 4 and out["float32"]["graph_calls"] == 4
    jit = out["jit"]
    assert jit["replicas"] == 2 and jit["steps"] == 3 and jit["weights_checksum"] == jit["weights_checksum"]
    print(json.dumps(out))  # the two-replica figures, for the record (pytest -s)

"""The process and devices a training runs in: the ``tf.distribute`` strategy (``train.strategy``), the precision
(``train.precision: auto`` picks it from the hardware), the Keras dtype policy and TensorFlow op determinism (set
for a run and put back after it), and the signals that ask a run to stop.
"""
import contextlib
import dataclasses
import os
import signal
import socket
import threading

import keras
import tensorflow as tf

from colorize import _internals as tf_internals
from colorize.errors import TrainingError


def pick_strategy(train_config=None):
    """``train.strategy``: ``auto`` (several workers from TF_CONFIG, a TPU where the environment names one,
    several GPUs, else one device), or ``default``, ``mirrored`` (``train.devices``), ``multi_worker``, ``tpu``."""
    kind = getattr(train_config, "strategy", "auto")
    if kind == "auto":
        tpu_env = any(os.environ.get(k) for k in ("TPU_NAME", "TPU_WORKER_ID", "COLAB_TPU_ADDR"))
        kind = ("multi_worker" if os.environ.get("TF_CONFIG") else "tpu" if tpu_env else
                "mirrored" if len(tf.config.list_logical_devices("GPU")) > 1 else "default")
    if kind == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if kind == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, tf.errors.NotFoundError, RuntimeError) as err:
            raise TrainingError(f"train.strategy tpu: no TPU found ({err})") from None
        return tf.distribute.TPUStrategy(resolver)
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy(list(getattr(train_config, "devices", None) or ()) or None)
    return tf.distribute.get_strategy()


# Where bfloat16 (or float16) matmuls and convolutions run natively; elsewhere TensorFlow emulates them, several
# times slower than float32 (an AVX2-only AMD EPYC trained the tiny_imagenet_64 config 9x slower in bfloat16).
# x86 CPUs: the AVX-512 BF16 and AMX-BF16 instructions (oneDNN uses either); NVIDIA GPUs: bfloat16 tensor cores
# from compute capability 8.0 (Ampere), float16 ones from 7.0 (Volta), the threshold of TensorFlow's mixed
# precision guide; TPUs compute in bfloat16.
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
CPU_FP16_FLAGS = ("avx512_fp16", "amx_fp16")
GPU_BF16_CAPABILITY, GPU_FP16_CAPABILITY = (8, 0), (7, 0)


@dataclasses.dataclass(frozen=True)
class Precision:
    """The precision a run uses: ``policy`` (a Keras dtype policy name), what was ``asked`` (``auto`` or a policy),
    ``why`` (the hardware fact it rests on) and a ``warning`` when an explicit choice is emulated here."""
    policy: str
    asked: str
    why: str
    warning: str | None = None

    def line(self):
        return f"precision {self.policy} ({'auto: ' if self.asked == 'auto' else 'train.precision: '}{self.why})"

    def record(self):
        return {"asked": self.asked, "used": self.policy, "why": self.why}


def cpu_flags():
    """The CPU's feature flags (Linux's /proc/cpuinfo); empty where they cannot be read (macOS, Windows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _hardware(train_config):
    """``(kind, bf16, fp16, what)``: the device kind that trains (``tpu``, ``gpu``, ``cpu``), whether it computes
    in bfloat16 and float16 natively, and those facts in words."""
    kind = getattr(train_config, "strategy", "auto")
    tpu_env = any(os.environ.get(k) for k in ("TPU_NAME", "TPU_WORKER_ID", "COLAB_TPU_ADDR"))
    if kind == "tpu" or (kind == "auto" and tpu_env and not os.environ.get("TF_CONFIG")):
        return "tpu", True, False, "a TPU computes in bfloat16"
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        try:
            capability = tuple(tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") or ())
        except (ValueError, RuntimeError):
            capability = ()
        shown = ".".join(map(str, capability)) or "unknown"
        return ("gpu", capability >= GPU_BF16_CAPABILITY, capability >= GPU_FP16_CAPABILITY,
                f"GPU compute capability {shown}; bfloat16 tensor cores from 8.0, float16 from 7.0")
    flags = cpu_flags()
    bf16 = sorted(flags & set(CPU_BF16_FLAGS))
    fp16 = sorted(flags & set(CPU_FP16_FLAGS))
    what = (f"this CPU has {', '.join(bf16)}" if bf16 else
            "this CPU has no native bfloat16 (AVX-512 BF16 or AMX): TensorFlow would emulate it, several times slower")
    return "cpu", bool(bf16), bool(fp16), what


def choose_precision(train_config, resumed=None):
    """``train.precision`` for this machine (a ``Precision``): ``auto`` picks mixed bfloat16 where the hardware
    computes in it (a TPU, a GPU of compute capability 8.0 or more, a CPU with AVX-512 BF16 or AMX), mixed float16
    on an older GPU from 7.0, float32 elsewhere, and a resumed run's own precision (``resumed``: what its
    checkpoints were trained in) so that a resume stays exact; an explicit choice is kept. A choice the hardware
    emulates carries a warning."""
    asked = train_config.precision
    kind, bf16, fp16, what = _hardware(train_config)
    native = {"float32": True, "mixed_bfloat16": bf16, "mixed_float16": fp16}
    policy, why = asked, what
    if asked == "auto" and resumed in native:
        policy, why = resumed, f"that of the checkpoints it resumes; {what}"
    elif asked == "auto":
        policy = "mixed_bfloat16" if bf16 else "mixed_float16" if kind == "gpu" and fp16 else "float32"
    warning = None if native[policy] else (
        f"train.precision {policy} is emulated on this machine ({what}): training may be several times slower than "
        "in float32; train.precision: auto picks the fastest precision the hardware has for a new run")
    return Precision(policy, asked, why, warning)


def is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    return resolver is None or resolver.task_type in (None, "chief") or (
        resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict())


@contextlib.contextmanager
def process_state(train_config):
    """Set the dtype policy (``train.precision``, resolved: ``choose_precision``; and with ``deterministic``, seeds
    and op determinism) for training; put the policy and determinism back as they were afterwards."""
    policy = keras.config.dtype_policy()
    determinism_was, set_determinism = tf_internals.op_determinism()
    try:
        if train_config.deterministic:
            keras.utils.set_random_seed(train_config.seed)
            tf.config.experimental.enable_op_determinism()
        keras.mixed_precision.set_dtype_policy(train_config.precision)
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(policy)
        if set_determinism is not None and determinism_was is not None:
            set_determinism(determinism_was)


class _StopRequest:
    signum = None


@contextlib.contextmanager
def stop_on_signals(enabled=True, flag=None):
    """SIGTERM (what SLURM and Kubernetes send before killing) and SIGINT ask the loop to stop, with a checkpoint;
    a second SIGINT interrupts at once. Only the main thread can install handlers.

    A Python handler runs only once the main thread is back from TensorFlow, after a whole call into the graph;
    so the signal also wakes a thread (``signal.set_wakeup_fd``) that sets ``flag``, a boolean ``tf.Variable`` the
    in-graph loop reads after each step: the call ends within a step, however many it was to run."""
    request = _StopRequest()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handler(signum, frame):
        if request.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        request.signum = signum

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    waker = _Waker(flag) if flag is not None else None
    try:
        yield request
    finally:
        if waker is not None:
            waker.close()
        for s, h in previous.items():
            signal.signal(s, h)


class _Waker:
    """A thread woken by the signals' wakeup fd that sets ``flag`` on SIGTERM or SIGINT."""

    def __init__(self, flag):
        self.flag, self.closed = flag, False
        self.reader, self.writer = socket.socketpair()
        self.writer.setblocking(False)
        self.previous_fd = signal.set_wakeup_fd(self.writer.fileno(), warn_on_full_buffer=False)
        self.thread = threading.Thread(target=self._run, name="colorize-stop-signal", daemon=True)
        self.thread.start()

    def _run(self):
        wanted = {int(signal.SIGTERM), int(signal.SIGINT)}
        while True:
            try:
                data = self.reader.recv(64)
            except OSError:
                return
            if self.closed or not data:
                return
            if wanted & set(data):
                self.flag.assign(True)

    def close(self):
        signal.set_wakeup_fd(self.previous_fd)
        self.closed = True
        try:
            self.writer.send(b"\0")  # wakes the thread, which sees closed
        except OSError:
            pass
        self.thread.join(timeout=5)
        self.reader.close()
        self.writer.close()

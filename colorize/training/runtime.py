"""The process and devices a training runs in: the ``tf.distribute`` strategy (``train.strategy``), the Keras dtype
policy and TensorFlow op determinism (set for a run and put back after it), and the signals that ask a run to stop.
"""
import contextlib
import os
import signal
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


def is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    return resolver is None or resolver.task_type in (None, "chief") or (
        resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict())


@contextlib.contextmanager
def process_state(train_config):
    """Set the dtype policy (and with ``deterministic``, seeds and op determinism) for training; put the policy
    and determinism back as they were afterwards."""
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
def stop_on_signals(enabled=True):
    """SIGTERM (what SLURM and Kubernetes send before killing) and SIGINT ask the loop to stop after the current
    call, with a checkpoint; a second SIGINT interrupts at once. Only the main thread can install handlers."""
    request = _StopRequest()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handler(signum, frame):
        if request.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        request.signum = signum

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield request
    finally:
        for s, h in previous.items():
            signal.signal(s, h)

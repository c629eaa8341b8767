"""Shared by the training tests: the smoke model on a tiny synthetic stream, so a test trains in seconds."""
import numpy as np
import tensorflow as tf
from conftest import REPO

from colorize.config import load_config

SMOKE = REPO / "configs" / "smoke.yaml"


def fast(*overrides):
    """The smoke model on synthetic (L, ab) pairs: regression loss only, no validation, one step per checkpoint."""
    return load_config(SMOKE, ["data.val_limit=0", "train.loss=regression", "train.steps=100",
                               "train.checkpoint_every=1", "train.log_every=1", "train.warmup_steps=1",
                               *overrides])


def pairs(batch=4, poison=None):
    """An endless stream of (scaled L, scaled ab) batches. With ``poison`` (a slice of the batch), the first batch
    is all zeros (zero gradients) but for that slice, whose ab of 1 (110 Lab units) makes the l2 loss's float16
    gradients overflow at the initial loss scale while the loss stays finite."""
    rng = np.random.default_rng(0)
    l = rng.uniform(-1, 1, (8, batch, 32, 32, 1)).astype("float32")
    ab = (0.3 * l * np.ones(2)).astype("float32")
    if poison is not None:
        keep = np.ones(batch, bool)
        keep[poison] = False
        l[0, keep], ab[0, keep], ab[0, poison] = 0.0, 0.0, 1.0
    first = tf.data.Dataset.from_tensor_slices((l[:1], ab[:1]))
    rest = tf.data.Dataset.from_tensor_slices((l[1:], ab[1:])).repeat()
    return first.concatenate(rest)

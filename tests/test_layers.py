"""colorize.model.layers: the fast training paths give Keras's results, and every case they do not cover falls back to
Keras's own code."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from colorize.model.layers import BatchNormalization as FusedBatchNorm
from colorize.model.layers import UpSampling2D


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_fused_batch_norm_trains_like_keras_batch_normalization(policy):
    x = np.random.default_rng(0).normal(3.0, 2.0, (8, 6, 6, 5)).astype("float32")
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        ours, ref = FusedBatchNorm(), layers.BatchNormalization()
        for layer in (ours, ref):
            layer.build(x.shape)
        ours.set_weights([np.arange(1, 6, dtype="float32")] * 2 + [np.zeros(5, "float32"), np.ones(5, "float32")])
        ref.set_weights(ours.get_weights())
        tol = 2e-4 if policy == "float32" else 0.05
        for training in (True, False):
            got = np.asarray(ours(x.astype(ours.compute_dtype), training=training), "float32")
            want = np.asarray(ref(x.astype(ref.compute_dtype), training=training), "float32")
            assert np.abs(got - want).max() <= tol * max(1.0, np.abs(want).max())
        for a, b in zip(ours.get_weights()[2:], ref.get_weights()[2:]):  # moving mean and variance
            np.testing.assert_allclose(a, b, rtol=1e-2 if policy != "float32" else 1e-5)
        assert np.abs(ours.get_weights()[2] - 0.0).max() > 0.01  # the moving mean did move towards 3
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("size", [(2, 2), (1, 3)])
def test_bilinear_upsampling_matches_keras_values_and_gradients(policy, size):
    x = tf.constant(np.random.default_rng(1).normal(0.0, 2.0, (2, 5, 7, 3)).astype("float32"))
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        ours, ref = (cls(size, interpolation="bilinear") for cls in (UpSampling2D, layers.UpSampling2D))
        results = []
        for layer in (ours, ref):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.cast(layer(x), tf.float32)
                loss = tf.reduce_sum(y * tf.range(float(y.shape[2]))[None, None, :, None])
            results.append((y.numpy(), tape.gradient(loss, x).numpy()))
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    (got, got_grad), (want, want_grad) = results
    assert got.shape == want.shape == (2, 5 * size[0], 7 * size[1], 3)
    assert got.dtype == want.dtype
    tol = 0.0 if policy == "float32" else 2.0 ** -7 * np.abs(want).max()  # bfloat16: one rounding step
    assert np.abs(got - want).max() <= tol
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-2 if policy != "float32" else 1e-6)


@pytest.mark.parametrize("options", [{"scale": False}, {"center": False}, {"synchronized": True},
                                     {"axis": 1}])
def test_fused_batch_norm_falls_back_to_keras_where_it_does_not_apply(options, monkeypatch):
    x = np.random.default_rng(2).normal(1.0, 3.0, (4, 5, 6, 5)).astype("float32")
    ours, ref = FusedBatchNorm(**options), layers.BatchNormalization(**options)
    for layer in (ours, ref):
        layer.build(x.shape)
    ref.set_weights(ours.get_weights())
    monkeypatch.setattr(tf.compat.v1.nn, "fused_batch_norm", None)  # the fused kernel must not be called
    np.testing.assert_allclose(np.asarray(ours(x, training=True)), np.asarray(ref(x, training=True)), atol=1e-5)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_fused_batch_norm_uses_the_fused_kernel_when_it_applies(monkeypatch):
    calls = []
    original = tf.compat.v1.nn.fused_batch_norm
    monkeypatch.setattr(tf.compat.v1.nn, "fused_batch_norm", lambda *a, **k: calls.append(1) or original(*a, **k))
    layer = FusedBatchNorm()
    layer(np.ones((2, 3, 3, 4), "float32"), training=True)
    layer(np.ones((2, 3, 3, 4), "float32"), training=False)
    assert calls == [1]


def test_upsampling_falls_back_to_keras_for_nearest_and_channels_first():
    x = np.random.default_rng(3).normal(size=(2, 3, 4, 5)).astype("float32")
    for options in ({"interpolation": "nearest"}, {"interpolation": "bilinear", "data_format": "channels_first"}):
        np.testing.assert_allclose(np.asarray(UpSampling2D(2, **options)(x)),
                                   np.asarray(layers.UpSampling2D(2, **options)(x)), atol=1e-6)

"""train.init_weights: a hint model grown from a trained model starts out computing exactly what that model did."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

import colorize
from colorize.config import ModelConfig
from colorize.training.warm_start import copy_weights, expand, warm_start

BASE = ModelConfig(input_size=32, encoder_widths=(8, 16), row_units=8, global_units=8, fusion_width=16)


def test_expand_grows_input_channels_with_zeros():
    old = np.arange(2 * 2 * 3 * 4, dtype=np.float32).reshape(2, 2, 3, 4)
    grown = expand(old, (2, 2, 5, 4))
    np.testing.assert_array_equal(grown[:, :, :3], old)
    assert not grown[:, :, 3:].any()
    assert expand(old, old.shape) is old
    assert expand(old, (2, 2, 3, 5)) is None and expand(old, (3, 3, 5, 4)) is None


def test_a_grown_hint_model_starts_as_the_model_it_grew_from():
    source = colorize.build_model(BASE)
    rng = np.random.default_rng(0)
    source.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in source.get_weights()])
    target = colorize.build_model(dataclasses.replace(BASE, hints=True, classes=3))
    assert copy_weights(source, target) == ["class_logits"]
    l = tf.random.uniform([2, 32, 32, 1], -1, 1, seed=1)
    before = source(l, training=False)
    after = target([l, tf.zeros([2, 32, 32, 3])], training=False)
    for key in ("ab", "ab_bins"):
        np.testing.assert_allclose(after[key], before[key], atol=1e-5)
    hinted = target([l, tf.ones([2, 32, 32, 3])], training=False)["ab"]
    np.testing.assert_allclose(hinted, before["ab"], atol=1e-5)  # the hint inputs start with zero weight


def test_warm_start_refuses_what_it_cannot_use(tmp_path):
    model = colorize.build_model(BASE)
    with pytest.raises(colorize.ConfigError, match="init_weights"):
        warm_start(model, str(tmp_path / "missing.weights.h5"))
    with pytest.raises(colorize.WeightsError, match="unknown preset"):
        warm_start(model, "preset:nope")
    with pytest.raises(colorize.WeightsError, match="shares no layer"):
        warm_start(colorize.model.question_block.build_question_block_fixed(), "preset:bigru_fusion_64")


def test_a_palette_model_grown_from_a_hint_model_starts_as_it_whatever_the_palette():
    """The palette enters the fusion last: grown from a hint model, its weights there are zeros, so any palette
    (none, or a histogram with its flag) gives the hint model's outputs until training moves them."""
    hinted = dataclasses.replace(BASE, hints=True)
    source = colorize.build_model(hinted)
    rng = np.random.default_rng(1)
    source.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in source.get_weights()])
    target = colorize.build_model(dataclasses.replace(hinted, palette=True))
    assert copy_weights(source, target) == ["palette_dense1", "palette_dense2"]
    assert target.get_layer("fusion").kernel.shape[-2] == source.get_layer("fusion").kernel.shape[-2] + 8
    l, hints = tf.random.uniform([2, 32, 32, 1], -1, 1, seed=2), tf.random.uniform([2, 32, 32, 3], seed=3)
    before = source([l, hints], training=False)
    palette = tf.concat([tf.nn.softmax(tf.random.normal([2, colorize.model.bins.num_bins()], seed=4)),
                         tf.ones([2, 1])], -1)
    for given in (tf.zeros_like(palette), palette):
        after = target([l, hints, given], training=False)
        for key in ("ab", "ab_bins"):
            np.testing.assert_allclose(after[key], before[key], atol=1e-5)

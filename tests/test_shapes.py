"""Shape facts of docs/shapes.md, checked against the real model and real Keras layers.

Fast by design: models are only built (symbolic shapes) or run on a batch of one or two.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras import layers  # noqa: E402

from colorize.config import ModelConfig, load_config  # noqa: E402
from colorize.model import bins  # noqa: E402
from colorize.model.network import build_model  # noqa: E402
from colorize.model.question_block import build_question_block_fixed  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def model():
    return build_model(ModelConfig())


@pytest.fixture(scope="module")
def question_block():
    return build_question_block_fixed()


def _shape(tensor):
    return tuple(tensor.shape)


# ---------------------------------------------------------------- the default model

def test_default_config_is_the_64_preset():
    assert load_config(os.path.join(ROOT, "configs", "tiny_imagenet_64.yaml")).model == ModelConfig()


def test_default_model_io_shapes(model):
    assert _shape(model.inputs[0]) == (None, 64, 64, 1)
    assert set(model.output) == {"ab", "ab_bins"}
    assert _shape(model.output["ab"]) == (None, 64, 64, 2)
    assert _shape(model.output["ab_bins"]) == (None, 16, 16, bins.num_bins())


@pytest.mark.parametrize("name, shape", [
    ("rows_as_timesteps", (None, 8, 1024)),     # 8 rows = timesteps, 8 columns x 128 channels = input_dim
    ("row_context_bigru", (None, 8, 128)),      # 2 directions x 64 units, per row
    ("rows_as_columns_of_one", (None, 8, 1, 128)),
    ("broadcast_to_columns", (None, 8, 8, 128)),
    ("global_summary_gru", (None, 128)),        # return_sequences=False: one vector per image
    ("global_summary_repeat", (None, 64, 128)),  # repeated h*w = 64 times
    ("global_summary_grid", (None, 8, 8, 128)),
    ("fusion_concat", (None, 8, 8, 384)),
    ("fusion", (None, 8, 8, 128)),
])
def test_default_model_layer_shapes(model, name, shape):
    assert _shape(model.get_layer(name).output) == shape


def test_default_model_gru_parameter_counts(model):
    # Keras 3 GRU (reset_after=True): 3 * (units * (input_dim + units) + 2 * units) per direction.
    def gru_params(units, input_dim):
        return 3 * (units * (input_dim + units) + 2 * units)
    assert model.get_layer("row_context_bigru").count_params() == 2 * gru_params(64, 1024)
    assert model.get_layer("global_summary_gru").count_params() == gru_params(128, 1024)


def test_default_model_forward_pass_shapes(model):
    out = model(np.zeros((1, 64, 64, 1), "float32"), training=False)
    assert tuple(out["ab"].shape) == (1, 64, 64, 2)
    assert tuple(out["ab_bins"].shape) == (1, 16, 16, bins.num_bins())


def test_default_model_row_context_is_constant_across_columns(model):
    probe = keras.Model(model.inputs[0], [model.get_layer("broadcast_to_columns").output,
                                          model.get_layer("global_summary_grid").output])
    x = np.random.RandomState(1).uniform(-1, 1, (1, 64, 64, 1)).astype("float32")
    rows, summary = (np.asarray(t) for t in probe(x, training=False))
    np.testing.assert_array_equal(rows, np.broadcast_to(rows[:, :, :1], rows.shape))
    np.testing.assert_array_equal(summary, np.broadcast_to(summary[:, :1, :1], summary.shape))


def test_default_model_has_no_lambda_layer(model):
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)


@pytest.mark.parametrize("size", [32, 64, 128, 256])
def test_input_sizes_build(size):
    m = build_model(ModelConfig(input_size=size))  # the default 3-stage encoder (32, 64, 128): features S/8
    f = size // 8
    assert _shape(m.inputs[0]) == (None, size, size, 1)
    assert _shape(m.output["ab"]) == (None, size, size, 2)
    assert _shape(m.output["ab_bins"]) == (None, size // 4, size // 4, bins.num_bins())
    assert _shape(m.get_layer("rows_as_timesteps").output) == (None, f, f * 128)
    assert _shape(m.get_layer("broadcast_to_columns").output) == (None, f, f, 128)


def test_large_preset_shapes():
    m = build_model(load_config(os.path.join(ROOT, "configs", "tiny_imagenet_64_large.yaml")))
    assert [l.name for l in m.layers if l.name.startswith("enc2") and l.name.endswith("_conv")] == \
        ["enc2a_conv", "enc2b_conv", "enc2c_conv"]
    assert _shape(m.get_layer("rows_as_timesteps").output) == (None, 8, 8 * 256)
    assert _shape(m.get_layer("row_context_bigru").output) == (None, 8, 2 * 128)
    assert _shape(m.get_layer("global_summary_grid").output) == (None, 8, 8, 256)
    assert _shape(m.output["ab"]) == (None, 64, 64, 2)
    assert _shape(m.get_layer("fusion_concat").output) == (None, 8, 8, 768)
    assert m.get_layer("row_context_bigru").count_params() == 2 * 3 * 128 * (2048 + 128 + 2)
    assert m.get_layer("global_summary_gru").count_params() == 3 * 256 * (2048 + 256 + 2)


# ---------------------------------------------------------------- Keras GRU / Bidirectional facts
# These test Keras itself. Each stays because docs/shapes.md states it and the network's design relies on it
# (what units / return_sequences / return_state do to shapes, go_backwards's reversed order, Bidirectional's flip,
# and the silent broadcast in the question's add); if a Keras release changed one, the guide would be wrong.

B, T, D, U = 2, 6, 5, 3


@pytest.fixture(scope="module")
def seq():
    return np.random.RandomState(0).standard_normal((B, T, D)).astype("float32")


def test_gru_return_sequences(seq):
    """False: one vector per sequence (the global summary); True: one per timestep (the row context)."""
    assert tuple(layers.GRU(U)(seq).shape) == (B, U)
    assert tuple(layers.GRU(U, return_sequences=True)(seq).shape) == (B, T, U)


def test_gru_return_state(seq):
    out = layers.GRU(U, return_state=True)(seq)
    assert len(out) == 2
    output, state = out
    assert tuple(output.shape) == (B, U) and tuple(state.shape) == (B, U)
    np.testing.assert_allclose(np.asarray(output), np.asarray(state), rtol=1e-6)  # GRU: output == final state
    output, state = layers.GRU(U, return_sequences=True, return_state=True)(seq)
    assert tuple(output.shape) == (B, T, U) and tuple(state.shape) == (B, U)
    np.testing.assert_allclose(np.asarray(output)[:, -1], np.asarray(state), rtol=1e-6)


def test_bidirectional_shapes(seq):
    assert tuple(layers.Bidirectional(layers.GRU(U, return_sequences=True))(seq).shape) == (B, T, 2 * U)
    assert tuple(layers.Bidirectional(layers.GRU(U))(seq).shape) == (B, 2 * U)
    out = layers.Bidirectional(layers.GRU(U, return_sequences=True, return_state=True))(seq)
    assert [tuple(t.shape) for t in out] == [(B, T, 2 * U), (B, U), (B, U)]  # output, forward h, backward h


def _twin_grus(seq):
    forward = layers.GRU(U, return_sequences=True)
    backward = layers.GRU(U, return_sequences=True, go_backwards=True)
    forward.build(seq.shape)
    backward.build(seq.shape)
    backward.set_weights(forward.get_weights())
    return forward, backward


def test_go_backwards_output_is_in_reversed_time_order(seq):
    forward, backward = _twin_grus(seq)
    back = np.asarray(backward(seq))
    # go_backwards == the forward GRU run on the time-reversed input; output[:, t] belongs to input row T-1-t.
    np.testing.assert_allclose(back, np.asarray(forward(seq[:, ::-1])), atol=1e-5)
    # flipping it back aligns it with the input rows; unflipped it is not the same thing
    flipped = back[:, ::-1]
    assert not np.allclose(back, flipped, atol=1e-3)


def test_bidirectional_is_forward_concat_flipped_backward(seq):
    bidi = layers.Bidirectional(layers.GRU(U, return_sequences=True), merge_mode="concat")
    y = np.asarray(bidi(seq))
    assert bidi.backward_layer.go_backwards and not bidi.forward_layer.go_backwards
    fw = np.asarray(bidi.forward_layer(seq))
    bw = np.asarray(bidi.backward_layer(seq))  # raw go_backwards output, reversed time order
    np.testing.assert_allclose(y, np.concatenate([fw, bw[:, ::-1]], axis=-1), atol=1e-5)
    # Without the flip, row t would carry the backward context of row T-1-t: misaligned.
    assert np.abs(y - np.concatenate([fw, bw], axis=-1)).max() > 1e-2


def test_add_broadcasts_a_vector_over_a_sequence():
    # What the question's add([gru_1 (B, 16), gru_1b (B, 32, 16)]) did: no error, the vector is added to every
    # timestep of the (still time-reversed) backward sequence.
    a = np.random.RandomState(2).standard_normal((2, 16)).astype("float32")
    s = np.random.RandomState(3).standard_normal((2, 32, 16)).astype("float32")
    out = np.asarray(layers.add([a, s]))
    assert out.shape == (2, 32, 16)
    np.testing.assert_allclose(out, a[:, None, :] + s, rtol=1e-6)


# ---------------------------------------------------------------- the repaired question block

def test_question_block_shapes(question_block):
    m = question_block
    assert _shape(m.inputs[0]) == (None, 32, 32, 1)
    assert _shape(m.output) == (None, 32, 32, 64)
    expected = {
        "encoder": (None, 32, 32, 16),
        "rows_as_timesteps": (None, 32, 512),
        "gru1_bidirectional": (None, 32, 32),
        "gru2_bidirectional": (None, 32, 32),
        "rows_as_columns_of_one": (None, 32, 1, 32),
        "broadcast_to_columns": (None, 32, 32, 32),
        "global_summary_gru": (None, 16),
        "global_summary_repeat": (None, 1024, 16),
        "global_summary_grid": (None, 32, 32, 16),
    }
    for name, shape in expected.items():
        assert _shape(m.get_layer(name).output) == shape, name


def test_question_block_has_no_lambda(question_block):
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in question_block.layers)


def test_question_block_broadcasts(question_block):
    x = np.random.RandomState(4).uniform(0, 1, (2, 32, 32, 1)).astype("float32")
    out = np.asarray(question_block(x))
    assert out.shape == (2, 32, 32, 64)
    rows = out[..., 16:48]     # BiGRU row context: depends on the row only
    np.testing.assert_array_equal(rows, np.broadcast_to(rows[:, :, :1], rows.shape))
    assert not np.allclose(rows[:, :1], rows[:, 1:2])  # ... but does differ between rows
    summary = out[..., 48:64]  # per-image summary: the same at every position
    np.testing.assert_array_equal(summary, np.broadcast_to(summary[:, :1, :1], summary.shape))
    assert not np.allclose(summary[0], summary[1])  # ... but differs between images

"""Weights are verified before Keras reads them, and nothing on the load path runs code from a file."""

import keras
import numpy as np
import pytest
from conftest import REPO

from colorize import Colorizer, WeightsError
from colorize.config import load_config
from colorize.model.network import build_model
from colorize.model.weights import load_weights, sha256_of


def test_a_changed_byte_is_refused_before_loading(tiny_weights, tmp_path, monkeypatch):
    path, config, sha = tiny_weights
    changed = tmp_path / "changed.weights.h5"
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    changed.write_bytes(bytes(blob))
    opened = []
    monkeypatch.setattr(keras.Model, "load_weights", lambda *a, **k: opened.append(a))
    with pytest.raises(WeightsError, match="sha256"):
        Colorizer.from_weights(changed, config, sha)
    assert not opened


def test_a_missing_hash_is_refused(tiny_weights):
    path, config, _ = tiny_weights
    with pytest.raises(WeightsError, match="no sha256"):
        Colorizer.from_weights(path, config, None)


def test_weights_of_another_architecture_name_the_layer(tiny_weights, tmp_path):
    other = load_config(REPO / "configs" / "smoke.yaml", ["model.row_units=4"])
    model = build_model(other)
    path = tmp_path / "other.weights.h5"
    model.save_weights(path)
    _, config, _ = tiny_weights
    with pytest.raises(WeightsError, match="row_context_bigru"):
        Colorizer.from_weights(path, config, sha256_of(path))


def test_weights_for_another_input_size_are_refused(tiny_weights, tmp_path):
    other = load_config(REPO / "configs" / "smoke.yaml", ["model.input_size=64"])
    path = tmp_path / "size64.weights.h5"
    build_model(other).save_weights(path)
    _, config, _ = tiny_weights
    with pytest.raises(WeightsError, match="does not fit|another architecture"):
        Colorizer.from_weights(path, config, sha256_of(path))


def test_a_model_with_a_lambda_layer_is_refused(tmp_path, tiny_weights):
    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    model = keras.Model(inputs, outputs)
    keras_file = tmp_path / "evil.keras"
    model.save(keras_file)
    _, config, _ = tiny_weights
    with pytest.raises(WeightsError, match="weights only"):
        Colorizer.from_weights(keras_file, config, sha256_of(keras_file))
    weights_file = tmp_path / "evil.weights.h5"
    model.save_weights(weights_file)
    with pytest.raises(WeightsError, match="another architecture|no weights"):
        load_weights(build_model(config), weights_file, sha256_of(weights_file), "the smoke model")
    with pytest.raises(ValueError, match="(?i)lambda|unsafe|safe_mode"):
        keras.saving.load_model(keras_file, safe_mode=True)  # what Keras itself does with such a file


def test_good_weights_load_and_match(tiny_weights):
    path, config, sha = tiny_weights
    model = load_weights(build_model(config), path, sha, "the smoke model")
    reference = build_model(config)
    reference.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), reference.get_weights()))


def test_float16_storage_halves_the_file_and_loads_close(tiny_weights, tmp_path):
    import shutil

    from colorize.model.weights import store_as_float16
    path, config, sha = tiny_weights
    small = tmp_path / "half.weights.h5"
    shutil.copyfile(path, small)
    store_as_float16(small)
    import h5py
    with h5py.File(small) as f:
        arrays = []
        f.visit(lambda n: arrays.append(f[n]) if isinstance(f[n], h5py.Dataset) else None)
        assert arrays and all(a.dtype != np.float32 for a in arrays)
        stored = sum(a.id.get_storage_size() for a in arrays)
    assert stored <= 0.5 * sum(w.nbytes for w in build_model(config).get_weights())  # the arrays: half of float32
    half = load_weights(build_model(config), small, sha256_of(small), "the float16 copy")
    full = load_weights(build_model(config), path, sha, "the original")
    assert all(w.dtype == "float32" for w in half.get_weights())
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    diff = np.abs(np.asarray(half(x)["ab"]) - np.asarray(full(x)["ab"])).max() * 110  # Lab units
    assert 0 < diff < 0.5


def test_no_module_opens_a_whole_keras_model_file():
    """Weights only: ``load_model`` (and its safe_mode advisories) would run code from a file from elsewhere."""
    import ast
    calls = [f"{path.relative_to(REPO)}:{node.lineno}" for path in (REPO / "colorize").rglob("*.py")
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, (ast.Attribute, ast.Name)) and getattr(node, "attr", getattr(node, "id", None))
             in ("load_model", "TFSMLayer")]
    assert not calls, calls


def test_a_changed_own_weights_file_says_that_file_changed(tiny_weights, tmp_path):
    path, config, sha = tiny_weights
    changed = tmp_path / "mine.weights.h5"
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    changed.write_bytes(bytes(blob))
    with pytest.raises(WeightsError) as err:
        Colorizer.from_weights(changed, config, sha)
    message = str(err.value)
    assert f"{changed} changed since its sha256" in message
    assert "reinstall" not in message and "ModelConfig(" not in message and len(message) < 400

"""Every preset rebuilds to its recorded size, its shipped weights match their sha256, and the main job runs."""
import json

import numpy as np
import pytest
import tensorflow as tf

import colorize
from colorize.evaluation import metrics
from colorize.model.network import build_model
from colorize.model.weights import sha256_of
from colorize.presets import DEFAULT_PRESET, PRESETS, get_preset


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_rebuilds_with_its_parameter_count_and_hash(name):
    preset = get_preset(name)
    model = build_model(preset.model_config)
    assert preset.parameters is None or model.count_params() == preset.parameters
    if preset.weights:
        assert preset.weights_path.is_file(), f"{preset.weights_path} is not shipped"
        assert sha256_of(preset.weights_path) == preset.sha256


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_card_with_weights_records_its_measurements(name):
    """Invariants of any shipped card (the numbers themselves are the ship script's to write, and
    ``test_load_pretrained_colorizes_a_photo`` measures the default's quality itself): its weights exist, match its
    sha256 and are no larger than a download should be, and it records finite metrics for the model and for grey."""
    preset = get_preset(name)
    if not preset.weights:
        pytest.skip(f"{name} ships no weights")
    assert preset.sha256 and preset.parameters and preset.weights_path.stat().st_size < 20 * 2 ** 20
    assert sha256_of(preset.weights_path) == preset.sha256
    validation = preset.metrics["validation"]
    assert validation["images"] > 0
    for who in ("model", "grey"):
        assert {"psnr", "auc"} <= set(validation[who]) and all(np.isfinite(v) for v in validation[who].values())


def test_the_default_preset_ships_weights():
    assert get_preset(DEFAULT_PRESET).weights


def test_load_pretrained_colorizes_a_photo(photos):
    colorizer = colorize.load_pretrained()
    grey = np.round(colorize.lab_to_rgb(np.concatenate(
        [colorize.rgb_to_lab(photos["chelsea"] / 255.0).numpy()[..., :1], np.zeros(photos["chelsea"].shape[:2] + (2,))],
        -1).astype(np.float32)).numpy() * 255).astype(np.uint8)
    out = colorizer.colorize(grey)
    assert out.shape == grey.shape
    truth = tf.constant(photos["chelsea"][None] / 255.0, tf.float32)
    scores = {name: (float(metrics.psnr(tf.constant(image[None] / 255.0, tf.float32), truth)[0]),
                     float(metrics.auc(tf.constant(image[None] / 255.0, tf.float32), truth)[0]))
              for name, image in (("model", out), ("grey", grey))}
    # The shipped model gets the cat's colours far closer than grey (measured: +5.5 dB, +6.9 AuC); an arbitrary
    # tint, or colours from the wrong place, would not.
    assert scores["model"][0] > scores["grey"][0] + 3.0
    assert scores["model"][1] > scores["grey"][1] + 4.0


def test_a_changed_shipped_file_is_refused(tmp_path, monkeypatch):
    preset = get_preset(DEFAULT_PRESET)
    changed = tmp_path / preset.weights
    blob = bytearray(preset.weights_path.read_bytes())
    blob[4096] ^= 0x10
    changed.write_bytes(bytes(blob))
    monkeypatch.setattr("colorize.presets.WEIGHTS_DIR", tmp_path)
    with pytest.raises(colorize.WeightsError, match="sha256"):
        colorize.load_pretrained()


def test_demo_command_runs_with_the_shipped_weights(tmp_path, capsys):
    from colorize.cli import main
    assert main(["demo", "-o", str(tmp_path / "demo")]) == 0
    assert (tmp_path / "demo" / "demo.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "PSNR" in out and "grey" in out


def test_a_bad_card_is_named_when_its_preset_is_asked_for_and_the_others_load(tmp_path, monkeypatch):
    """A card with an unknown or missing key raised TypeError at import, taking every preset down with it."""
    from colorize import presets
    monkeypatch.setattr(presets, "PRESETS", dict(presets.PRESETS))
    monkeypatch.setattr(presets, "BROKEN", {})
    good = json.loads((presets.WEIGHTS_DIR / f"{DEFAULT_PRESET}.preset.json").read_text())
    (tmp_path / "extra_key.preset.json").write_text(json.dumps({**good, "name": "extra_key", "colour": "red"}))
    missing = {k: v for k, v in good.items() if k != "model"}
    (tmp_path / "no_model.preset.json").write_text(json.dumps({**missing, "name": "no_model"}))
    (tmp_path / "not_json.preset.json").write_text("{bad")
    presets.load_cards(tmp_path)
    for name in ("extra_key", "no_model", "not_json"):
        with pytest.raises(colorize.WeightsError, match=f"{name}.preset.json"):
            get_preset(name)
        assert name not in presets.list_presets()
    assert get_preset(DEFAULT_PRESET).sha256 == good["sha256"]


def test_the_default_beats_grey_on_the_bundled_photos():
    """The default preset at its default settings, on scikit-image's colour photos at full resolution: better than
    the grey input in PSNR and AuC on average, and colour where the photos have it."""
    from colorize.data.sources import skimage_photos
    from colorize.evaluation.scoring import evaluate
    result = evaluate(colorize.load_pretrained(), skimage_photos())
    assert result["model"]["psnr"] > result["grey"]["psnr"]
    assert result["model"]["auc"] > result["grey"]["auc"]
    assert result["colorfulness_ratio"] > 0.3

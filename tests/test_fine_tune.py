"""A fine-tuned model is used as the preset it started from (issue 33.2): the run writes a preset card of its own
beside its weights (the starting preset's readout, the sha256, what it trained on), and ``--preset-file CARD`` or
``--weights`` beside its card loads it whole."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO
from PIL import Image
from training_helpers import fast, pairs

from colorize import Colorizer, load_pretrained
from colorize.cli import main
from colorize.errors import WeightsError
from colorize.pipeline.readout import Readout
from colorize.presets import DEFAULT_PRESET, get_preset, load_card
from colorize.training.card import starting_readout
from colorize.training.loop import train

ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}


@pytest.mark.slow
def test_three_steps_of_my_photos_from_an_empty_folder_colorize_with_the_starting_presets_readout(tmp_path, photos):
    """The issue's own check: `colorize train --config my_photos --set data.source=PHOTOS --max-steps 3` in a folder
    with nothing but photos, then the printed line, and --weights alone."""
    for i, (name, rgb) in enumerate(photos.items()):
        (tmp_path / "PHOTOS" / ("sub" if i else "")).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb).save(tmp_path / "PHOTOS" / ("sub" if i else "") / f"{name}.jpg")
    run = lambda *argv: subprocess.run([sys.executable, "-m", "colorize.cli", *argv], cwd=tmp_path, env=ENV,
                                       capture_output=True, text=True, timeout=900)
    done = run("train", "--config", "my_photos", "--set", "data.source=PHOTOS", "--max-steps", "3", "--log", "plain")
    assert done.returncode == 0, done.stderr[-800:]
    card = tmp_path / "runs" / "my_photos" / "final-step3.preset.json"
    assert f"colorize predict PHOTOS -o colorized --preset-file {card.relative_to(tmp_path)}" in done.stdout
    fields = json.loads(card.read_text())
    preset = get_preset(DEFAULT_PRESET)
    assert fields["readout"] == preset.readout and fields["readout"]["kind"] == "restrained"
    assert fields["started_from"] == f"preset:{DEFAULT_PRESET}" and fields["weights"] == "final-step3.weights.h5"
    assert fields["metrics"]["validation"]["readout"] == "regression"  # what the loop measures, said so

    weights = card.with_name("final-step3.weights.h5")
    for colorizer in (load_pretrained(card), Colorizer.from_weights(weights)):
        assert colorizer.readout == Readout(**preset.readout)
    photo = tmp_path / "PHOTOS" / "astronaut.jpg"
    assert run("predict", str(photo), "-o", "by_card.png", "--preset-file", str(card), "--quiet").returncode == 0
    assert run("predict", str(photo), "-o", "by_weights.png", "--weights", str(weights), "--quiet").returncode == 0
    regression = run("predict", str(photo), "-o", "regression.png", "--weights", str(weights), "--readout",
                     "regression", "--quiet")
    assert regression.returncode == 0
    by_card, by_weights, plain = (np.asarray(Image.open(tmp_path / f"{n}.png"))
                                  for n in ("by_card", "by_weights", "regression"))
    assert np.array_equal(by_card, by_weights)
    assert not np.array_equal(by_card, plain)  # the card's readout, not the old default


def test_a_run_from_scratch_gets_the_regression_readout_and_a_card_that_loads(tmp_path):
    record = train(fast(), tmp_path, max_steps=2, dataset=pairs(), verbose=False)
    card = load_card(record["preset_card"])
    assert card.readout == {"kind": "regression"} and card.started_from == ""
    assert card.weights_path == tmp_path / "final-step2.weights.h5" and card.sha256 == record["weights_sha256"]
    assert Colorizer.from_weights(record["weights"]).readout.kind == "regression"


def test_a_fine_tune_of_a_fine_tune_keeps_the_first_presets_readout(tmp_path):
    weights = tmp_path / "first.weights.h5"
    weights.write_bytes(b"")
    (tmp_path / "first.preset.json").write_text(json.dumps({**get_preset(DEFAULT_PRESET).card(), "name": "first",
                                                             "weights": weights.name}))
    assert starting_readout(fast(f"train.init_weights={weights}", "model.bins_head=true")) == \
        get_preset(DEFAULT_PRESET).readout
    # a model without the bins head that readout needs: regression
    assert starting_readout(fast(f"train.init_weights={weights}", "model.bins_head=false")) == {"kind": "regression"}


def test_weights_without_a_config_or_a_card_is_one_line_naming_both(tmp_path, tiny_weights, capsys):
    path = tmp_path / "mine.weights.h5"
    shutil.copy(tiny_weights[0], path)
    assert main(["predict", str(path), "-o", str(tmp_path / "o.png"), "--weights", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--config" in err and "NAME.preset.json" in err


def test_a_card_beside_the_weights_is_checked(tmp_path):
    record = train(fast(), tmp_path, max_steps=1, dataset=pairs(), verbose=False)
    with pytest.raises(WeightsError, match="is not the one on its card"):
        Colorizer.from_weights(record["weights"], sha256="0" * 64)
    card = tmp_path / "final-step1.preset.json"
    card.write_text(card.read_text().replace('"sha256": "', '"sha256": "0'))
    with pytest.raises(WeightsError, match="sha256"):  # the card's sha256 is checked against the file
        Colorizer.from_weights(record["weights"])
    card.write_text("{not json")
    with pytest.raises(WeightsError, match="final-step1.preset.json cannot be used"):
        load_pretrained(card)


def test_preset_file_and_another_model_are_refused(tmp_path, capsys):
    assert main(["predict", "x.png", "-o", str(tmp_path / "o.png"), "--preset-file", "a.preset.json", "--preset",
                 DEFAULT_PRESET]) == 1
    assert "--preset-file a.preset.json and --preset name two models" in capsys.readouterr().err


def test_the_cards_validation_names_the_readout_it_measured(tmp_path):
    from colorize.training.card import write_card
    val = {"step": 5, "psnr": 23.0, "grey_psnr": 22.0, "readout_psnr": 23.5, "truth_colorfulness": 40.0}
    config = fast("train.validation_readout=preset:bigru_fusion_64")
    metrics = load_card(write_card(tmp_path / "a.weights.h5", "0" * 64, 1, config, 5, val)).metrics["validation"]
    assert metrics["model"] == {"psnr": 23.5} and metrics["readout"] == "preset:bigru_fusion_64"
    del val["readout_psnr"]
    metrics = load_card(write_card(tmp_path / "b.weights.h5", "0" * 64, 1, fast(), 5, val)).metrics["validation"]
    assert metrics == {"step": 5, "readout": "regression", "model": {"psnr": 23.0}, "grey": {"psnr": 22.0},
                       "truth": {"colorfulness": 40.0}}

"""Evaluation: colorize each photo's greyscale version, score it beside the grey baseline; the CLI and the demo."""
import io
import json
import math

import numpy as np
import pytest
from conftest import REPO, SHARED_TFDS, needs_shared_data
from PIL import Image

from colorize.cli import main
from colorize.evaluation import scoring as ev
from colorize.evaluation import sheet
from colorize.evaluation.demo import run_demo
from colorize.pipeline.colorizer import Colorizer


@pytest.fixture(scope="module")
def colorizer(tiny_weights):
    path, config, sha = tiny_weights
    return Colorizer.from_weights(path, config, sha)


@pytest.fixture(scope="module")
def small(photos):
    """Three photos of different sizes and aspects, small enough for a fast test."""
    return {name: image[::step, ::step] for (name, image), step in zip(photos.items(), (8, 6, 5))}


@pytest.fixture
def model_args(tiny_weights):
    path, _, sha = tiny_weights
    return ["--weights", str(path), "--sha256", sha, "--config", str(REPO / "configs" / "smoke.yaml")]


class Oracle:
    """A fake colorizer that knows the answers: returns the truth, and records the inputs it was given."""
    name, readout, upsampling, hints = "oracle", "oracle", "none", False

    def __init__(self, truths):
        self.truths, self.inputs = list(truths), []

    def colorize_batch(self, images, batch_size=16, hints=None):
        self.inputs += list(images)
        return [self.truths[len(self.inputs) - len(images) + i] for i in range(len(images))]

    def colorize(self, image):
        return self.colorize_batch([image])[0]


def _values(result):
    yield from (result[part][k] for part in ("model", "grey") for k in ev.METRICS)
    yield from (result["truth"]["colorfulness"], result["delta_colorfulness"], result["colorfulness_ratio"],
                result["share_beating_grey_psnr"])


def test_evaluate_reports_model_grey_and_truth(colorizer, small):
    result = ev.evaluate(colorizer, small.values(), names=list(small))
    assert result["images"] == 3
    assert set(result) >= {"model", "grey", "truth", "delta_colorfulness", "colorfulness_ratio",
                           "share_beating_grey_psnr", "per_image"}
    assert all(math.isfinite(v) for v in _values(result))
    assert result["grey"]["colorfulness"] == pytest.approx(0, abs=1e-3)
    assert result["model"]["colorfulness"] > 1  # the random model does add colour
    assert 0 < result["grey"]["auc"] <= 100 and 0 < result["model"]["ssim"] <= 1
    assert 0 <= result["share_beating_grey_psnr"] <= 1
    assert [r["name"] for r in result["per_image"]] == list(small)
    first = result["per_image"][0]
    assert (first["height"], first["width"]) == small["astronaut"].shape[:2]
    assert result["model"]["psnr"] == pytest.approx(np.mean([r["model"]["psnr"] for r in result["per_image"]]))
    # Streaming in small batches, and float input, give the same numbers
    again = ev.evaluate(colorizer, [(n, im / 255.0) for n, im in small.items()], batch_size=2)
    assert again["model"] == pytest.approx(result["model"], rel=1e-5)


def test_an_oracle_is_perfect_and_only_ever_sees_grey_inputs(small):
    truths = list(small.values())
    oracle = Oracle(truths)
    result = ev.evaluate(oracle, truths)
    assert result["model"]["psnr"] > 40
    assert result["model"]["auc"] == pytest.approx(100)
    assert result["model"]["ssim"] == pytest.approx(1, abs=1e-4)
    assert result["colorfulness_ratio"] == pytest.approx(1) and result["delta_colorfulness"] == pytest.approx(0)
    assert result["share_beating_grey_psnr"] == 1
    assert result["grey"]["psnr"] < 40 and result["grey"]["auc"] < 100
    import skimage.color
    for given, truth in zip(oracle.inputs, truths):
        assert given.shape == truth.shape and given.dtype == np.uint8
        assert (given == given[..., :1]).all()  # R = G = B: the greyscale version, never the colour truth
        l_error = skimage.color.rgb2lab(given / 255.0)[..., 0] - skimage.color.rgb2lab(truth / 255.0)[..., 0]
        assert np.abs(l_error).max() < 1.0  # with the truth's own lightness


def test_contact_sheet_has_three_panels_per_row(colorizer, small, tmp_path):
    png = tmp_path / "sheet.png"
    result = ev.evaluate(colorizer, small.values(), sheet_path=png, sheet_count=2)
    assert result["images"] == 3 and result["sheet"] == str(png)
    with Image.open(png) as im:
        width, height = im.size
    h = sheet.SHEET_HEIGHT
    cell = max(round(im.shape[1] * h / im.shape[0]) for im in list(small.values())[:2])
    assert height == sheet.SHEET_HEADER + 2 * h + sheet.SHEET_GAP
    assert width == 3 * cell + 2 * sheet.SHEET_GAP


def test_cli_evaluate_on_a_folder(small, model_args, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, image in small.items():
        Image.fromarray(image).save(folder / f"{name}.png")
    out, png = tmp_path / "out.json", tmp_path / "s.png"
    assert main(["evaluate", "--data", str(folder), *model_args, "--json", str(out), "--sheet", str(png)]) == 0
    printed = capsys.readouterr().out
    assert "PSNR" in printed and "grey" in printed and str(out) in printed
    result = json.loads(out.read_text())
    assert result["images"] == 3 and png.is_file()
    assert sorted(r["name"] for r in result["per_image"]) == sorted(f"{n}.png" for n in small)
    # without --json the summary JSON goes to stdout
    assert main(["evaluate", "--data", str(folder), *model_args, "--limit", "2"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.index("{"):])
    assert summary["images"] == 2 and "per_image" not in summary


def test_cli_evaluate_errors_are_one_line(model_args, tmp_path, capsys):
    assert main(["evaluate", "--data", str(tmp_path / "missing"), *model_args]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(tmp_path), *model_args]) == 1
    assert "no images" in capsys.readouterr().err


@needs_shared_data()
def test_cli_evaluate_on_tfds(model_args, tmp_path):
    out = tmp_path / "out.json"
    assert main(["evaluate", "--data", "tfds:tiny_imagenet_color:validation", "--data-dir", str(SHARED_TFDS),
                 "--limit", "8", *model_args, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["images"] == 8
    assert all(r["name"].startswith("tiny_imagenet_color/validation/") for r in result["per_image"])
    assert all((r["height"], r["width"]) == (64, 64) for r in result["per_image"])


def test_demo_writes_the_sheet_and_photos_and_prints_metrics(colorizer, tmp_path):
    out = io.StringIO()
    result = run_demo(colorizer, tmp_path / "demo", out=out)
    names = ("astronaut", "coffee", "chelsea", "rocket")
    assert result["images"] == 4
    assert [r["name"] for r in result["per_image"]] == list(names)
    with Image.open(tmp_path / "demo" / "demo.png") as im:
        assert im.size[1] == sheet.SHEET_HEADER + 4 * sheet.SHEET_HEIGHT + 3 * sheet.SHEET_GAP
    import skimage.data
    for name in names:
        with Image.open(tmp_path / "demo" / "colorized" / f"{name}.png") as im:
            assert im.size[::-1] == getattr(skimage.data, name)().shape[:2] and im.mode == "RGB"
        assert (tmp_path / "demo" / "grey" / f"{name}.png").is_file()
    assert json.loads((tmp_path / "demo" / "metrics.json").read_text())["images"] == 4
    printed = out.getvalue()
    assert "PSNR" in printed and "demo.png" in printed


def test_demo_command_is_registered():
    from colorize.cli import build_parser
    args = build_parser().parse_args(["demo"])
    assert args.output == "colorize-demo" and args.preset is None


# -- round 3 of hostile input (issue 26) ---------------------------------------------------------------------
def test_sheet_count_zero_and_unwritable_outputs_are_refused_before_evaluating(small, model_args, tmp_path, capsys,
                                                                              monkeypatch):
    """Issue 26.18: --sheet-count 0 printed "contact sheet: s3.png" and wrote none; --json into a folder that
    cannot be written was refused only after the whole evaluation ran."""
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(small["astronaut"]).save(folder / "a.png")
    ran = []
    real = ev.evaluate
    monkeypatch.setattr(ev, "evaluate", lambda *a, **k: ran.append(1) or real(*a, **k))
    (tmp_path / "a_file").write_text("x")
    for extra, words in ((["--sheet", str(tmp_path / "s3.png"), "--sheet-count", "0"], "--sheet-count must be"),
                         (["--json", "/proc/colorize-test/out.json"], "cannot write in the output folder /proc"),
                         (["--json", str(tmp_path / "a_file" / "out.json")], "a_file"),
                         (["--sheet", str(tmp_path / "a_file" / "s.png")], "a_file"),
                         (["--json", str(folder)], "is a folder")):
        assert main(["evaluate", "--data", str(folder), *model_args, *extra]) == 1, extra
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, (extra, err)
    assert ran == [] and not (tmp_path / "s3.png").exists()
    assert main(["evaluate", "--data", str(folder), *model_args, "--sheet", str(tmp_path / "s1.png"),
                 "--sheet-count", "1"]) == 0
    assert f"contact sheet: {tmp_path / 's1.png'}" in capsys.readouterr().out and (tmp_path / "s1.png").is_file()


def test_the_tuning_and_reporting_halves_of_the_evaluation_photos_are_disjoint_and_follow_the_name():
    from colorize.evaluation.splits import REPORT_VAL, TUNE_VAL, split_photos
    names = [f"photo_{i:03d}.jpg" for i in range(200)]
    tune, report = split_photos((n, i) for i, n in enumerate(names))
    assert 70 < len(tune) < 130 and len(tune) + len(report) == 200
    assert not {n for n, _ in tune} & {n for n, _ in report}
    again, _ = split_photos((n, None) for n in reversed(names + ["new.jpg"]))  # order and added photos: same split
    assert {n for n, _ in tune} <= {n for n, _ in again}
    low, high = (tuple(int(v) for v in split[split.index("[") + 1:-1].replace(":", " ").split() or (0,))
                 for split in (TUNE_VAL, REPORT_VAL))
    assert low[-1] <= high[0]  # the validation slices do not overlap

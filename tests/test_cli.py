"""The colorize command line: predict on folders, one-line errors, summaries, exit codes, safe outputs."""
import numpy as np
import pytest
import skimage.color
from PIL import Image

from colorize.cli import main
from conftest import REPO


@pytest.fixture
def model_args(tiny_weights):
    path, _, sha = tiny_weights
    return ["--weights", str(path), "--sha256", sha, "--config", str(REPO / "configs" / "smoke.yaml")]


@pytest.fixture
def photo_folder(tmp_path, photos):
    folder = tmp_path / "in"
    (folder / "nested").mkdir(parents=True)
    Image.fromarray(photos["astronaut"][::4, ::3]).convert("L").save(folder / "astronaut.png")
    Image.fromarray(photos["coffee"][::5, ::5]).save(folder / "nested" / "coffee.jpg", quality=95)
    Image.fromarray(photos["chelsea"][:37, :91]).convert("L").save(folder / "chelsea.bmp")
    return folder


def _lightness(rgb):
    return skimage.color.rgb2lab(np.asarray(rgb, np.float64) / 255.0)[..., 0]


def test_predict_writes_same_size_colour_pngs_with_the_input_lightness(photo_folder, tmp_path, model_args, capsys):
    out = tmp_path / "out"
    assert main(["predict", str(photo_folder), "-o", str(out), "--batch-size", "2", "--quiet"] + model_args) == 0
    assert "written 3, skipped 0, failed 0" in capsys.readouterr().out
    for source, result in [("astronaut.png", "astronaut.png"), ("nested/coffee.jpg", "nested/coffee.png"),
                           ("chelsea.bmp", "chelsea.png")]:
        src = np.asarray(Image.open(photo_folder / source).convert("RGB"))
        got = np.asarray(Image.open(out / result))
        assert got.shape == src.shape and got.dtype == np.uint8
        assert np.abs(_lightness(got) - _lightness(src)).mean() <= 0.5


def test_bad_files_are_reported_in_one_line_and_the_rest_is_written(photo_folder, tmp_path, model_args, capsys):
    (photo_folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    (photo_folder / "empty.jpg").write_bytes(b"")
    code = main(["predict", str(photo_folder), "-o", str(tmp_path / "out"), "--quiet"] + model_args)
    captured = capsys.readouterr()
    assert code == 1
    assert "written 3, skipped 0, failed 2" in captured.out
    assert "Traceback" not in captured.err
    failures = [line for line in captured.err.splitlines() if line.startswith("colorize: failed")]
    assert len(failures) == 2 and any("broken.png" in f for f in failures) and any("empty.jpg" in f for f in failures)
    assert not (tmp_path / "out" / "broken.png").exists()


def test_existing_outputs_and_inputs_are_not_overwritten(photo_folder, tmp_path, model_args, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "astronaut.png").write_bytes(b"keep me")
    assert main(["predict", str(photo_folder / "astronaut.png"), "-o", str(out), "--quiet"] + model_args) == 0
    assert (out / "astronaut.png").read_bytes() == b"keep me"
    assert "skipped 1" in capsys.readouterr().out
    original = (photo_folder / "astronaut.png").read_bytes()
    assert main(["predict", str(photo_folder / "astronaut.png"), "-o", str(photo_folder), "--quiet"] + model_args) == 0
    assert (photo_folder / "astronaut.png").read_bytes() == original
    assert main(["predict", str(photo_folder / "astronaut.png"), "-o", str(out), "--overwrite", "--quiet"]
                + model_args) == 0
    assert (out / "astronaut.png").read_bytes() != b"keep me"


@pytest.mark.parametrize("argv, message", [
    (["predict", "/no/such/dir", "-o", "x"], "does not exist"),
    (["summary", "--preset", "nope"], "unknown preset"),
    (["train", "--config", "/no/such.yaml"], "does not exist"),
])
def test_user_errors_are_one_line(argv, message, capsys):
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_changed_weights_are_refused_by_the_cli(tmp_path, tiny_weights, photo_folder, capsys):
    path, _, sha = tiny_weights
    bad = tmp_path / "bad.weights.h5"
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0xFF
    bad.write_bytes(bytes(blob))
    code = main(["predict", str(photo_folder), "-o", str(tmp_path / "o"), "--weights", str(bad), "--sha256", sha,
                 "--config", str(REPO / "configs" / "smoke.yaml")])
    assert code == 1 and "sha256" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_summary_prints_the_shape_table(capsys):
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "rows_as_timesteps" in out and "(None, 8, 1024)" in out and "row_context_bigru" in out

"""colorize predict as a hostile user tries it: same-named photos, the output folder inside the input, two runs
at once, killed runs, long names, odd folders, unwritable outputs, memory budgets, colour hints."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from PIL import Image

from colorize import io as imageio
from colorize.cli import main
from colorize.io import atomic, output_names


@pytest.fixture
def model_args(tiny_weights):
    path, _, sha = tiny_weights
    return ["--weights", str(path), "--sha256", sha, "--config", str(REPO / "configs" / "smoke.yaml"), "--quiet"]


@pytest.fixture(scope="module")
def hint_model_args(tmp_path_factory):
    """A tiny random model with hint inputs, saved as .weights.h5 with its YAML config."""
    from colorize.config import ModelConfig
    from colorize.model.network import build_model
    from colorize.model.weights import sha256_of
    folder = tmp_path_factory.mktemp("hint_model")
    cfg = ModelConfig(input_size=32, encoder_widths=(8, 16), row_units=8, global_units=8, fusion_width=16, hints=True)
    model = build_model(cfg)
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(0, 0.2, w.shape).astype("float32") if w.ndim > 1 else w
                       for w in model.get_weights()])
    model.save_weights(folder / "hints.weights.h5")
    (folder / "hints.yaml").write_text("model:\n  input_size: 32\n  encoder_widths: [8, 16]\n  row_units: 8\n"
                                       "  global_units: 8\n  fusion_width: 16\n  hints: true\n")
    return ["--weights", str(folder / "hints.weights.h5"), "--sha256", sha256_of(folder / "hints.weights.h5"),
            "--config", str(folder / "hints.yaml"), "--quiet"]


def _photo(path, seed, size=(40, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def _pngs(folder):
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*.png"))


def _summary(out):
    return [line for line in out.splitlines() if line.startswith("written")][-1]


# ---------------------------------------------------------------- 5. names: unique, deterministic, no clobbering

def test_same_named_photos_in_three_folders_get_three_outputs(tmp_path, model_args, capsys):
    folders = [tmp_path / year for year in ("2019", "2020", "2021")]
    for i, folder in enumerate(folders):
        _photo(folder / "IMG_0001.jpg", i)
    out = tmp_path / "out"
    argv = ["predict", *map(str, folders), "-o", str(out)] + model_args
    assert main(argv) == 0
    assert "written 3, skipped 0, failed 0" in _summary(capsys.readouterr().out)
    assert _pngs(out) == ["2019/IMG_0001.png", "2020/IMG_0001.png", "2021/IMG_0001.png"]
    outputs = [(out / name).read_bytes() for name in _pngs(out)]
    assert len(set(outputs)) == 3  # three different photos, none lost
    assert main(["predict", *map(str, folders[::-1]), "-o", str(out)] + model_args) == 0  # any argument order
    assert "written 0, skipped 3, failed 0" in _summary(capsys.readouterr().out)
    assert main(argv + ["--overwrite"]) == 0
    assert "written 3, skipped 0, failed 0" in _summary(capsys.readouterr().out)
    assert _pngs(out) == ["2019/IMG_0001.png", "2020/IMG_0001.png", "2021/IMG_0001.png"]


def test_output_names_are_unique_and_do_not_depend_on_order(tmp_path):
    root = tmp_path / "in"
    files = [root / "a.jpg", root / "a.png", root / "A.tif", root / "sub" / "b.jpg", tmp_path / "x" / "b.jpg",
             root / ("n" * 250 + ".jpeg"), root / ("n" * 250 + ".jpg")]
    roots = [root] * 4 + [None] + [root] * 2
    names = output_names.output_paths(files, roots, tmp_path / "out")
    rels = [names[f].relative_to(tmp_path / "out").as_posix() for f in files]
    assert rels[:3] == ["a_jpg.png", "a_png.png", "A_tif.png"]
    assert rels[3:5] == ["sub/b.png", "b.png"]
    assert len({r.casefold() for r in rels}) == len(rels) and all(len(Path(r).name) <= 255 for r in rels)
    again = output_names.output_paths(files[::-1], roots[::-1], tmp_path / "out")
    assert all(again[f] == names[f] for f in files)


# ---------------------------------------------------------------- 6. the output folder is never an input

def test_an_output_folder_inside_the_input_is_left_out(tmp_path, model_args, capsys):
    folder = tmp_path / "photos"
    _photo(folder / "a.jpg", 0)
    _photo(folder / "b.png", 1)
    out = folder / "colour"
    for _ in range(2):
        assert main(["predict", str(folder), "-o", str(out)] + model_args) == 0
    assert "written 0, skipped 2, failed 0" in _summary(capsys.readouterr().out)
    assert _pngs(out) == ["a.png", "b.png"]
    assert main(["predict", str(folder), "-o", str(folder)] + model_args) == 1
    err = capsys.readouterr().err
    assert "inside the output folder" in err and len(err.strip().splitlines()) == 1
    assert sorted(os.listdir(folder)) == ["a.jpg", "b.png", "colour"]


# ---------------------------------------------------------------- 7. two runs into one folder

def test_outputs_another_run_finished_meanwhile_are_skips_not_failures(tmp_path, model_args, capsys, monkeypatch):
    from colorize.pipeline.colorizer import Colorizer
    folder = tmp_path / "in"
    for i in range(3):
        _photo(folder / f"p{i}.jpg", i)
    out = tmp_path / "out"
    real = Colorizer.colorize_batch

    def other_run_first(self, images, *args, **kwargs):
        results = real(self, images, *args, **kwargs)
        for name in kwargs["names"]:
            (out / (Path(name).stem + ".png")).write_bytes(b"the other run's output")
        return results
    monkeypatch.setattr(Colorizer, "colorize_batch", other_run_first)
    assert main(["predict", str(folder), "-o", str(out)] + model_args) == 0
    captured = capsys.readouterr()
    assert "written 0, skipped 3, failed 0" in _summary(captured.out)
    assert captured.err.count("was written by another run meanwhile") == 3
    assert all((out / f"p{i}.png").read_bytes() == b"the other run's output" for i in range(3))
    assert sorted(os.listdir(out)) == ["p0.png", "p1.png", "p2.png"]


# ---------------------------------------------------------------- 8. and 9. temporary files

def test_temporary_files_of_killed_runs_are_cleaned_at_the_start(tmp_path, model_args, capsys):
    _photo(tmp_path / "in" / "a.jpg", 0)
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = atomic.temp_path(out).with_name(atomic.temp_path(out).name.replace(f"-{os.getpid()}-", f"-{dead.pid}-"))
    legacy = out / f".a.png.tmp-{dead.pid}-139872"
    for path in (stale, legacy):
        path.write_bytes(b"half a png")
    assert main(["predict", str(tmp_path / "in"), "-o", str(out)] + model_args) == 0
    assert sorted(os.listdir(out)) == ["a.png"]


def test_a_file_name_near_the_length_limit_is_written(tmp_path, model_args, capsys):
    photo = _photo(tmp_path / "in" / ("x" * 236 + ".jpg"), 0)
    assert len(photo.name) == 240
    assert main(["predict", str(photo), "-o", str(tmp_path / "out")] + model_args) == 0
    assert "written 1, skipped 0, failed 0" in _summary(capsys.readouterr().out)
    assert os.listdir(tmp_path / "out") == ["x" * 236 + ".png"]


# ---------------------------------------------------------------- 10. odd folders are counted, not ignored

def test_links_loops_and_unreadable_folders_are_counted(tmp_path, model_args, capsys, monkeypatch):
    folder, elsewhere = tmp_path / "in", tmp_path / "elsewhere"
    _photo(folder / "a.jpg", 0)
    _photo(elsewhere / "b.jpg", 1)
    _photo(folder / "locked" / "c.jpg", 2)
    (folder / "linked").symlink_to(elsewhere)         # followed
    (folder / "loop").symlink_to(folder)              # a loop: said and skipped
    (folder / "gone.jpg").symlink_to(tmp_path / "no_such.jpg")  # leads nowhere: a failure
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "locked":  # as root, chmod cannot make a folder unreadable
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)
    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["predict", str(folder), "-o", str(tmp_path / "out")] + model_args) == 1
    captured = capsys.readouterr()
    assert "written 2, skipped 1, failed 2" in _summary(captured.out)
    assert _pngs(tmp_path / "out") == ["a.png", "linked/b.png"]
    lines = captured.err.strip().splitlines()
    assert any("locked" in line and "cannot be read" in line for line in lines)
    assert any("gone.jpg" in line and "does not exist" in line for line in lines)
    assert any("loop" in line and "already searched" in line for line in lines)
    failed = [json.loads(line) for line in (tmp_path / "out" / "failed.jsonl").read_text().splitlines()]
    assert sorted(Path(f["path"]).name for f in failed) == ["gone.jpg", "locked"]  # the failures, listed as on Ray


# ---------------------------------------------------------------- 11. the output folder is checked first

@pytest.mark.parametrize("where", ["file", "unwritable"])
def test_an_unusable_output_folder_fails_before_any_photo_is_decoded(tmp_path, model_args, capsys, monkeypatch,
                                                                    where):
    _photo(tmp_path / "in" / "a.jpg", 0)
    if where == "file":
        out = tmp_path / "taken"
        out.write_text("not a folder")
    else:
        out = Path("/proc/colorize-test-out")  # cannot be created, even by root
    decoded = []
    monkeypatch.setattr(imageio, "load_array", lambda *a, **k: decoded.append(a) or np.zeros((2, 2, 3), np.uint8))
    assert main(["predict", str(tmp_path / "in"), "-o", str(out)] + model_args) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and str(out) in err and ".colorize-" not in err
    assert decoded == []


# ---------------------------------------------------------------- 12. batches by pixels

def test_batches_are_limited_by_pixels_as_well_as_count(tmp_path, model_args, capsys, monkeypatch):
    from colorize.pipeline.colorizer import Colorizer
    folder = tmp_path / "in"
    sizes = [(40, 30), (40, 30), (200, 100), (40, 30), (30, 20), (30, 20)]
    for i, size in enumerate(sizes):
        _photo(folder / f"p{i}.png", i, size)
    seen, real = [], Colorizer.colorize_batch

    def record(self, images, *args, **kwargs):
        seen.append([im.shape[0] * im.shape[1] for im in images])
        assert all(im.dtype == np.uint8 for im in images)  # decoded at 3 bytes a pixel, not float
        return real(self, images, *args, **kwargs)
    monkeypatch.setattr(Colorizer, "colorize_batch", record)
    assert main(["predict", str(folder), "-o", str(tmp_path / "out"), "--batch-pixels", "3000"] + model_args) == 0
    assert seen == [[1200, 1200], [20000], [1200, 600, 600]]
    assert "written 6" in capsys.readouterr().out


@pytest.mark.slow
def test_peak_memory_of_a_large_photo_is_bounded(tmp_path):
    """bench/memory.py's measurement on a 4000x3000 photo: at most 32 bytes a pixel above the idle process."""
    sys.path.insert(0, str(REPO / "bench"))
    import memory
    inputs = memory.make_inputs(tmp_path, 4000, 3000, 0, False)
    idle = memory.peak_rss([inputs["idle"]], tmp_path / "o1")
    big = memory.peak_rss([inputs["photo"]], tmp_path / "o2")
    assert idle[2] == 0 and big[2] == 0, big[3]
    assert (big[0] - idle[0]) / (4000 * 3000) <= 32


# ---------------------------------------------------------------- colour hints

def test_hint_on_the_command_line_steers_the_colour(tmp_path, hint_model_args, capsys):
    grey = np.full((48, 64, 3), 128, np.uint8)
    photo = tmp_path / "grey.png"
    Image.fromarray(grey).save(photo)
    plain, hinted = tmp_path / "plain", tmp_path / "hinted"
    assert main(["predict", str(photo), "-o", str(plain)] + hint_model_args) == 0
    assert main(["predict", str(photo), "-o", str(hinted), "--hint", "20,10,#1f4e9c", "--hint", "50,40,gold,4"]
                + hint_model_args) == 0
    a = np.asarray(Image.open(plain / "grey.png")).astype(int)
    b = np.asarray(Image.open(hinted / "grey.png")).astype(int)
    assert b[10, 20, 2] - b[10, 20, 0] > a[10, 20, 2] - a[10, 20, 0] + 20  # bluer at the blue hint
    assert b[40, 50, 0] - b[40, 50, 2] > a[40, 50, 0] - a[40, 50, 2] + 20  # yellower at the yellow one


def test_hints_file_keys_name_photos_three_ways_and_typos_are_errors(tmp_path, hint_model_args, capsys):
    folder = tmp_path / "in"
    for rel in ("a.png", "sub/b.png", "sub/c.png"):
        _photo(folder / rel, len(rel))
    blue = [{"x": 5, "y": 5, "color": "blue"}]   # a CSS name, as in Python and on the command line
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps({"a.png": blue, "sub/b.png": blue, str(folder / "sub" / "c.png"): blue}))
    out = tmp_path / "out"
    assert main(["predict", str(folder), "-o", str(out), "--hints", str(hints)] + hint_model_args) == 0
    assert _pngs(out) == ["a.png", "sub/b.png", "sub/c.png"]
    for key in ("typo.png", "sub/nope.png"):
        hints.write_text(json.dumps({"a.png": blue, key: blue}))
        assert main(["predict", str(folder), "-o", str(tmp_path / "o2"), "--hints", str(hints)]
                    + hint_model_args) == 1
        err = capsys.readouterr().err
        assert key in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("case, message", [
    ("two_inputs", "--hint applies to one image"),
    ("no_hint_model", "takes none"),
    ("bad_hint", "must look like X,Y,COLOUR"),
    ("bad_name", "did you mean red"),
    ("both", "not both"),
])
def test_hint_errors_are_one_line(tmp_path, model_args, hint_model_args, capsys, case, message):
    a, b = _photo(tmp_path / "a.png", 0), _photo(tmp_path / "b.png", 1)
    argv = {"two_inputs": [str(a), str(b), "--hint", "1,1,#ff0000"] + hint_model_args,
            "no_hint_model": [str(a), "--hint", "1,1,#ff0000"] + model_args,
            "bad_hint": [str(a), "--hint", "1;1;red"] + hint_model_args,
            "bad_name": [str(a), "--hint", "1,1,redd"] + hint_model_args,
            "both": [str(a), "--hint", "1,1,#ff0000", "--hints", "h.json"] + hint_model_args}[case]
    assert main(["predict", *argv, "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_hint_outside_one_photo_fails_that_photo_only(tmp_path, hint_model_args, capsys):
    folder = tmp_path / "in"
    _photo(folder / "small.png", 0, (20, 10))
    _photo(folder / "large.png", 1, (200, 100))
    hints = tmp_path / "hints.json"
    point = [{"x": 150, "y": 50, "color": "#00ff00"}]
    hints.write_text(json.dumps({"small.png": point, "large.png": point}))
    assert main(["predict", str(folder), "-o", str(tmp_path / "out"), "--hints", str(hints)] + hint_model_args) == 1
    captured = capsys.readouterr()
    assert "written 1, skipped 0, failed 1" in _summary(captured.out)
    assert "small.png" in captured.err and "outside" in captured.err and _pngs(tmp_path / "out") == ["large.png"]


# ---------------------------------------------------------------- any odd argument: one line, no traceback

@pytest.mark.parametrize("argv, message", [
    (["predict", "bad\0name.jpg", "-o", "out"], "does not exist"),
    (["predict", "x" * 5000 + ".jpg", "-o", "out"], "cannot be accessed"),
    (["predict", "{photo}", "-o", "bad\0out"], "cannot be used"),
    (["predict", "{photo}", "-o", "out", "--hints", "{tmp}/no_such.json"], "cannot be read"),
    (["predict", "{photo}", "-o", "out", "--batch-size", "0"], "--batch-size must be at least 1"),
    (["predict", "{photo}", "-o", "out", "--config", "{tmp}/no.yaml", "--weights", "{tmp}/w.weights.h5"],
     "does not exist"),
])
def test_odd_arguments_are_one_line_errors(tmp_path, capsys, argv, message):
    photo = _photo(tmp_path / "p.png", 0)
    argv = [a.format(photo=photo, tmp=tmp_path) if "{" in a else a for a in argv]
    assert main(argv) in (1, 2)
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- round 3 of hostile input (issue 26)

@pytest.mark.parametrize("extra, message", [
    (["--config", "{smoke}"], "--config belongs to --weights"),
    (["--sha256", "abc"], "--sha256 belongs to --weights"),
    (["{weights}", "--sha256", "abc"], "--sha256 'abc' is not a sha256"),
    (["{weights}", "--preset", "bigru_fusion_64"], "--weights and --preset bigru_fusion_64 name two models"),
])
def test_conflicting_or_unused_model_options_are_refused(tmp_path, tiny_weights, capsys, extra, message):
    """Issue 26.15: --config and a malformed --sha256 were ignored without --weights (the shipped preset ran),
    and --weights silently won over --preset."""
    photo = _photo(tmp_path / "p.png", 0)
    weights = ["--weights", str(tiny_weights[0]), "--config", str(REPO / "configs" / "smoke.yaml")]
    argv = []
    for item in extra:
        argv += weights if item == "{weights}" else [item.format(smoke=REPO / "configs" / "smoke.yaml")]
    out = tmp_path / "out"
    assert main(["predict", str(photo), "-o", str(out), "--quiet", *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_a_huge_hint_radius_fails_that_photo_only(tmp_path, hint_model_args, capsys):
    """Issue 26.1: --hint '10,10,#ff0000,1e300' gave an OverflowError traceback and aborted the whole run."""
    folder = tmp_path / "in"
    _photo(folder / "a.png", 0, (100, 100))
    _photo(folder / "b.png", 1, (100, 100))
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps({"a.png": [{"x": 10, "y": 10, "color": "#ff0000", "radius": 1e300}],
                                 "b.png": [{"x": 10, "y": 10, "color": "#ff0000", "radius": 5}]}))
    assert main(["predict", str(folder), "-o", str(tmp_path / "out"), "--hints", str(hints)] + hint_model_args) == 1
    captured = capsys.readouterr()
    assert "written 1, skipped 0, failed 1" in _summary(captured.out) and "Traceback" not in captured.err
    assert "a.png" in captured.err and "diagonal" in captured.err and _pngs(tmp_path / "out") == ["b.png"]
    assert main(["predict", str(folder / "a.png"), "-o", str(tmp_path / "one"), "--hint", "10,10,#ff0000,1e300"]
                + hint_model_args) == 1
    assert "diagonal" in capsys.readouterr().err


def test_deeply_nested_hints_file_is_one_line(tmp_path, hint_model_args, capsys):
    """Issue 26.2: a hints file nested a few thousand levels deep gave a RecursionError traceback."""
    photo = _photo(tmp_path / "p.png", 0)
    hints = tmp_path / "deep.json"
    hints.write_text('{"p.png": ' + "[" * 5000 + "]" * 5000 + "}")
    assert main(["predict", str(photo), "-o", str(tmp_path / "out"), "--hints", str(hints)] + hint_model_args) == 1
    err = capsys.readouterr().err
    assert "nests too deep" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- first contact (issue 25)

def test_hints_without_a_named_model_use_the_hint_preset_and_say_so(tmp_path, model_args, capsys):
    photo = _photo(tmp_path / "grey.png", 0, (48, 32))
    out = tmp_path / "out"
    assert main(["predict", str(photo), "-o", str(out), "--hint", "10,10,#1f4e9c", "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "using the hint preset bigru_fusion_64_hints" in err[0], err
    assert _pngs(out) == ["grey.png"]
    for named in (["--preset", "bigru_fusion_64"], model_args):  # a named model without hint inputs stays an error
        assert main(["predict", str(photo), "-o", str(tmp_path / "o2"), "--hint", "10,10,#1f4e9c", "--quiet"]
                    + named) == 1
        assert "takes none" in capsys.readouterr().err


@pytest.mark.parametrize("name, fmt", [("out.png", "PNG"), ("out.jpg", "JPEG"), ("out.webp", "WEBP"),
                                       ("out.tif", "TIFF")])
def test_one_input_and_an_image_name_as_output_writes_that_file(tmp_path, model_args, capsys, name, fmt):
    photo = _photo(tmp_path / "in" / "photo.png", 0, (40, 30))
    target = tmp_path / "result" / name
    assert main(["predict", str(photo), "-o", str(target), "--quality", "80"] + model_args) == 0
    assert target.is_file() and "written 1" in _summary(capsys.readouterr().out)
    with Image.open(target) as im:
        assert im.format == fmt and im.size == (40, 30) and im.mode == "RGB"
    assert sorted(p.name for p in target.parent.iterdir()) == [name]  # no folder named out.jpg, no temporaries
    assert main(["predict", str(photo), "-o", str(target)] + model_args) == 0  # a re-run: done
    assert "1 already done" in capsys.readouterr().err
    second = _photo(tmp_path / "in" / "other.png", 1)
    assert main(["predict", str(photo), str(second), "-o", str(tmp_path / "two.jpg")] + model_args) == 1
    assert "names one file, and 2 images were given" in capsys.readouterr().err


def test_outputs_keep_the_inputs_metadata_with_the_orientation_reset(tmp_path, model_args, capsys):
    from PIL import ImageCms
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = 6, "ScanCo"  # rotated 90 degrees, as a camera or scanner may say
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>')
    photo = tmp_path / "scan.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (30, 40), dtype=np.uint8)).save(
        photo, exif=exif.tobytes(), icc_profile=icc, dpi=(600, 600), xmp=xmp, quality=95)
    for target in (tmp_path / "folder", tmp_path / "scan.jpg.png", tmp_path / "scan_out.jpg",
                   tmp_path / "scan_out.tif", tmp_path / "scan_out.webp"):
        assert main(["predict", str(photo), "-o", str(target)] + model_args) == 0, capsys.readouterr().err
        path = target / "scan.png" if target.name == "folder" else target
        with Image.open(path) as im:
            assert im.size == (30, 40)  # upright: the rotation was applied to the pixels...
            assert im.getexif().get(0x0112) == 1 and im.getexif().get(0x010F) == "ScanCo"  # ...and reset
            assert im.info.get("icc_profile") == icc
            if im.format != "WEBP":  # WebP has no resolution field
                assert [round(d) for d in im.info["dpi"]] == [600, 600]
            found = im.info.get("xmp") or (im.tag_v2.get(700) if im.format == "TIFF" else None)
            assert found and b'tiff:Orientation="1"' in found


def test_folder_pngs_of_inputs_without_metadata_are_the_bytes_they_always_were(tmp_path, tiny_weights, model_args):
    """An input with no metadata gives exactly our encoder's PNG of the Python API's colorization: no chunk added."""
    import colorize
    from colorize.io.png import encode_png
    path, _, sha = tiny_weights
    photo = _photo(tmp_path / "plain.png", 0)
    assert main(["predict", str(photo), "-o", str(tmp_path / "out")] + model_args) == 0
    colorizer = colorize.Colorizer.from_weights(path, colorize.load_config(REPO / "configs" / "smoke.yaml"), sha)
    assert (tmp_path / "out" / "plain.png").read_bytes() == encode_png(colorizer.colorize(photo))


def test_a_16_bit_input_is_written_at_16_bits_when_asked(tmp_path, model_args, capsys):
    import skimage.color

    from colorize import io as imageio
    from colorize.io.png import encode_png
    ramp = np.linspace(5000, 60000, 64 * 48).reshape(48, 64).astype(np.uint16)
    photo = tmp_path / "deep.png"
    photo.write_bytes(encode_png(np.repeat(ramp[..., None], 3, axis=2)))
    for name in ("deep16.png", "deep16.tif"):
        assert main(["predict", str(photo), "-o", str(tmp_path / name), "--bit-depth", "16"] + model_args) == 0
    import tifffile
    for out in (imageio.load_array(tmp_path / "deep16.png"), tifffile.imread(tmp_path / "deep16.tif")):
        assert out.dtype == np.uint16 and out.shape == (48, 64, 3)
        lightness = skimage.color.rgb2lab(out / 65535.0)[..., 0]
        grey = np.repeat(ramp[..., None], 3, axis=2) / 65535.0
        assert np.abs(lightness - skimage.color.rgb2lab(grey)[..., 0]).max() < 0.05  # the input's tones
        assert len(np.unique(out[..., 1])) > 1000  # more than 8 bits could hold
    assert main(["predict", str(photo), "-o", str(tmp_path / "deep.jpg"), "--bit-depth", "16"] + model_args) == 1
    assert "--bit-depth 16 needs a PNG or TIFF output" in capsys.readouterr().err


def test_a_rerun_of_a_folder_says_in_one_line_how_many_are_done(tmp_path, model_args, capsys):
    folder = tmp_path / "in"
    for i in range(4):
        _photo(folder / f"p{i}.png", i)
    out = tmp_path / "out"
    assert main(["predict", str(folder), "-o", str(out)] + model_args) == 0
    capsys.readouterr()
    _photo(folder / "p9.png", 9)
    assert main(["predict", str(folder), "-o", str(out)] + model_args) == 0
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == ["colorize: 4 already done (pass --overwrite to redo them)"]
    assert "written 1, skipped 4, failed 0" in _summary(captured.out)
    assert main(["predict", str(folder), "-o", str(out), "--verbose"] + model_args) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 5 and all("exists (pass --overwrite to replace it)" in line for line in lines)


def test_each_photo_says_what_its_reference_did_whatever_its_batch(tmp_path, hint_model_args, capsys):
    """One line a photo, from every batch (the job's Outcome lines, not process-wide warnings that the decoding and
    writing threads beside the network filter)."""
    folder = tmp_path / "in"
    for i in range(4):
        _photo(folder / f"p{i}.png", i)
    ref = _photo(tmp_path / "ref.png", 9)
    assert main(["predict", str(folder), "-o", str(tmp_path / "out"), "--reference", str(ref), "--batch-size", "3"]
                + hint_model_args) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith(f"reference {ref}: matched")]
    assert len(lines) == 4 and all(sum(f"p{i}.png" in line for line in lines) == 1 for i in range(4)), lines

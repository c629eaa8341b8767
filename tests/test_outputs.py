"""Outputs by suffix with the input's metadata, as a hostile file tries them: resolutions no format can hold, ICC
profiles and EXIF larger than a format carries, names that are not image formats. The photo is always written;
what its format cannot hold is left out, in one warning line."""
import numpy as np
import pytest
import tifffile
from conftest import REPO
from PIL import Image

from colorize.cli import main
from colorize.io import images as imageio
from colorize.io.outputs import Metadata, read_metadata, save_image

RGB = np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8)
ICC_5MB = b"\0" * 16 + b"RGB " + bytes(5_000_000)  # an RGB profile's header, then bulk (a large LUT profile)


@pytest.fixture
def model_args(tiny_weights):
    path, _, sha = tiny_weights
    return ["--weights", str(path), "--sha256", sha, "--config", str(REPO / "configs" / "smoke.yaml"), "--quiet"]


def _written(path, rgb=RGB, **metadata):
    notes = []
    save_image(rgb, path, metadata=Metadata(**metadata), warn=notes.append)
    with Image.open(path) as im:
        im.load()
        return im.info, notes


@pytest.mark.parametrize("name", ["out.png", "out.jpg", "out.webp", "out.tif", "deep.png", "deep.tif"])
@pytest.mark.parametrize("dpi", [4294967295.0, 4294967295 * 2.54, 0xFFFFFFFF * 0.0254, float("inf")])
def test_a_resolution_the_format_cannot_hold_is_left_out_and_the_photo_written(tmp_path, name, dpi):
    rgb = RGB.astype(np.uint16) * 257 if name.startswith("deep") else RGB
    info, notes = _written(tmp_path / name, rgb, dpi=(dpi, dpi))
    found = info.get("dpi")
    if notes:  # left out: none, or (Pillow's TIFFs) the format's default of 1
        assert found in (None, (1, 1))
    else:  # kept as it was, never NaN, never wrapped to 40265
        assert name.endswith(".webp") or np.allclose(found, dpi, rtol=1e-6)  # WebP has no resolution field
    assert all("left out the input's resolution" in note for note in notes) and len(notes) <= 1
    read = tifffile.imread(tmp_path / name) if name.endswith(".tif") else imageio.load_array(tmp_path / name)
    if not name.endswith((".jpg", ".webp")):
        assert np.array_equal(read, rgb)


def test_a_resolution_every_format_holds_is_kept(tmp_path):
    for name in ("a.png", "a.jpg", "a.tif"):
        info, notes = _written(tmp_path / name, dpi=(600.0, 300.0))
        assert [round(d) for d in info["dpi"]] == [600, 300] and not notes


def test_infinite_or_nan_resolutions_of_an_input_are_not_read(tmp_path):
    assert read_metadata(Image.frombytes("RGB", (1, 1), b"abc")).dpi is None
    im = Image.fromarray(RGB)
    im.info["dpi"] = (float("nan"), float("nan"))
    assert read_metadata(im).dpi is None
    im.info["dpi"] = (float("inf"), 300)
    assert read_metadata(im).dpi is None


def test_an_icc_profile_too_large_for_a_png_is_left_out_so_the_png_reads_back(tmp_path):
    info, notes = _written(tmp_path / "big.png", icc=ICC_5MB)
    assert "icc_profile" not in info and notes == [f"{tmp_path / 'big.png'}: left out the input's ICC profile "
                                                   "(5,000,020 bytes; PNG holds 1,048,576)"]
    assert np.array_equal(imageio.load_array(tmp_path / "big.png"), RGB)  # the PNG colorize itself reads
    for name in ("big.jpg", "big.tif", "big.webp"):  # these carry it whole
        info, notes = _written(tmp_path / name, icc=ICC_5MB)
        assert info["icc_profile"] == ICC_5MB and not notes


def _exif(size):
    exif = Image.Exif()
    exif[0x010E] = "x" * size  # an image description as long as a scanner's log
    exif[0x010F] = "ScanCo"
    return exif.tobytes()


def test_exif_over_a_jpeg_marker_is_left_out_and_the_jpeg_written(tmp_path):
    big = _exif(70_000)
    info, notes = _written(tmp_path / "out.jpg", exif=big)
    assert "exif" not in info and len(notes) == 1 and "EXIF (70,0" in notes[0] and "JPEG holds 65,533" in notes[0]
    info, notes = _written(tmp_path / "out.png", exif=big)  # a PNG holds it
    assert info["exif"] == big and not notes
    small = _exif(100)
    info, notes = _written(tmp_path / "small.jpg", exif=small, xmp=b"<x/>" * 20_000)
    assert info["exif"] == small and "xmp" not in info and "XMP (80,000 bytes; JPEG holds 65,504)" in notes[0]


def _photo(path, seed, **save):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(path, **save)
    return path


def test_predict_writes_a_photo_whose_resolution_no_format_holds_and_goes_on(tmp_path, model_args, capsys):
    folder = tmp_path / "in"
    _photo(folder / "a.png", 0)
    _photo(folder / "b_odd.tif", 1, dpi=(4294967295, 4294967295))  # a resolution of 4294967295/1 inch
    _photo(folder / "c.png", 2)
    assert main(["predict", str(folder), "-o", str(tmp_path / "out"), "--batch-size", "1"] + model_args) == 0
    captured = capsys.readouterr()
    assert "written 3, skipped 0, failed 0" in captured.out
    assert captured.err.count("left out the input's resolution") == 1 and "Traceback" not in captured.err
    for name in ("x.jpg", "x.tif"):
        target = tmp_path / name
        assert main(["predict", str(folder / "b_odd.tif"), "-o", str(target)] + model_args) == 0
        with Image.open(target) as im:
            assert im.size == (40, 30) and im.info.get("dpi") in (None, (1, 1), (72, 72))  # a default: left out
    cm = tmp_path / "cm.tif"  # the same in centimetres, to a 16-bit TIFF
    tifffile.imwrite(cm, np.zeros((30, 40, 3), np.uint16), photometric="rgb", resolution=(4294967295, 4294967295),
                     resolutionunit="CENTIMETER")
    assert main(["predict", str(cm), "-o", str(tmp_path / "cm16.tif"), "--bit-depth", "16"] + model_args) == 0
    assert "check that the folder is writable" not in capsys.readouterr().err
    assert tifffile.imread(tmp_path / "cm16.tif").shape == (30, 40, 3)


def test_predict_leaves_a_huge_icc_profile_out_of_a_png(tmp_path, model_args, capsys):
    photo = _photo(tmp_path / "scan.jpg", 0, icc_profile=ICC_5MB)
    assert main(["predict", str(photo), "-o", str(tmp_path / "out")] + model_args) == 0
    assert "left out the input's ICC profile" in capsys.readouterr().err
    assert imageio.load_array(tmp_path / "out" / "scan.png").shape == (30, 40, 3)  # colorize reads its own output
    assert main(["predict", str(tmp_path / "out" / "scan.png"), "-o", str(tmp_path / "again")] + model_args) == 0


@pytest.mark.parametrize("name", ["out.gif", "out.bmp", "OUT.JP2"])
def test_an_image_suffix_colorize_does_not_write_is_refused_in_one_line(tmp_path, model_args, capsys, name):
    photo = _photo(tmp_path / "p.png", 0)
    assert main(["predict", str(photo), "-o", str(tmp_path / name)] + model_args) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [f"colorize: error: -o {tmp_path / name}: colorize does not write "
                                f"{name[3:].lower()} images; end the name in .jpeg, .jpg, .png, .tif, .tiff, "
                                ".webp, or end it in / for a folder"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png"]  # no folder named out.gif


def test_a_trailing_slash_always_names_a_folder(tmp_path, model_args, capsys):
    photo = _photo(tmp_path / "p.png", 0)
    assert main(["predict", str(photo), "-o", f"{tmp_path / 'dir' / 'slash.jpg'}/"] + model_args) == 0
    assert (tmp_path / "dir" / "slash.jpg" / "p.png").is_file()  # a folder holding the PNG, not a JPEG file
    assert main(["predict", str(photo), "-o", str(tmp_path / "folder.v2")] + model_args) == 0  # not an image suffix
    assert (tmp_path / "folder.v2" / "p.png").is_file()

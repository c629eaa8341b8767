"""``colorize.save`` writes a result from Python as ``colorize predict`` writes it (issue 33.5): the format by the
suffix, the source's EXIF / ICC / XMP / DPI, 16 bits where the format and the source have them, never over a file."""
import numpy as np
import pytest
from PIL import Image, ImageCms

import colorize
from colorize.cli import main
from colorize.errors import InputError, OutputExistsError
from colorize.io import images as imageio
from colorize.io.png import encode_png

ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>')


@pytest.fixture()
def scan(tmp_path):
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = 6, "ScanCo"
    path = tmp_path / "scan.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (30, 40), dtype=np.uint8)).save(
        path, exif=exif.tobytes(), icc_profile=ICC, dpi=(600, 600), xmp=XMP, quality=95)
    return path


@pytest.fixture()
def tiny(tiny_weights):
    path, config, sha = tiny_weights
    return colorize.Colorizer.from_weights(path, config, sha), ["--weights", str(path), "--sha256", sha, "--config",
                                                                 str(config_path())]


def config_path():
    from conftest import REPO
    return REPO / "configs" / "smoke.yaml"


def _metadata(path):
    with Image.open(path) as im:
        exif = im.getexif()
        xmp = im.info.get("xmp") or (im.tag_v2.get(700) if im.format == "TIFF" else None)
        return (im.size, exif.get(0x0112), exif.get(0x010F), im.info.get("icc_profile"),
                [round(d) for d in im.info["dpi"]] if "dpi" in im.info else None, xmp)


@pytest.mark.parametrize("name", ["out.png", "out.jpg", "out.tif", "out.webp"])
def test_save_keeps_what_the_command_line_keeps(tmp_path, scan, tiny, name, capsys):
    colorizer, model_args = tiny
    rgb = colorizer.colorize(scan)
    assert colorize.save(rgb, tmp_path / f"api_{name}", like=scan) == tmp_path / f"api_{name}"
    assert main(["predict", str(scan), "-o", str(tmp_path / f"cli_{name}"), "--quiet"] + model_args) == 0
    api, cli = _metadata(tmp_path / f"api_{name}"), _metadata(tmp_path / f"cli_{name}")
    assert api == cli
    size, orientation, make, icc, dpi, xmp = api
    assert size == (30, 40) and orientation == 1 and make == "ScanCo" and icc == ICC
    assert dpi == ([600, 600] if not name.endswith(".webp") else None) and b'tiff:Orientation="1"' in xmp
    if name.endswith((".png", ".tif")):  # lossless: the very pixels
        assert np.array_equal(np.asarray(Image.open(tmp_path / f"api_{name}")),
                              np.asarray(Image.open(tmp_path / f"cli_{name}")))


def test_a_16_bit_source_is_written_at_16_bits_where_the_format_has_them(tmp_path, tiny):
    colorizer, _ = tiny
    ramp = np.linspace(5000, 60000, 64 * 48).reshape(48, 64).astype(np.uint16)
    source = tmp_path / "deep.png"
    source.write_bytes(encode_png(np.repeat(ramp[..., None], 3, axis=2)))
    rgb = colorizer.colorize(source)
    colorize.save(rgb, tmp_path / "deep_colour.png", like=source)
    deep = imageio.load_array(tmp_path / "deep_colour.png")
    assert deep.dtype == np.uint16 and len(np.unique(deep[..., 1])) > 1000  # more than 8 bits could hold
    colorize.save(rgb, tmp_path / "deep_colour.jpg", like=source)  # JPEG has 8 bits: written at 8
    assert imageio.load_array(tmp_path / "deep_colour.jpg").dtype == np.uint8
    colorize.save(rgb, tmp_path / "eight.png", like=source, bit_depth=8)
    assert imageio.load_array(tmp_path / "eight.png").dtype == np.uint8
    colorize.save(deep, tmp_path / "from16.webp")  # a uint16 array into an 8-bit format: rounded to 8 bits
    assert np.abs(np.asarray(Image.open(tmp_path / "from16.webp"), int) - deep // 257).max() <= 12
    with pytest.raises(InputError, match="JPEG holds 8 bits a sample"):
        colorize.save(rgb, tmp_path / "x.jpg", like=source, bit_depth=16)
    with pytest.raises(InputError, match="needs the source photo"):
        colorize.save(rgb, tmp_path / "x.png", bit_depth=16)


def test_save_never_overwrites_unless_asked_and_refuses_what_it_cannot_write(tmp_path, photos):
    rgb = photos["coffee"][:40, :50]
    target = tmp_path / "photo.png"
    colorize.save(rgb, target)
    assert target.read_bytes() == encode_png(rgb)  # without a source: the plain PNG predict writes
    with pytest.raises(OutputExistsError):
        colorize.save(rgb[::-1], target)
    assert target.read_bytes() == encode_png(rgb)
    colorize.save(Image.fromarray(rgb[::-1]), target, overwrite=True)  # a PIL image too
    assert target.read_bytes() == encode_png(rgb[::-1])
    with pytest.raises(InputError, match="unknown output format '.gif'"):
        colorize.save(rgb, tmp_path / "photo.gif")
    with pytest.raises(InputError, match="an .H, W, 3. array or a PIL image"):
        colorize.save([[1, 2]], tmp_path / "list.png")

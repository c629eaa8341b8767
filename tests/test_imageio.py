"""colorize.io.images: every way a user's image can be odd or broken, plus atomic saving and a decode fuzz test.

All fixtures are generated here with PIL/numpy into tmp_path; no binary files live in the repository.
"""
import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile

from colorize.errors import InputError, OutputExistsError, WriteError
from colorize.io import MAX_FILE_PIXELS, list_images, load_array, load_rgb, save_png, scan_inputs, to_float


def _png16(a):
    """Encode a uint16 (H, W, C) array as a 16-bit PNG by hand: Pillow cannot write 16-bit RGB(A)."""
    h, w, c = a.shape
    raw = b"".join(b"\x00" + a[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, {1: 0, 3: 2, 4: 6}[c], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _photo(size=32):
    import skimage.data
    return np.asarray(Image.fromarray(skimage.data.astronaut()).resize((size, size)))


def _encoded(fmt, size=32):
    buf = io.BytesIO()
    Image.fromarray(_photo(size)).save(buf, format=fmt)
    return buf.getvalue()


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _check_rgb(x, shape=None):
    assert x.dtype == np.float32 and x.ndim == 3 and x.shape[2] == 3
    assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1
    if shape is not None:
        assert x.shape == shape


# ---------------------------------------------------------------- paths that are not images

def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="nope.png does not exist"):
        load_rgb(tmp_path / "nope.png")


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        load_rgb(str(tmp_path))


def test_empty_file(tmp_path):
    with pytest.raises(InputError, match="empty file"):
        load_rgb(_write(tmp_path, "empty.jpg", b""))


def test_non_image_bytes(tmp_path):
    with pytest.raises(InputError, match="notes.png cannot be read as an image"):
        load_rgb(_write(tmp_path, "notes.png", b"hello, this is not a picture\n" * 20))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file(tmp_path, fmt):
    data = _encoded(fmt, 64)
    path = _write(tmp_path, f"cut.{fmt.lower()}", data[: len(data) // 2])
    with pytest.raises(InputError, match="cut"):
        load_rgb(path)


def _png_with_rows(rows, width=8, height=10, interlace=0):
    """An RGB PNG declaring ``height`` rows whose zlib stream ends cleanly after ``rows`` of them."""
    raw = b"".join(b"\x00" + bytes(3 * width) for _ in range(rows))  # filter "none", black pixels

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_png_whose_data_ends_cleanly_before_the_last_row_is_refused(tmp_path):
    # Pillow accepts such a file and fills the missing rows with black
    with pytest.raises(InputError, match=r"short.png is truncated: .* 4 of 10 rows"):
        load_rgb(_write(tmp_path, "short.png", _png_with_rows(4)))
    _check_rgb(load_rgb(_write(tmp_path, "whole.png", _png_with_rows(10))), (10, 8, 3))
    # interlaced (Adam7): seven passes of sub-images; a complete one is accepted, a short one refused
    adam7 = _write(tmp_path, "adam7.png", _png_with_rows(10, 8, 5, interlace=1))  # more data than needed
    _check_rgb(load_rgb(adam7), (5, 8, 3))
    with pytest.raises(InputError, match="truncated"):
        load_rgb(_write(tmp_path, "adam7_short.png", _png_with_rows(2, 8, 5, interlace=1)))


def test_unsupported_source_type():
    with pytest.raises(InputError, match="bytes"):
        load_rgb(b"\x89PNG")


# ---------------------------------------------------------------- modes and bit depths

def test_rgb_jpeg_and_png_match_source(tmp_path):
    photo = _photo()
    x = load_rgb(_write(tmp_path, "a.png", _encoded("PNG")))
    _check_rgb(x, (32, 32, 3))
    np.testing.assert_allclose(x, photo / 255, atol=1e-6)
    _check_rgb(load_rgb(_write(tmp_path, "a.jpg", _encoded("JPEG"))), (32, 32, 3))


def test_cmyk_jpeg(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(path)  # no cyan, full magenta + yellow: red
    x = load_rgb(path)
    _check_rgb(x, (8, 8, 3))
    assert x[..., 0].mean() > 0.8 and x[..., 1].mean() < 0.2 and x[..., 2].mean() < 0.2


def test_palette_png_with_transparency(tmp_path):
    im = Image.new("P", (4, 4), 0)
    im.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    im.putpixel((1, 1), 1)
    path = tmp_path / "pal.png"
    im.save(path, transparency=0)
    x = load_rgb(path)
    _check_rgb(x, (4, 4, 3))
    # alpha is dropped, not composited: the transparent index keeps its palette colour
    np.testing.assert_allclose(x[0, 0], np.array([10, 20, 30]) / 255, atol=1e-6)
    np.testing.assert_allclose(x[1, 1], np.array([200, 100, 50]) / 255, atol=1e-6)


def test_rgba_alpha_dropped(tmp_path):
    path = tmp_path / "rgba.png"
    Image.new("RGBA", (3, 2), (10, 20, 30, 0)).save(path)
    np.testing.assert_allclose(load_rgb(path), np.broadcast_to(np.array([10, 20, 30]) / 255, (2, 3, 3)),
                               atol=1e-6)


def test_la_alpha_dropped(tmp_path):
    path = tmp_path / "la.png"
    Image.new("LA", (3, 2), (100, 0)).save(path)
    np.testing.assert_allclose(load_rgb(path), np.full((2, 3, 3), 100 / 255), atol=1e-6)


def test_16bit_grey_png_scaled_not_clipped(tmp_path):
    path = tmp_path / "g16.png"
    Image.fromarray(np.array([[65535, 1000, 0]], np.uint16)).save(path)
    x = load_rgb(path)
    _check_rgb(x, (1, 3, 3))
    np.testing.assert_allclose(x[0, :, 0], [1.0, 1000 / 65535, 0.0], rtol=1e-6)
    assert (x == x[..., :1]).all()  # grey -> three equal channels


@pytest.mark.parametrize("channels", [3, 4])
def test_16bit_rgb_png_keeps_16_bits(tmp_path, channels):
    a = np.zeros((4, 5, channels), np.uint16)
    a[0, 0, :3] = 65535
    a[0, 1, :3] = 32768
    a[1, 1, :3] = (1000, 2000, 3000)
    a[2] = np.arange(5)[:, None] * 12345 + np.arange(channels) * 7  # rows with non-trivial PNG filtering input
    x = load_rgb(_write(tmp_path, "rgb16.png", _png16(a)))
    _check_rgb(x, (4, 5, 3))
    np.testing.assert_allclose(x * 65535, a[..., :3], atol=1e-2)


def test_16bit_rgb_png_falls_back_to_8_bits_if_pillow_changes(tmp_path, monkeypatch):
    a = np.array([[[65535, 32768, 1000]]], np.uint16)
    path = _write(tmp_path, "rgb16.png", _png16(a))
    real_open, calls = Image.open, []

    def open_once(*args, **kwargs):  # the second (low-byte) decode breaks as if Pillow's internals moved
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("internals changed")
        return real_open(*args, **kwargs)
    monkeypatch.setattr(Image, "open", open_once)
    np.testing.assert_allclose(load_rgb(path)[0, 0], np.array([255, 128, 3]) / 255, rtol=1e-6)
    assert len(calls) == 2


def test_exif_orientation_applied(tmp_path):
    im = Image.new("RGB", (40, 20), (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, 20, 20))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "rot.jpg"
    im.save(path, exif=exif)
    x = load_rgb(path)
    _check_rgb(x, (40, 20, 3))
    assert x[:15, :, 0].mean() > 0.8 and x[25:, :, 2].mean() > 0.8  # the left half is now on top


def test_float_mode_f(tmp_path):
    ok = Image.fromarray(np.array([[0.0, 0.25], [0.5, 1.0]], np.float32))
    np.testing.assert_allclose(load_rgb(ok)[..., 1], [[0.0, 0.25], [0.5, 1.0]])
    with pytest.raises(InputError, match="0..300"):
        load_rgb(Image.fromarray(np.array([[0.0, 300.0]], np.float32)))


def test_lab_pil_image_converted_properly():
    rgb = np.array([[[200, 30, 40], [30, 200, 60]]], np.uint8)  # a > 0 and a < 0
    to_lab = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB")
    x = load_rgb(ImageCms.applyTransform(Image.fromarray(rgb), to_lab), name="lab image")
    # LittleCMS's Lab is chromatically adapted to D50, scikit-image's is D65: a few Lab units apart
    np.testing.assert_allclose(x, rgb / 255, atol=0.15)
    assert np.argmax(x[0, 0]) == 0 and np.argmax(x[0, 1]) == 1


@pytest.mark.parametrize("mode", ["L", "1", "YCbCr", "HSV", "I"])
def test_other_pil_modes(mode):
    _check_rgb(load_rgb(Image.new(mode, (3, 2))), (2, 3, 3))


@pytest.mark.parametrize("w,h", [(1, 1), (2, 2), (1, 5000), (5000, 1)])
def test_tiny_and_thin_images(tmp_path, w, h):
    path = tmp_path / f"{w}x{h}.png"
    Image.new("RGB", (w, h), (1, 2, 3)).save(path)
    _check_rgb(load_rgb(path), (h, w, 3))


# ---------------------------------------------------------------- decompression bombs

def test_bomb_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("L", (3000, 3000)).save(path)
    loads = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(1) or real_load(self))
    with pytest.raises(InputError, match="3000x3000 = 9,000,000 pixels, more than max_pixels=1,000,000"):
        load_rgb(path, max_pixels=1_000_000)
    assert loads == []  # refused from the header alone
    with Image.open(path) as im, pytest.raises(InputError, match="max_pixels"):
        load_rgb(im, max_pixels=1_000_000)
    assert loads == []
    assert MAX_FILE_PIXELS == 90_000_000


def test_pillow_limits_do_not_escape(tmp_path, monkeypatch):
    path = tmp_path / "img.png"
    Image.new("L", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4000)  # Pillow warns above 4000, refuses above 8000
    with pytest.raises(InputError, match="MAX_IMAGE_PIXELS"):
        load_rgb(path, max_pixels=None)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6000)  # 10000 px only draws Pillow's warning
    _check_rgb(load_rgb(path), (100, 100, 3))


# ---------------------------------------------------------------- arrays

@pytest.mark.parametrize("a, expected", [
    (np.full((2, 3), 255, np.uint8), 1.0),
    (np.full((2, 3, 1), 51, np.uint8), 0.2),
    (np.full((2, 3, 3), 65535, np.uint16), 1.0),
    (np.full((2, 3), 13107, ">u2"), 0.2),
    (np.full((2, 3, 4), 0.5, np.float64), 0.5),
    (np.full((2, 3, 3), 0.25, np.float16), 0.25),
    (np.full((2, 3, 3), 1 + 1e-7, np.float64), 1.0),  # rounding error is tolerated and clipped
])
def test_arrays_accepted(a, expected):
    x = load_rgb(a)
    _check_rgb(x, (2, 3, 3))
    np.testing.assert_allclose(x, expected, rtol=1e-3)


@pytest.mark.parametrize("a, message", [
    (np.zeros(5, np.uint8), r"shape \(5,\)"),
    (np.zeros((2, 2, 3, 1), np.uint8), "shape"),
    (np.zeros((2, 2, 2), np.uint8), "shape"),
    (np.zeros((2, 2, 5), np.uint8), "shape"),
    (np.zeros((0, 4, 3), np.uint8), "empty"),
    (np.zeros((4, 0), np.float32), "empty"),
    (np.zeros((2, 2), bool), "bool"),
    (np.zeros((2, 2), np.int64), "int64"),
    (np.array([[0.5, np.nan]]), "NaN"),
    (np.array([[0.5, np.inf]], np.float32), "NaN or infinity"),
    (np.array([[-0.5, 255.0]]), "-0.5..255"),
])
def test_arrays_refused(a, message):
    with pytest.raises(InputError, match=message):
        load_rgb(a)


def test_load_array_keeps_the_samples_and_to_float_gives_load_rgb(tmp_path):
    rgb = _photo(16)
    grey16 = (np.arange(16 * 16, dtype=np.uint16).reshape(16, 16) * 251)
    for source, dtype in [(rgb, np.uint8), (rgb[..., :1], np.uint8), (grey16, np.uint16),
                          (rgb / 255.0, np.float32), (_write(tmp_path, "a.png", _encoded("PNG", 16)), np.uint8),
                          (_write(tmp_path, "g16.png", _png16(grey16[..., None])), np.uint16)]:
        a = load_array(source)
        assert a.dtype == dtype and a.shape == (16, 16, 3)
        np.testing.assert_array_equal(to_float(a), load_rgb(source))
        np.testing.assert_array_equal(np.concatenate([to_float(a[:5]), to_float(a[5:])]), load_rgb(source))
    assert np.shares_memory(load_array(rgb), rgb)  # a valid uint8 photo is not copied


# ---------------------------------------------------------------- saving

def test_save_png_atomic_and_no_clobber(tmp_path):
    rgb = _photo(16)
    out = tmp_path / "sub" / "dir" / "out.png"
    assert save_png(rgb, out) == out
    np.testing.assert_array_equal(np.asarray(Image.open(out)), rgb)
    assert os.listdir(out.parent) == ["out.png"]  # no temp file left behind
    with pytest.raises(OutputExistsError, match="already exists.*overwrite"):
        save_png(rgb[::-1], out)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), rgb)
    save_png(rgb[::-1].copy(), out, overwrite=True)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), rgb[::-1])
    assert os.listdir(out.parent) == ["out.png"]


def test_save_png_failure_mid_write_leaves_nothing(tmp_path, monkeypatch):
    def disk_full(fd):  # the encoded bytes are in the temporary file; the flush to disk fails
        raise OSError("No space left on device")
    monkeypatch.setattr(os, "fsync", disk_full)
    out = tmp_path / "out.png"
    with pytest.raises(WriteError, match="cannot write .*out.png.*No space left"):
        save_png(_photo(8), out)
    assert os.listdir(tmp_path) == []
    out.write_bytes(b"old")  # an existing output survives a failed overwrite untouched
    with pytest.raises(WriteError):
        save_png(_photo(8), out, overwrite=True)
    assert out.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.png"]


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32),
                                 np.zeros((0, 4, 3), np.uint8), [[0, 0, 0]]])
def test_save_png_refuses_bad_arrays(tmp_path, bad):
    with pytest.raises(InputError, match="uint8"):
        save_png(bad, tmp_path / "x.png")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- listing

def test_list_images(tmp_path):
    for rel in ["b.JPG", "a.png", "notes.txt", "sub/c.webp", "sub/deep/d.TIFF", "sub/e.gif", ".hidden.png"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    names = lambda paths: [p.relative_to(tmp_path).as_posix() for p in paths]  # noqa: E731
    assert names(list_images([tmp_path])) == ["a.png", "b.JPG", "sub/c.webp", "sub/deep/d.TIFF", "sub/e.gif"]
    assert names(list_images(tmp_path, recursive=False)) == ["a.png", "b.JPG"]
    # explicitly named files are kept whatever their suffix, in the order given, without duplicates
    assert names(list_images([tmp_path / "notes.txt", tmp_path / "sub", tmp_path / "sub/e.gif"])) == [
        "notes.txt", "sub/c.webp", "sub/deep/d.TIFF", "sub/e.gif"]
    with pytest.raises(InputError, match="missing does not exist"):
        list_images([tmp_path / "a.png", tmp_path / "missing"])


def test_scan_inputs_says_what_it_could_not_search(tmp_path):
    for rel in ["a.png", "out/old.png", "sub/b.jpg", "elsewhere/c.png"]:
        (tmp_path / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / rel).write_bytes(b"x")
    root = tmp_path / "in"
    (root / "sub" / "back").symlink_to(root)                 # a loop
    (root / "sub" / "again").symlink_to(root / "elsewhere")  # a second way into a folder searched anyway
    (root / "gone.png").symlink_to(tmp_path / "nothing.png")
    (root / "gone.txt").symlink_to(tmp_path / "nothing.txt")  # not an image: not a problem
    scan = scan_inputs([root, root / "a.png"], exclude=root / "out")
    assert [f.relative_to(root).as_posix() for f in scan.files] == ["a.png", "elsewhere/c.png", "sub/b.jpg"]
    assert scan.roots == [root] * 3 and scan.left_out == [root / "out"]
    problems = sorted((p.relative_to(root).as_posix(), failed) for p, _, failed in scan.problems)
    assert problems == [("gone.png", True), ("sub/again", False), ("sub/back", False)]
    assert scan_inputs([root], exclude=root).files == [] and scan_inputs([root], exclude=root).left_out == [root]


# ---------------------------------------------------------------- fuzz

def test_fuzz_load_rgb_only_returns_images_or_raises_input_error(tmp_path):
    rng = np.random.default_rng(1234)
    magics = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM", b"II*\x00", b"RIFF\x00\x00\x00\x00WEBP"]
    cases = []
    for i in range(300):
        body = rng.integers(0, 256, int(rng.integers(0, 2001)), dtype=np.uint8).tobytes()
        cases.append(magics[i % len(magics)] + body)
    real = [_encoded(fmt) for fmt in ("PNG", "JPEG", "WEBP", "BMP", "GIF")]
    for i in range(100):
        data = bytearray(real[i % len(real)])
        for pos in rng.integers(0, len(data), int(rng.integers(1, 8))):
            data[pos] = int(rng.integers(0, 256))
        if rng.random() < 0.4:
            data = data[: int(rng.integers(0, len(data)))]
        cases.append(bytes(data))
    outcomes = {"image": 0, "InputError": 0}
    for i, data in enumerate(cases):
        path = _write(tmp_path, f"f{i}.img", data)
        try:
            x = load_rgb(path, max_pixels=4_000_000)  # random headers may claim huge sizes: keep memory small
        except InputError as err:
            assert str(path) in str(err)
            outcomes["InputError"] += 1
        else:
            _check_rgb(x)
            outcomes["image"] += 1
    assert outcomes["InputError"] > 250 and outcomes["image"] > 10  # both paths were exercised


def _header_only_png(width, height):
    def chunk(tag, payload):
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_a_png_declaring_100000_squared_gets_the_max_pixels_advice_of_any_large_photo(tmp_path):
    """Issue 26.16: a 69-byte PNG declaring 100000x100000 hit Pillow's own bomb check first, whose advice ("raise
    PIL.Image.MAX_IMAGE_PIXELS") a command-line user cannot follow; a 120 Mpx photo gets "a larger max_pixels"."""
    bomb = _write(tmp_path, "bomb.png", _header_only_png(100000, 100000))
    large = _write(tmp_path, "large.png", _header_only_png(12000, 10000))
    with pytest.raises(InputError) as large_error:
        load_array(large)
    with pytest.raises(InputError) as bomb_error:
        load_array(bomb)
    assert "MAX_IMAGE_PIXELS" not in str(bomb_error.value)
    assert "10,000,000,000 pixels" in str(bomb_error.value) and "bomb.png" in str(bomb_error.value)
    advice = str(large_error.value).split("pixels, ", 1)[1]
    assert advice.startswith("more than max_pixels") and str(bomb_error.value).endswith(advice)

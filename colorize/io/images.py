"""Reading images from users: the one place that decodes image files.

``load_rgb`` turns a path, a PIL image or a numpy array into float32 RGB (H, W, 3) in [0, 1], whatever the
file's mode, bit depth or EXIF orientation, and refuses anything it cannot read faithfully with an
``InputError`` that names the input. ``load_array`` does the same checks but keeps the decoded samples
(uint8, uint16 or float32 RGB: 3 to 6 bytes a pixel instead of 12), and ``to_float`` converts them, also a strip
at a time. Writing outputs: ``colorize.io.outputs``; finding the inputs: ``colorize.io.scan``.

Choices: 16-bit PNGs keep their 16 bits (grey natively; RGB/RGBA by decoding the file twice, once for the
high and once for the low byte of each sample, since Pillow only offers 8-bit RGB); 'F' (32-bit float)
images are accepted only when already in [0, 1]; alpha is dropped, never composited; multi-frame files
give their first frame. Pillow's own hard limit (2 x ``PIL.Image.MAX_IMAGE_PIXELS``) still applies above
``max_pixels``.
"""
import os
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from colorize.errors import InputError
from colorize.io import png_check

MAX_FILE_PIXELS = 90_000_000
_INT16_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_TOL = 1e-6  # float inputs that went through arithmetic may overshoot [0, 1] by rounding error only


def load_rgb(source, name=None, max_pixels=MAX_FILE_PIXELS):
    """A path, PIL image or numpy array -> float32 RGB (H, W, 3) in [0, 1]; ``InputError`` if unusable."""
    return to_float(load_array(source, name, max_pixels))


def load_array(source, name=None, max_pixels=MAX_FILE_PIXELS):
    """As ``load_rgb``, but the samples stay as decoded: uint8 or uint16 (full range) or float32 (in [0, 1]) RGB
    (H, W, 3). A valid (H, W, 3) uint8 or uint16 array passed in is returned as it is, not copied."""
    if isinstance(source, np.ndarray):
        return _from_array(source, name or "array")
    if isinstance(source, Image.Image):
        name = name or "PIL image"
        _check_size(source, name, max_pixels)
        return _decode(lambda: source, name)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = name or str(path)
        try:
            exists, is_dir = path.exists(), path.is_dir()
            empty = exists and not is_dir and path.stat().st_size == 0
        except (OSError, ValueError) as err:  # name too long, NUL byte, no permission on a parent folder
            raise InputError(f"{name} cannot be accessed ({err}); check the path") from err
        if not exists:
            raise InputError(f"{name} does not exist; check the path")
        if is_dir:
            raise InputError(f"{name} is a directory, not an image; pass image files (the CLI expands folders)")
        if empty:
            raise InputError(f"{name} is an empty file (0 bytes); re-export or re-download it")
        return _decode(lambda: _open(path, name, max_pixels), name, path)
    raise InputError(f"{name or 'input'} is a {type(source).__name__}; pass a file path, a PIL image or a "
                     "numpy array")


def to_float(rgb):
    """An image from ``load_array`` (or a strip of rows of one) -> float32 RGB in [0, 1]: uint8 / 255,
    uint16 / 65535; float32 is returned as it is (other floats cast)."""
    if rgb.dtype.kind == "f":
        return rgb.astype(np.float32, copy=False)
    out = rgb.astype(np.float32)
    out /= np.float32(255 if rgb.dtype.itemsize == 1 else 65535)
    return out


def pixels_of(path):
    """Width x height from an image file's header (nothing decoded); None if it cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                return im.size[0] * im.size[1]
    except Exception:  # the decoder reports it properly later
        return None


def _check_size(im, name, max_pixels):
    w, h = im.size
    if w == 0 or h == 0:
        raise InputError(f"{name} is empty ({w}x{h} pixels)")
    if max_pixels is not None and w * h > max_pixels:
        raise InputError(_too_many_pixels(name, f"{w}x{h} = {w * h:,}", max_pixels))


def _too_many_pixels(name, size, max_pixels):
    return (f"{name} is {size} pixels, more than max_pixels={max_pixels:,} (a guard against decompression bombs); "
            "resize it, or pass a larger max_pixels if you trust it")


def _bomb_error(name, err, max_pixels):
    """Pillow's own refusal (over twice ``PIL.Image.MAX_IMAGE_PIXELS``, raised as it reads the header): for a
    photo also over ``max_pixels``, the advice every photo over it gets (a user cannot raise Pillow's limit)."""
    found = re.search(r"\((\d+) pixels\)", str(err))
    pixels = int(found.group(1)) if found else None
    if pixels is not None and max_pixels is not None and pixels > max_pixels:
        return InputError(_too_many_pixels(name, f"{pixels:,}", max_pixels))
    return InputError(f"{name} is {f'{pixels:,} pixels' if pixels else 'too large'}, more than Pillow can "
                      f"decode safely (twice PIL.Image.MAX_IMAGE_PIXELS); resize it first")


def _open(path, name, max_pixels):
    # Image.open reads only the header, so the size check runs before a single pixel is decompressed.
    # Pillow's warnings (its bomb threshold, just under ours; damaged EXIF) would fire on files we accept:
    # silenced so that they neither spam users nor, under -W error, reject a decodable image.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            im = Image.open(path)
        except Image.DecompressionBombError as err:  # 100000x100000 in a 65-byte PNG: refused by its header
            raise _bomb_error(name, err, max_pixels) from None
    try:
        _check_size(im, name, max_pixels)
    except InputError:
        im.close()
        raise
    return im


def _decode(get_image, name, path=None):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # see _open; real decoding problems raise, they do not warn
            im = get_image()
            try:
                tile = im.tile[0] if path is not None and im.format == "PNG" and len(im.tile) == 1 else None
                im.load()  # full decode now: truncated files fail here rather than later as grey padding
                if path is not None and im.format == "PNG":
                    png_check.check_complete(path, name)
                if getattr(tile, "args", None) in ("RGB;16B", "RGBA;16B"):
                    return _rgb16(path, im, tile)
                return _to_rgb(_orient(im), name)
            finally:
                if path is not None:
                    im.close()
    except InputError:
        raise
    except Image.DecompressionBombError as err:
        raise InputError(f"{name}: {err}; raise PIL.Image.MAX_IMAGE_PIXELS as well as max_pixels if you "
                         "trust it") from err
    except MemoryError as err:
        raise InputError(f"{name} is too large to decode in the memory available; resize it first") from err
    except Exception as err:  # Pillow raises OSError, SyntaxError, ValueError, struct.error... on bad bytes
        raise InputError(f"{name} cannot be read as an image ({type(err).__name__}: {err}); check that it is "
                         "a complete, uncorrupted JPEG/PNG/WebP/BMP/TIFF/GIF file") from err


def _orient(im):
    try:
        return ImageOps.exif_transpose(im)
    except Exception:  # damaged EXIF metadata should not cost the user pixels that decoded fine
        return im


def _rgb16(path, hi, tile):
    # Pillow's "RGB;16L" unpacker keeps the second byte of each sample, which in a big-endian PNG is the
    # low byte; both unpackers read 48/64-bit pixels, so PNG filtering is undone identically.
    # This leans on Pillow internals: should they change, fall back to the 8 high bits (still in scale).
    hi = np.asarray(_orient(hi).convert("RGB"))
    try:
        with Image.open(path) as lo:
            lo.tile = [tile._replace(args=tile.args.replace("16B", "16L"))]
            lo.load()
            return (hi.astype(np.uint16) << 8) | np.asarray(_orient(lo).convert("RGB"))
    except Exception:
        return hi


def _to_rgb(im, name):
    mode = im.mode
    if mode in _INT16_MODES:
        return _from_array(np.asarray(im), name, int_max=65535)
    if mode == "F":
        return _from_array(np.asarray(im, np.float32), name)
    if mode == "LAB":  # Pillow's LAB -> RGB conversion just relabels channels; do the colour maths
        from skimage.color import lab2rgb
        raw = np.asarray(im)  # L scaled to 0..255; a and b stored as two's-complement int8
        lab = np.dstack([raw[..., 0] * np.float32(100 / 255), raw[..., 1:].astype(np.uint8).view(np.int8)])
        return np.clip(lab2rgb(lab), 0, 1).astype(np.float32)
    if mode in ("1", "L", "LA", "La"):
        im = im.convert("L") if mode != "La" else im.convert("LA").convert("L")
    elif mode in ("P", "PA"):
        im = im.convert("RGBA").convert("RGB")  # transparency lives in the palette: resolve it, then drop it
    elif mode != "RGB":
        im = im.convert("RGB")
    return _from_array(np.asarray(im), name)


def _from_array(a, name, int_max=None):
    if a.ndim == 3 and a.shape[2] in (1, 3, 4):
        a = a[..., :3] if a.shape[2] != 1 else a[..., 0]
    elif a.ndim != 2:
        raise InputError(f"{name} has shape {a.shape}; pass (H, W) greyscale or (H, W, 1/3/4) colour")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {a.shape})")
    kind = a.dtype.kind
    if kind == "u" and a.dtype.itemsize <= 2:
        out = a
    elif int_max and kind in "iu":
        if a.min() < 0 or a.max() > int_max:
            raise InputError(f"{name} holds values {a.min()}..{a.max()}, outside 0..{int_max}")
        out = a.astype(np.uint16)
    elif kind == "f":
        out = a.astype(np.float32)  # a copy: clipped in place below
        if not np.isfinite(out).all():
            raise InputError(f"{name} contains NaN or infinity; pass finite values in [0, 1]")
        lo, hi = float(out.min()), float(out.max())
        if lo < -_TOL or hi > 1 + _TOL:
            raise InputError(f"{name} holds float values {lo:g}..{hi:g}; float images must be in [0, 1] "
                             "(divide by 255 for 8-bit data)")
        np.clip(out, 0, 1, out=out)
    elif kind == "b":
        raise InputError(f"{name} is a bool array; convert it to uint8 (e.g. mask.astype(np.uint8) * 255)")
    else:
        raise InputError(f"{name} has dtype {a.dtype}; pass uint8, uint16, or float with values in [0, 1]")
    return np.repeat(out[..., None], 3, axis=2) if out.ndim == 2 else np.ascontiguousarray(out)

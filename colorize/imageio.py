"""Reading images from users and writing outputs: the one place that touches image files.

``load_rgb`` turns a path, a PIL image or a numpy array into float32 RGB (H, W, 3) in [0, 1], whatever the
file's mode, bit depth or EXIF orientation, and refuses anything it cannot read faithfully with an
``InputError`` that names the input. ``save_png`` writes atomically; ``list_images`` expands CLI arguments.

Choices: 16-bit PNGs keep their 16 bits (grey natively; RGB/RGBA by decoding the file twice, once for the
high and once for the low byte of each sample, since Pillow only offers 8-bit RGB); 'F' (32-bit float)
images are accepted only when already in [0, 1]; alpha is dropped, never composited; multi-frame files
give their first frame. Pillow's own hard limit (2 x ``PIL.Image.MAX_IMAGE_PIXELS``) still applies above
``max_pixels``.
"""
import os
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .errors import InputError
from .png import encode_png

DEFAULT_MAX_PIXELS = 90_000_000
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
_INT16_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_TOL = 1e-6  # float inputs that went through arithmetic may overshoot [0, 1] by rounding error only


def load_rgb(source, name=None, max_pixels=DEFAULT_MAX_PIXELS):
    """A path, PIL image or numpy array -> float32 RGB (H, W, 3) in [0, 1]; ``InputError`` if unusable."""
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


def load_image_batch(sources, names=None, **kw):
    """Several inputs -> list of float32 (H, W, 3) arrays; ``kw`` goes to ``load_rgb``."""
    if isinstance(sources, (str, os.PathLike, Image.Image)):
        raise InputError(f"{sources} is a single image; pass a list of images to load_image_batch")
    if isinstance(sources, np.ndarray) and sources.ndim != 4:
        raise InputError(f"batch array has shape {sources.shape}; pass a list of images or an (N, H, W, C) array")
    sources = list(sources)
    if not sources:
        raise InputError("empty batch: no images were given; pass at least one path, PIL image or array")
    if names is None:
        names = [str(s) if isinstance(s, (str, os.PathLike)) else f"image {i + 1} of {len(sources)} in the batch"
                 for i, s in enumerate(sources)]
    elif len(names) != len(sources):
        raise InputError(f"{len(names)} names for {len(sources)} images; pass one name per image")
    return [load_rgb(s, name=n, **kw) for s, n in zip(sources, names)]


def _check_size(im, name, max_pixels):
    w, h = im.size
    if w == 0 or h == 0:
        raise InputError(f"{name} is empty ({w}x{h} pixels)")
    if max_pixels is not None and w * h > max_pixels:
        raise InputError(f"{name} is {w}x{h} = {w * h:,} pixels, more than max_pixels={max_pixels:,} (a guard "
                         "against decompression bombs); resize it, or pass a larger max_pixels if you trust it")


def _open(path, name, max_pixels):
    # Image.open reads only the header, so the size check runs before a single pixel is decompressed.
    # Pillow's warnings (its bomb threshold, just under ours; damaged EXIF) would fire on files we accept:
    # silenced so that they neither spam users nor, under -W error, reject a decodable image.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        im = Image.open(path)
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
    hi = np.asarray(_orient(hi).convert("RGB"), np.float32)
    try:
        with Image.open(path) as lo:
            lo.tile = [tile._replace(args=tile.args.replace("16B", "16L"))]
            lo.load()
            return (hi * 256 + np.asarray(_orient(lo).convert("RGB"), np.float32)) / np.float32(65535)
    except Exception:
        return hi / np.float32(255)


def _to_rgb(im, name):
    mode = im.mode
    if mode in _INT16_MODES:
        return _from_array(np.asarray(im).astype(np.int64), name, int_max=65535)
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
    if (kind == "u" and a.dtype.itemsize <= 2) or (int_max and kind == "i"):
        top = int_max or np.iinfo(a.dtype).max
        if kind == "i" and (a.min() < 0 or a.max() > top):
            raise InputError(f"{name} holds values {a.min()}..{a.max()}, outside 0..{top}")
        out = a.astype(np.float32) / np.float32(top)
    elif kind == "f":
        out = a.astype(np.float32)
        if not np.isfinite(out).all():
            raise InputError(f"{name} contains NaN or infinity; pass finite values in [0, 1]")
        lo, hi = float(out.min()), float(out.max())
        if lo < -_TOL or hi > 1 + _TOL:
            raise InputError(f"{name} holds float values {lo:g}..{hi:g}; float images must be in [0, 1] "
                             "(divide by 255 for 8-bit data)")
        out = np.clip(out, 0, 1)
    elif kind == "b":
        raise InputError(f"{name} is a bool array; convert it to uint8 (e.g. mask.astype(np.uint8) * 255)")
    else:
        raise InputError(f"{name} has dtype {a.dtype}; pass uint8, uint16, or float with values in [0, 1]")
    return np.repeat(out[..., None], 3, axis=2) if out.ndim == 2 else np.ascontiguousarray(out)


def save_png(rgb_uint8, path, overwrite=False):
    """Write (H, W, 3) uint8 to ``path`` as PNG, atomically: readers see the old file or the whole new one.

    Encoded by ``colorize.png`` (lossless; about 2x faster than Pillow's fastest setting, files 10-20% larger),
    since encoding would otherwise be the slowest step of colorizing a photo.
    """
    path = Path(path)
    a = rgb_uint8
    if not (isinstance(a, np.ndarray) and a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3 and a.size):
        shape = getattr(a, "shape", None)
        raise InputError(f"image for {path} must be a non-empty (H, W, 3) uint8 array, got {type(a).__name__} "
                         f"{getattr(a, 'dtype', '')} {shape}")
    if path.is_dir():
        raise InputError(f"{path} is a directory; pass a file name ending in .png")
    if path.exists() and not overwrite:
        raise InputError(f"{path} already exists; pass overwrite=True (--overwrite on the command line)")
    # Temp file in the same directory so os.replace is a rename on one filesystem, hence atomic.
    # pid + thread id: the CLI saves from a thread pool, and two runs may share an output folder.
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(encode_png(a))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if not isinstance(err, Exception):  # Ctrl-C: clean up, but let it stop the program
            raise
        raise InputError(f"cannot write {path} ({type(err).__name__}: {err}); check the folder is "
                         "writable and the disk is not full") from err
    return path


def list_images(paths, recursive=True):
    """CLI arguments -> image files: folders expand to their images (sorted), named files are kept as given."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found = []
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(f"{p} does not exist; check the path")
        if p.is_dir():
            files = sorted(f for f in (p.rglob("*") if recursive else p.iterdir())
                           # dot files include macOS "._x.jpg" resource forks and our own temp files
                           if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith("."))
        else:
            files = [p]
        found += files
    return list(dict.fromkeys(found))  # a file named twice (or inside a named folder) is listed once

"""Outputs in the format their name asks for (PNG, JPEG, WebP, TIFF; 16 bits a sample in PNG and TIFF), with the
input's metadata carried over where the format can hold it (EXIF with the orientation reset, ICC profile, XMP,
DPI): ``save_image``, ``read_metadata``; ``save_png``, the plain PNG of a uint8 photo. PNGs go through
``colorize.io.png``; every file is written atomically (``colorize.io.atomic``)."""
import dataclasses
import math
import os
import re
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from colorize.errors import InputError
from colorize.io import atomic
from colorize.io.png import png_pieces

OUTPUT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}
DEEP_FORMATS = ("PNG", "TIFF")  # those that hold 16 bits a sample
_ORIENTATION = 0x0112
_XMP_ORIENTATION = re.compile(rb'(tiff:Orientation(?:="|>))[1-8]')
# What each format holds of the metadata, from the formats' specs and what Pillow reads back: a JPEG marker carries
# 65,533 bytes (EXIF with its "Exif" header; XMP after a 29-byte name) and an ICC profile spans at most 255 markers
# of 65,519; Pillow reads a PNG's compressed chunks up to 1 MiB (PngImagePlugin.MAX_TEXT_CHUNK) and refuses the file
# beyond. Resolutions: PNG's pHYs holds whole dots per metre in 32 bits, JFIF whole dots per inch in 16, TIFF a
# ratio of 32-bit integers, which libtiff fills from a float32 (whole numbers exact up to 2**24).
_JPEG_MARKER = 65_533
_LIMITS = {  # format: (EXIF, ICC, XMP, lowest DPI, highest DPI) in bytes and dots per inch
    "PNG": (None, 1 << 20, 1 << 20, 0.0127, 0xFFFF_FFFF * 0.0254),
    "JPEG": (_JPEG_MARKER, 255 * (_JPEG_MARKER - 14), _JPEG_MARKER - 29, 1, 65_535),
    "WEBP": (None, None, None, None, None),
    "TIFF": (None, None, None, 1 / 65_536, 1 << 24),
}


_NAMES = {"exif": "EXIF", "icc": "ICC profile", "xmp": "XMP"}


def save_png(rgb_uint8, path, overwrite=False):
    """Write (H, W, 3) uint8 to ``path`` as PNG, atomically and, without ``overwrite``, never replacing a file
    (not even one another process finishes meanwhile: ``colorize.OutputExistsError``). See ``colorize.io.atomic``.

    Encoded by ``colorize.io.png`` (lossless, faster than Pillow's fastest setting for slightly larger files; see
    docs/benchmarks.md), since encoding would otherwise be the slowest step of colorizing a photo.
    """
    path = Path(path)
    a = rgb_uint8
    if not (isinstance(a, np.ndarray) and a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3 and a.size):
        shape = getattr(a, "shape", None)
        raise InputError(f"image for {path} must be a non-empty (H, W, 3) uint8 array, got {type(a).__name__} "
                         f"{getattr(a, 'dtype', '')} {shape}")
    if path.is_dir():
        raise InputError(f"{path} is a directory; pass a file name ending in .png")
    # No fsync of the folder: a photo's output is cheap to redo, and a journal commit per file is not.
    return atomic.write_bytes(path, png_pieces(a), overwrite, sync_folder=False)


@dataclasses.dataclass(frozen=True)
class Metadata:
    """What an output keeps of its input: EXIF (orientation reset: the pixels are already upright), an RGB ICC
    profile (a grey one does not describe the colour output, which is then sRGB as untagged files are), XMP (its
    orientation reset too) and the resolution in dots per inch (an archive scan's)."""
    exif: bytes = None
    icc: bytes = None
    xmp: bytes = None
    dpi: tuple = None

    def __bool__(self):
        return any(v is not None for v in (self.exif, self.icc, self.xmp, self.dpi))

    def fitted(self, fmt):
        """``(metadata, left_out)``: what ``fmt`` (``PNG``, ``JPEG``, ``WEBP``, ``TIFF``) can hold and read back,
        and the names of the pieces left out (``"EXIF (70,000 bytes)"``...)."""
        exif_max, icc_max, xmp_max, dpi_min, dpi_max = _LIMITS[fmt]
        kept, left_out = {}, []
        for name, value, most in (("exif", self.exif, exif_max), ("icc", self.icc, icc_max),
                                  ("xmp", self.xmp, xmp_max)):
            if value is not None and most is not None and len(value) > most:
                left_out.append(f"{_NAMES[name]} ({len(value):,} bytes; {fmt} holds {most:,})")
            else:
                kept[name] = value
        dpi = self.dpi
        if dpi is not None and dpi_min is not None and not all(dpi_min <= d <= dpi_max for d in dpi):
            left_out.append(f"resolution ({' x '.join(f'{d:g}' for d in dpi)} dpi; {fmt} holds {dpi_min:g} to "
                            f"{dpi_max:,.0f})")
            if kept.get("exif"):  # where the EXIF says it too (a TIFF's tags), readers would take it from there
                kept["exif"] = _without_resolution(kept["exif"])
        else:
            kept["dpi"] = dpi
        return Metadata(**kept), left_out

    def png_chunks(self):
        """As PNG chunks: ``[(tag, payload)]`` (eXIf, iCCP, pHYs, iTXt XML:com.adobe.xmp)."""
        chunks = []
        if self.icc:
            chunks.append((b"iCCP", b"ICC Profile\0\0" + zlib.compress(self.icc)))
        if self.exif:
            chunks.append((b"eXIf", self.exif[6:] if self.exif.startswith(b"Exif\0\0") else self.exif))
        if self.dpi:
            chunks.append((b"pHYs", struct.pack(">IIB", *(round(d / 0.0254) for d in self.dpi), 1)))
        if self.xmp:
            chunks.append((b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + self.xmp))
        return chunks


def read_metadata(source):
    """The ``Metadata`` of an image file (or PIL image); empty for arrays and files without any. Reads the header
    only; damaged metadata is left out, never an error."""
    if isinstance(source, Image.Image):
        return _metadata_of(source)
    if not isinstance(source, (str, os.PathLike)):
        return Metadata()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(source) as im:
                return _metadata_of(im)
    except Exception:  # the decoder reports unreadable files; metadata is a bonus
        return Metadata()


def _metadata_of(im):
    info, exif, icc, xmp, dpi = im.info, None, None, None, None
    try:
        found = im.getexif()
        if len(found):
            if _ORIENTATION in found:
                found[_ORIENTATION] = 1
            exif = found.tobytes()
    except Exception:
        exif = None
    profile = info.get("icc_profile")
    if isinstance(profile, bytes) and len(profile) >= 20 and profile[16:20] == b"RGB ":
        icc = profile
    found = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if isinstance(found, str):
        found = found.encode("utf-8")
    if isinstance(found, bytes) and found:
        xmp = _XMP_ORIENTATION.sub(rb"\g<1>1", found)
    resolution = info.get("dpi")
    try:
        if resolution and all(math.isfinite(float(d)) and float(d) > 0 for d in resolution[:2]):
            dpi = tuple(float(d) for d in resolution[:2])
    except (TypeError, ValueError):
        dpi = None
    return Metadata(exif, icc, xmp, dpi)


def output_format(path):
    """The format an output path asks for by its suffix (``PNG``, ``JPEG``, ``WEBP``, ``TIFF``); None if none."""
    return OUTPUT_FORMATS.get(Path(path).suffix.lower())


def output_target(text):
    """What an output argument (``-o TEXT``) names: ``(path, format)``, the format None for a folder. A trailing
    slash, an existing folder or a name without an image suffix is a folder; a name ending in an image suffix that
    no output format writes (``.gif``, ``.bmp``) is refused (``InputError``), never made a folder of that name."""
    text = os.fspath(text)
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.is_dir():
        return path, None
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS and suffix in Image.registered_extensions():
        raise InputError(f"-o {text}: colorize does not write {suffix} images; end the name in "
                         f"{', '.join(sorted(OUTPUT_FORMATS))}, or end it in / for a folder")
    return path, OUTPUT_FORMATS.get(suffix)


def save_image(rgb, path, overwrite=False, quality=95, metadata=None, warn=None):
    """Write (H, W, 3) uint8 (or uint16, for PNG and TIFF) to ``path`` atomically, in the format of its suffix
    (PNG, JPEG, WebP, TIFF), with ``metadata`` (``read_metadata`` of the input) where the format holds it; JPEG and
    WebP at ``quality`` (1-100). A PNG without metadata is exactly ``save_png``'s file. Metadata the format cannot
    hold (``Metadata.fitted``) is left out, and said in one line to ``warn`` (a Python warning by default)."""
    path = Path(path)
    fmt = output_format(path)
    if fmt is None:
        raise InputError(f"{path}: unknown output format {path.suffix!r}; end the name in "
                         f"{', '.join(sorted(OUTPUT_FORMATS))}")
    a = rgb
    if not (isinstance(a, np.ndarray) and a.dtype in (np.uint8, np.uint16) and a.ndim == 3 and a.shape[2] == 3
            and a.size):
        shape = getattr(a, "shape", None)
        raise InputError(f"image for {path} must be a non-empty (H, W, 3) uint8 or uint16 array, got "
                         f"{type(a).__name__} {getattr(a, 'dtype', '')} {shape}")
    if a.dtype == np.uint16 and fmt not in DEEP_FORMATS:
        raise InputError(f"{path}: {fmt} holds 8 bits a sample; write 16 bits to a .png or .tif file")
    if not (isinstance(quality, int) and 1 <= quality <= 100):
        raise InputError(f"quality must be an integer from 1 to 100, got {quality!r}")
    if path.is_dir():
        raise InputError(f"{path} is a directory; pass a file name")
    metadata, left_out = (metadata or Metadata()).fitted(fmt)
    if left_out:
        line = f"{path}: left out the input's {', '.join(left_out)}"
        warnings.warn(line, stacklevel=2) if warn is None else warn(line)
    if fmt == "PNG":
        if a.dtype == np.uint8 and not metadata:
            return save_png(a, path, overwrite)
        return atomic.write_bytes(path, png_pieces(a, metadata.png_chunks()), overwrite, sync_folder=False)
    if fmt == "TIFF" and a.dtype == np.uint16:
        return atomic.write_with(path, lambda tmp: _write_tiff16(a, tmp, metadata), overwrite)
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {"compression": "tiff_adobe_deflate"}
    if fmt == "JPEG":
        options["subsampling"] = 0 if quality >= 90 else 2  # full-resolution colour where quality is asked for
    if metadata.exif and fmt == "TIFF":  # a TIFF's EXIF lives in its own tags: the first IFD's text ones are kept
        options["tiffinfo"] = _tiff_tags(metadata.exif)
    elif metadata.exif:
        options["exif"] = metadata.exif
    if metadata.icc:
        options["icc_profile"] = metadata.icc
    if metadata.dpi and fmt != "WEBP":
        options["dpi"] = metadata.dpi
    if metadata.xmp:
        if fmt == "TIFF":
            options.setdefault("tiffinfo", {})[700] = metadata.xmp
        else:
            options["xmp"] = metadata.xmp
    image = Image.fromarray(a)
    return atomic.write_with(path, lambda tmp: image.save(tmp, fmt, **options), overwrite)


def _without_resolution(exif_bytes):
    exif = Image.Exif()
    try:
        exif.load(exif_bytes)
        for tag in _RESOLUTION_TAGS:
            exif.pop(tag, None)
        return exif.tobytes()
    except Exception:  # damaged: left out, as read_metadata does
        return None


_RESOLUTION_TAGS = (0x011A, 0x011B, 0x0128)  # XResolution, YResolution, ResolutionUnit
_TIFF_TEXT_TAGS = (0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298)  # description, make, model, software,
# date, artist, copyright: EXIF's first IFD tags that a TIFF holds as they are (camera settings sit in a sub-IFD)


def _tiff_tags(exif_bytes):
    exif = Image.Exif()
    try:
        exif.load(exif_bytes)
    except Exception:
        return {}
    return {tag: exif[tag] for tag in _TIFF_TEXT_TAGS if isinstance(exif.get(tag), str)}


def _write_tiff16(rgb, path, metadata):
    # Pillow writes 8-bit RGB only; tifffile (a scikit-image dependency) writes 16. Its EXIF would need an EXIF IFD
    # of its own: left out; the ICC profile, XMP and resolution are kept.
    import tifffile
    extra = [(700, "B", len(metadata.xmp), metadata.xmp, True)] if metadata.xmp else []
    options = {"resolution": metadata.dpi, "resolutionunit": "INCH"} if metadata.dpi else {}
    tifffile.imwrite(path, rgb, photometric="rgb", compression="zlib", iccprofile=metadata.icc, extratags=extra,
                     metadata=None, **options)

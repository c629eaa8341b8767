"""``colorize.save``: a colorized photo written from Python as ``colorize predict`` writes it: the format by the
file's suffix, the source's metadata (EXIF, ICC profile, XMP, DPI; ``io.outputs``), and 16 bits a sample where the
format has them and the source had them (``bit_depth``)."""
import os

import numpy as np
from PIL import Image

from colorize import io as imageio
from colorize.errors import InputError


def save(rgb, path: str | os.PathLike, like=None, quality: int = 95, bit_depth: int | None = None,
         overwrite: bool = False):
    """Write ``rgb`` (a colorized photo: (H, W, 3) uint8 or uint16 array, or a PIL image) to ``path`` in the format
    of its suffix (.png, .jpg / .jpeg, .webp, .tif / .tiff; JPEG and WebP at ``quality``), atomically, never over
    an existing file unless ``overwrite``. ``like``: the source photo (a path or PIL image) whose EXIF (orientation
    reset), ICC profile, XMP and resolution the file keeps, as the command line keeps them (what the format cannot
    hold is left out with a warning). ``bit_depth``: 16 puts the colours at the source's own lightness at 16 bits
    a sample (PNG, TIFF; the source needed); 8 writes 8; None (the default): 16 where the format holds it and the
    source (or a uint16 ``rgb``) has it, else 8. Returns the path written."""
    fmt = imageio.output_format(path)
    if fmt is None:
        raise InputError(f"{path}: unknown output format {os.path.splitext(os.fspath(path))[1]!r}; end the name "
                         f"in {', '.join(sorted(imageio.OUTPUT_FORMATS))}")
    if bit_depth not in (None, 8, 16):
        raise InputError(f"bit_depth must be 8, 16 or None (16 where the source and the format have it), got "
                         f"{bit_depth!r}")
    if bit_depth == 16 and fmt not in imageio.DEEP_FORMATS:
        raise InputError(f"{path}: {fmt} holds 8 bits a sample; write 16 bits to a .png or .tif file")
    rgb = np.asarray(rgb.convert("RGB")) if isinstance(rgb, Image.Image) else rgb
    if not isinstance(rgb, np.ndarray):
        raise InputError(f"save takes a colorized photo (an (H, W, 3) array or a PIL image), got {type(rgb).__name__}")
    deep = fmt in imageio.DEEP_FORMATS and bit_depth != 8
    if rgb.dtype == np.uint8 and deep and like is not None and not isinstance(like, Image.Image):
        source = imageio.load_array(like)
        if bit_depth == 16 or source.dtype != np.uint8:  # the source's lightness at its own precision
            from colorize.pipeline.bit_depth import to_16_bits
            rgb = to_16_bits(rgb, source)
    elif bit_depth == 16 and rgb.dtype == np.uint8:
        raise InputError(f"{path}: bit_depth=16 needs the source photo's path (like=...) to take the lightness from")
    if rgb.dtype == np.uint16 and not deep:
        rgb = ((rgb.astype(np.uint32) + 128) // 257).astype(np.uint8)
    imageio.save_image(rgb, path, overwrite=overwrite, quality=quality, metadata=imageio.read_metadata(like))
    return path

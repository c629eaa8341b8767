"""Whether a PNG's image data is all there: Pillow fills the rows of a PNG whose compressed data ends cleanly
before its last row with black, so ``check_complete`` inflates the IDAT stream once more, a MiB at a time, and
compares its length with what the header promises."""
import struct
import zlib

from colorize.errors import InputError

# PNG colour type -> samples per pixel
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def check_complete(path, name):
    """Refuse a PNG whose image data ends (cleanly) before its last row, which Pillow fills with black: the
    IDAT stream is inflated once more, a MiB at a time, and its length compared with the header's."""
    with open(path, "rb") as f:
        f.read(8)
        length, tag = struct.unpack(">I4s", f.read(8))
        if tag != b"IHDR" or length < 13:
            return
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", f.read(13))
        f.seek(length - 13 + 4, 1)
        bits = depth * _PNG_CHANNELS.get(colour, 1)
        passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
        expected = 0
        for x0, y0, dx, dy in passes:
            w, h = -(-(width - x0) // dx), -(-(height - y0) // dy)
            if w > 0 and h > 0:
                expected += h * (1 + (w * bits + 7) // 8)
        inflate, produced, seen_data = zlib.decompressobj(), 0, False
        while produced < expected:
            head = f.read(8)
            if len(head) < 8:
                break
            length, tag = struct.unpack(">I4s", head)
            if tag != b"IDAT":
                if seen_data:
                    break  # the image data is one run of IDAT chunks
                f.seek(length + 4, 1)
                continue
            seen_data = True
            data = f.read(length)
            f.seek(4, 1)
            while data and produced < expected:
                produced += len(inflate.decompress(data, 1 << 20))
                data = inflate.unconsumed_tail
            if inflate.eof:
                break
    if produced < expected:
        row_bytes = max(1, expected // max(1, height))
        raise InputError(f"{name} is truncated: its image data ends after about {produced // row_bytes} of "
                         f"{height} rows; re-export or re-download it")

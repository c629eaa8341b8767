"""A fast PNG encoder for 8- and 16-bit RGB: the "Up" row filter in NumPy, and zlib (level 1, run-length strategy) on
bands of rows compressed in parallel threads (zlib releases the GIL).

Why not Pillow: its encoder spends most of its time choosing row filters. On a 768x512 photo this writes the same
pixels in about half of Pillow's time at level 1, single-threaded, for files ~10% larger; the bands let a second
core halve that again. The output is a standard PNG (one IDAT stream, checked by decoding it in the tests).
``png_pieces`` hands it over in pieces (the compressed bands as they are), so that a writer need not join them
into one more copy; the thread pool is made when a first image needs it, not at import.
"""
import struct
import zlib

import numpy as np

from colorize.io.threads import WORKERS, shared_pool

SIGNATURE = b"\x89PNG\r\n\x1a\n"
LEVEL = 1
MIN_BAND_BYTES = 256 * 1024  # below this a second thread costs more than it saves


def _chunk(tag, payload):
    return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))


def _filtered_rows(rgb):
    """(H, W, 3) uint8 or uint16 -> (H, 1 + 3W * bytes) uint8 scanlines (16-bit samples big-endian), each with PNG
    filter type 2 (Up: byte minus the byte above, modulo 256, whatever the bit depth); the first row's "above" is
    zeros."""
    h, w, _ = rgb.shape
    if rgb.dtype == np.uint16:
        rgb = rgb.astype(">u2").view(np.uint8)
    flat = rgb.reshape(h, -1)
    rows = np.empty((h, 1 + flat.shape[1]), np.uint8)
    rows[:, 0] = 2
    rows[0, 1:] = flat[0]
    np.subtract(flat[1:], flat[:-1], out=rows[1:, 1:])
    return rows


def _deflate(data, last):
    """Raw deflate of one band: a sync flush (byte-aligned, not final) unless it is the last band."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def png_pieces(rgb, chunks=()):
    """(H, W, 3) uint8 or uint16 array -> the PNG file as a list of byte strings, in order (their concatenation is
    the file). ``chunks``: ``(tag, payload)`` ancillary chunks (metadata) written before the image data."""
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    rows = _filtered_rows(rgb)
    bands = max(1, min(WORKERS, rows.nbytes // MIN_BAND_BYTES, h))
    edges = np.linspace(0, h, bands + 1).astype(int)
    parts = [rows[a:b].reshape(-1) for a, b in zip(edges[:-1], edges[1:])]  # views: no copy of the rows
    if bands == 1:
        compressed = [_deflate(parts[0], True)]
    else:
        compressed = list(shared_pool("colorize-png").map(_deflate, parts, [i == bands - 1 for i in range(bands)]))
    adler = 1
    for part in parts:
        adler = zlib.adler32(part, adler)
    stream = [b"\x78\x01", *compressed, struct.pack(">I", adler)]
    crc = zlib.crc32(b"IDAT")
    for piece in stream:
        crc = zlib.crc32(piece, crc)
    depth = 16 if rgb.dtype == np.uint16 else 8
    header = struct.pack(">IIBBBBB", w, h, depth, 2, 0, 0, 0)  # truecolour, deflate, adaptive filters, no interlace
    extra = b"".join(_chunk(tag, payload) for tag, payload in chunks)
    head = SIGNATURE + _chunk(b"IHDR", header) + extra + struct.pack(">I", sum(map(len, stream))) + b"IDAT"
    return [head, *stream, struct.pack(">I", crc) + _chunk(b"IEND", b"")]


def encode_png(rgb, chunks=()):
    """(H, W, 3) uint8 or uint16 array -> PNG file bytes (``chunks`` as for ``png_pieces``)."""
    return b"".join(png_pieces(rgb, chunks))

"""The per-pixel colour work at full resolution, in XLA-compiled kernels of fixed shapes (compiled once per process,
not once per image size).

The photo's path: ``lightness`` turns the decoded samples (uint8, uint16 or float) into L, ``CHUNKS`` pixels at
a time; ``finish_tiles`` turns L and the guided filter's coefficients (ab = a * L + b, interpolated across the
rows in the kernel) into uint8 RGB a tile of ``TILE_ROWS`` x ``TILE_COLUMNS`` at a time, written straight into the
output. Each
tile is one pass over its pixels (L and ab -> linear RGB -> 8-bit sRGB, and whether the colour is inside sRGB);
only the pixels outside go through the gamut fitting's bisection, compacted. The tiles are worked by a small pool
of threads (TensorFlow releases the GIL while a kernel runs), so both cores of a laptop are busy, and memory
beyond the input and output is a few tiles'.

``full_resolution_lightness`` and ``coefficients_to_rgb8`` are the same maths as graph ops on whole tensors, for
the exported SavedModel and for hints (which change the coefficients of a strip of rows, ``row_strips``).
"""
import functools
import sys

import numpy as np
import tensorflow as tf

from colorize import color
from colorize.io import WORKERS, shared_pool

FIT_ITERATIONS = 8       # bisection steps of the gamut fitting (see color.fit_chroma_to_gamut)
TILE_COLUMNS = 1024      # columns of the photo one kernel call sees...
TILE_ROWS = (256, 32)    # ...and rows: tall tiles, then short ones for the last rows (little padding)
CHUNKS = (2 ** 19, 2 ** 15)  # pixels of one call of the lightness kernel: large, then small for the rest
_CHUNK = 2 ** 16         # pixels per kernel call of the whole-tensor graph forms
STRIP_PIXELS = 2 ** 21   # pixels per strip of a larger photo worked on at once with hints (~100 MB of temporaries)
_FIT_CHUNK = 2 ** 12     # pixels per kernel call of the gamut fitting, which sees only out-of-gamut pixels
def _each(work, items):
    """``work(item)`` for every item, in the pool's threads when there are several (exceptions propagate)."""
    items = list(items)
    if len(items) == 1 or WORKERS == 1:
        for item in items:
            work(item)
        return
    for _ in shared_pool("colorize-pixels").map(work, items):
        pass


def _pieces(total, sizes):
    """``(start, stop, size)``: ``total`` items cut into pieces of the first size while they fill it, then of the
    next; the last piece may be shorter than its size (padded by the caller)."""
    out, start = [], 0
    for i, size in enumerate(sizes):
        last = i == len(sizes) - 1
        while total - start >= size or (last and start < total):
            out.append((start, min(total, start + size), size))
            start += size
    return out


_OUTSIDE = 1 << 24  # the flag of a packed pixel whose colour was outside sRGB (color.lab_to_rgb8_packed)


def _unpack(packed, out):
    """Packed pixels (..., ) int32 numpy -> their R, G, B bytes into ``out`` (..., 3) uint8: a pass per channel
    (numpy copies a three-byte inner axis several times slower)."""
    if sys.byteorder != "little":
        packed = packed.byteswap()
    as_bytes = packed.view(np.uint8).reshape(*packed.shape, 4)
    for channel in range(3):
        out[..., channel] = as_bytes[..., channel]


# -- the photo's path: host-tiled kernels ---------------------------------------------------------------------------

@functools.cache
def _lightness_kernel(dtype, size):
    kernel = tf.function(color.samples_to_lightness, jit_compile=True)
    return kernel.get_concrete_function(tf.TensorSpec([size, 3], dtype))


def lightness(rgb):
    """Decoded RGB (H, W, 3): uint8, uint16 or float in [0, 1] (``imageio.load_array``) -> L (H, W, 1) float32
    numpy array, ``color.samples_to_lightness`` a chunk of ``CHUNKS`` pixels at a time (no float copy)."""
    rgb = rgb.numpy() if isinstance(rgb, tf.Tensor) else np.asarray(rgb)
    if rgb.dtype not in (np.uint8, np.uint16):
        rgb = rgb.astype(np.float32, copy=False)
    height, width = rgb.shape[:2]
    flat = np.ascontiguousarray(rgb).reshape(-1, 3)
    out = np.empty(height * width, np.float32)

    def work(piece):
        start, stop, size = piece
        samples = flat[start:stop]
        if stop - start < size:
            samples = np.concatenate([samples, np.zeros((size - (stop - start), 3), samples.dtype)])
        out[start:stop] = _lightness_kernel(tf.as_dtype(flat.dtype), size)(tf.constant(samples)).numpy()[:stop - start]
    _each(work, _pieces(len(flat), CHUNKS))
    return out.reshape(height, width, 1)


def _tile_kernel(l, band, lower, upper, weight):
    """One tile: L (R, C), the coefficients' rows (4, S, C) interpolated to the tile's rows (``lower``, ``upper``,
    ``weight``: (R,)) as TensorFlow's bilinear resize does -> ``color.lab_to_rgb8_packed`` of L and ab, clipped."""
    top, bottom = tf.gather(band, lower, axis=1), tf.gather(band, upper, axis=1)
    c = top + (bottom - top) * weight[None, :, None]
    return color.lab_to_rgb8_packed(l, c[0] * l + c[2], c[1] * l + c[3])


@functools.cache
def _tile_step(rows, cols, size):
    kernel = tf.function(_tile_kernel, jit_compile=True)
    return kernel.get_concrete_function(
        tf.TensorSpec([rows, cols]), tf.TensorSpec([4, size, cols]), tf.TensorSpec([rows], tf.int32),
        tf.TensorSpec([rows], tf.int32), tf.TensorSpec([rows]))


@functools.cache
def _fit_step():
    kernel = tf.function(lambda lab: color.lab_to_rgb8_packed(lab[:, 0], lab[:, 1], lab[:, 2], FIT_ITERATIONS),
                         jit_compile=True)
    return kernel.get_concrete_function(tf.TensorSpec([_FIT_CHUNK, 3]))


def _fitted(lab):
    """Lab (n, 3) float32 numpy -> gamut-fitted packed pixels (n,), ``_FIT_CHUNK`` at a time."""
    out = np.empty(len(lab), np.int32)
    for start in range(0, len(lab), _FIT_CHUNK):
        piece = lab[start:start + _FIT_CHUNK]
        n = len(piece)
        out[start:start + n] = _fit_step()(tf.constant(np.pad(piece, [(0, _FIT_CHUNK - n), (0, 0)]))).numpy()[:n]
    return out


def finish_tiles(lightness, across, lower, upper, weight, size):
    """L (H, W, 1) and the coefficients resized across the columns, (h, W, 4) (``Postprocessor.upsample_across``),
    with ``row_weights`` (H,) each -> uint8 RGB (H, W, 3) numpy: ab = c[..., :2] * L + c[..., 2:] with c
    interpolated between rows ``lower`` and ``upper``, gamut fitted (only the pixels outside sRGB, gathered).
    ``size``: the network's canvas (h <= size). Tiles of ``TILE_ROWS`` x ``TILE_COLUMNS`` in the pool's threads."""
    lightness = np.asarray(lightness, np.float32)[..., 0]
    height, width = lightness.shape
    across = np.asarray(across, np.float32)
    cols = TILE_COLUMNS
    bands = []
    for left in range(0, width, cols):
        band = np.zeros((4, size, cols), np.float32)
        piece = across[:, left:left + cols]
        band[:, :piece.shape[0], :piece.shape[1]] = piece.transpose(2, 0, 1)
        bands.append(tf.constant(band))
    row_info = [np.zeros(height + max(TILE_ROWS), dtype) for dtype in (np.int32, np.int32, np.float32)]
    for info, values in zip(row_info, (lower, upper, weight)):
        info[:height] = values
    out = np.empty((height, width, 3), np.uint8)

    def work(tile):
        (top, bottom, rows), left = tile
        right = min(width, left + cols)
        piece = lightness[top:bottom, left:right]
        if piece.shape != (rows, cols):
            piece = np.pad(piece, [(0, rows - piece.shape[0]), (0, cols - piece.shape[1])])
        packed = _tile_step(rows, cols, size)(tf.constant(piece), bands[left // cols],
                                              *(tf.constant(info[top:top + rows]) for info in row_info))
        packed = packed.numpy()[:bottom - top, :right - left]
        if packed.max() >= _OUTSIDE:
            r, c = np.nonzero(packed >= _OUTSIDE)
            y, x = r + top, c + left
            lo, up = across[lower[y], x], across[upper[y], x]
            co = lo + (up - lo) * weight[y, None]
            l = lightness[y, x]
            packed[r, c] = _fitted(np.stack([l, co[:, 0] * l + co[:, 2], co[:, 1] * l + co[:, 3]], axis=1))
        _unpack(packed, out[top:bottom, left:right])
    _each(work, [(rows, left) for rows in _pieces(height, TILE_ROWS) for left in range(0, width, cols)])
    return out


# -- the same maths as graph ops on whole tensors ---------------------------------------------------------------

def _per_pixel(kernel, inputs, out_spec, chunk):
    """``kernel`` (jit-compiled for inputs (chunk, c_i) -> outputs ``out_spec``, shapes without the chunk axis) run
    on the n pixels of ``inputs`` ((n, c_i) each), ``chunk`` at a time, the last chunk zero padded."""
    n = tf.shape(inputs[0])[0]
    m = (n + chunk - 1) // chunk
    chunks = tuple(tf.reshape(tf.pad(x, [[0, m * chunk - n], [0, 0]]), [m, chunk, x.shape[-1]]) for x in inputs)
    signature = tf.nest.map_structure(lambda s: tf.TensorSpec([chunk, *s.shape], s.dtype), out_spec)
    out = tf.map_fn(lambda xs: kernel(*xs), chunks, fn_output_signature=signature, parallel_iterations=2)
    return tf.nest.map_structure(lambda o, s: tf.reshape(o, [m * chunk, *s.shape])[:n], out, out_spec)


_lightness_graph_kernel = tf.function(color.rgb_to_lightness, jit_compile=True)


def _coefficients_rgb8(lightness, coefficients, fit_iterations):
    l = lightness[:, 0]
    a = coefficients[:, 0] * l + coefficients[:, 2]
    b = coefficients[:, 1] * l + coefficients[:, 3]
    return color.lab_to_rgb8(l, a, b, fit_iterations)


_rgb8_clipped_kernel = tf.function(lambda l, c: _coefficients_rgb8(l, c, 0), jit_compile=True)
_rgb8_fitted_kernel = tf.function(lambda l, c: _coefficients_rgb8(l, c, FIT_ITERATIONS), jit_compile=True)
_RGB8_SPEC = (tf.TensorSpec([3], tf.uint8), tf.TensorSpec([], tf.bool))


def full_resolution_lightness(rgb):
    """RGB (H, W, 3) in [0, 1] -> L (H, W, 1), as ``color.rgb_to_lightness``, in XLA-compiled chunks."""
    lightness = _per_pixel(_lightness_graph_kernel, [tf.reshape(rgb, [-1, 3])], tf.TensorSpec([1]), _CHUNK)
    return tf.reshape(lightness, tf.concat([tf.shape(rgb)[:2], [1]], 0))


def coefficients_to_rgb8(lightness, coefficients, fit_gamut=True):
    """L (H, W, 1) and per-pixel coefficients (H, W, 4) = (a_a, a_b, b_a, b_b), giving ab = a * L + b -> uint8
    RGB (H, W, 3): ``color.lab_to_rgb`` of ``color.fit_chroma_to_gamut`` (or clipped, without ``fit_gamut``).

    A first pass converts every pixel, clipped, and finds those out of gamut; only they go through the
    bisection, in a second pass."""
    l, coefficients = tf.reshape(lightness, [-1, 1]), tf.reshape(coefficients, [-1, 4])
    rgb, inside = _per_pixel(_rgb8_clipped_kernel, [l, coefficients], _RGB8_SPEC, _CHUNK)
    if fit_gamut:
        outside = tf.where(~inside)
        fitted, _ = _per_pixel(_rgb8_fitted_kernel, [tf.gather_nd(l, outside), tf.gather_nd(coefficients, outside)],
                               _RGB8_SPEC, _FIT_CHUNK)
        rgb = tf.tensor_scatter_nd_update(rgb, outside, fitted)
    return tf.reshape(rgb, tf.concat([tf.shape(lightness)[:2], [3]], 0))


def row_strips(height, width, pixels=None):
    """``(start, stop)`` row ranges of about ``pixels`` (default ``STRIP_PIXELS``) pixels each, covering ``height``
    rows of ``width`` pixels."""
    rows = max(1, (pixels or STRIP_PIXELS) // max(1, width))
    return [(y, min(height, y + rows)) for y in range(0, height, rows)]

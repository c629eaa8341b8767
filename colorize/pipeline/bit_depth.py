"""16-bit outputs: a colorized photo at its input's precision, for archive scans kept at 16 bits a sample.

The network and the finishing step make 8-bit sRGB (``Colorizer.colorize``). ``to_16_bits`` keeps that result's
colour (its a and b) and puts it at the input's own lightness, read from the input's samples at their full
precision (16 bits where the file had them), then converts to 16-bit sRGB, fitting the chroma into the gamut
where needed (as the 8-bit path does). So the tones, where a 16-bit scan has its extra precision, are the
input's exactly; the colour, which the network predicts at 64x64 anyway, loses nothing it had. A large photo is
converted a strip of rows at a time (``per_pixel.row_strips``).
"""
import numpy as np
import tensorflow as tf

from colorize import color
from colorize import io as imageio
from colorize.errors import InputError
from colorize.pipeline.per_pixel import row_strips


def _deep(source, colour):
    lab = tf.concat([color.rgb_to_lightness(source), color.rgb_to_lab(colour)[..., 1:]], axis=-1)
    rgb = color.lab_to_rgb(color.fit_chroma_to_gamut(lab))
    return tf.cast(tf.round(rgb * 65535.0), tf.uint16)


_deep_graph = tf.function(_deep, input_signature=[tf.TensorSpec([None, None, 3]), tf.TensorSpec([None, None, 3])])


def to_16_bits(colour, source):
    """``colour``: a colorized photo, uint8 (H, W, 3); ``source``: its input as decoded (``colorize.io.load_array``:
    uint8, uint16 or float32 RGB (H, W, 3)) -> uint16 (H, W, 3) sRGB: the colour's a and b at the source's L."""
    colour, source = np.asarray(colour), np.asarray(source)
    if colour.dtype != np.uint8 or colour.ndim != 3 or colour.shape[2] != 3:
        raise InputError(f"the colorized photo must be (H, W, 3) uint8, got {colour.dtype} {colour.shape}")
    if source.shape != colour.shape:
        raise InputError(f"the input {source.shape} and its colorized photo {colour.shape} differ in size")
    height, width = colour.shape[:2]
    out = np.empty(colour.shape, np.uint16)
    for start, stop in row_strips(height, width):
        out[start:stop] = _deep_graph(imageio.to_float(source[start:stop]),
                                      imageio.to_float(colour[start:stop])).numpy()
    return out

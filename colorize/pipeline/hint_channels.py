"""Hints as the network's input: three channels at its input size (hint ab, scaled, and a 0/1 mask; zero where
there is no hint), as in Zhang, Zhu et al. 2017, "Real-Time User-Guided Image Colorization with Learned Deep
Priors" (``network_channels``)."""
import numpy as np

from colorize import color

DEFAULT_PATCH_RADIUS = 1  # a hint without a radius covers 3x3 network pixels: single pixels sway the network little


def network_channels(hints, height, width, canvas_h, canvas_w, size):
    """The hint channels (size, size, 3) for parsed ``hints`` of a ``height`` x ``width`` image that fills the
    top-left ``canvas_h`` x ``canvas_w`` of the network's canvas: scaled hint ab and a 0/1 mask."""
    channels = np.zeros((size, size, 3), np.float32)
    sy, sx = canvas_h / height, canvas_w / width
    for hint in hints:
        row, col = min(int(hint.y * sy), canvas_h - 1), min(int(hint.x * sx), canvas_w - 1)
        k = DEFAULT_PATCH_RADIUS if hint.radius is None else int(round(hint.radius * max(sx, sy) - 0.5))
        r0, r1 = max(0, row - k), min(canvas_h, row + k + 1)
        c0, c1 = max(0, col - k), min(canvas_w, col + k + 1)
        channels[r0:r1, c0:c1, :2] = np.asarray(hint.ab, np.float32) / color.AB_SCALE
        channels[r0:r1, c0:c1, 2] = 1.0
    return channels

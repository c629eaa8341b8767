"""Hints for scoring hint models: points of the truth image with the colour around them, as a user who knew the
colours might give (``sample_from_truth``), in a fixed sequence per image (``evaluation_hints``)."""
import numpy as np


def evaluation_hints(truth, count, seed=0, index=0):
    """The first ``count`` of a fixed sequence of truth-sampled hints for the ``index``-th image of an evaluation
    (``sample_from_truth`` seeded by ``seed`` and ``index``): a run with more hints keeps the fewer ones."""
    if count <= 0:
        return []
    return sample_from_truth(truth, max(count, 64), np.random.default_rng([seed, index]))[:count]


def sample_from_truth(truth, count, rng):
    """``count`` hints a user who knew the colours might give, for evaluation: random points of a uint8 RGB truth
    image (H, W, 3), each with the mean colour of a small window around it (about 1/64 of the long side, at least
    3x3), as ``{"x", "y", "color"}`` dicts (the JSON shape ``colorize predict --hints`` reads)."""
    height, width = truth.shape[:2]
    r = max(1, max(height, width) // 128)
    hints = []
    for _ in range(count):
        y, x = int(rng.integers(height)), int(rng.integers(width))
        mean = truth[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].reshape(-1, 3).mean(0)
        hints.append({"x": x + 0.5, "y": y + 0.5, "color": "#%02x%02x%02x" % tuple(int(round(v)) for v in mean)})
    return hints

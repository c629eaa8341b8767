"""Honouring hints at full resolution: one network pixel covers many pixels of a large photo, so after the guided
upsampling each hint's colour is blended in again around its point, on the clicked object only (``enforce``)."""
import math

import numpy as np

ENFORCE_L_SIGMA = 12.0  # Lab L units: how much lighter or darker a pixel may be and still take a hint's colour
MIN_SIGMA = 1e-6  # input pixels: a smaller radius blends the hint's own pixel only, as this does (no 0 division)


def default_radius(height, width, size):
    """One network pixel, in input pixels (at least 1): the full-resolution blend's sigma for a hint without one."""
    return max(1.0, max(height, width) / size)


def enforce(coefficients, lightness, hints, size, start=0):
    """Honour hints at full resolution: around each hint, blend the per-pixel colour coefficients (R, W, 4), for
    ab = c[:2] * L + c[2:], towards the hint's ab, by a weight that is 1 at the point and falls off with distance
    (Gaussian, sigma = the hint's radius) and with the difference in L from the point (sigma ``ENFORCE_L_SIGMA``),
    so the colour stays on the clicked object. Numpy arrays in, a new array out.

    ``lightness`` is the whole photo's L (H, W, 1), an array or a tensor; ``coefficients`` are its rows ``start``
    to ``start + R`` (all of them by default). A strip gets exactly the values the whole photo would have there: a
    hint whose window (3 sigma) meets the strip is blended in wherever its point is, with the L at its point. Only
    the strip's rows of ``lightness`` and the hints' points are read (a tensor is not copied whole)."""
    if not hints:
        return coefficients
    out = np.array(coefficients, np.float32, copy=True)
    height, width = (int(n) for n in lightness.shape[:2])
    stop = start + out.shape[0]
    l = np.asarray(lightness[start:stop], np.float32)[..., 0]
    for hint in hints:
        sigma = max(hint.radius or default_radius(height, width, size), MIN_SIGMA)
        reach = int(math.ceil(3 * sigma))
        cy, cx = int(hint.y), int(hint.x)
        y0, y1 = max(start, cy - reach), min(stop, cy + reach + 1)
        x0, x1 = max(0, cx - reach), min(width, cx + reach + 1)
        if y0 >= y1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        spatial = np.exp(-0.5 * (((yy + 0.5 - hint.y) ** 2 + (xx + 0.5 - hint.x) ** 2) / sigma ** 2))
        if y0 <= cy < y1:
            spatial[cy - y0, cx - x0] = 1.0
        rows = slice(y0 - start, y1 - start)
        l_point = np.asarray(lightness[cy, cx, 0], np.float32)  # in another strip, maybe
        tonal = np.exp(-0.5 * ((l[rows, x0:x1] - l_point) / ENFORCE_L_SIGMA) ** 2)
        w = (spatial * tonal)[..., None]
        target = np.array([0.0, 0.0, hint.ab[0], hint.ab[1]], np.float32)
        out[rows, x0:x1] = (1.0 - w) * out[rows, x0:x1] + w * target
    return out

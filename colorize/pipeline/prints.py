"""Old prints as they come: a faded print's tones and a scan's border, seen for what they are.

The network was trained on the tones of colour photos. A faded print (its blacks lifted to a grey, its whites
dulled) or a toned one is another photo to it, and a scan's white, black or cream border is a wall of paper that
it colours and that tints its estimate of the photo's colour cast. So:

- ``stretch_lightness``: what the network sees of a faded photo is its L stretched to the range photos have. A
  photo is taken for faded when its darkest tones (the ``LOW_PERCENTILE`` of L at the network's size, where a
  few dust specks are averaged away) are lifted above ``FADED_FROM``; fully so at ``FADED_FULL``. Then its
  ``LOW_PERCENTILE`` .. ``HIGH_PERCENTILE`` range is mapped linearly onto ``RANGE`` (the median of those
  percentiles over natural photos), never narrowed (clipped highlights stay where they are). A toned print is read
  for its L alone, like any input. Only the network's input changes: the output keeps the input's own L exactly.
  A photo whose blacks are dark (every bundled photo, most photos) gets the very same input as before.
- ``find_border``: a uniform border (the photo's outermost ring all of one L; on each side a band of it whose
  inner edge is a straight line, a few degrees of skew allowed, each side its own width; rounded corners) ->
  a ``Frame``: the box of the photo inside it and the border's lines. The network sees the box only (its cast
  is estimated there), and the output's border is neutral, its own grey (``neutral_mask``). Content that is
  merely uniform at one or two edges (a sky) is no border: the ring is not uniform all round.
"""
import math
import typing

import numpy as np
import tensorflow as tf

from colorize import color

LOW_PERCENTILE, HIGH_PERCENTILE = 0.2, 99.8  # of L on the network's canvas
RANGE = (3.0, 94.0)           # Lab L: those percentiles' medians over the dev photos, natural colour photos' range
FLAT_RANGE = 10.0             # Lab L: a photo whose percentiles are closer than this is flat, not faded
FADED_FROM, FADED_FULL = 13.0, 18.0  # L of the low percentile: from where a photo counts as faded, and fully

BORDER_MAX_SHARE = 0.35       # a side's border is at most this share of the photo's height or width
RING_SHARE = 0.9              # share of the outermost ring that must be of the border's L (dust, scratches allowed)
SIDE_INLIERS = 0.5            # share of a side's columns/rows whose border ends on the side's straight line
MAX_SKEW_DEGREES = 6.0
CORNER_SHARE = 0.04           # rounded corners: squares of this share of the short side, at the box's corners
DETECTION_SIDE = 2048         # the photo is sampled every ceil(longest / this) pixels to find the border


class Frame(typing.NamedTuple):
    """A border found (or given) around a photo: the box ``top, left, bottom, right`` of the photo inside it
    (pixels, ends exclusive), the border's ``level`` (Lab L; None for a box the user gave) and, per side, the
    border's inner edge as a line ``(offset, slope)``: the border's width at position t along the side is
    ``offset + slope * t`` (top and bottom: t is the column; left and right: the row). ``tolerance``: how far
    from ``level`` a pixel of the border may be (rounded corners are taken where they are this close)."""
    top: int
    left: int
    bottom: int
    right: int
    level: float | None = None
    lines: tuple | None = None  # ((offset, slope) for top, left, bottom, right)
    tolerance: float = 0.0

    @property
    def height(self):
        return self.bottom - self.top

    @property
    def width(self):
        return self.right - self.left

    def describe(self, height, width):
        """One line for ``--verbose``: what was found around a photo of ``height`` x ``width``."""
        sides = (self.top, self.left, height - self.bottom, width - self.right)
        text = "border " + "/".join(str(s) for s in sides) + " px (top/left/bottom/right)"
        if self.level is not None:
            tone = "white" if self.level >= 85 else "black" if self.level <= 15 else "grey or cream"
            skew = 0.0 if self.lines is None else abs(math.degrees(math.atan(self.lines[0][1])))
            text = f"{tone} {text}, L {self.level:.0f}" + (f", skewed {skew:.1f} deg" if skew >= 0.3 else "")
        return f"{text}: kept out of the colouring (neutral); --keep-border colours it"


def stretch_lightness(small, h, w):
    """L on the network's canvas (S, S, 1), the photo in its top-left ``h`` x ``w`` -> the same, a faded photo's
    range stretched (see the module doc); bit for bit the input where the photo is not faded."""
    values = tf.sort(tf.reshape(small[:h, :w], [-1]))
    last = tf.cast(tf.size(values) - 1, tf.float32)
    low = values[tf.cast(tf.round(LOW_PERCENTILE / 100.0 * last), tf.int32)]
    high = values[tf.cast(tf.round(HIGH_PERCENTILE / 100.0 * last), tf.int32)]
    faded = tf.clip_by_value((low - FADED_FROM) / (FADED_FULL - FADED_FROM), 0.0, 1.0)
    faded = tf.where(high - low < FLAT_RANGE, 0.0, faded)  # a flat photo (one grey) has no range to stretch
    new_low = low + faded * (RANGE[0] - low)
    new_high = high + faded * (tf.maximum(high, RANGE[1]) - high)
    stretched = new_low + (small - low) * (new_high - new_low) / tf.maximum(high - low, 1.0)
    return tf.where(faded > 0, tf.clip_by_value(stretched, 0.0, 100.0), small)


def _fit_line(t, width, tolerance):
    """The straight line through most of ``width`` at positions ``t`` (of the lines through two of up to 64 of
    them, the one with the most within ``tolerance``), fitted again to those -> (offset, slope, share of them)."""
    pick = np.linspace(0, t.size - 1, min(t.size, 64)).astype(int)
    i, j = np.triu_indices(pick.size, 1)
    ti, tj, wi, wj = t[pick][i], t[pick][j], width[pick][i], width[pick][j]
    slopes = (wj - wi) / np.maximum(tj - ti, 1)
    offsets = wi - slopes * ti
    counts = (np.abs(width[None] - (offsets[:, None] + slopes[:, None] * t[None])) <= tolerance).sum(axis=1)
    best = int(np.argmax(counts))
    inliers = np.abs(width - (offsets[best] + slopes[best] * t)) <= tolerance
    slope, offset = np.polyfit(t[inliers], width[inliers], 1) if inliers.sum() >= 2 else (0.0, offsets[best])
    return float(offset), float(slope), float(inliers.mean())


def _side(near, span, limit):
    """How far the border reaches in from the top edge of ``near`` (rows x columns, True where a pixel is of the
    border's L), in each column of ``span``: (columns, widths), limited to ``limit`` rows."""
    band = near[:limit, span[0]:span[1]]
    first = np.argmin(band, axis=0)
    width = np.where(band.all(axis=0), limit, first)
    return np.arange(span[0], span[1]), width.astype(np.float64)


def find_border(lightness):
    """L of a photo (H, W) or (H, W, 1), numpy -> ``Frame``, or None when the photo has no uniform border."""
    full = np.asarray(lightness, np.float32)
    full = full[..., 0] if full.ndim == 3 else full
    step = max(1, math.ceil(max(full.shape) / DETECTION_SIDE))
    l = full[::step, ::step]
    height, width = l.shape
    if min(height, width) < 32:
        return None
    ring = np.concatenate([l[0], l[-1], l[1:-1, 0], l[1:-1, -1]])
    level = float(np.median(ring))
    tolerance = float(np.clip(4.0 * 1.4826 * np.median(np.abs(ring - level)), 3.0, 12.0))
    if np.mean(np.abs(ring - level) <= tolerance) < RING_SHARE:
        return None
    near = np.abs(l - level) <= tolerance
    # the box: the first and last rows and columns with some of the photo in them (a few specks of dust aside)
    rows, cols = np.flatnonzero(near.mean(axis=1) < 0.97), np.flatnonzero(near.mean(axis=0) < 0.97)
    if rows.size == 0 or cols.size == 0:
        return None
    box = [rows[0], cols[0], rows[-1] + 1, cols[-1] + 1]
    sides = (box[0], box[1], height - box[2], width - box[3])
    if min(sides) < 1 or sides[0] + sides[2] > 2 * BORDER_MAX_SHARE * height or \
            sides[1] + sides[3] > 2 * BORDER_MAX_SHARE * width:
        return None
    # each side's border must end on a straight line (a print's edge), not where a sky or a white wall happens to
    views = (near, near.T, near[::-1], near[:, ::-1].T)  # the top, left, bottom, right side as a "top"
    spans = ((box[1], box[3]), (box[0], box[2]), (box[1], box[3]), (box[0], box[2]))
    lines = []
    for view, (start, stop) in zip(views, spans):
        inset = (stop - start) // 10  # the middle 80%: rounded corners and the other sides' skew left out
        limit = int(BORDER_MAX_SHARE * view.shape[0]) + 1
        t, reach = _side(view, (start + inset, stop - inset), limit)
        offset, slope, share = _fit_line(t, reach, max(2.0, 0.01 * view.shape[0]))
        if share < SIDE_INLIERS or abs(slope) > math.tan(math.radians(MAX_SKEW_DEGREES)) or offset < 1 or \
                reach.mean() >= limit - 1:
            return None
        lines.append((offset * step, slope))
    top, left, bottom, right = (int(v) * step for v in box)
    # a print turned by an angle turns all four edges: their slopes, signed, agree; else the lines are not used
    turns = [sign * slope for sign, (_, slope) in zip((1, -1, -1, 1), lines)]
    lines = tuple(lines) if max(turns) - min(turns) <= math.tan(math.radians(0.5)) else None
    return Frame(top, left, min(bottom, full.shape[0]), min(right, full.shape[1]), level, lines, tolerance)


def frame_from_box(box, height, width, name="the image"):
    """A box the user gave, ``(left, top, right, bottom)`` in the photo's pixels -> ``Frame`` (clipped to the
    photo); None when it is the whole photo. ``ValueError`` naming the box if it is empty."""
    try:
        left, top, right, bottom = (int(round(float(v))) for v in box)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: the border box {box!r} must be four numbers: left, top, right, bottom") from None
    left, right = max(0, min(left, width)), max(0, min(right, width))
    top, bottom = max(0, min(top, height)), max(0, min(bottom, height))
    if right - left < 2 or bottom - top < 2:
        raise ValueError(f"{name}: the border box {box!r} leaves less than 2 x 2 pixels of a {width} x {height} photo")
    if (top, left, bottom, right) == (0, 0, height, width):
        return None
    return Frame(top, left, bottom, right)


def scaled(frame, scale_y, scale_x, height, width):
    """The frame of a photo resized by ``scale_y``, ``scale_x`` to ``height`` x ``width`` (a preview)."""
    top, bottom = round(frame.top * scale_y), min(height, max(round(frame.bottom * scale_y), 1))
    left, right = round(frame.left * scale_x), min(width, max(round(frame.right * scale_x), 1))
    across = (scale_y, scale_x, scale_y, scale_x)  # the scale a side's width is measured in
    lines = None if frame.lines is None else tuple(
        (offset * across[i], slope * across[i] / across[(i + 1) % 2]) for i, (offset, slope) in enumerate(frame.lines))
    return frame._replace(top=top, left=left, bottom=max(bottom, top + 1), right=max(right, left + 1), lines=lines)


def neutral_mask(frame, lightness):
    """(H, W) bool: the border's pixels, to be left neutral: outside the frame's box, and inside it those beyond
    the border's lines (a skewed print's corners) or, in the box's corners, of the border's L (rounded corners)."""
    l = np.asarray(lightness, np.float32)
    l = l[..., 0] if l.ndim == 3 else l
    height, width = l.shape
    mask = np.ones((height, width), bool)
    mask[frame.top:frame.bottom, frame.left:frame.right] = False
    if frame.level is None:
        return mask
    if frame.lines is not None:
        (t0, t1), (l0, l1), (b0, b1), (r0, r1) = frame.lines
        box = (slice(frame.top, frame.bottom), slice(frame.left, frame.right))
        y = np.arange(frame.top, frame.bottom, dtype=np.float32)[:, None]
        x = np.arange(frame.left, frame.right, dtype=np.float32)[None, :]
        mask[box] |= (y < t0 + t1 * x) | (x < l0 + l1 * y)
        mask[box] |= (y >= height - (b0 + b1 * x)) | (x >= width - (r0 + r1 * y))
    corner = max(1, int(CORNER_SHARE * min(frame.height, frame.width)))
    for ys in (slice(frame.top, frame.top + corner), slice(max(frame.top, frame.bottom - corner), frame.bottom)):
        for xs in (slice(frame.left, frame.left + corner), slice(max(frame.left, frame.right - corner), frame.right)):
            mask[ys, xs] |= np.abs(l[ys, xs] - frame.level) <= frame.tolerance
    return mask


def hints_in_frame(hints, frame):
    """Parsed hints in the photo's pixels -> those inside the frame's box, in the box's pixels."""
    import dataclasses
    return [dataclasses.replace(h, x=h.x - frame.left, y=h.y - frame.top) for h in hints
            if frame.left <= h.x < frame.right and frame.top <= h.y < frame.bottom]


def with_neutral_border(inside, lightness, frame):
    """The colorized inside of a frame (h, w, 3) uint8 and the whole photo's L (H, W, 1) -> uint8 (H, W, 3): the
    inside in its place, the border (``neutral_mask``) its own grey (R = G = B from its L, a = b = 0)."""
    l = np.asarray(lightness, np.float32)[..., 0]
    out = np.empty(l.shape + (3,), np.uint8)
    out[frame.top:frame.bottom, frame.left:frame.right] = inside
    mask = neutral_mask(frame, l)
    grey = l[mask]
    lab = np.stack([grey, np.zeros_like(grey), np.zeros_like(grey)], axis=-1)
    rgb = np.clip(color.lab_to_rgb(lab).numpy().mean(axis=-1), 0.0, 1.0)
    out[mask] = np.round(rgb * 255.0).astype(np.uint8)[:, None]
    return out

"""Colour hints: a user's "this point was this colour", from parsing to the network's input and back.

A hint is a point of the input image (``x`` = column, ``y`` = row, 0-based pixel coordinates, floats allowed), a
colour (``"#rrggbb"``, a CSS colour name such as ``"navy"``, or an ``(r, g, b)`` tuple of 0-255 ints) and an
optional radius in input pixels. Only the colour's chroma (Lab ab) is used: the photo keeps its own lightness. Hints
reach the network as three channels at its input size (hint ab, scaled, and a mask; zero where there is no hint), as
in Zhang, Zhu et al. 2017, "Real-Time User-Guided Image Colorization with Learned Deep Priors", and are honoured
again at full resolution (``enforce``), because one network pixel covers many pixels of a large photo.

Training simulates hints from the ground truth: ``colorize.training.hint_simulation``.
"""
import dataclasses
import json
import math
import re
import reprlib

import numpy as np
import tensorflow as tf

from colorize import color
from colorize.errors import InputError
from colorize.pipeline import color_names

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")
ENFORCE_L_SIGMA = 12.0  # Lab L units: how much lighter or darker a pixel may be and still take a hint's colour
DEFAULT_PATCH_RADIUS = 1  # a hint without a radius covers 3x3 network pixels: single pixels sway the network little
MIN_SIGMA = 1e-6  # input pixels: a smaller radius blends the hint's own pixel only, as this does (no 0 division)
_SHORT = reprlib.Repr()  # a hint as quoted in a message: a few levels and characters (a hostile one may nest deep)
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 40, 40


@dataclasses.dataclass(frozen=True)
class Hint:
    x: float
    y: float
    rgb: tuple              # the colour as given, (r, g, b) 0-255
    ab: tuple               # its Lab chroma
    radius: float = None    # in input pixels; None: 3x3 network pixels, blended at full resolution over about one

    def to_json(self):
        item = {"x": self.x, "y": self.y, "color": "#%02x%02x%02x" % self.rgb}
        return item if self.radius is None else {**item, "radius": self.radius}


def parse_color(value, what):
    """``"#rrggbb"`` / ``"rrggbb"``, a CSS colour name (``"navy"``) or an (r, g, b) sequence of 0-255 ints ->
    (r, g, b)."""
    if isinstance(value, str):
        match = _HEX.match(value.strip())
        if not match:
            return color_names.named_rgb(value.strip(), what)
        h = match.group(1)
        return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))
    if isinstance(value, (list, tuple)) and len(value) == 3 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v <= 255 for v in value):
        return tuple(int(v) for v in value)
    raise InputError(f"{what}: colour {value!r} must be '#rrggbb', a CSS colour name or (r, g, b) with ints 0-255")


def _number(value, what, field):
    try:  # an int past float's range (JSON's 1e400 is inf, its 10**400 an int) overflows float()
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or \
                not math.isfinite(value):
            raise OverflowError
        return float(value)
    except OverflowError:
        raise InputError(f"{what}: {field} {_SHORT.repr(value)} is not a finite number") from None


def rgb_to_ab(rgbs):
    """(n, 3) colours 0-255 -> (n, 2) Lab ab."""
    lab = color.rgb_to_lab(tf.constant(np.asarray(rgbs, np.float32).reshape(-1, 3) / 255.0))
    return lab.numpy()[:, 1:]


def parse_hints(hints, height, width, name="image"):
    """A list of hints (tuples ``(x, y, color[, radius])`` or dicts ``{"x", "y", "color"[, "radius"]}``) for an
    image of ``height`` x ``width`` -> list of ``Hint``. ``InputError`` naming the hint for anything wrong."""
    if hints is None:
        return []
    if isinstance(hints, (str, bytes, dict)) or not hasattr(hints, "__iter__"):
        raise InputError(f"hints for {name} must be a list of (x, y, color) tuples or dicts, got {hints!r}")
    parsed = []
    for i, item in enumerate(hints):
        what = f"hint {i + 1} for {name} ({_SHORT.repr(item)})"
        if isinstance(item, dict):
            unknown = set(item) - {"x", "y", "color", "radius"}
            if unknown or not {"x", "y", "color"} <= set(item):
                raise InputError(f"{what}: needs keys x, y, color (and optionally radius)")
            x, y, colour, radius = item["x"], item["y"], item["color"], item.get("radius")
        elif isinstance(item, (list, tuple)) and len(item) in (3, 4):
            x, y, colour = item[:3]
            radius = item[3] if len(item) == 4 else None
        else:
            raise InputError(f"{what}: must be (x, y, color) or (x, y, color, radius)")
        x, y = _number(x, what, "x"), _number(y, what, "y")
        if not (0 <= x < width and 0 <= y < height):
            raise InputError(f"{what}: point ({x:g}, {y:g}) is outside the {width}x{height} image")
        if radius is not None:
            radius = _number(radius, what, "radius")
            if radius <= 0:
                raise InputError(f"{what}: radius must be positive")
            diagonal = math.hypot(width, height)
            if radius > diagonal:  # a wider one covers the photo all the same; a huge one overflowed its square
                raise InputError(f"{what}: radius {radius:g} is larger than the {width}x{height} image's diagonal "
                                 f"({diagonal:.0f} pixels)")
        parsed.append((x, y, parse_color(colour, what), radius))
    if not parsed:
        return []
    ab = rgb_to_ab([rgb for _, _, rgb, _ in parsed])  # one colour conversion for all the hints
    return [Hint(x, y, rgb, (float(a), float(b)), radius) for (x, y, rgb, radius), (a, b) in zip(parsed, ab)]


def parse_cli_hint(text):
    """``"120,40,#1f4e9c"`` or ``"120,40,#1f4e9c,8"`` -> a raw hint tuple (checked later against the image)."""
    parts = text.split(",")
    if len(parts) not in (3, 4):
        raise InputError(f"--hint {text!r} must look like X,Y,COLOUR or X,Y,COLOUR,RADIUS (COLOUR: #RRGGBB or a name)")
    try:
        numbers = [float(p) for p in parts[:2] + parts[3:]]
    except ValueError:
        raise InputError(f"--hint {text!r}: X, Y (and RADIUS) must be numbers") from None
    return tuple(numbers[:2]) + (parts[2].strip(),) + tuple(numbers[2:])


def load_hints_file(path, keys="file names", references=False):
    """A hints JSON file: ``{"photo.jpg": [{"x": .., "y": .., "color": "#rrggbb"}, ...], ...}`` -> that dict.
    ``keys`` names what the keys are, for the error message (a video's hints are keyed by frame numbers). With
    ``references``, an entry may also be ``{"reference": "ref.jpg", "hints": [...]}`` (both keys optional; see
    ``file_entry``)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as err:
        raise InputError(f"hints file {path} cannot be read ({err.strerror or err})") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"hints file {path} is not valid JSON: {err}") from None
    except RecursionError:
        raise InputError(f"hints file {path} nests too deep to be hints; it must map {keys} to lists of hints") \
            from None
    if references and isinstance(data, dict):
        for key, value in data.items():
            file_entry(value, f"hints file {path}: {key!r}")
    if not isinstance(data, dict) or not all(isinstance(v, list) or (references and isinstance(v, dict))
                                             for v in data.values()):
        raise InputError(f"hints file {path} must map {keys} to lists of {{\"x\", \"y\", \"color\"}} hints")
    return data


def file_entry(value, what):
    """One entry of a hints file: a hint list, or ``{"reference": path, "hints": [...]}`` -> (hints, reference
    path or None); ``InputError`` naming ``what`` for any other shape."""
    if isinstance(value, list):
        return value, None
    if not isinstance(value, dict) or set(value) - {"reference", "hints"} or \
            not isinstance(value.get("hints", []), list) or not isinstance(value.get("reference", ""), str):
        raise InputError(f"{what}: an entry is a list of hints or {{\"reference\": \"ref.jpg\", \"hints\": [...]}}")
    return value.get("hints", []), value.get("reference")


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

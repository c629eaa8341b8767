"""Colour hints: a user's "this point was this colour", parsed and checked against its image.

A hint is a point of the input image (``x`` = column, ``y`` = row, 0-based pixel coordinates, floats allowed), a
colour (``"#rrggbb"``, a CSS colour name such as ``"navy"``, or an ``(r, g, b)`` tuple of 0-255 ints) and an
optional radius in input pixels. Only the colour's chroma (Lab ab) is used: the photo keeps its own lightness. Hints
reach the network as three channels at its input size (hint ab, scaled, and a mask; zero where there is no hint), as
in Zhang, Zhu et al. 2017, "Real-Time User-Guided Image Colorization with Learned Deep Priors", and are honoured
again at full resolution (``colorize.pipeline.hint_enforcement``). This module parses and checks them; hints files:
``hint_files``.

Training simulates hints from the ground truth: ``colorize.training.hint_simulation``.
"""
import dataclasses
import math
import re
import reprlib

import numpy as np
import tensorflow as tf

from colorize import color
from colorize.errors import InputError
from colorize.pipeline import color_names

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")
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

"""From the network's two heads to one ab image: the readouts a Colorizer can use.

- ``regression``: the regression head (the mean colour; safe but desaturated).
- ``annealed``: the annealed mean of the bins head (Zhang et al. 2016; vivid, sometimes blotchy).
- ``restrained``: a blend of the two, multiplied by ``gain`` where the bins distribution is concentrated and
  faded towards grey where it is spread out (the model does not know the colour), so uncertain regions stay
  neutral instead of taking the warm average tint that regression colorizers are known for.

Every readout can also remove part of the image's mean colour cast (``cast_removal``, the grey-world assumption
of white balancing): a colorizer unsure of a photo tends to tint all of it, and a tint costs more than it gives.

Hints stay where they are put (``hint_reach`` > 0): the network carries a hint's information across the whole
photo, and on its own one click re-tints all of it (the astronaut's grey-blue studio turned orange-yellow with her
suit). A hinted photo's colours are therefore its automatic colours (the unhinted readout, the unhinted cast
removal) plus the hints' change weighted by the nearness to the nearest hinted pixel, exp(-d^2 / 2 hint_reach^2)
for d network pixels (``steer``): a hint colours its own region. Several hints together say what the photo's
colours are, not only a region's: with n hints, a share 1 - exp(-(n - 1) / hints_for_photo) of their change
reaches the whole photo (none for one hint, 99% for ten with the preset's 2), so ten hints from the truth still
score what the network's change everywhere scored.
"""
import dataclasses

import tensorflow as tf

from colorize import color
from colorize.errors import InputError
from colorize.model import bins

KINDS = ("regression", "annealed", "restrained")
NO_FADE = 1e9  # a spread_high at or above this turns the fade off (no ab spread reaches it)


@dataclasses.dataclass(frozen=True)
class Readout:
    kind: str = "regression"
    temperature: float = 0.38   # annealed mean
    mix: float = 0.0            # restrained: share of the annealed mean in the blend
    gain: float = 1.0           # restrained: chroma gain where the model is sure
    spread_low: float = 0.0     # restrained: ab spread (Lab units) at or below which the full gain applies
    spread_high: float = 1e9    # restrained: ab spread at or above which the colour fades to grey
    cast_removal: float = 0.0   # share of the image's mean ab subtracted (0: none, 1: mean ab becomes 0)
    hinted_cast_removal: float = 0.0  # the same for photos given colour hints
    hint_reach: float = 0.0     # > 0: a hint changes the colours this many network pixels (Gaussian) around it
    hints_for_photo: float = 0.0  # > 0: how fast more hints let their change reach the whole photo (see steer)
    hint_edges: float = 0.0     # > 0: a hint's reach is a geodesic distance: each step across a lightness change
    #                             of dL Lab units costs sqrt(1 + (hint_edges dL)^2) pixels (0: straight distance)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputError(f"readout must be one of {KINDS}, got {self.kind!r}")
        if not 0 < self.temperature <= 10 or not 0 <= self.mix <= 1 or self.gain < 0 or \
                not 0 <= self.cast_removal <= 1 or not 0 <= self.hinted_cast_removal <= 1 or self.hint_reach < 0 or \
                self.hints_for_photo < 0 or not 0 <= self.hint_edges <= 100:
            raise InputError(f"readout parameters out of range: {self}")
        if self.spread_high <= self.spread_low:
            raise InputError("readout spread_high must be above spread_low")

    @property
    def fades(self):
        """Whether the restrained readout fades uncertain colours: ``spread_high`` is finite (below 1e9)."""
        return self.spread_high < NO_FADE

    @property
    def needs_bins(self):
        return self.kind != "regression"

    def __call__(self, outputs, size, area=None, hinted=None):
        """Model outputs dict -> ab (B, size, size, 2) in Lab units. ``area`` (B, size, size, 1), 1 on the photo
        and 0 on the canvas's padding, restricts the cast estimate to the photo (default: the whole canvas).
        ``hinted`` (B,) bool marks photos given colour hints: their share of the cast removed is
        ``hinted_cast_removal`` (the user said what some colours are)."""
        ab = self._read(outputs, size)
        if self.cast_removal or self.hinted_cast_removal:
            if area is None:
                cast = tf.reduce_mean(ab, axis=[1, 2], keepdims=True)
            else:
                cast = tf.reduce_sum(ab * area, axis=[1, 2], keepdims=True) / tf.maximum(
                    tf.reduce_sum(area, axis=[1, 2], keepdims=True), 1.0)
            share = tf.fill([tf.shape(ab)[0]], self.cast_removal)
            if hinted is not None:
                share = tf.where(hinted, self.hinted_cast_removal, share)
            ab = ab - share[:, None, None, None] * cast
        return ab

    def steer(self, automatic, steered, hint_mask, lightness=None):
        """The colours of a hinted photo: ``automatic`` ab (its readout without hints), plus the change the hints
        made (``steered``, the readout with them) near the hinted pixels of ``hint_mask`` (B, S, S, 1), and with
        several hints a share of it everywhere. With ``hint_edges`` and the photo's ``lightness`` (B, S, S, 1, Lab
        units), near along the photo's structure (``near_along_edges``)."""
        if self.hint_edges and lightness is not None:
            near = self.near_along_edges(hint_mask, lightness)
        else:
            near = self.near_hints(hint_mask)
        if self.hints_for_photo:
            extra = tf.maximum(count_patches(hint_mask) - 1.0, 0.0)[:, None, None, None]
            near = near + (1.0 - near) * (1.0 - tf.exp(-extra / self.hints_for_photo))
        return automatic + near * (steered - automatic)

    def near_hints(self, hint_mask):
        """(B, S, S, 1) 0/1 hint mask -> how near each pixel is to its nearest hinted pixel, in [0, 1]:
        exp(-d^2 / (2 hint_reach^2)) for a distance of d network pixels (a grey dilation by a Gaussian). The
        Gaussian's exponent is a sum of a row and a column term, so the 2-D dilation is a column one then a row one
        (the same maximum; 2 (6 reach + 1) terms a pixel instead of (6 reach + 1)^2)."""
        radius = int(3 * self.hint_reach)
        offsets = tf.range(-radius, radius + 1, dtype=tf.float32)
        line = -offsets ** 2 / (2.0 * self.hint_reach ** 2)
        # 0 on hinted pixels, very negative elsewhere: the dilation's max of (input + kernel) is -d^2 / 2 sigma^2
        log_near = tf.cast(hint_mask > 0, tf.float32) * 1e4 - 1e4
        for kernel in (line[:, None, None], line[None, :, None]):
            log_near = tf.nn.dilation2d(log_near, kernel, [1, 1, 1, 1], "SAME", "NHWC", [1, 1, 1, 1])
        return tf.exp(tf.maximum(log_near, -30.0))

    def near_along_edges(self, hint_mask, lightness):
        """(B, S, S, 1) 0/1 hint mask and the photo's L (B, S, S, 1) in Lab units -> exp(-g^2 / (2 hint_reach^2))
        for g the geodesic distance to the nearest hinted pixel: the shortest 8-connected path, each step costing
        sqrt(step^2 + (hint_edges dL)^2) for the lightness change dL it crosses (the L smoothed over 3x3 first,
        so that grain is not an edge). A hint's change then stops at a strong edge instead of crossing it: the hat's
        red stays off the forehead. Relaxed for 3 reach + 2 rounds (paths longer than that give exp(-4.5) or less)."""
        big = 1e4
        l = tf.nn.avg_pool2d(tf.pad(tf.cast(lightness, tf.float32), [[0, 0], [1, 1], [1, 1], [0, 0]], "SYMMETRIC"),
                             3, 1, "VALID")[..., 0]
        distance = tf.where(hint_mask[..., 0] > 0, 0.0, big)
        size = tf.shape(l)[1]
        moves = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]

        def shift(x, dy, dx, fill):  # x[i - dy, j - dx], ``fill`` where that is off the canvas
            x = tf.pad(x, [[0, 0], [1, 1], [1, 1]], constant_values=fill)
            return x[:, 1 - dy:1 - dy + size, 1 - dx:1 - dx + size]

        costs = [tf.sqrt(float(dy * dy + dx * dx) + tf.square(self.hint_edges * (l - shift(l, dy, dx, 0.0))))
                 for dy, dx in moves]
        for _ in range(int(3 * self.hint_reach) + 2):
            for (dy, dx), cost in zip(moves, costs):
                distance = tf.minimum(distance, shift(distance, dy, dx, big) + cost)
        return tf.exp(-tf.square(distance) / (2.0 * self.hint_reach ** 2))[..., None]

    def _read(self, outputs, size):
        if self.kind == "regression":
            return color.unscale_ab(outputs["ab"])
        logits = outputs["ab_bins"]
        annealed = tf.image.resize(bins.annealed_mean(logits, self.temperature), [size, size], method="bilinear")
        if self.kind == "annealed":
            return annealed
        blend = (1.0 - self.mix) * color.unscale_ab(outputs["ab"]) + self.mix * annealed
        if not self.fades:  # no fade: the spread (a pass over every bin of every cell) is not computed at all
            return blend * self.gain
        spread = bins.spread(logits)[..., None]
        sure = tf.clip_by_value((self.spread_high - spread) / (self.spread_high - self.spread_low), 0.0, 1.0)
        sure = tf.image.resize(sure, [size, size], method="bilinear")
        return blend * sure * self.gain


def count_patches(hint_mask):
    """(B, S, S, 1) 0/1 mask of square hint patches -> (B,) how many: their top-left corners (a hinted pixel with
    none above it and none left of it; patches that overlap count as one)."""
    mask = tf.cast(hint_mask > 0, tf.float32)
    above = tf.pad(mask[:, :-1], [[0, 0], [1, 0], [0, 0], [0, 0]])
    left = tf.pad(mask[:, :, :-1], [[0, 0], [0, 0], [1, 0], [0, 0]])
    return tf.reduce_sum(mask * (1.0 - above) * (1.0 - left), axis=[1, 2, 3])

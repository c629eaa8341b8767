"""From the network's two heads to one ab image: the readouts a Colorizer can use.

- ``regression``: the regression head (the mean colour; safe but desaturated).
- ``annealed``: the annealed mean of the bins head (Zhang et al. 2016; vivid, sometimes blotchy).
- ``restrained``: a blend of the two, multiplied by ``gain`` where the bins distribution is concentrated and
  faded towards grey where it is spread out (the model does not know the colour), so uncertain regions stay
  neutral instead of taking the warm average tint that regression colorizers are known for.

Every readout can also remove part of the image's mean colour cast (``cast_removal``, the grey-world assumption
of white balancing): a colorizer unsure of a photo tends to tint all of it, and a tint costs more than it gives.
"""
import dataclasses

import tensorflow as tf

from colorize import color
from colorize.errors import InputError
from colorize.model import bins

KINDS = ("regression", "annealed", "restrained")


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

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputError(f"readout must be one of {KINDS}, got {self.kind!r}")
        if not 0 < self.temperature <= 10 or not 0 <= self.mix <= 1 or self.gain < 0 or \
                not 0 <= self.cast_removal <= 1 or not 0 <= self.hinted_cast_removal <= 1:
            raise InputError(f"readout parameters out of range: {self}")
        if self.spread_high <= self.spread_low:
            raise InputError("readout spread_high must be above spread_low")

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

    def _read(self, outputs, size):
        if self.kind == "regression":
            return color.unscale_ab(outputs["ab"])
        logits = outputs["ab_bins"]
        annealed = tf.image.resize(bins.annealed_mean(logits, self.temperature), [size, size], method="bilinear")
        if self.kind == "annealed":
            return annealed
        blend = (1.0 - self.mix) * color.unscale_ab(outputs["ab"]) + self.mix * annealed
        spread = bins.spread(logits)[..., None]
        sure = tf.clip_by_value((self.spread_high - spread) / (self.spread_high - self.spread_low), 0.0, 1.0)
        sure = tf.image.resize(sure, [size, size], method="bilinear")
        return blend * sure * self.gain

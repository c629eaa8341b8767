"""Levers on the default preset's automatic colours, each measured alone with today's weights, on validation photos
and on the dev photos at full resolution; prints one JSON object (one row per lever).

    nice python bench/automatic_colours.py [--val 1024] [--photos ../shared/data/dev_photos] [--levers a,b,...]

Each photo's greyscale version is colorized (the photo's own L, rounded to 8 bits, as ``colorize evaluate`` makes
it) and scored against the photo: PSNR, AuC of the ab error (Zhang et al.), colourfulness as a share of the truth's
(Hasler & Suesstrunk) and the share of photos whose PSNR is above the grey input's. AuC is computed in closed form
(a pixel with ab error d is within t for the 151 - ceil(d) thresholds t = ceil(d) ... 150), the same number as
``colorize.evaluation.metrics.auc`` (checked on the first photo, ``auc_check``) without its 151 comparisons a
pixel. Photos are prepared once per canvas fit; each lever re-runs the network and the finish.

Levers (``today`` is the shipped default; each other row changes one thing):
  squash          the photo stretched to the network's square canvas instead of edge-padded (``fit="squash"``)
  saturation_1.2  the chroma multiplied by 1.2 in the finish (the saturation dial)
  cast_0.25/0.75  a quarter / three quarters of the photo's mean colour cast removed instead of a half
  per_pixel       the restrained blend's share of the annealed mean chosen per pixel by the bins' spread (more of
                  the vivid annealed mean where the network is sure, more regression where it is not): 0.75 at or
                  below the spread's 25th percentile on validation, 0.25 at or above its 75th;
                  per_pixel_U_S: U and S instead of 0.25 and 0.75
  tiles           squash, plus 2x2 overlapping tiles of photos of 256 px or more, each colorized on its own canvas
                  and blended with the whole photo's ab on a 128x128 grid, weighted by the bins' confidence
  guided_r2       the guided upsampling's window at radius 2 instead of 1 (edge-aware smoothing of ab by L)
  fit_p0.5        between pad and squash: the photo's short side on the canvas is S * (short / long) ** 0.5
                  (pad is power 1, squash power 0), the rest edge-padded
  fit_auto1.6     squash photos up to an aspect ratio of 1.6, pad wider ones
and ``squash+saturation_1.2`` etc.: combinations of the levers named.
"""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from colorize import color  # noqa: E402
from colorize.data.sources import iter_dataset  # noqa: E402
from colorize.evaluation import metrics  # noqa: E402
from colorize.model import bins  # noqa: E402
from colorize.pipeline import upsample  # noqa: E402
from colorize.pipeline.colorizer import Colorizer, load_pretrained  # noqa: E402
from colorize.pipeline.postprocess import Postprocessor  # noqa: E402
from colorize.pipeline.preprocess import Preprocessor  # noqa: E402
from colorize.pipeline.readout import Readout  # noqa: E402

LEVERS = ("today", "squash", "saturation_1.2", "cast_0.25", "cast_0.75", "per_pixel", "tiles", "guided_r2")
GRID = 128          # the tiles lever's blending grid (2x the canvas)
TILE_MIN_SIDE = 256  # photos with a shorter side than this are not tiled


def _log(message):
    print(message, file=sys.stderr, flush=True)


# -- scoring -----------------------------------------------------------------------------------------------------
def grey_of(truth):
    """The greyscale photo ``colorize evaluate`` gives the colorizer: L with a = b = 0, channels averaged, 8 bits."""
    grey = tf.reduce_mean(color.rgb_to_gray(truth.astype(np.float32) / 255.0), -1)
    return np.repeat(np.round(grey.numpy() * 255.0).astype(np.uint8)[..., None], 3, axis=-1)


def auc_closed_form(pred, truth):
    """``metrics.auc`` of one image pair (float RGB (H, W, 3)) in closed form."""
    d = tf.norm(color.rgb_to_lab(pred)[..., 1:] - color.rgb_to_lab(truth)[..., 1:], axis=-1)
    within = tf.clip_by_value(metrics.AUC_THRESHOLDS - tf.math.ceil(d), 0.0, metrics.AUC_THRESHOLDS)
    return float(100.0 * tf.reduce_mean(within) / metrics.AUC_THRESHOLDS)


def score(rgb8, truth):
    pred = tf.constant(rgb8, tf.float32) / 255.0
    return {"psnr": min(100.0, float(metrics.psnr(pred, truth))), "auc": auc_closed_form(pred, truth),
            "cf": float(metrics.colorfulness(pred))}


class Photos:
    """One evaluation set: truths (float tensors), greys (uint8), their grey scores, prepared photos per fit."""

    def __init__(self, name, items):
        self.name, self.names = name, [n for n, _ in items]
        self.truths = [tf.constant(t, tf.float32) / 255.0 for _, t in items]
        self.greys = [grey_of(t) for _, t in items]
        self.grey_scores = [score(g, t) for g, t in zip(self.greys, self.truths)]
        self.truth_cf = float(np.mean([float(metrics.colorfulness(t)) for t in self.truths]))
        self._prepared = {}

    def prepared(self, colorizer):
        fit = colorizer.preprocessor.fit
        if fit not in self._prepared:
            self._prepared[fit] = [colorizer.prepare(g) for g in self.greys]
        return self._prepared[fit]

    def summary(self, scores):
        mean = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
        grey = {k: float(np.mean([s[k] for s in self.grey_scores])) for k in ("psnr", "auc")}
        return {"psnr": round(mean["psnr"], 3), "auc": round(mean["auc"], 3),
                "psnr_over_grey": round(mean["psnr"] - grey["psnr"], 3),
                "auc_over_grey": round(mean["auc"] - grey["auc"], 3),
                "colourfulness_share": round(mean["cf"] / self.truth_cf, 3),
                "share_above_grey": round(float(np.mean([s["psnr"] > g["psnr"]
                                                         for s, g in zip(scores, self.grey_scores)])), 3)}


# -- the levers ----------------------------------------------------------------------------------------------------
class PerPixelReadout(Readout):
    """The restrained blend with the annealed mean's share chosen per pixel: ``mix_sure`` where the bins' spread is
    at or below ``spread_low``, ``mix_unsure`` at or above ``spread_high``, linear between."""

    mix_sure: float = 0.75
    mix_unsure: float = 0.25

    def _read(self, outputs, size):
        logits = outputs["ab_bins"]
        annealed = tf.image.resize(bins.annealed_mean(logits, self.temperature), [size, size], method="bilinear")
        spread = tf.image.resize(bins.spread(logits)[..., None], [size, size], method="bilinear")
        sure = tf.clip_by_value((self.spread_high - spread) / (self.spread_high - self.spread_low), 0.0, 1.0)
        mix = self.mix_unsure + (self.mix_sure - self.mix_unsure) * sure
        return (1.0 - mix) * color.unscale_ab(outputs["ab"]) + mix * annealed


class WidePostprocessor(Postprocessor):
    """The guided upsampling with a wider window (``radius``)."""

    radius = 2

    def coefficients(self, lightness, ab, h, w):
        if self.upsampling != "guided":
            return super().coefficients(lightness, ab, h, w)
        ab_small = ab[None, :h, :w]
        l_small = tf.image.resize(lightness[None], tf.stack([h, w]), method="area", antialias=True)
        return tf.concat(upsample.guided_coefficients(ab_small, l_small, radius=self.radius), axis=-1)


class PartialFit(Preprocessor):
    """A canvas fit between pad and squash: the short side takes S * (short / long) ** ``power`` (0 < power < 1),
    or squash up to the aspect ratio ``squash_up_to`` and pad beyond."""

    def __init__(self, input_size, power=1.0, squash_up_to=None):
        self.power, self.squash_up_to = power, squash_up_to
        super().__init__(input_size, "pad")
        self.fit = f"power{power}-squash{squash_up_to}"  # its own key for the prepared photos

    def shrink(self, lightness):
        size = self.input_size
        shape = tf.cast(tf.shape(lightness)[:2], tf.float32)
        ratio = tf.reduce_min(shape) / tf.reduce_max(shape)
        power = tf.constant(self.power, tf.float32)
        if self.squash_up_to is not None:
            power = tf.where(ratio >= 1.0 / self.squash_up_to, 0.0, 1.0)
        short = tf.maximum(1, tf.cast(tf.round(size * ratio ** power), tf.int32))
        tall = shape[0] > shape[1]
        h, w = tf.where(tall, size, short), tf.where(tall, short, size)
        small = tf.image.resize(lightness, tf.stack([h, w]), method="area", antialias=True)
        rows = tf.minimum(tf.range(size), h - 1)
        cols = tf.minimum(tf.range(size), w - 1)
        return tf.gather(tf.gather(small, rows, axis=0), cols, axis=1), h, w


def spread_range(colorizer, photos):
    """The 25th and 75th percentiles of the bins' spread on a set (validation: where the per-pixel readout's and
    the tiles' confidence scales are chosen)."""
    spreads = []
    prepared = photos.prepared(colorizer)
    for start in range(0, len(prepared), 64):
        l_in = tf.stack([p.l_input for p in prepared[start:start + 64]])
        spreads.append(bins.spread(colorizer.model(l_in, training=False)["ab_bins"]).numpy().ravel())
    spreads = np.concatenate(spreads)
    return float(np.percentile(spreads, 25)), float(np.percentile(spreads, 75))


def build(base, lever, spread):
    """The Colorizer of one lever (or of several joined by '+'), sharing ``base``'s network; -> (colorizer, extra
    options of the finish, whether to tile)."""
    readout, fit, saturation, tiles, wide = base.readout, base.preprocessor.fit, 1.0, False, False
    partial = None
    for part in lever.split("+"):
        if part.startswith("fit_p"):
            partial = {"power": float(part[len("fit_p"):])}
        elif part.startswith("fit_auto"):
            partial = {"squash_up_to": float(part[len("fit_auto"):])}
        elif part == "squash":
            fit = "squash"
        elif part.startswith("saturation_"):
            saturation = float(part.split("_")[1])
        elif part.startswith("cast_"):
            readout = Readout(**{**vars(readout), "cast_removal": float(part.split("_")[1])})
        elif part.startswith("per_pixel"):  # per_pixel[_UNSURE_SURE]: the annealed share at either end
            fields = {**vars(readout), "spread_low": spread[0], "spread_high": spread[1]}
            readout = PerPixelReadout(**fields)
            if part != "per_pixel":
                unsure, sure = (float(v) for v in part.split("_")[2:4])
                object.__setattr__(readout, "mix_unsure", unsure)
                object.__setattr__(readout, "mix_sure", sure)
        elif part == "tiles":
            fit, tiles = "squash", True
        elif part == "guided_r2":
            wide = True
        elif part != "today":
            raise SystemExit(f"unknown lever {part!r}; levers: {', '.join(LEVERS)}")
    colorizer = Colorizer(base.model, base.config, readout=readout, upsampling=base.upsampling, fit=fit,
                          name=lever, saturation=saturation)
    if partial:
        colorizer.preprocessor = PartialFit(base.config.input_size, **partial)
    if wide:
        colorizer.postprocessor = WidePostprocessor(base.config.input_size, readout, base.upsampling)
    return colorizer, tiles


def tile_boxes(height, width):
    """2x2 overlapping tiles (each 5/8 of the side) -> (top, bottom, left, right) in the photo's pixels."""
    th, tw = math.ceil(height * 5 / 8), math.ceil(width * 5 / 8)
    return [(top, top + th, left, left + tw) for top in (0, height - th) for left in (0, width - tw)]


def tiled_ab(colorizer, prepared, grey, spread):
    """The whole photo's ab and its tiles' ab, each with the confidence exp(-spread / scale) and a tent window over
    the tile (so that the seams blend), averaged on a GRID x GRID canvas; the cast is removed after the blend."""
    size = colorizer.config.input_size
    height, width = grey.shape[:2]
    boxes = tile_boxes(height, width)
    parts = [prepared] + [colorizer.prepare(grey[t:b, lft:r]) for t, b, lft, r in boxes]
    outputs = colorizer.model(tf.stack([p.l_input for p in parts]), training=False)
    plain = Readout(**{**vars(colorizer.readout), "cast_removal": 0.0})
    ab = plain(outputs, size)
    confidence = tf.exp(-tf.image.resize(bins.spread(outputs["ab_bins"])[..., None], [size, size]) /
                        max(spread[1] - spread[0], 1e-3))
    total = tf.image.resize(ab[:1] * confidence[:1], [GRID, GRID])[0]
    weight = tf.image.resize(confidence[:1], [GRID, GRID])[0]
    for i, (t, b, lft, r) in enumerate(boxes, start=1):
        y0, y1 = round(t * GRID / height), round(b * GRID / height)
        x0, x1 = round(lft * GRID / width), round(r * GRID / width)
        ramp_y = 1.0 - np.abs(np.linspace(-1, 1, y1 - y0)) * 0.9
        ramp_x = 1.0 - np.abs(np.linspace(-1, 1, x1 - x0)) * 0.9
        window = tf.constant((ramp_y[:, None] * ramp_x[None, :])[..., None], tf.float32)
        w_i = tf.image.resize(confidence[i:i + 1], [y1 - y0, x1 - x0])[0] * window
        a_i = tf.image.resize(ab[i:i + 1], [y1 - y0, x1 - x0])[0]
        pad = [[y0, GRID - y1], [x0, GRID - x1], [0, 0]]
        total += tf.pad(a_i * w_i, pad)
        weight += tf.pad(w_i, pad)
    blended = total / weight
    blended -= colorizer.readout.cast_removal * tf.reduce_mean(blended, axis=[0, 1], keepdims=True)
    return blended.numpy()


def run_lever(base, lever, photos, spread, batch=32):
    colorizer, tiles = build(base, lever, spread)
    prepared = photos.prepared(colorizer)
    grid = Postprocessor(GRID, colorizer.readout, colorizer.upsampling) if tiles else None
    scores = []
    for start in range(0, len(prepared), batch):
        part = prepared[start:start + batch]
        ab = colorizer.predict_ab(part)
        for i, (p, ab_i) in enumerate(zip(part, ab)):
            grey = photos.greys[start + i]
            if tiles and min(grey.shape[:2]) >= TILE_MIN_SIDE:
                rgb = grid.finish(p.lightness, tiled_ab(colorizer, p, grey, spread), GRID, GRID,
                                  saturation=colorizer.saturation)
            else:
                rgb = colorizer.finish(p, ab_i)
            scores.append(score(rgb, photos.truths[start + i]))
    return photos.summary(scores)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--val", type=int, default=1024, help="validation photos (tfds:tiny_imagenet_color)")
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "tfds"))
    parser.add_argument("--photos", default=str(REPO.parent / "shared" / "data" / "dev_photos"))
    parser.add_argument("--levers", default=",".join(LEVERS), help="comma-separated levers (a+b: both at once)")
    parser.add_argument("--preset", help="the preset to measure (default: the default preset)")
    args = parser.parse_args()
    base = load_pretrained(args.preset)
    sets = []
    if args.val:
        sets.append(Photos("validation", list(iter_dataset("tfds:tiny_imagenet_color:validation", limit=args.val,
                                                           data_dir=args.data_dir))))
    if args.photos and Path(args.photos).is_dir():
        sets.append(Photos("dev_photos", list(iter_dataset(args.photos))))
    _log("sets: " + ", ".join(f"{s.name} ({len(s.greys)})" for s in sets))
    calibration = sets[0] if args.val else Photos("calibration", list(iter_dataset(
        "tfds:tiny_imagenet_color:validation", limit=256, data_dir=args.data_dir)))
    spread = spread_range(base, calibration)  # the confidence scales come from validation photos only
    first = sets[-1]
    check = float(metrics.auc(tf.constant(first.greys[0], tf.float32) / 255.0, first.truths[0]))
    report = {"preset": base.name, "readout": vars(base.readout), "fit": base.preprocessor.fit,
              "spread_p25_p75": [round(v, 2) for v in spread],
              "auc_check": {"closed_form": round(first.grey_scores[0]["auc"], 4), "metrics.auc": round(check, 4)},
              "grey": {s.name: s.summary(s.grey_scores) for s in sets},
              "truth_colourfulness": {s.name: round(s.truth_cf, 3) for s in sets}, "levers": []}
    for lever in args.levers.split(","):
        row = {"lever": lever}
        for s in sets:
            start = time.perf_counter()
            row[s.name] = run_lever(base, lever, s, spread)
            row[s.name]["seconds"] = round(time.perf_counter() - start, 1)
        report["levers"].append(row)
        _log(json.dumps(row))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

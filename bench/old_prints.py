"""Old prints as they come: the dev photos made into faded, toned, framed, grainy, scratched, dusty and
JPEG-blocked greys by seeded code, colorized with a preset, scored for colour only; prints one JSON object.

    nice python bench/old_prints.py [--photos ../shared/data/dev_photos] [--preset NAME] [--limit N] [--keep-border]

Each photo (as stored, 1024 px wide) is made grey (its own L, 8 bits, as ``colorize evaluate`` makes it) and then
degraded, one degradation a row (strengths in 8-bit grey levels and pixels of the photo; photo ``i`` uses
``numpy.random.default_rng(i)``):

  clean      the grey itself
  grain      film grain: Gaussian noise of sigma 10 added to each pixel
  blur       a Gaussian blur of sigma 1.2 px
  faded      contrast faded: grey levels 0-255 squeezed linearly into 40-200
  sepia      a sepia-toned print: the grey's L (0-100) read as 6 + 0.86 L (lighter blacks, cream paper), with
             a = 3 s, b = 16 s, s = sin(pi L / 100) (warm brown mid-tones), back to sRGB
  border     a white (255) border of 7% of the photo's width on the left and right, 7% of its height on the top
             and bottom; the output is cropped back to the photo before scoring
  scratches  8 straight bright (235-255) scratches, 1-2 px wide, at random angles within 20 degrees of vertical
  dust       400 specks of radius 1-3 px, three quarters dark (0-40), a quarter bright (215-255)
  jpeg       re-encoded as JPEG at quality 12 (8x8 blocks)
  combined   faded, sepia, grain, dust and border together (not a target; how they add up)

Scored colour only: the output's ab on the truth's own L (the input's tones changed by a degradation are not
counted against the colours), against the truth, PSNR in dB; ``over_grey`` is the mean PSNR minus that of the grey
(the truth's L, ab = 0), ``minus_clean`` the row's mean PSNR minus the clean row's. Targets (issue 30): every
degradation within 0.15 dB of clean and at least grey + 0.3 dB.
"""
import argparse
import io
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402
from scipy import ndimage  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from colorize import color  # noqa: E402
from colorize.evaluation import metrics  # noqa: E402
from colorize.pipeline.colorizer import load_pretrained  # noqa: E402
from colorize.presets import get_preset  # noqa: E402

DEGRADATIONS = ("clean", "grain", "blur", "faded", "sepia", "border", "scratches", "dust", "jpeg", "combined")
BORDER = 0.07


def grey_of(truth):
    """uint8 RGB -> the 8-bit grey of its L (R = G = B), as ``colorize evaluate`` gives the colorizer."""
    grey = tf.reduce_mean(color.rgb_to_gray(truth.astype(np.float32) / 255.0), -1)
    return np.round(grey.numpy() * 255.0).astype(np.uint8)


def _to8(x):
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def grain(g, rng):
    return _to8(g + rng.normal(0.0, 10.0, g.shape))


def blur(g, rng):
    return _to8(ndimage.gaussian_filter(g.astype(np.float32), 1.2))


def faded(g, rng):
    return _to8(40.0 + g.astype(np.float32) * (160.0 / 255.0))


def sepia(g, rng):
    l = color.rgb_to_lab(np.repeat(g[..., None], 3, -1).astype(np.float32) / 255.0).numpy()[..., 0]
    s = np.sin(np.pi * np.clip(l, 0, 100) / 100.0)
    lab = np.stack([6.0 + 0.86 * l, 3.0 * s, 16.0 * s], -1).astype(np.float32)
    return _to8(np.clip(color.lab_to_rgb(lab).numpy(), 0, 1) * 255.0)


def border(g, rng):
    h, w = g.shape[:2]
    dy, dx = round(BORDER * h), round(BORDER * w)
    pad = [(dy, dy), (dx, dx)] + [(0, 0)] * (g.ndim - 2)
    return np.pad(g, pad, constant_values=255)


def scratches(g, rng):
    out = g.astype(np.float32)
    h, w = g.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(8):
        x0, angle = rng.uniform(0, w), np.radians(rng.uniform(-20, 20))
        # distance of each pixel from the line through (x0, h/2) at the angle from vertical
        d = np.abs((xx - x0) * np.cos(angle) - (yy - h / 2) * np.sin(angle))
        out = np.where(d < rng.uniform(0.5, 1.0), rng.uniform(235, 255), out)
    return _to8(out)


def dust(g, rng):
    out = g.copy()
    h, w = g.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(400):
        y, x, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(1, 3)
        y0, y1, x0, x1 = max(0, int(y - r)), min(h, int(y + r) + 1), max(0, int(x - r)), min(w, int(x + r) + 1)
        spot = (yy[y0:y1, x0:x1] - y) ** 2 + (xx[y0:y1, x0:x1] - x) ** 2 <= r * r
        value = rng.uniform(0, 40) if rng.uniform() < 0.75 else rng.uniform(215, 255)
        out[y0:y1, x0:x1][spot] = _to8(value)
    return out


def jpeg(g, rng):
    buffer = io.BytesIO()
    Image.fromarray(g).save(buffer, format="JPEG", quality=12)
    return np.asarray(Image.open(buffer).convert("L"))


def combined(g, rng):
    toned = sepia(faded(g, rng), rng)
    return border(dust(grain(toned, rng), rng), rng)


def degrade(name, g, rng):
    """The grey (H, W) uint8 -> the degraded input (H', W', 3) uint8 and the (top, left, h, w) of the photo in it."""
    out = globals()[name](g, rng) if name != "clean" else g
    out = out if out.ndim == 3 else np.repeat(out[..., None], 3, -1)
    h, w = g.shape
    if name in ("border", "combined"):
        return out, (round(BORDER * h), round(BORDER * w), h, w)
    return out, (0, 0, h, w)


def colour_only_psnr(rgb8, truth_lab, truth):
    """The output's ab on the truth's L, against the truth (float RGB in [0, 1])."""
    ab = color.rgb_to_lab(rgb8.astype(np.float32) / 255.0)[..., 1:]
    pred = tf.clip_by_value(color.lab_to_rgb(tf.concat([truth_lab[..., :1], ab], -1)), 0.0, 1.0)
    return min(100.0, float(metrics.psnr(pred, truth)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=str(REPO.parent / "shared" / "data" / "dev_photos"))
    parser.add_argument("--preset", default=None, help="a preset name (default: the shipped one)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N photos")
    parser.add_argument("--degradations", default=",".join(DEGRADATIONS))
    parser.add_argument("--keep-border", action="store_true", help="colorize with border detection off")
    args = parser.parse_args(argv)
    names = args.degradations.split(",")
    files = sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    files = files[:args.limit] if args.limit else files
    options = {"border": False} if args.keep_border else {}
    colorizer = load_pretrained(args.preset, **options)
    preset = get_preset(args.preset)
    start = time.time()
    scores = {n: [] for n in names}
    grey_scores = []
    for i, path in enumerate(files):
        truth8 = np.asarray(Image.open(path).convert("RGB"))
        truth = tf.constant(truth8, tf.float32) / 255.0
        truth_lab = color.rgb_to_lab(truth)
        g = grey_of(truth8)
        grey_scores.append(colour_only_psnr(np.repeat(g[..., None], 3, -1), truth_lab, truth))
        for name in names:
            degraded, (top, left, h, w) = degrade(name, g, np.random.default_rng(i))
            out = colorizer.colorize(degraded)[top:top + h, left:left + w]
            scores[name].append(colour_only_psnr(out, truth_lab, truth))
        print(f"{i + 1}/{len(files)} {path.name} {time.time() - start:.0f}s", file=sys.stderr, flush=True)
    grey = float(np.mean(grey_scores))
    clean = float(np.mean(scores["clean"])) if "clean" in scores else math.nan
    rows = {n: {"psnr": round(float(np.mean(s)), 3), "over_grey": round(float(np.mean(s)) - grey, 3),
                "minus_clean": round(float(np.mean(s)) - clean, 3)} for n, s in scores.items()}
    targets = [n for n in names if n not in ("clean", "combined")]
    print(json.dumps({
        "preset": preset.name, "sha256": preset.sha256, "photos": len(files), "border_detection": not args.keep_border,
        "grey_psnr": round(grey, 3), "rows": rows,
        "targets_met": {n: bool(rows[n]["minus_clean"] >= -0.15 and rows[n]["over_grey"] >= 0.3) for n in targets},
        "seconds": round(time.time() - start, 1)}, indent=1))


if __name__ == "__main__":
    main()

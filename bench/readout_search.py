"""Compare readouts of one set of weights on validation (64x64) and on large photos (scaled to 256 px), and print
one JSON object: PSNR / AuC / colorfulness of each readout beside the grey baseline.

    python bench/readout_search.py --weights W.weights.h5 --sha256 H [--val 512] [--photos DIR]

Select on validation; the photos column is a check on photos unlike the training data.
"""
import argparse
import itertools
import json
import os
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from colorize import color
from colorize import io as imageio
from colorize.config import load_config  # noqa: E402
from colorize.data import streams as data
from colorize.evaluation import metrics
from colorize.model import bins  # noqa: E402
from colorize.model.network import build_model  # noqa: E402
from colorize.model.weights import load_weights  # noqa: E402
from colorize.pipeline.colorizer import Colorizer  # noqa: E402
from colorize.pipeline.readout import Readout  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _score(rgb_pred, rgb_true):
    return {"psnr": float(tf.reduce_mean(metrics.psnr(rgb_pred, rgb_true))),
            "auc": float(tf.reduce_mean(metrics.auc(rgb_pred, rgb_true))),
            "cf": float(tf.reduce_mean(metrics.colorfulness(rgb_pred)))}


def _to_rgb(l, ab):
    return color.lab_to_rgb(color.fit_chroma_to_gamut(tf.concat([l, ab], -1)))


def validation_set(config, count):
    config.data.val_limit = count
    ls, abs_ = [], []
    for l, ab in data.val_dataset(config, batch_size=128):
        ls.append(l)
        abs_.append(ab)
    l = tf.concat(ls, 0)
    truth = color.lab_to_rgb(tf.concat([l * 50 + 50, tf.concat(abs_, 0) * color.AB_SCALE], -1))
    return l, truth


def photo_set(colorizer, folder, side=256):
    from PIL import Image
    items = []
    for path in imageio.list_images([folder]):
        im = Image.open(path).convert("RGB")
        im.thumbnail((side, side), Image.Resampling.LANCZOS)
        rgb = np.asarray(im, np.float32) / 255.0
        l_in, l_full, h, w = colorizer.preprocessor(rgb)
        items.append((rgb, l_in, l_full, int(h), int(w)))
    return items


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--sha256", required=True)
    parser.add_argument("--config", default=str(REPO / "configs" / "tiny_imagenet_64.yaml"))
    parser.add_argument("--val", type=int, default=512)
    parser.add_argument("--photos", default=str(REPO.parent / "shared" / "data" / "dev_photos"))
    args = parser.parse_args()
    config = load_config(args.config)
    model = load_weights(build_model(config), args.weights, args.sha256, "the model under test")
    size = config.model.input_size
    l_val, truth_val = validation_set(config, args.val)
    out_val = model.predict(l_val, batch_size=128, verbose=0)
    spread = bins.spread(out_val["ab_bins"]).numpy().ravel()
    pct = {p: float(np.percentile(spread, p)) for p in (10, 25, 50, 75, 90, 95)}
    lightness = l_val * 50 + 50

    colorizer = Colorizer(model, config.model, upsampling="bilinear")
    photos = photo_set(colorizer, args.photos) if Path(args.photos).is_dir() else []
    photo_out = [model(item[1][None], training=False) for item in photos]

    candidates = []
    for cast in (0.0, 0.5, 1.0):
        candidates += [Readout("regression", cast_removal=cast)]
        candidates += [Readout("annealed", temperature=t, cast_removal=cast) for t in (0.38, 1.0)]
        for mix, gain, (lo, hi) in itertools.product((0.0, 0.25, 0.5), (1.0, 1.25, 1.5, 2.0),
                                                     ((0, 1e9), (50, 95), (25, 95))):
            candidates.append(Readout("restrained", temperature=0.38, mix=mix, gain=gain, cast_removal=cast,
                                      spread_low=pct.get(lo, lo), spread_high=pct.get(hi, hi)))
    grey_val = _score(color.lab_to_rgb(tf.concat([lightness, tf.zeros_like(lightness)[..., :1] * [0, 0]], -1)),
                      truth_val)
    grey_photos = truth_cf = None
    if photos:
        grey = [_score(_to_rgb(item[2], tf.zeros_like(item[2]) * [0, 0])[None], tf.constant(item[0])[None])
                for item in photos]
        grey_photos = {k: float(np.mean([s[k] for s in grey])) for k in grey[0]}
        truth_cf = float(np.mean([float(metrics.colorfulness(tf.constant(p[0])[None])[0]) for p in photos]))
    print(json.dumps({"grey_val": grey_val, "grey_photos": grey_photos}), file=sys.stderr)
    results = []
    for readout in candidates:
        row = {"readout": {k: round(v, 3) if isinstance(v, float) else v for k, v in vars(readout).items()}}
        row["val"] = _score(_to_rgb(lightness, readout(out_val, size)), truth_val)
        if photos:
            scores = []
            for (rgb, _, l_full, h, w), out in zip(photos, photo_out):
                ab = readout(out, size)[:, :h, :w]
                ab = tf.image.resize(ab, l_full.shape[:2], method="bilinear")[0]
                truth = tf.constant(rgb)
                scores.append(_score(_to_rgb(l_full, ab)[None], truth[None]))
            row["photos"] = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
            row["photos_beating_grey"] = float(np.mean([s["psnr"] > g["psnr"] for s, g in zip(scores, grey)]))
        results.append(row)
        print(json.dumps(row), file=sys.stderr)
    truth_cf_val = float(tf.reduce_mean(metrics.colorfulness(truth_val)))
    print(json.dumps({"weights": os.path.basename(args.weights), "spread_percentiles": pct,
                      "grey": {"val": grey_val, "photos": grey_photos},
                      "truth_colorfulness": {"val": truth_cf_val, "photos": truth_cf},
                      "results": results}))


if __name__ == "__main__":
    main()

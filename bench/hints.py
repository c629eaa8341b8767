"""How a hint model uses colour hints: the hint curve, obedience at the hint points, and a hint's reach.

For each photo (the validation split's first ``--val`` colour photos at 64x64, and the large photos in ``--photos``
at full resolution), hints are sampled from the truth the way ``colorize evaluate --hints N`` does it (the mean
colour of a small window at N random points, a fixed sequence per photo, so 10 hints include the 5), and the
greyscale version of the photo is colorized with the first N of them:

* curve: PSNR / AuC / colourfulness for N in ``--counts``, beside the grey baseline (and, with
  ``--baseline-preset``, the automatic colours of that preset);
* obedience: at every hint point, the ab distance between the output and the hint's colour (median, p90);
* reach: with one hint, against no hint: the share of the hint's own segment (Felzenszwalb segmentation of the
  truth: the hinted object) whose ab moved at least 1 unit towards the hint, and the share of the rest of the photo
  whose ab changed by more than 2 units;
* bleed: the same change split by distance from the hint (the photo's long side / 8): the share of the other
  objects near the hint that changed by more than 2 ab (what crossed the hinted object's edge: the forehead under
  the red hat), and the share of the far photo (other objects, farther than that) left untouched (< 2 ab).

    python bench/hints.py [--preset bigru_fusion_64_hints] [--val 1024] [--photos ../shared/data/dev_photos]
        [--photo-limit N] [--counts 0,1,10] [--readout-option hint_reach=0 ...]

Prints one JSON object on stdout (progress on stderr).
"""
import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from colorize import color  # noqa: E402
from colorize.config import load_config  # noqa: E402
from colorize.data import iter_dataset  # noqa: E402
from colorize.evaluation.hint_sampling import evaluation_hints  # noqa: E402
from colorize.evaluation.scoring import evaluate  # noqa: E402
from colorize.pipeline import hints  # noqa: E402
from colorize.pipeline.colorizer import Colorizer  # noqa: E402


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def _ab(rgb_uint8):
    return color.rgb_to_lab(np.asarray(rgb_uint8, np.float32) / 255.0).numpy()[..., 1:]


def _summary(result):
    return {"model": {k: round(v, 3) for k, v in result["model"].items() if k != "ssim"},
            "grey": {k: round(v, 3) for k, v in result["grey"].items() if k != "ssim"},
            "truth_colorfulness": round(result["truth"]["colorfulness"], 3)}


def _obedience(truths, outputs, count, seed):
    errors = []
    for index, (truth, output) in enumerate(zip(truths, outputs)):
        given = evaluation_hints(truth, count, seed, index)
        parsed = hints.parse_hints(given, *truth.shape[:2])
        got = _ab(np.stack([output[int(h.y), int(h.x)] for h in parsed]))
        errors += list(np.hypot(*(got - np.array([h.ab for h in parsed])).T))
    return {"median": round(float(np.median(errors)), 3), "p90": round(float(np.percentile(errors, 90)), 3),
            "points": len(errors)}


def _reach(truths, without, with_one, seed):
    from skimage.segmentation import felzenszwalb
    inside, outside, closer, near_bleed, far_kept = [], [], [], [], []
    for index, (truth, a0, a1) in enumerate(zip(truths, without, with_one)):
        (hint,) = hints.parse_hints(evaluation_hints(truth, 1, seed, index), *truth.shape[:2])
        segments = felzenszwalb(truth, scale=200, sigma=0.8, min_size=max(20, truth.shape[0] * truth.shape[1] // 400))
        own = segments == segments[int(hint.y), int(hint.x)]
        ab0, ab1 = _ab(a0), _ab(a1)
        target = np.array(hint.ab)
        gain = np.linalg.norm(ab0 - target, axis=-1) - np.linalg.norm(ab1 - target, axis=-1)
        changed = np.linalg.norm(ab1 - ab0, axis=-1) > 2.0
        inside.append(float((gain[own] >= 1.0).mean()))
        closer.append(float(gain[own].mean()))
        outside.append(float(changed[~own].mean()) if (~own).any() else 0.0)
        rows, cols = np.mgrid[:truth.shape[0], :truth.shape[1]]
        close = np.hypot(rows + 0.5 - hint.y, cols + 0.5 - hint.x) <= max(truth.shape[:2]) / 8
        if (~own & close).any():
            near_bleed.append(float(changed[~own & close].mean()))
        if (~own & ~close).any():
            far_kept.append(float(1.0 - changed[~own & ~close].mean()))
    return {"segment_share_moved_towards_hint": round(float(np.mean(inside)), 3),
            "segment_mean_ab_gain": round(float(np.mean(closer)), 3),
            "rest_share_changed": round(float(np.mean(outside)), 3),
            "bleed_near_share_changed": round(float(np.mean(near_bleed)), 3),
            "far_share_untouched": round(float(np.mean(far_kept)), 3)}


def measure(colorizer, truths, counts, seed, label):
    report, outputs = {"images": len(truths), "curve": {}, "obedience": {}}, {}
    for n in counts:
        t = time.time()
        captured = []
        result = evaluate(colorizer, truths, hints=n, seed=seed, batch_size=32,
                          on_image=lambda name, grey, out, truth: captured.append(out))
        report["curve"][str(n)] = _summary(result)
        outputs[n] = captured
        if n:
            report["obedience"][str(n)] = _obedience(truths, captured, n, seed)
        _log(f"{label}: {n} hints: PSNR {result['model']['psnr']:.3f} (grey {result['grey']['psnr']:.3f}) "
             f"[{time.time() - t:.0f} s]")
    if 0 in outputs and 1 in outputs:
        report["reach_one_hint"] = _reach(truths, outputs[0], outputs[1], seed)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="bigru_fusion_64_hints")
    parser.add_argument("--weights", help="a .weights.h5 instead of the preset (with --config, --sha256)")
    parser.add_argument("--config")
    parser.add_argument("--sha256")
    parser.add_argument("--readout", help="override the preset's readout kind")
    parser.add_argument("--baseline-preset", default="bigru_fusion_64",
                        help="also score this preset's automatic colours ('' to skip)")
    parser.add_argument("--val", type=int, default=1024, help="validation photos (0 to skip)")
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "tfds"))
    parser.add_argument("--photos", default=str(REPO.parent / "shared" / "data" / "dev_photos"))
    parser.add_argument("--photo-limit", type=int, help="only the first N large photos (quicker runs while tuning)")
    parser.add_argument("--readout-option", action="append", default=[], metavar="KEY=VALUE",
                        help="override one of the readout's numbers, e.g. hint_reach=0 (repeatable)")
    parser.add_argument("--counts", default="0,1,2,5,10,20,50")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    options = {"readout": args.readout} if args.readout else {}
    if args.weights:
        colorizer = Colorizer.from_weights(args.weights, load_config(args.config), args.sha256, **options)
    else:
        colorizer = Colorizer.from_preset(args.preset, **options)
    if args.readout_option:
        changes = {key: float(value) for key, value in (o.split("=", 1) for o in args.readout_option)}
        colorizer = Colorizer(colorizer.model, colorizer.config, dataclasses.replace(colorizer.readout, **changes),
                              name=colorizer.name)
    counts = [int(c) for c in args.counts.split(",")]
    sets = {}
    if args.val and Path(args.data_dir).is_dir():
        sets["validation"] = [im for _, im in iter_dataset("tfds:tiny_imagenet_color:validation", limit=args.val,
                                                           data_dir=args.data_dir)]
    if Path(args.photos).is_dir():
        sets["photos"] = [im for _, im in iter_dataset(args.photos, limit=args.photo_limit)]
    if not sets:
        _log("no data: neither the validation split nor the photos folder was found")
        return 1
    report = {"model": colorizer.name, "readout": dataclasses.asdict(colorizer.readout), "seed": args.seed,
              "counts": counts}
    for label, truths in sets.items():
        report[label] = measure(colorizer, truths, counts, args.seed, label)
        if args.baseline_preset:
            baseline = Colorizer.from_preset(args.baseline_preset)
            report[label]["baseline_automatic"] = {"preset": args.baseline_preset,
                                                   **_summary(evaluate(baseline, truths, batch_size=32))}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

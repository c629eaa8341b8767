"""Choose a preset's weights and readout on a tuning split, then report on photos that no choice has seen; prints
one JSON object.

    nice python bench/select_preset.py --run WORKDIR [--steps 9000,10000,10822] [--baseline bigru_fusion_64]

The splits (issue 29, cause 3: the figures on a card must not be the figures it was tuned on):

- ``tune``: Tiny ImageNet validation ``[:1024]`` (what training validates on) and the dev photos whose file-name hash
  (``colorize.evaluation.splits``) is below 0.5, at full resolution;
- ``report``: Tiny ImageNet validation ``[5000:6024]`` and the other half of the dev photos. ``dev_all`` (all 48)
  is printed too, for comparison with earlier cards, and is half tuned-on.

Candidates are every kept checkpoint named by ``--steps`` (or the run's newest) and the ``--baseline`` preset, each
with a grid of restrained readouts (the annealed mean's share ``mix``, ``gain``, ``cast_removal`` and the fade by the
bins' spread, off or between two of its percentiles on the tuning validation photos). The rule: among candidates
whose colourfulness is at least ``--min-colour`` of the truth's on both tuning sets, the highest mean PSNR over grey
of the two; if none reaches it, the most colourful. Validation photos are 64x64, the network's own size: their
ab is read out and converted in one batch; dev photos go through ``Colorizer.finish`` (guided upsampling at full
resolution, the gamut fit) exactly as ``colorize predict`` does.
"""
import argparse
import dataclasses
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from automatic_colours import Photos, score  # noqa: E402

from colorize import color  # noqa: E402
from colorize.config import load_config  # noqa: E402
from colorize.data.sources import iter_dataset  # noqa: E402
from colorize.evaluation.splits import REPORT_VAL, TUNE_VAL, split_photos  # noqa: E402
from colorize.model import bins  # noqa: E402
from colorize.model.network import build_model  # noqa: E402
from colorize.model.weights import load_weights, sha256_of  # noqa: E402
from colorize.pipeline.colorizer import Colorizer, load_pretrained  # noqa: E402
from colorize.pipeline.postprocess import photo_area  # noqa: E402
from colorize.pipeline.readout import Readout  # noqa: E402
from colorize.training import export_checkpoint  # noqa: E402


def _log(message):
    print(message, file=sys.stderr, flush=True)


class Outputs:
    """One colorizer's network outputs on a set of ``Photos`` (computed once; every readout reuses them)."""

    def __init__(self, colorizer, photos, batch=64):
        self.colorizer, self.photos = colorizer, photos
        prepared = photos.prepared(colorizer)
        self.parts = []
        for start in range(0, len(prepared), batch):
            part = prepared[start:start + batch]
            outputs = colorizer.model(tf.stack([p.l_input for p in part]), training=False)
            heights = tf.stack([p.box_height for p in part])
            widths = tf.stack([p.box_width for p in part])
            self.parts.append((part, {k: outputs[k] for k in ("ab", "ab_bins")},
                               photo_area(heights, widths, colorizer.config.input_size)))

    def spread_percentiles(self, which=(25, 50, 90, 95)):
        spread = np.concatenate([bins.spread(o["ab_bins"]).numpy().ravel() for _, o, _ in self.parts])
        return {p: float(np.percentile(spread, p)) for p in which}

    def scores(self, readout, full_resolution):
        size, scores = self.colorizer.config.input_size, []
        for part, outputs, area in self.parts:
            ab = readout(outputs, size, area).numpy()
            if full_resolution:
                rgbs = [self.colorizer.finish(p, ab_i) for p, ab_i in zip(part, ab)]
            else:  # 64x64 photos on a 64x64 canvas: the ab is the photo's own, converted in one batch
                lab = tf.concat([tf.stack([p.lightness for p in part]), ab], -1)
                rgbs = np.round(color.lab_to_rgb(color.fit_chroma_to_gamut(lab)).numpy() * 255).astype(np.uint8)
            start = len(scores)
            scores += [score(rgb, self.photos.truths[start + i]) for i, rgb in enumerate(rgbs)]
        return self.photos.summary(scores)


GRIDS = {  # mix, gain, cast removal, fade (off, or between two percentiles of the spread)
    "full": ((0.0, 0.25, 0.5, 0.75), (1.0, 1.25, 1.5), (0.0, 0.25, 0.5), ("off", (50, 95), (25, 90))),
    "small": ((0.25, 0.5, 0.75), (1.0, 1.25), (0.25, 0.5), ("off", (50, 95))),
}


def readouts(spread, grid="full"):
    """The readout grid, ``spread``: the bins' spread percentiles on the tuning validation photos."""
    mixes, gains, casts, fades = GRIDS[grid]
    return [Readout("restrained", temperature=0.38, mix=mix, gain=gain, cast_removal=cast,
                    spread_low=0.0 if fade == "off" else spread[fade[0]],
                    spread_high=1e9 if fade == "off" else spread[fade[1]])
            for mix, gain, cast, fade in itertools.product(mixes, gains, casts, fades)]


def objective(row, min_colour):
    """(feasible, value): the selection rule of the module's docstring, as a sort key."""
    sets = (row["tune_val"], row["tune_dev"])
    if all(s["colourfulness_share"] >= min_colour for s in sets):
        return 1, float(np.mean([s["psnr_over_grey"] for s in sets]))
    return 0, float(min(s["colourfulness_share"] for s in sets))


def candidates(args, config, scratch):
    """(label, Colorizer) of every candidate set of weights: the baseline preset and the run's checkpoints."""
    found = []
    if args.baseline:
        found.append((f"preset:{args.baseline}", load_pretrained(args.baseline)))
    steps = [s for s in args.steps.split(",") if s] if args.steps else []
    sources = [Path(args.run) / "checkpoints" / f"ckpt-{s}" for s in steps] or ([Path(args.run)] if args.run else [])
    for source in sources:
        target = Path(scratch) / f"{source.name}.weights.h5"
        export_checkpoint(config, source, target)
        model = load_weights(build_model(config.model), target, sha256_of(target), source.name)
        found.append((str(source), Colorizer(model, config.model, readout=Readout("restrained"), name=source.name)))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="a training workdir whose checkpoints are candidates")
    parser.add_argument("--steps", help="comma-separated checkpoint steps of --run (default: its newest)")
    parser.add_argument("--baseline", default="bigru_fusion_64", help="a preset to compare ('' for none)")
    parser.add_argument("--config", default=str(REPO / "configs" / "tiny_imagenet_64.yaml"))
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "tfds"))
    parser.add_argument("--photos", default=str(REPO.parent / "shared" / "data" / "dev_photos"))
    parser.add_argument("--grid", choices=sorted(GRIDS), default="full", help="the readout grid (small: 24)")
    parser.add_argument("--all-rows", action="store_true", help="print every readout's tuning figures too")
    parser.add_argument("--min-colour", type=float, default=0.6)
    parser.add_argument("--readout", help="score only this readout (JSON) instead of the grid, on every set")
    args = parser.parse_args()
    config = load_config(args.config)
    tfds = lambda split: Photos(split, list(iter_dataset(f"tfds:tiny_imagenet_color:{split}",  # noqa: E731
                                                         data_dir=args.data_dir)))
    tune_dev, report_dev = split_photos(iter_dataset(args.photos))
    sets = {"tune_val": tfds(TUNE_VAL), "tune_dev": Photos("tune_dev", tune_dev)}
    reports = {"report_val": tfds(REPORT_VAL), "report_dev": Photos("report_dev", report_dev),
               "dev_all": Photos("dev_all", tune_dev + report_dev)}
    full = {"tune_val": False, "tune_dev": True, "report_val": False, "report_dev": True, "dev_all": True}
    result = {"splits": {"tune": {"val": TUNE_VAL, "dev": sorted(n for n, _ in tune_dev)},
                         "report": {"val": REPORT_VAL, "dev": sorted(n for n, _ in report_dev)}},
              "rule": f"colourfulness >= {args.min_colour} of the truth's on both tuning sets, then the best mean "
                      "PSNR over grey of the two", "candidates": []}
    with tempfile.TemporaryDirectory() as scratch:
        for label, colorizer in candidates(args, config, scratch):
            began = time.perf_counter()
            outs = {name: Outputs(colorizer, photos) for name, photos in sets.items()}
            spread = outs["tune_val"].spread_percentiles()
            grid = [Readout(**json.loads(args.readout))] if args.readout else readouts(spread, args.grid)
            card = colorizer.readout if label.startswith("preset:") else None
            rows = []
            for readout in ([card] if card and not args.readout else []) + grid:
                row = {"readout": dataclasses.asdict(readout)}
                row.update({name: out.scores(readout, full[name]) for name, out in outs.items()})
                rows.append(row)
            entry = {"weights": label, "spread_percentiles": spread}
            if card is not None and not args.readout:  # today's figures: the card's readout, on every set
                entry["card_readout"] = {**rows[0], **{name: Outputs(colorizer, photos).scores(card, full[name])
                                                       for name, photos in reports.items()}}
            chosen = max(rows, key=lambda r: objective(r, args.min_colour))
            report = {name: Outputs(colorizer, photos).scores(Readout(**chosen["readout"]), full[name])
                      for name, photos in reports.items()}
            entry.update(chosen=chosen, report=report, seconds=round(time.perf_counter() - began, 1))
            if args.all_rows:
                entry["rows"] = rows
            _log(json.dumps(entry))
            result["candidates"].append(entry)
    best = max(result["candidates"], key=lambda e: objective(e["chosen"], args.min_colour))
    result["selected"] = {"weights": best["weights"], "readout": best["chosen"]["readout"], "report": best["report"]}
    result["truth_colourfulness"] = {name: round(p.truth_cf, 3) for name, p in {**sets, **reports}.items()}
    result["grey"] = {name: p.summary(p.grey_scores) for name, p in {**sets, **reports}.items()}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

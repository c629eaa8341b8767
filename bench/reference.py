"""What reference matching costs: a 1024x768 grey photo colorized with a same-size colour reference.

Stages (seconds, the median of ``--repeats`` runs after one warm-up): ``prepare_reference`` (decode the reference
file, shrink, Lab, the greyscale check), ``features`` (the network's encoder and the lightness statistics of both
photos), ``matching`` (similarities, mutual / ratio / agreement tests, colours), ``channels`` (the hint channels),
and, for scale, the whole ``colorize`` with and without the reference. ``added`` is the reference's share:
prepare_reference + features + matching + channels. Memory: the process's peak RSS before and after the
reference runs (MB).

    nice -n 5 python bench/reference.py [--photo ../shared/data/dev_photos/001.jpg] [--repeats 5]

``--similar``: what a reference of a similar scene (not the same one) gives, on pairs of dev photos picked by eye
(``SIMILAR_PAIRS``: two photos of the same kind of scene, a factory interior and another, a city from above and
another, ...; each photo colorized with the other as its reference, both ways). Each photo's grey (its own L) is
colorized automatically and with the reference; PSNR (dB) and colourfulness (a share of the truth's) for both, the
share of the photo the reference matched (``ReferenceUse``), and for scale the same photo with an unrelated
reference (the pair list's photo four pairs on). Targets (issue 32): reference >= automatic + 0.5 dB on average,
no pair below automatic - 0.5 dB, colourfulness >= 60% of the truth's; unrelated >= automatic - 0.3 dB.

    nice -n 5 python bench/reference.py --similar [--photos ../shared/data/dev_photos]
        [--preset WORKDIR/final-stepN.preset.json]   # a trained model's card instead of the hint preset

Prints one JSON object on stdout.
"""
import argparse
import json
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402

from colorize.pipeline import reference as reference_lib  # noqa: E402
from colorize.pipeline.colorizer import Colorizer  # noqa: E402

# (photo, reference): the same kind of scene, another photo of it (chosen by eye from a contact sheet of the 48)
SIMILAR_PAIRS = [("034", "035"),   # inside an aircraft factory: hull frames, lamps, a worker
                 ("010", "036"),   # a city seen from a hill: roofs, streets, green
                 ("013", "004"),   # a mountain landscape: slopes, rock, vegetation, sky
                 ("022", "024"),   # an old town by the water: stone houses, a canal or stream, trees
                 ("029", "037"),   # a singer on a lit stage, in costume
                 ("011", "003"),   # lights at night over water: a skyline, a bridge
                 ("008", "030"),   # a landmark building under a blue sky
                 ("014", "039"),   # a vintage vehicle outdoors: a car, a locomotive
                 ("002", "012")]   # a church interior: vaults, columns, an altar


def _score(rgb, truth):
    from colorize.evaluation import metrics
    out, truth = np.asarray(rgb, np.float32)[None] / 255.0, np.asarray(truth, np.float32)[None] / 255.0
    return float(metrics.psnr(out, truth)[0]), float(metrics.colorfulness(out)[0])


def similar(args, colorizer):
    """The ``--similar`` report (see the module doc)."""
    from colorize import color
    folder = Path(args.photos)
    pairs = SIMILAR_PAIRS + [(b, a) for a, b in SIMILAR_PAIRS]
    rows = []
    for i, (photo, ref) in enumerate(pairs):
        truth = np.asarray(Image.open(folder / f"{photo}.jpg").convert("RGB"))
        grey = np.round(np.asarray(color.rgb_to_gray(truth / 255.0))[..., 0] * 255).astype(np.uint8)
        unrelated = pairs[(i + 4) % len(pairs)][1]
        row = {"photo": photo, "reference": ref, "unrelated": unrelated}
        truth_colourfulness = _score(truth, truth)[1]
        row["automatic"] = dict(zip(("psnr", "colourfulness"), _score(colorizer.colorize(grey), truth)))
        for key, name in (("with_reference", ref), ("with_unrelated", unrelated)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = colorizer.colorize(grey, reference=folder / f"{name}.jpg", name=f"{photo}.jpg")
            use = next(w.message.use for w in caught if hasattr(w.message, "use"))
            psnr, colourfulness = _score(out, truth)
            row[key] = {"psnr": psnr, "colourfulness": colourfulness, "matched": round(use.matched, 3)}
        for key in ("automatic", "with_reference", "with_unrelated"):
            row[key]["colourfulness_share"] = round(row[key].pop("colourfulness") / max(truth_colourfulness, 1e-6), 3)
            row[key]["psnr"] = round(row[key]["psnr"], 3)
        row["gain_db"] = round(row["with_reference"]["psnr"] - row["automatic"]["psnr"], 3)
        row["unrelated_gain_db"] = round(row["with_unrelated"]["psnr"] - row["automatic"]["psnr"], 3)
        print(f"{photo} <- {ref}: {row['gain_db']:+.2f} dB (matched {row['with_reference']['matched']:.0%}), "
              f"unrelated {unrelated}: {row['unrelated_gain_db']:+.2f} dB", file=sys.stderr, flush=True)
        rows.append(row)
    mean = lambda key, sub: round(float(np.mean([r[key][sub] for r in rows])), 3)  # noqa: E731
    gains = [r["gain_db"] for r in rows]
    summary = {
        "pairs": len(rows),
        "automatic": {"psnr": mean("automatic", "psnr"),
                      "colourfulness_share": mean("automatic", "colourfulness_share")},
        "with_reference": {"psnr": mean("with_reference", "psnr"), "matched": mean("with_reference", "matched"),
                           "colourfulness_share": mean("with_reference", "colourfulness_share")},
        "with_unrelated": {"psnr": mean("with_unrelated", "psnr"),
                           "colourfulness_share": mean("with_unrelated", "colourfulness_share")},
        "mean_gain_db": round(float(np.mean(gains)), 3), "worst_gain_db": round(float(np.min(gains)), 3),
        "unrelated_worst_gain_db": round(float(np.min([r["unrelated_gain_db"] for r in rows])), 3),
    }
    summary["targets_met"] = {
        "mean_gain_at_least_0.5_db": summary["mean_gain_db"] >= 0.5,
        "no_pair_below_minus_0.5_db": summary["worst_gain_db"] >= -0.5,
        "colourfulness_at_least_60_percent": summary["with_reference"]["colourfulness_share"] >= 0.6,
        "unrelated_no_worse_than_minus_0.3_db": float(np.mean([r["unrelated_gain_db"] for r in rows])) >= -0.3}
    return {"model": colorizer.name, "summary": summary, "pairs": rows}


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photo", default=str(REPO.parent / "shared/data/dev_photos/001.jpg"),
                        help="a colour photo: its left part (grey) and right part (the reference), each 1024x768")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--similar", action="store_true", help="similar-scene pairs instead of the timing")
    parser.add_argument("--photos", default=str(REPO.parent / "shared/data/dev_photos"))
    parser.add_argument("--preset", default="bigru_fusion_64_hints",
                        help="a preset name, or the card a training run writes (WORKDIR/final-stepN.preset.json)")
    args = parser.parse_args()
    if args.similar:
        print(json.dumps(similar(args, Colorizer.from_preset(args.preset)), indent=1))
        return
    source = Image.open(args.photo).convert("RGB").resize((1365, 768), Image.LANCZOS)
    grey = np.asarray(source.crop((0, 0, 1024, 768)).convert("L"))
    with tempfile.TemporaryDirectory() as folder:
        ref_path = Path(folder) / "reference.jpg"
        source.crop((341, 0, 1365, 768)).save(ref_path, quality=95)
        colorizer = Colorizer.from_preset("bigru_fusion_64_hints")
        prepared = colorizer.prepare(grey)
        colorizer.colorize(grey)
        before = _peak_mb()
        stages = {k: [] for k in ("prepare_reference", "features", "matching", "channels", "colorize_automatic",
                                  "colorize_with_reference")}
        for repeat in range(args.repeats + 1):
            t0 = time.perf_counter()
            reference = colorizer.prepare_reference(ref_path)
            t1 = time.perf_counter()
            timings = {}
            matches = reference_lib.match(colorizer, prepared, reference, timings)
            t2 = time.perf_counter()
            reference_lib.reference_channels(matches, colorizer.config.input_size)
            t3 = time.perf_counter()
            colorizer.colorize(grey)
            t4 = time.perf_counter()
            colorizer.colorize(grey, reference=ref_path)
            t5 = time.perf_counter()
            if repeat:  # the first run traces the compiled steps
                for key, value in (("prepare_reference", t1 - t0), ("features", timings["features"]),
                                   ("matching", timings["matching"]), ("channels", t3 - t2),
                                   ("colorize_automatic", t4 - t3), ("colorize_with_reference", t5 - t4)):
                    stages[key].append(value)
        median = {k: round(float(np.median(v)), 4) for k, v in stages.items()}
        added = sum(median[k] for k in ("prepare_reference", "features", "matching", "channels"))
        print(json.dumps({
            "photo": "1024x768 grey, reference 1024x768 JPEG", "repeats": args.repeats, "seconds": median,
            "added": round(added, 4), "coverage": round(matches.coverage, 3), "related": round(matches.related, 3),
            "peak_rss_mb": {"before_reference": round(before, 1), "after": round(_peak_mb(), 1)}}, indent=1))


if __name__ == "__main__":
    main()

"""What reference matching costs: a 1024x768 grey photo colorized with a same-size colour reference.

Stages (seconds, the median of ``--repeats`` runs after one warm-up): ``prepare_reference`` (decode the reference
file, shrink, Lab, the greyscale check), ``features`` (the network's encoder and the lightness statistics of both
photos), ``matching`` (similarities, mutual / ratio / agreement tests, colours), ``channels`` (the hint channels),
and, for scale, the whole ``colorize`` with and without the reference. ``added`` is the reference's share:
prepare_reference + features + matching + channels. Memory: the process's peak RSS before and after the
reference runs (MB).

    nice -n 5 python bench/reference.py [--photo ../shared/data/dev_photos/001.jpg] [--repeats 5]

Prints one JSON object on stdout.
"""
import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402

from colorize.pipeline import reference as reference_lib  # noqa: E402
from colorize.pipeline.colorizer import Colorizer  # noqa: E402


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photo", default=str(REPO.parent / "shared/data/dev_photos/001.jpg"),
                        help="a colour photo: its left part (grey) and right part (the reference), each 1024x768")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
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

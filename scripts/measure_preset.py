"""Re-measure a shipped preset's card with today's pipeline, so that the card stays the one source of the figures
that ``colorize presets``, the README and docs/models.md quote (the shipped weights are not touched; their sha256
is checked as on every load).

    python scripts/measure_preset.py --name bigru_fusion_64 --photos ../shared/data/dev_photos [--val-limit 1024]

``--photos`` re-measures the card's ``photos`` entry (large photos at full resolution), ``--val-limit N`` (with the
prepared TFDS data) its ``validation`` entry; the card is rewritten atomically and printed.
"""
import argparse
import json
from pathlib import Path

from colorize.config import load_config
from colorize.data.sources import iter_dataset, iter_validation
from colorize.evaluation.scoring import evaluate
from colorize.io import atomic
from colorize.pipeline.colorizer import load_pretrained
from colorize.presets import WEIGHTS_DIR, get_preset

KEEP = ("images", "model", "grey", "truth", "colorfulness_ratio", "share_beating_grey_psnr")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True, help="the shipped preset whose card is re-measured")
    parser.add_argument("--photos", help="a folder of large colour photos (the card's photos entry)")
    parser.add_argument("--val-limit", type=int, default=0, help="validation photos of the preset's recipe")
    args = parser.parse_args()
    preset, colorizer = get_preset(args.name), load_pretrained(args.name)
    card = preset.card()
    if args.photos:
        result = evaluate(colorizer, iter_dataset(args.photos))
        card["metrics"]["photos"] = {**{k: result[k] for k in KEEP if k in result}, "folder": Path(args.photos).name}
    if args.val_limit:
        config = load_config(preset.recipe.split(",")[0].split(":")[0].strip())
        result = evaluate(colorizer, (im for _, im in iter_validation(config.data, limit=args.val_limit)))
        card["metrics"]["validation"] = {k: result[k] for k in KEEP if k in result}
    atomic.write_text(WEIGHTS_DIR / f"{args.name}.preset.json", json.dumps(card, indent=1) + "\n", overwrite=True)
    print(json.dumps(card["metrics"], indent=1))


if __name__ == "__main__":
    main()

"""``colorize evaluate``: score a model on a folder of colour photos or a TFDS split, beside the grey baseline."""
import json
import os
import sys

from colorize.cli import common as cli_common
from colorize.errors import ColorizeError
from colorize.io import check_writable, write_text


def add_parser(sub):
    p = sub.add_parser("evaluate", help="measure a model against the grey baseline on colour photos",
                       description="Colorize the greyscale version of each colour photo at full resolution and "
                                   "report PSNR, SSIM, AuC and colorfulness for the model and for the grey input.")
    p.add_argument("--data", required=True, metavar="DIR|tfds:NAME[:SPLIT]",
                   help="a folder of colour images (searched recursively), or a TFDS dataset (split default "
                        "validation)")
    p.add_argument("--data-dir", metavar="TFDS_DIR",
                   help="TFDS data folder (default: $COLORIZE_TFDS_DIR, else the TFDS default, downloading)")
    p.add_argument("--limit", type=int, metavar="N", help="evaluate the first N colour images only")
    p.add_argument("--json", metavar="OUT", help="write the full results, per image included, here ('-': stdout)")
    p.add_argument("--sheet", metavar="PNG", help="write a contact sheet (grey | colorized | truth) here")
    p.add_argument("--sheet-count", type=int, default=8, metavar="N", help="rows of the contact sheet")
    p.add_argument("--batch-size", type=int, default=32, help="photos per network batch")
    p.add_argument("--hints", type=int, default=0, metavar="N",
                   help="give a hint model N colour hints per photo, sampled from the truth (patch-mean colours)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampled hints")
    p.add_argument("--reference-pairs", nargs="?", const="matched", choices=("matched", "shuffled", "none"),
                   help="split each photo into overlapping left and right crops (60%% of its width each) and colorize "
                        "the left crop's grey with the right crop as colour reference (shuffled: another photo's "
                        "right crop; none: no reference, the same crops); the automatic colours are scored beside")
    cli_common.add_model_args(p)
    cli_common.add_saturation_arg(p)
    p.set_defaults(func=cmd_evaluate)
    return p


def cmd_evaluate(args):
    from colorize.data import iter_dataset
    from colorize.evaluation import evaluate, format_table, json_ready
    if args.limit is not None and args.limit < 1:
        raise ColorizeError("--limit must be at least 1")
    if args.hints < 0:
        raise ColorizeError("--hints must be 0 or more")
    if args.sheet_count < 1:
        raise ColorizeError(f"--sheet-count must be at least 1 (rows of the contact sheet), got {args.sheet_count}")
    for flag, out in (("--json", args.json), ("--sheet", args.sheet)):  # before the run, not after it
        if out and out != "-":
            if os.path.isdir(out):
                raise ColorizeError(f"{flag} {out} is a folder; pass a file name")
            check_writable(os.path.dirname(os.path.abspath(out)))
    colorizer = cli_common.colorizer(args)
    result = evaluate(colorizer, iter_dataset(args.data, limit=args.limit, data_dir=args.data_dir),
                      sheet_path=args.sheet, sheet_count=args.sheet_count, batch_size=args.batch_size,
                      hints=args.hints, seed=args.seed, reference_pairs=args.reference_pairs)
    options = f"readout {colorizer.readout.kind}, upsampling {colorizer.upsampling}" + (
        f", {args.hints} hints per photo (seed {args.seed})" if args.hints else "") + (
        f", reference pairs ({args.reference_pairs})" if args.reference_pairs else "")
    print(format_table(result, f"{colorizer.name} ({options}) on {args.data}"))
    if result.get("sheet"):
        print(f"contact sheet: {result['sheet']}")
    if args.json and args.json != "-":
        write_text(args.json, json.dumps(json_ready(result), indent=2, allow_nan=False) + "\n", overwrite=True)
        print(f"results: {args.json}")
    else:  # without a file, the summary; per-image rows only when asked for with --json -
        summary = result if args.json == "-" else {k: v for k, v in result.items() if k != "per_image"}
        json.dump(json_ready(summary), sys.stdout, indent=2, allow_nan=False)
        print()
    return 0

"""Ship trained weights as a preset: copy them into colorize/weights/, record sha256, parameter count, recipe,
readout and the measured metrics (validation split and a folder of large photos, each beside the grey baseline)
in colorize/weights/<name>.preset.json, which colorize.presets reads.

    python scripts/ship_preset.py --from runs/tiny64 --name bigru_fusion_64 --config configs/tiny_imagenet_64.yaml \
        --readout '{"kind": "regression"}' [--val-limit 1024] [--photos FOLDER_OF_LARGE_PHOTOS]
"""
import argparse
import dataclasses
import json
import shutil
from pathlib import Path

from colorize.config import load_config
from colorize.data.sources import iter_dataset, iter_validation, parse_tfds_spec
from colorize.evaluation.scoring import evaluate
from colorize.evaluation.splits import REPORT_VAL, TUNE_VAL, split_photos
from colorize.io import atomic
from colorize.model.network import build_model
from colorize.model.weights import load_weights, sha256_of, store_as_float16
from colorize.pipeline.colorizer import Colorizer
from colorize.pipeline.readout import Readout
from colorize.presets import WEIGHTS_DIR
from colorize.training import export_checkpoint


def _summary(result):
    keep = ("images", "model", "grey", "truth", "colorfulness_ratio", "share_beating_grey_psnr")
    return {k: result[k] for k in keep if k in result}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="source", required=True,
                        help="a training workdir (its latest checkpoint), a checkpoint prefix or a .weights.h5")
    parser.add_argument("--name", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--readout", default='{"kind": "regression"}')
    parser.add_argument("--val-limit", type=int, default=1024)
    parser.add_argument("--photos", help="a folder of large colour photos to measure on too (full resolution)")
    parser.add_argument("--sheet", help="write the photos' contact sheet here")
    parser.add_argument("--report-split", action="store_true",
                        help="measure on the reporting split (colorize.evaluation.splits), not on the photos the "
                        "checkpoint and readout were chosen on")
    parser.add_argument("--float16", action="store_true", help="store the weights as float16 (half the size); "
                        "the metrics are measured on the stored file")
    args = parser.parse_args()

    config = load_config(args.config)
    target = WEIGHTS_DIR / f"{args.name}.weights.h5"
    source = Path(args.source)
    if source.name.endswith(".weights.h5"):
        atomic.write_with(target, lambda tmp: shutil.copyfile(source, tmp), overwrite=True)
        source = source.parent
    else:
        export_checkpoint(config, source, target)
    if args.float16:
        store_as_float16(target)
    sha = sha256_of(target)
    model = load_weights(build_model(config), target, sha, args.name)
    readout = Readout(**json.loads(args.readout))
    colorizer = Colorizer(model, config.model, readout=readout, name=args.name)

    metrics = {}
    if args.report_split:  # the reporting split: no checkpoint or readout was chosen on it (evaluation/splits.py)
        name, _ = parse_tfds_spec(config.data.source)
        metrics["validation"] = {**_summary(evaluate(colorizer, (im for _, im in iter_dataset(
            f"tfds:{name}:{REPORT_VAL}", data_dir=config.data.data_dir)))), "split": REPORT_VAL, "tuned_on": False}
    else:
        metrics["validation"] = _summary(evaluate(colorizer, (im for _, im in iter_validation(
            config.data, limit=args.val_limit))))
    if args.photos:
        photos = list(iter_dataset(args.photos))
        metrics["photos"] = _summary(evaluate(colorizer, (im for _, im in photos), sheet_path=args.sheet))
        metrics["photos"]["folder"] = Path(args.photos).name
        if args.report_split:
            _, unseen = split_photos(photos)
            metrics["photos"]["tuned_on"] = "half (colorize.evaluation.splits)"
            metrics["photos_report"] = {**_summary(evaluate(colorizer, (im for _, im in unseen))),
                                        "folder": Path(args.photos).name, "tuned_on": False}
    record_path = source / "record.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    selected_on = f"{TUNE_VAL} and the tuning half of the dev photos" if args.report_split else config.data.val_split
    card = {
        "name": args.name,
        "model": {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config.model).items()},
        "weights": target.name, "sha256": sha, "parameters": model.count_params(),
        "readout": dataclasses.asdict(readout),
        "training_data": f"{config.data.source} ({config.data.train_split} split), {config.model.input_size}x"
                         f"{config.model.input_size} crops; selected on {selected_on}",
        "recipe": f"{Path(args.config).as_posix()}, "
                  f"{record.get('steps', '?')} steps of batch {config.train.batch_size}, "
                  f"code {record.get('code_version', '?')}",
        "metrics": metrics,
    }
    atomic.write_text(WEIGHTS_DIR / f"{args.name}.preset.json", json.dumps(card, indent=1) + "\n", overwrite=True)
    print(json.dumps(card, indent=1))


if __name__ == "__main__":
    main()

"""The ``colorize`` command line: predict, summary, train, evaluate, demo, export.

Errors a user can cause print one line (``colorize: error: ...``) and exit non-zero, never a traceback.
"""
import argparse
import concurrent.futures
import os
import sys
from pathlib import Path

from .errors import ColorizeError


def _add_model_args(p):
    p.add_argument("--preset", help="a registered preset (default: the shipped one); see colorize summary")
    p.add_argument("--weights", help="your own .weights.h5 instead of a preset (needs --sha256 and --config)")
    p.add_argument("--sha256", help="expected sha256 of --weights")
    p.add_argument("--config", help="YAML config the --weights were trained with")
    p.add_argument("--readout", choices=("regression", "annealed", "restrained"), help="override the preset's readout")
    p.add_argument("--upsampling", choices=("guided", "bilinear"), help="how ab is brought to full resolution")


def _colorizer(args, **extra):
    from .predict import Colorizer, load_pretrained
    options = {k: v for k, v in (("readout", args.readout), ("upsampling", args.upsampling)) if v}
    options.update(extra)
    if args.weights:
        from .config import load_config
        if not args.config:
            raise ColorizeError("--weights needs --config, the YAML file the weights were trained with")
        return Colorizer.from_weights(args.weights, load_config(args.config), args.sha256, **options)
    return load_pretrained(args.preset, **options)


def _output_paths(files, roots, outdir):
    """Map each input file to OUTDIR/<path relative to the folder it was found in>.png, without collisions."""
    outputs, taken = {}, set()
    for f, root in zip(files, roots):
        rel = f.relative_to(root) if root is not None else Path(f.name)
        out = Path(outdir) / rel.with_suffix(".png")
        if out in taken:
            out = Path(outdir) / rel.with_name(rel.name.replace(".", "_") + ".png")
        taken.add(out)
        outputs[f] = out
    return outputs


def cmd_predict(args):
    from tqdm import tqdm

    from . import imageio
    files, roots = [], []
    for item in args.inputs:
        path = Path(item)
        found = imageio.list_images([path])
        files += found
        roots += [path if path.is_dir() else None] * len(found)
    if not files:
        raise ColorizeError(f"no images found in {', '.join(args.inputs)}")
    colorizer = _colorizer(args, max_pixels=args.max_pixels)
    outputs = _output_paths(files, roots, args.output)
    inputs = {f.resolve() for f in files}
    written = skipped = failed = 0
    todo = []
    for f in files:
        out = outputs[f]
        if out.resolve() in inputs and not args.overwrite:
            print(f"colorize: skipped {f}: the output {out} would overwrite an input (pass --overwrite)",
                  file=sys.stderr)
            skipped += 1
        elif out.exists() and not args.overwrite:
            print(f"colorize: skipped {f}: {out} exists (pass --overwrite to replace it)", file=sys.stderr)
            skipped += 1
        else:
            todo.append(f)

    def load(f):
        try:
            return colorizer.load(f, name=str(f))
        except ColorizeError as err:
            return err

    # Decoding and PNG writing stay off the network's path: the next batch is decoded while this one is colorized,
    # and outputs are written meanwhile, in a pool of their own so that pending writes never delay a decode.
    chunks = [todo[start:start + args.batch_size] for start in range(0, len(todo), args.batch_size)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as readers, \
            concurrent.futures.ThreadPoolExecutor(max_workers=2) as writers, \
            tqdm(total=len(todo), unit="img", disable=args.quiet, file=sys.stderr) as bar:
        writes = []
        loading = [readers.submit(load, f) for f in chunks[0]] if chunks else []
        for i, chunk in enumerate(chunks):
            images = [future.result() for future in loading]
            loading = [readers.submit(load, f) for f in chunks[i + 1]] if i + 1 < len(chunks) else []
            good = [(f, im) for f, im in zip(chunk, images) if not isinstance(im, Exception)]
            for f, im in zip(chunk, images):
                if isinstance(im, Exception):
                    tqdm.write(f"colorize: failed {f}: {im}", file=sys.stderr)
                    failed += 1
            if good:
                results = colorizer.colorize_batch([im for _, im in good], batch_size=args.batch_size)
                writes += [(f, writers.submit(imageio.save_png, rgb, outputs[f], overwrite=args.overwrite))
                           for (f, _), rgb in zip(good, results)]
            bar.update(len(chunk))
        for f, future in writes:
            try:
                future.result()
                written += 1
            except (ColorizeError, OSError) as err:
                print(f"colorize: failed {f}: {err}", file=sys.stderr)
                failed += 1
    print(f"written {written}, skipped {skipped}, failed {failed} -> {args.output}")
    return 1 if failed else 0


def cmd_summary(args):
    from .model import build_model
    from .presets import get_preset
    preset = get_preset(args.preset)
    model = build_model(preset.model_config)
    print(f"preset {preset.name}: input {preset.model_config.input_size}x{preset.model_config.input_size}, "
          f"{model.count_params():,} parameters, weights: {preset.weights or 'not trained yet'}")
    print(f"{'layer':32s} {'type':20s} {'output shape':28s} {'params':>9s}")
    for layer in model.layers:
        shape = layer.output.shape if not isinstance(layer.output, (list, tuple)) else layer.output[0].shape
        print(f"{layer.name:32s} {type(layer).__name__:20s} {str(tuple(shape)):28s} {layer.count_params():9,d}")
    return 0


def cmd_train(args):
    from .config import load_config
    from .training import TrainingInterrupted, train
    config = load_config(args.config, args.set)
    workdir = args.workdir or os.path.join("runs", Path(args.config).stem)
    try:
        record = train(config, workdir, max_steps=args.max_steps, restart=args.restart,
                       allow_config_change=args.allow_config_change, log=args.log)
    except TrainingInterrupted as err:  # SIGTERM / SIGINT: a checkpoint was saved
        print(f"colorize: {err}", file=sys.stderr)
        return 128 + err.signum
    except KeyboardInterrupt:
        print(f"colorize: training interrupted; the checkpoints in {Path(workdir) / 'checkpoints'} are intact: "
              "re-run the same command to resume", file=sys.stderr)
        return 130
    print(f"trained {record['steps']} steps; weights: {Path(workdir) / 'final.weights.h5'}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="colorize", description="Colorize greyscale photos.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", help="colorize image files and folders into an output folder")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders (searched recursively)")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the colour PNGs")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (and inputs, if they clash)")
    p.add_argument("--max-pixels", type=int, default=90_000_000, help="refuse larger images (decompression bombs)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_model_args(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("summary", help="print the layer and shape table of a preset's network")
    p.add_argument("--preset")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("train", help="train from a YAML config (same as scripts/train.py)")
    p.add_argument("--config", required=True)
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override a value")
    p.add_argument("--workdir", help="checkpoints, logs and weights (default runs/<config name>)")
    p.add_argument("--max-steps", type=int, help="stop after this many steps in total")
    p.add_argument("--restart", action="store_true",
                   help="move the workdir's checkpoints aside and start from step 0 (instead of resuming)")
    p.add_argument("--allow-config-change", action="store_true",
                   help="resume even if the model, batch size or data changed since the checkpoint")
    p.add_argument("--log", choices=("auto", "bar", "plain"), default="auto",
                   help="progress: a bar, or one line per log interval (auto: plain unless on a terminal)")
    p.set_defaults(func=cmd_train)

    from . import cli_demo, cli_evaluate
    cli_evaluate.add_parser(sub)
    cli_demo.add_parser(sub)
    from . import cli_export; cli_export.add_parser(sub)  # noqa: E702
    from . import cli_serve; cli_serve.add_parser(sub)  # noqa: E702
    from . import cli_video; cli_video.add_parser(sub)  # noqa: E702
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "batch_size", 1) is not None and getattr(args, "batch_size", 1) < 1:
        print("colorize: error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except ColorizeError as err:
        print(f"colorize: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("colorize: interrupted; finished outputs are complete, none is half-written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

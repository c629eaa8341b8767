"""The ``colorize`` command line: predict, summary, train, evaluate, demo, export (and the web app, video).

Errors a user can cause print one line (``colorize: error: ...``) and exit non-zero, never a traceback; neither
TensorFlow nor absl prints log lines (``cli_common.quiet_tensorflow``), and ``--help`` does not load TensorFlow.
Each command's options and code live in ``cli_<command>.py`` (or below, for the short ones); what they share is
in ``cli_common``.
"""
import argparse
import os
import sys
from pathlib import Path

from . import cli_common
from .errors import ColorizeError



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

    from . import cli_predict
    cli_predict.add_parser(sub)

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
        cli_common.quiet_tensorflow()
        return args.func(args)
    except ColorizeError as err:
        print(f"colorize: error: {cli_common.one_line(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("colorize: interrupted; finished outputs are complete, none is half-written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""``colorize train``: train from a YAML config (the same as ``scripts/train.py``)."""
import os
import sys
from pathlib import Path


def add_parser(sub):
    p = sub.add_parser("train", help="train from a YAML config (same as scripts/train.py)",
                       description="Train a model from a YAML config: a shipped one by name (colorize configs "
                                   "lists them) or a file of your own. colorize train --config my_photos --set "
                                   "data.source=PHOTOS fine-tunes the default model on a folder of your colour "
                                   "photos. Re-running the same command resumes from the newest "
                                   "checkpoint. At the end it prints the colorize predict line that uses the new "
                                   "weights; TensorBoard logs are in WORKDIR/tensorboard.")
    p.add_argument("--config", required=True,
                   help="a shipped config's name (colorize configs lists them) or a YAML file of your own")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a value of the config (repeatable), e.g. --set train.steps=2000")
    p.add_argument("--workdir", help="checkpoints, logs and weights (default runs/<config name>)")
    p.add_argument("--max-steps", type=int,
                   help="stop after this many steps in total (default: the config's whole run)")
    p.add_argument("--restart", action="store_true",
                   help="move the workdir's checkpoints aside and start from step 0 (instead of resuming)")
    p.add_argument("--allow-config-change", action="store_true",
                   help="resume even if the model, batch size or data changed since the checkpoint")
    p.add_argument("--log", choices=("auto", "bar", "plain"), default="auto",
                   help="progress: a bar, or one line per log interval (auto: plain unless on a terminal)")
    p.set_defaults(func=cmd_train)


def cmd_train(args):
    from colorize.config import load_config
    from colorize.training import TrainingInterrupted, train
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
    print(f"trained {record['steps']} steps; weights: {record.get('weights')}")
    return 0

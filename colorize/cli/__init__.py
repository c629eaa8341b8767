"""The ``colorize`` command line: predict, summary, train, evaluate, demo, export (and the web app, video).

Errors a user can cause print one line (``colorize: error: ...``) and exit non-zero, never a traceback; neither
TensorFlow nor absl prints log lines (``common.quiet_tensorflow``), and ``--help`` does not load TensorFlow.
Each command's options and code live in ``colorize/cli/<command>.py``; what they share is in ``cli/common.py``.
"""
import argparse
import sys

from colorize.cli import common as cli_common
from colorize.cli import demo, evaluate, export, predict, serve, summary, train, video
from colorize.errors import ColorizeError

__all__ = ["main", "build_parser"]


def build_parser():
    parser = argparse.ArgumentParser(prog="colorize", description="Colorize greyscale photos.")
    sub = parser.add_subparsers(dest="command", required=True)

    for command in (predict, summary, train, evaluate, demo, export, serve, video):
        command.add_parser(sub)
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

"""The ``colorize`` command line: predict, presets, summary, train, configs, evaluate, demo, export, serve, video.

Errors print one line (``colorize: error: ...``) and exit non-zero, never a traceback (``--debug``, an option of
every command, prints it in full); neither TensorFlow nor absl prints log lines (``common.quiet_tensorflow``),
and ``--help`` does not load TensorFlow.
Each command's options and code live in ``colorize/cli/<command>.py``; what they share is in ``cli/common.py``.
"""
import argparse
import sys
import traceback

from colorize._version import __version__
from colorize.cli import common as cli_common
from colorize.cli import configs, demo, evaluate, export, predict, presets, serve, summary, train, video
from colorize.errors import ColorizeError, OutputExistsError

__all__ = ["main", "build_parser"]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="colorize", formatter_class=cli_common.HelpFormatter,
        description="Colorize greyscale photos (and videos), steer the colours with hints, train on your own photos.",
        epilog="Start with: colorize predict PHOTO_OR_FOLDER -o OUTDIR (colorize presets lists the models; "
               "colorize COMMAND --help for each command's options).")
    parser.add_argument("--version", action="version", version=f"colorize {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for command in (predict, presets, summary, train, configs, evaluate, demo, export, serve, video):
        command.add_parser(sub)
    for command_parser in sub.choices.values():  # every command's --help shows the defaults
        command_parser.formatter_class = cli_common.HelpFormatter
        command_parser.add_argument("--debug", action="store_true",
                                    help="on an error, print its full traceback (and its causes') after the line")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `colorize`: the help, and exit 2 as for any other missing argument
        parser.print_help()
        return 2
    if getattr(args, "batch_size", 1) is not None and getattr(args, "batch_size", 1) < 1:
        print("colorize: error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    try:
        if getattr(args, "tensorflow", True):
            cli_common.quiet_tensorflow()
        return args.func(args)
    except OutputExistsError as err:  # the Python API's message names overwrite=True; here the flag is meant
        where = getattr(err, "path", None)
        return _error(args, err, f"{where} already exists; pass --overwrite to replace it" if where else None)
    except ColorizeError as err:
        return _error(args, err)
    except KeyboardInterrupt:
        print("colorize: interrupted; finished outputs are complete, none is half-written", file=sys.stderr)
        return 130
    except Exception as err:  # a library's own failure (TensorFlow's converter or tracer, ...): as itself
        return _error(args, err, f"{type(err).__name__}: {cli_common.one_line(err)}"
                                 f"{'' if getattr(args, 'debug', False) else ' (--debug shows all of it)'}")


def _error(args, err, line=None):
    """One line for ``err`` on stderr -> exit status 1; with ``--debug``, its full traceback before it."""
    if getattr(args, "debug", False):
        traceback.print_exception(err, file=sys.stderr)
    print(f"colorize: error: {line or cli_common.one_line(err)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

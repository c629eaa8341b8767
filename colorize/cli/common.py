"""What the ``colorize`` commands share: the model options and the Colorizer built from them, a quiet TensorFlow,
and one-line errors. The ``cli_*`` modules import this, never ``colorize.cli``, so there is no import cycle; it
imports nothing heavy itself (``colorize --help`` loads no TensorFlow).
"""
import argparse
import logging
import os
import sys
from pathlib import Path

from colorize._terminal import held_stderr
from colorize.errors import ColorizeError, first_line


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's help ends with its default, unless it has none (None, False, an empty list) or its text says
    it already."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS) or action.default == []:
            return text
        return super()._get_help_string(action)


def add_model_args(p, default=None):
    """The model options; ``default``: how --preset's help names the default (a command with its own default)."""
    from colorize.presets import DEFAULT_PRESET
    default = default or f"{DEFAULT_PRESET}, or its hint version when hints are given"
    p.add_argument("--preset", help=f"a shipped model (default {default}); colorize presets lists them")
    p.add_argument("--preset-file", metavar="CARD",
                   help="a preset card file: your own model, as colorize train writes it beside its weights "
                        "(WORKDIR/final-stepN.preset.json): its weights, config, sha256 and readout")
    p.add_argument("--weights", help="your own .weights.h5 instead of a preset: its card beside it "
                                     "(NAME.preset.json, as colorize train writes) gives the rest, else --config")
    p.add_argument("--sha256", help="expected sha256 of --weights (a changed file is refused)")
    p.add_argument("--config", help="YAML config the --weights were trained with (not needed beside its card)")
    p.add_argument("--readout", choices=("regression", "annealed", "restrained"),
                   help="override the preset's readout (default: the one on the preset's card)")
    p.add_argument("--upsampling", choices=("guided", "bilinear"),
                   help="how ab is brought to full resolution (default guided: edges follow the photo's L)")


def add_saturation_arg(p):
    """``--saturation``: the chroma multiplier of the results (predict, video, evaluate, demo)."""
    p.add_argument("--saturation", type=saturation_value, metavar="S",
                   help="multiply the colours' chroma by S, from 0 to 4: 1 the model's own (default), 0 grey, 1.3 "
                        "livelier (clipped to the sRGB gamut; lightness untouched)")


def add_border_arg(p):
    """``--keep-border``: colour a scan's border with the photo instead of leaving it out, neutral."""
    p.add_argument("--keep-border", action="store_true",
                   help="colour the whole image as it is; by default a scan's uniform border (white, black, cream, "
                        "a few degrees skewed) is found, kept out of the colouring and left its own grey")


def saturation_value(text):
    """argparse type of ``--saturation``: a number in the dial's range (``colorize.pipeline.saturation``)."""
    from colorize.pipeline import SATURATION_HELP, SATURATION_MAX
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= SATURATION_MAX:
        raise argparse.ArgumentTypeError(f"must be a number {SATURATION_HELP}, got {text[:40]!r}")
    return value


def colorizer(args, hints=False, **extra):
    """The Colorizer the model options in ``args`` ask for; ``extra`` goes to its constructor (e.g. max_pixels).
    ``hints``: the user gave hints. With no model named, the hint preset is used then, and one line says so."""

    from colorize.pipeline import Colorizer, load_pretrained
    from colorize.presets import DEFAULT_HINT_PRESET
    check_model_args(args)
    options = {k: v for k, v in (("readout", args.readout), ("upsampling", args.upsampling)) if v}
    if getattr(args, "saturation", None) is not None:
        options["saturation"] = args.saturation
    if getattr(args, "keep_border", False):
        options["border"] = False
    options.update(extra)
    if args.weights:
        from colorize.config import load_config
        config = load_config(args.config) if args.config else None
        return Colorizer.from_weights(args.weights, config, args.sha256, **options)
    if getattr(args, "preset_file", None):
        return load_pretrained(Path(args.preset_file), **options)
    if hints and not args.preset:
        print(f"colorize: hints given and no model named: using the hint preset {DEFAULT_HINT_PRESET} "
              "(--preset names another)", file=sys.stderr)
        return load_pretrained(DEFAULT_HINT_PRESET, **options)
    return load_pretrained(args.preset, **options)


def check_model_args(args):
    """Refuse model options that conflict or would be ignored (a typo must not silently pick another model)."""
    weights, sha256, config = (getattr(args, k, None) for k in ("weights", "sha256", "config"))
    if weights and getattr(args, "preset", None):
        raise ColorizeError(f"--weights and --preset {args.preset} name two models; give one of them")
    card = getattr(args, "preset_file", None)
    if card and (weights or getattr(args, "preset", None)):
        raise ColorizeError(f"--preset-file {card} and --{'weights' if weights else 'preset'} name two models; give "
                            "one of them")
    for flag, value in (("--sha256", sha256), ("--config", config)):
        if value and not weights:
            raise ColorizeError(f"{flag} belongs to --weights (your own .weights.h5), which is not given; add "
                                f"--weights, or leave {flag} out to use a preset")
    if sha256 and not (len(sha256) == 64 and all(c in "0123456789abcdefABCDEF" for c in sha256)):
        raise ColorizeError(f"--sha256 {sha256[:80]!r} is not a sha256 (64 hexadecimal digits, as colorize train "
                            "prints)")


def quiet_tensorflow():
    """Import TensorFlow so that neither it nor absl prints log lines on the terminal, for the command's process
    only (the library itself changes nothing): ``TF_CPP_MIN_LOG_LEVEL=3`` is set before TensorFlow loads (unless
    the user set it: they can turn the logs back on), what it writes on file descriptor 2 while it loads (absl's
    "before InitializeLog" notice, CUDA stubs) is held back and replayed only if the import fails, and the
    tensorflow and absl Python loggers keep errors only."""
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # read once, when TensorFlow's C++ core loads
        with held_stderr():
            import tensorflow  # noqa: F401
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        import absl.logging
        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass


def one_line(err):
    """The first line of an error's message: what a user is shown."""
    return first_line(err)

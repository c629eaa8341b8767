"""What the ``colorize`` commands share: the model options and the Colorizer built from them, a quiet TensorFlow,
and one-line errors. The ``cli_*`` modules import this, never ``colorize.cli``, so there is no import cycle; it
imports nothing heavy itself (``colorize --help`` loads no TensorFlow).
"""
import contextlib
import logging
import os
import sys
import tempfile

from colorize.errors import ColorizeError


def add_model_args(p):
    p.add_argument("--preset", help="a registered preset (default: the shipped one); see colorize summary")
    p.add_argument("--weights", help="your own .weights.h5 instead of a preset (needs --sha256 and --config)")
    p.add_argument("--sha256", help="expected sha256 of --weights")
    p.add_argument("--config", help="YAML config the --weights were trained with")
    p.add_argument("--readout", choices=("regression", "annealed", "restrained"), help="override the preset's readout")
    p.add_argument("--upsampling", choices=("guided", "bilinear"), help="how ab is brought to full resolution")


def colorizer(args, **extra):
    """The Colorizer the model options in ``args`` ask for; ``extra`` goes to its constructor (e.g. max_pixels)."""
    from colorize.pipeline.colorizer import Colorizer, load_pretrained
    options = {k: v for k, v in (("readout", args.readout), ("upsampling", args.upsampling)) if v}
    options.update(extra)
    if args.weights:
        from colorize.config import load_config
        if not args.config:
            raise ColorizeError("--weights needs --config, the YAML file the weights were trained with")
        return Colorizer.from_weights(args.weights, load_config(args.config), args.sha256, **options)
    return load_pretrained(args.preset, **options)


def quiet_tensorflow():
    """Import TensorFlow so that neither it nor absl prints log lines on the terminal.

    ``TF_CPP_MIN_LOG_LEVEL=3`` (unless the user set it: they can turn the logs back on) quiets TensorFlow's C++
    logging once it is set up; what it prints before that (absl's "before InitializeLog" notice, oneDNN and CUDA
    lines) is written while its libraries load, so stderr goes to a temporary file during the import and is
    replayed only if the import fails. The tensorflow and absl Python loggers keep errors only.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        with _stderr_held():
            import tensorflow  # noqa: F401
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        import absl.logging
        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass


@contextlib.contextmanager
def _stderr_held():
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no usable file descriptor 2 (embedded interpreters): nothing to quiet
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def one_line(err):
    """The first line of an error's message: what a user is shown."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__

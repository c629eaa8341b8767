"""The exceptions a user can cause. Each message names the input and what to do about it."""
import re


class ColorizeError(Exception):
    """Base class of every error colorize raises on purpose."""


class InputError(ColorizeError, ValueError):
    """An image (path, bytes or array) that cannot be colorized."""


class ConfigError(ColorizeError, ValueError):
    """A configuration file or override that is not valid."""


class WeightsError(ColorizeError):
    """A weights file that is missing, changed, unsafe or made for another network."""


class TrainingError(ColorizeError):
    """Training cannot start or cannot go on (unwritable workdir, non-finite loss, ...)."""


class WriteError(ColorizeError, OSError):
    """An output, record, weights file or export that cannot be written (folder not writable, disk full, ...)."""


class ReferenceReport(UserWarning):
    """What a colour reference did for a photo: issued once per photo colorized with one, ``use`` its
    ``colorize.pipeline.reference.ReferenceUse`` (``matched``: the share of the photo it coloured; 0: the automatic
    colours). Read them with ``warnings.catch_warnings(record=True)``, or silence them with
    ``warnings.simplefilter("ignore", colorize.ReferenceReport)``."""

    def __init__(self, use):
        super().__init__(str(use))
        self.use = use


class OutputExistsError(WriteError, FileExistsError):
    """The file to write exists (or appeared meanwhile: another process wrote it) and overwriting was not asked for."""


def first_line(err):
    """The first non-empty line of an error's message (its type's name if it has none): what a user is shown. An
    error TensorFlow re-raised from a traced function ("in user code:", then frames) gives its own line."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if lines and lines[0] == "in user code:":
        own = [line for line in lines[1:] if re.match(r"[A-Za-z_][\w.]*: ", line) and not line.startswith("File ")]
        if own:
            kind, _, text = own[0].partition(": ")
            return text if kind.rsplit(".", 1)[-1] == type(err).__name__ else own[0]
    return lines[0] if lines else type(err).__name__

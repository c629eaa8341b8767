"""The exceptions a user can cause. Each message names the input and what to do about it."""


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

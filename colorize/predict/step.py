"""What is done with one batch, by every executor: decode its photos, colorize them together (hints, colour
references, saturation), put 16-bit outputs at the input's own lightness, and write each output with the input's
metadata. ``ModelRecipe`` is the model as the command line names it (sent to each cluster worker, which builds its
own), ``Writing`` how outputs are written; ``BatchStep`` holds a built model and each colour reference prepared
once. A photo's failure is an ``Outcome``, never an exception: the other photos carry on."""
import dataclasses

import numpy as np

from colorize import io as imageio
from colorize.errors import ColorizeError, OutputExistsError
from colorize.io import outputs as output_files


@dataclasses.dataclass(frozen=True)
class ModelRecipe:
    """What a Colorizer is built from, as ``colorize predict``'s model options say it: a preset (a name or a card
    file), or ``weights`` + ``sha256`` + ``config`` (a ``Config`` / ``ModelConfig``, or None beside the weights'
    card; on a cluster the files must be readable on every node); ``readout`` / ``upsampling`` / ``saturation``
    override the preset's."""
    preset: str = None
    weights: str = None
    sha256: str = None
    config: object = None
    readout: str = None
    upsampling: str = None
    max_pixels: int = imageio.MAX_FILE_PIXELS
    saturation: float = None
    border: bool = True  # find a scan's border and leave it neutral (--keep-border: False)

    def steered(self):
        """The recipe for photos with hints or references: with no model named, the hint preset (and the line
        that says so); else this one -> (recipe, line or None)."""
        if self.preset or self.weights:
            return self, None
        from colorize.presets import DEFAULT_HINT_PRESET
        return dataclasses.replace(self, preset=DEFAULT_HINT_PRESET), (
            f"colorize: hints given and no model named: using the hint preset {DEFAULT_HINT_PRESET} (--preset names "
            "another)")

    def build(self):
        from colorize.pipeline.colorizer import Colorizer, load_pretrained
        options = {k: v for k, v in (("readout", self.readout), ("upsampling", self.upsampling),
                                     ("saturation", self.saturation)) if v is not None}
        if not self.border:
            options["border"] = False
        if self.weights:  # without a config: the preset card beside the weights, or one line saying so
            return Colorizer.from_weights(self.weights, self.config, self.sha256, max_pixels=self.max_pixels,
                                          **options)
        return load_pretrained(self.preset, max_pixels=self.max_pixels, **options)


@dataclasses.dataclass(frozen=True)
class Writing:
    """How outputs are written: ``overwrite``, ``quality`` (JPEG, WebP), ``bit_depth`` (16: at the input's own
    lightness, ``colorize.pipeline.bit_depth.to_16_bits``), and always with the input's metadata."""
    overwrite: bool = False
    quality: int = 95
    bit_depth: int = 8


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What became of one photo: ``status`` written, skipped or failed, and why (``reason``); ``lines`` to say
    about it (what its reference did, metadata its output's format cannot hold)."""
    name: str
    status: str
    reason: str = ""
    lines: tuple = ()


class BatchStep:
    """The per-batch work, with one model (``colorizer``) and the ``writing`` options; ``verbose``: each photo's
    outcome also says what was found around it (a border)."""

    def __init__(self, colorizer, writing, verbose=False):
        self.colorizer, self.writing, self.verbose = colorizer, writing, verbose
        self._references, self._said = {}, {}
        if verbose:  # told once per photo prepared
            colorizer.report = lambda name, line: self._said.setdefault(name, []).append(f"colorize: {name}: {line}")

    def reference(self, path, name=None):
        """The colour reference at ``path``, prepared once (``InputError`` naming it if it is unusable)."""
        if path not in self._references:
            self._references[path] = self.colorizer.prepare_reference(path, name=name or str(path))
        return self._references[path]

    def decode(self, photo):
        """-> the photo's samples (``Preprocessor.decode``), or the ``ColorizeError`` saying why it cannot be read."""
        try:
            return self.colorizer.preprocessor.decode(photo.path, name=photo.name)
        except ColorizeError as err:
            return err

    def colorize(self, batch):
        """``[(photo, decoded samples)]`` -> ``([(photo, RGB to write, lines to say)], [failed Outcome])``: the
        batch in one ``colorize_batch`` call; if that is refused (one photo's hints or reference), the photos one
        by one. The lines: what each photo's reference did (``ReferenceUse``)."""
        if not batch:
            return [], []
        photos = [photo for photo, _ in batch]
        try:
            references = [None if p.reference is None else self.reference(p.reference) for p in photos]
            uses = []
            results = self.colorizer.colorize_batch([image for _, image in batch], batch_size=len(batch),
                                                    names=[p.name for p in photos], hints=[p.hints for p in photos],
                                                    references=references, uses=uses)
        except ColorizeError as err:
            if len(batch) == 1:
                return [], [Outcome(photos[0].name, "failed", str(err), tuple(self._said.pop(photos[0].name, ())))]
            done, failed = [], []
            for item in batch:
                one, failure = self.colorize([item])
                done += one
                failed += failure
            return done, failed
        if self.writing.bit_depth == 16:  # the input's own lightness, at its precision
            from colorize.pipeline.bit_depth import to_16_bits
            results = [to_16_bits(rgb, image) for rgb, (_, image) in zip(results, batch)]
        said = [(*self._said.pop(p.name, ()), *(() if i >= len(uses) or uses[i] is None else (str(uses[i]),)))
                for i, p in enumerate(photos)]  # the border found; "reference R: matched 34% of P"
        return [(p, rgb, lines) for p, rgb, lines in zip(photos, results, said)], []

    def write(self, photo, rgb, lines=()):
        """Write one output, in the format of its name, with the input's metadata -> its ``Outcome``, with
        ``lines`` and a warning line for metadata its format cannot hold."""
        notes = []
        try:
            output_files.save_image(rgb, photo.out, overwrite=self.writing.overwrite, quality=self.writing.quality,
                                    metadata=output_files.read_metadata(photo.path), warn=notes.append)
            return Outcome(photo.name, "written", lines=(*lines, *(f"colorize: warning: {n}" for n in notes)))
        except OutputExistsError:
            # Written since the run began: by this batch's earlier try on a cluster worker that was lost (the same
            # pixels: it counts as written), or by another run (a skip).
            try:
                same = np.array_equal(imageio.load_array(photo.out), rgb)
            except ColorizeError:
                same = False
            if same:
                return Outcome(photo.name, "written", lines=lines)
            return Outcome(photo.name, "skipped", f"{photo.out} was written by another run meanwhile", lines)
        except (ColorizeError, OSError) as err:
            return Outcome(photo.name, "failed", str(err), lines)

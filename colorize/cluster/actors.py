"""The actor of the pool: it builds the model once (``ModelRecipe``), then colorizes one planned batch per call the
way ``colorize predict`` does (the same decode, ``colorize_or_each``, ``save_image`` with the input's metadata)
and writes its outputs where the driver named them, on storage every node shares. It returns one result per photo
(written, skipped or failed and why); a photo's failure never stops the batch, and errors a photo cannot cause (a
bug, a lost file system) fail the batch's photos with the reason rather than the task, so Ray never retries what
would fail again."""
import concurrent.futures
import dataclasses
import json
import os

import numpy as np

from colorize import io as imageio
from colorize.errors import ColorizeError, OutputExistsError
from colorize.io import outputs as output_files
from colorize.pipeline.batches import colorize_or_each


@dataclasses.dataclass(frozen=True)
class ModelRecipe:
    """What a Colorizer is built from, as ``colorize predict``'s model options say it (sent to every actor):
    a preset (a name or a card file), or ``weights`` + ``sha256`` + ``config`` (a ``Config`` / ``ModelConfig``, or
    None beside the weights' card; the weights file must be readable on every node); ``readout`` / ``upsampling``
    override the preset's."""
    preset: str = None
    weights: str = None
    sha256: str = None
    config: object = None
    readout: str = None
    upsampling: str = None
    max_pixels: int = imageio.MAX_FILE_PIXELS
    saturation: float = None

    def build(self):
        from colorize.pipeline.colorizer import Colorizer, load_pretrained
        options = {k: v for k, v in (("readout", self.readout), ("upsampling", self.upsampling),
                                     ("saturation", self.saturation)) if v is not None}
        if self.weights:  # without a config: the preset card beside the weights, or one line saying so
            return Colorizer.from_weights(self.weights, self.config, self.sha256, max_pixels=self.max_pixels,
                                          **options)
        return load_pretrained(self.preset, max_pixels=self.max_pixels, **options)


@dataclasses.dataclass(frozen=True)
class Writing:
    """How outputs are written, as ``colorize predict`` writes them: ``overwrite``, ``quality`` (JPEG, WebP),
    ``bit_depth`` (16: at the input's own lightness, ``pipeline.bit_depth``), and always the input's metadata."""
    overwrite: bool = False
    quality: int = 95
    bit_depth: int = 8


class ColorizeActor:
    """One model on one worker; ``__call__`` takes Ray Data rows ``{"batch": [JSON batch]}`` (see ``run``)."""

    def __init__(self, recipe, writing):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        self.colorizer, self.writing = recipe.build(), writing
        # as predict does: photos decoded, and PNGs encoded and written, two at a time beside the network
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)

    def __call__(self, rows):
        results = []
        for text in rows["batch"]:
            photos = json.loads(text)
            try:
                results += self.colorize(photos)
            except Exception as err:  # reported per photo, never retried; TensorFlow's messages end in the cause
                last = next((line.strip() for line in reversed(str(err).splitlines()) if line.strip()), "")
                results += [_result(p, "failed", f"{type(err).__name__}: {last}") for p in photos]
        return {"result": np.array([json.dumps(r) for r in results], dtype=object)}

    def colorize(self, photos):
        by_name = {p["name"]: p for p in photos}
        decoded = list(self.pool.map(self.decode, photos))
        results = [_result(p, "failed", str(image)) for p, image in zip(photos, decoded)
                   if isinstance(image, Exception)]
        good = [(p["name"], image) for p, image in zip(photos, decoded) if not isinstance(image, Exception)]
        del decoded
        done, failures = colorize_or_each(self.colorizer, good, {p["name"]: p["hints"] for p in photos})
        results += [_result(by_name[name], "failed", str(err)) for name, err in failures]
        if self.writing.bit_depth == 16:  # the input's own lightness, at its precision
            from colorize.pipeline.bit_depth import to_16_bits
            sources = dict(good)
            done = [(name, to_16_bits(rgb, sources[name])) for name, rgb in done]
        del good
        results += self.pool.map(lambda item: self.write(by_name[item[0]], item[1]), done)
        return results

    def decode(self, photo):
        try:
            return self.colorizer.preprocessor.decode(photo["path"], name=photo["name"])
        except ColorizeError as err:
            return err

    def write(self, photo, rgb):
        try:
            output_files.save_image(rgb, photo["out"], overwrite=self.writing.overwrite, quality=self.writing.quality,
                               metadata=output_files.read_metadata(photo["path"]))
            return _result(photo, "written")
        except OutputExistsError:
            # Written since the run began: by this batch's earlier try on a worker that was lost (the same pixels:
            # it counts as written), or by another run (a skip, as in predict).
            try:
                same = np.array_equal(imageio.load_array(photo["out"]), rgb)
            except ColorizeError:
                same = False
            if same:
                return _result(photo, "written")
            return _result(photo, "skipped", f"{photo['out']} was written by another run meanwhile")
        except (ColorizeError, OSError) as err:
            return _result(photo, "failed", str(err))


def _result(photo, status, reason=""):
    return {"name": photo["name"], "status": status, "reason": reason}

"""The actor of the pool: it builds the model once (``ModelRecipe``), then runs one planned batch per call through
the executor of one machine (``colorize.predict.LocalExecutor``: the same decode, colorize and write as a local
run) and writes its outputs where the driver named them, on storage every node shares. It returns one outcome per
photo (written, skipped or failed and why); a photo's failure never stops the batch, and errors a photo cannot
cause (a bug, a lost file system) fail the batch's photos with the reason rather than the task, so Ray never
retries what would fail again."""
import dataclasses
import json

import numpy as np

from colorize.predict.batches import Photo
from colorize.predict.local import LocalExecutor
from colorize.predict.step import BatchStep, Outcome


class ColorizeActor:
    """One model on one worker; ``__call__`` takes Ray Data rows ``{"batch": [JSON batch]}`` (see ``run``)."""

    def __init__(self, recipe, writing, budget, verbose=False):
        self.step, self.budget = BatchStep(recipe.build(), writing, verbose), budget

    def __call__(self, rows):
        outcomes = []
        for text in rows["batch"]:
            photos = [Photo(**photo) for photo in json.loads(text)]
            try:
                outcomes += list(LocalExecutor().run([photos], self.step, budget=self.budget))
            except Exception as err:  # reported per photo, never retried; TensorFlow's messages end in the cause
                last = next((line.strip() for line in reversed(str(err).splitlines()) if line.strip()), "")
                outcomes += [Outcome(p.name, "failed", f"{type(err).__name__}: {last}") for p in photos]
        return {"result": np.array([json.dumps(dataclasses.asdict(o)) for o in outcomes], dtype=object)}

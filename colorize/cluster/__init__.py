"""``colorize predict --ray``: the same outputs as ``colorize predict``, colorized by a pool of Ray actors (one model
each) on a Ray cluster, a laptop's local Ray instance included. ``run``: the driver (scan, names, batches, progress,
the summary and ``failed.jsonl``); ``actors``: the actor that colorizes a batch and writes its PNGs; ``connect``:
reaching the cluster. Needs the ``cluster`` extra (``ray[data]``)."""
from colorize._lazy import lazy_door

_NAMES = {"colorize_files": "run", "Summary": "run", "ModelRecipe": "actors"}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

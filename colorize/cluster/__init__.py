"""``colorize predict --ray``: the same outputs as ``colorize predict``, colorized by a pool of Ray actors (one model
each) on a Ray cluster, a laptop's local Ray instance included. ``run``: the predict job's executor on the cluster
(``RayExecutor``) and ``colorize_files``; ``actors``: the actor that colorizes a batch and writes its outputs;
``connect``: reaching the cluster. Needs the ``cluster`` extra (``ray[data]``)."""
from colorize._lazy import lazy_door

_NAMES = {"colorize_files": "run", "RayExecutor": "run", "Summary": "run"}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

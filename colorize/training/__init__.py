"""Training: ``train(config, workdir)`` (``loop``, read top to bottom) and its parts: losses, checkpoints,
runtime (strategy, dtype policy, signals), the input pipelines, the log, warm starts, hint simulation."""
from colorize._lazy import lazy_door

_NAMES = {
    "train": "loop", "TrainingInterrupted": "loop", "check_workdir": "workdir",
    "export_checkpoint": "checkpoint_export",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

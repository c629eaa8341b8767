"""``colorize video``: frames through the same pipeline, ab smoothed along the scene's motion (``temporal``),
decoded and encoded with PyAV (``io``). Needs the ``video`` extra."""
from colorize._lazy import lazy_door

_NAMES = {"colorize_video": "frames", "colorize_frames": "frames", "DEFAULT_BATCH_SIZE": "frames",
          "DEFAULT_CODEC": "frames", "DEFAULT_CRF": "frames", "DEFAULT_ENCODER_PRESET": "frames",
          "require_av": "io"}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

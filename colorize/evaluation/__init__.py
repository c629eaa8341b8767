"""Scoring colorizations against colour truth (``scoring``, ``metrics``), contact sheets (``sheet``) and the
bundled-photo demo (``demo``)."""
from colorize._lazy import lazy_door

_NAMES = {
    "evaluate": "scoring", "format_table": "scoring", "json_ready": "scoring", "run_demo": "demo",
    "contact_sheet": "sheet", "psnr": "metrics", "ssim": "metrics", "auc": "metrics", "colorfulness": "metrics",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

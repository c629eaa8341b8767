"""Scoring colorizations against colour truth (``scoring``, ``metrics``), contact sheets (``sheet``), the
bundled-photo demo (``demo``) and the tuning / reporting split of the evaluation photos (``splits``)."""
from colorize._lazy import lazy_door

_NAMES = {
    "evaluate": "scoring", "format_table": "scoring", "json_ready": "scoring", "run_demo": "demo",
    "contact_sheet": "sheet",
    "split_photos": "splits", "TUNE_VAL": "splits", "REPORT_VAL": "splits",
    "psnr": "metrics", "ssim": "metrics", "auc": "metrics", "colorfulness": "metrics",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

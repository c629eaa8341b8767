"""Where training and evaluation images come from (``sources``: TFDS specs, folders, the bundled photos) and the
tf.data streams built from them (``streams``: seeded epoch orders, decode, crop, resume at any position)."""
from colorize._lazy import lazy_door

_NAMES = {
    "iter_dataset": "sources", "skimage_photos": "sources", "load_tfds": "sources", "scan_folder": "sources",
    "is_colour": "sources", "train_dataset": "streams", "val_dataset": "streams", "count_records": "streams",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

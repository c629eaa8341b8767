"""Where training and evaluation images come from (``sources``: TFDS specs, folders, the bundled photos) and the
tf.data streams built from them (``streams``: seeded epoch orders, decode, crop, resume at any position)."""
from colorize._lazy import lazy_door

_NAMES = {
    "iter_dataset": "sources", "skimage_photos": "sources", "hash_fraction": "sources",
    "train_dataset": "streams", "val_dataset": "streams", "count_records": "streams", "describe_validation": "streams",
    "with_labels": "streams", "to_training_pair": "streams", "position": "streams", "split_position": "streams",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

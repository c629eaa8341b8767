"""The network: the BiGRU fusion model built from a ``ModelConfig`` (``network``), its two fast layers
(``layers``), the ab colour bins (``bins``), the question block, and checked weights files (``weights``)."""
from colorize._lazy import lazy_door

_NAMES = {
    "build_model": "network", "encoder": "network", "build_question_block_fixed": "question_block",
    "load_weights": "weights", "sha256_of": "weights", "store_as_float16": "weights",
    "bins": "bins",  # the ab bins, a namespace: num_bins, soft_encode, histogram, annealed_mean...
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

"""The one use of a Keras internal (``keras.src.*``), behind a function of our own.

``snake_case``: the name a ``.weights.h5`` file files a layer's variables under is its class name in snake case
(``keras.src.utils.naming.to_snake_case``), numbered ``_1``, ``_2``... for repeats. Keras has no public alias; if
the internal moves, the same three regular expressions (Keras 3.0-3.15) take over.
"""
import re

try:
    from keras.src.utils.naming import to_snake_case as _keras_snake_case
except ImportError:  # pragma: no cover - only with a Keras that moved it
    _keras_snake_case = None


def snake_case(name):
    """``"FusedBatchNorm"`` -> ``"fused_batch_norm"``, as Keras names the groups of a ``.weights.h5`` file."""
    if _keras_snake_case is not None:
        return _keras_snake_case(name)
    return _snake_case(name)


def _snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()

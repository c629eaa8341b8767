"""The uses of TensorFlow and Keras internals (``tensorflow.python.*``, ``keras.src.*``), each behind a function
of our own.

``op_determinism``: TensorFlow exports ``enable_op_determinism`` only; whether it is on, and turning it off again
(so that ``train()`` leaves the process as it found it), live in its internal ``config`` module.

``freeze_variables``: TensorFlow's ``convert_variables_to_constants_v2`` has no public alias. It folds a concrete
function's variables into constants, also those read inside while loops (the GRUs'), which the TFLite converter
would otherwise leave as READ_VARIABLE ops that fail at run time. Should the internal move, the error says so.

``snake_case``: the name a ``.weights.h5`` file files a layer's variables under is its class name in snake case
(``keras.src.utils.naming.to_snake_case``), numbered ``_1``, ``_2``... for repeats. Keras has no public alias; if
the internal moves, the same three regular expressions (Keras 3.0-3.15) take over.
"""
import re

try:
    from keras.src.utils.naming import to_snake_case as _keras_snake_case
except ImportError:  # pragma: no cover - only with a Keras that moved it
    _keras_snake_case = None


def freeze_variables(concrete_function):
    """A concrete function -> the same function with every variable it reads folded into a constant."""
    try:
        from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    except ImportError as err:  # pragma: no cover - only with a TensorFlow that moved it
        from colorize.errors import ColorizeError
        raise ColorizeError(f"this TensorFlow has no convert_variables_to_constants_v2 ({err}); TFLite export "
                            "needs TensorFlow 2.16 to 2.21") from None
    return convert_variables_to_constants_v2(concrete_function)


def op_determinism():
    """(whether TF op determinism is on, a setter taking a bool); ``(None, None)`` where this TensorFlow lacks
    them (determinism is then left as it is)."""
    try:
        from tensorflow.python.framework import config as tf_config
        enabled = tf_config.is_op_determinism_enabled()
    except (ImportError, AttributeError):  # pragma: no cover - only with a TensorFlow that moved them
        return None, None
    return enabled, lambda on: tf_config.enable_op_determinism() if on else tf_config.disable_op_determinism()


def snake_case(name):
    """``"FusedBatchNorm"`` -> ``"fused_batch_norm"``, as Keras names the groups of a ``.weights.h5`` file."""
    if _keras_snake_case is not None:
        return _keras_snake_case(name)
    return _snake_case(name)


def _snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()

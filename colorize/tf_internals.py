"""The one use of a TensorFlow internal (``tensorflow.python.*``), behind a function of our own.

``freeze_variables``: TensorFlow's ``convert_variables_to_constants_v2`` has no public alias. It folds a concrete
function's variables into constants, also those read inside while loops (the GRUs'), which the TFLite converter
would otherwise leave as READ_VARIABLE ops that fail at run time. Should the internal move, the error says so.
"""


def freeze_variables(concrete_function):
    """A concrete function -> the same function with every variable it reads folded into a constant."""
    try:
        from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    except ImportError as err:  # pragma: no cover - only with a TensorFlow that moved it
        from .errors import ColorizeError
        raise ColorizeError(f"this TensorFlow has no convert_variables_to_constants_v2 ({err}); TFLite export "
                            "needs TensorFlow 2.16 to 2.21") from None
    return convert_variables_to_constants_v2(concrete_function)

"""The saturation dial's one range, for every front end (Python, the command line, the web app, the cluster):
a chroma multiplier from 0 (grey) to ``SATURATION_MAX``. Beyond about 4 nearly every colour sits at the sRGB
gamut's edge, and far beyond it the gamut fitting collapses the chroma again (grey from about 3e4, black from
about 1e37), so a larger value never means "more colour". No TensorFlow: the CLI checks its flag before loading."""
import numbers

from colorize.errors import InputError

SATURATION_MAX = 4.0
SATURATION_HELP = f"from 0 to {SATURATION_MAX:g} (1 = the model's colours, 0 = grey, 1.3 = more vivid)"


def check_saturation(value, what="saturation"):
    """A chroma multiplier -> float from 0 to ``SATURATION_MAX``, else ``InputError`` (any size of number: the
    comparison is exact, so ``10**400`` is refused, not an ``OverflowError``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or type(value).__name__ == "bool_" \
            or not 0 <= value <= SATURATION_MAX:
        raise InputError(f"{what} must be a number {SATURATION_HELP}, got {_shown(value)}")
    return float(value)


def _shown(value):
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"

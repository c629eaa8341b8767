"""Hints files: a JSON map from input names (or a video's frame numbers) to hint lists, or to a reference photo
and hints (``load_hints_file``, ``file_entry``). The hints themselves are checked later, against their image."""
import json

from colorize.errors import InputError


def load_hints_file(path, keys="file names", references=False):
    """A hints JSON file: ``{"photo.jpg": [{"x": .., "y": .., "color": "#rrggbb"}, ...], ...}`` -> that dict.
    ``keys`` names what the keys are, for the error message (a video's hints are keyed by frame numbers). With
    ``references``, an entry may also be ``{"reference": "ref.jpg", "hints": [...]}`` (both keys optional; see
    ``file_entry``)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as err:
        raise InputError(f"hints file {path} cannot be read ({err.strerror or err})") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"hints file {path} is not valid JSON: {err}") from None
    except RecursionError:
        raise InputError(f"hints file {path} nests too deep to be hints; it must map {keys} to lists of hints") \
            from None
    if references and isinstance(data, dict):
        for key, value in data.items():
            file_entry(value, f"hints file {path}: {key!r}")
    if not isinstance(data, dict) or not all(isinstance(v, list) or (references and isinstance(v, dict))
                                             for v in data.values()):
        raise InputError(f"hints file {path} must map {keys} to lists of {{\"x\", \"y\", \"color\"}} hints")
    return data


def file_entry(value, what):
    """One entry of a hints file: a hint list, or ``{"reference": path, "hints": [...]}`` -> (hints, reference
    path or None); ``InputError`` naming ``what`` for any other shape."""
    if isinstance(value, list):
        return value, None
    if not isinstance(value, dict) or set(value) - {"reference", "hints"} or \
            not isinstance(value.get("hints", []), list) or not isinstance(value.get("reference", ""), str):
        raise InputError(f"{what}: an entry is a list of hints or {{\"reference\": \"ref.jpg\", \"hints\": [...]}}")
    return value.get("hints", []), value.get("reference")

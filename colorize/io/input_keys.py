"""Which input file a user's key names (the keys of a hints file): a path as given, a path relative to the folder
argument it was found in, or a bare file name; a key that names no input, or several, is an error, so that a typo
never silently does nothing."""
from pathlib import Path

from colorize.errors import InputError


def files_for_keys(data, files, roots, source):
    """``{key: value}`` -> ``{input file: value}`` for the ``files`` of a scan (``roots``: the folder argument of
    each, or None); ``source`` (e.g. ``hints file h.json``) starts each error message."""
    found = {}
    for key, value in data.items():
        matches = [f for f, root in zip(files, roots) if _matches(key, f, root)]
        if not matches:
            raise InputError(f"{source}: {key!r} is none of the input images; keys are file names, paths relative "
                             "to the input folder, or paths as given")
        if len(matches) > 1:
            shown = ", ".join(str(m) for m in matches[:3])
            raise InputError(f"{source}: {key!r} names {len(matches)} input images ({shown}); use the path "
                             "relative to the input folder")
        if matches[0] in found:
            raise InputError(f"{source}: {matches[0]} is given hints under two keys")
        found[matches[0]] = value
    return found


def _matches(key, path, root):
    key = Path(key)
    return (key == path or (root is not None and key == path.relative_to(root))
            or (len(key.parts) == 1 and key.name == path.name))

"""Which input files ``colorize predict`` finds: CLI arguments -> the images in them (``scan_inputs``, ``Scan``),
with what could not be searched; ``list_images`` is its short form. No decoding here."""
import dataclasses
import os
from pathlib import Path

from colorize.errors import InputError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})


@dataclasses.dataclass
class Scan:
    """What ``scan_inputs`` found: ``files`` (each with the folder argument it was found in, or None for a file
    named on its own, in ``roots``) and ``problems``: ``(path, message, failed)`` for each folder that could not
    be read or link that leads nowhere (``failed``), or link back to a folder already searched (not ``failed``)."""
    files: list = dataclasses.field(default_factory=list)
    roots: list = dataclasses.field(default_factory=list)
    problems: list = dataclasses.field(default_factory=list)
    left_out: list = dataclasses.field(default_factory=list)  # folders under ``exclude`` that were not searched


def scan_inputs(paths, recursive=True, exclude=None):
    """CLI arguments -> ``Scan``. Folders expand to their images (sorted, dot files left out), following links to
    folders once each (no loops); named files are kept as given, whatever their suffix. The same file reached twice
    is listed once. Folders at or under ``exclude`` (the output folder) are not searched."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    scan, seen = Scan(), set()
    excluded = _folder_key(exclude) if exclude is not None else None
    for p in map(Path, paths):
        try:
            exists, is_dir = p.exists(), p.is_dir()
        except (OSError, ValueError) as err:  # name too long, NUL byte, no permission on a parent folder
            raise InputError(f"{p} cannot be accessed ({err}); check the path") from None
        if not exists:
            raise InputError(f"{p} does not exist; check the path")
        if is_dir:
            if excluded is not None and _is_under(p, Path(exclude)):
                scan.left_out.append(p)
                continue
            found = sorted(_walk(p, recursive, excluded, scan))
            roots = [p] * len(found)
        else:
            found, roots = [p], [None]
        for f, root in zip(found, roots):
            key = os.path.realpath(f)
            if key not in seen:
                seen.add(key)
                scan.files.append(f)
                scan.roots.append(root)
    return scan


def list_images(paths, recursive=True):
    """CLI arguments -> image files: folders expand to their images (sorted), named files are kept as given."""
    return scan_inputs(paths, recursive).files


def _folder_key(path):
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _is_under(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _walk(root, recursive, excluded, scan):
    files, visited, stack = [], set(), [Path(root)]
    while stack:
        folder = stack.pop()
        key = _folder_key(folder)
        if key in visited:
            scan.problems.append((folder, "a link to a folder already searched (a loop, or a second way in)", False))
            continue
        visited.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            scan.problems.append((folder, f"the folder cannot be read ({err.strerror or err})", True))
            continue
        folders = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()
            except OSError as err:
                scan.problems.append((path, f"cannot be read ({err.strerror or err})", True))
                continue
            if not (is_dir or is_file) and entry.is_symlink() and not os.path.exists(path):
                if path.suffix.lower() in IMAGE_SUFFIXES or not path.suffix:  # an image, or maybe a folder
                    scan.problems.append((path, "a link to something that does not exist", True))
                continue
            if is_dir:
                if excluded is not None and _folder_key(path) == excluded:
                    scan.left_out.append(path)
                elif recursive:
                    folders.append(path)
            # dot files include macOS "._x.jpg" resource forks and our own temporary files
            elif is_file and path.suffix.lower() in IMAGE_SUFFIXES and not entry.name.startswith("."):
                files.append(path)
        stack += reversed(folders)  # depth first, in name order: the same way into a folder every time
    return files

"""The output names of ``colorize predict`` (and of the cluster path, which must give the same ones).

OUTDIR/<path relative to the folder argument>.png, or OUTDIR/<name>.png for a file named on its own. They are
unique within a run and the same on every re-run of it (so a re-run skips what is done): photos that would share a
name get the part of their path that tells them apart (``2019/IMG_0001.png``, ``2020/IMG_0001.png``), then their
suffix (``a_jpg.png``, ``a_tif.png``), then a short hash of their path; a name past the file system's 255-byte
limit is shortened with that hash.
"""
import collections
import hashlib
import os
from pathlib import Path


def output_paths(files, roots, outdir):
    """Each input file -> its output path in ``outdir`` (see the module docstring): unique, whatever the inputs,
    and independent of their order."""
    anchors = [os.path.abspath(root if root is not None else f.parent) for f, root in zip(files, roots)]
    names = [Path(os.path.relpath(os.path.abspath(f), a)).with_suffix(".png") for f, a in zip(files, anchors)]
    for group in _clashes(names):  # the part of the path that tells them apart
        common = os.path.commonpath([anchors[i] for i in group])
        for i in group:
            names[i] = Path(os.path.relpath(os.path.abspath(files[i]), common)).with_suffix(".png")
    for group in _clashes(names):  # then the suffix: a.jpg, a.tif
        for i in group:
            names[i] = names[i].with_name(f"{files[i].stem}_{files[i].suffix[1:].lower()}.png")
    for group in _clashes(names):  # then the path itself
        for i in group:
            names[i] = names[i].with_name(f"{names[i].stem}-{_digest(files[i])}.png")
    return {f: Path(outdir) / _fit(name, f) for f, name in zip(files, names)}


def _clashes(names):
    groups = collections.defaultdict(list)
    for i, name in enumerate(names):
        groups[name.as_posix().casefold()].append(i)  # case-insensitive file systems would clash too
    return [group for group in groups.values() if len(group) > 1]


def _digest(path):
    return hashlib.sha1(os.path.realpath(path).encode(errors="surrogateescape")).hexdigest()[:8]


def _fit(name, source, limit=255):
    """Shorten a file name past the file system's 255-byte limit (a long name with a suffix added)."""
    if len(os.fsencode(name.name)) <= limit:
        return name
    tail = f"-{_digest(source)}.png"
    stem = os.fsencode(name.stem)[:limit - len(tail)].decode(errors="ignore")
    return name.with_name(stem + tail)


def pending(files, outputs, overwrite=False):
    """Which ``files`` to colorize -> ``(todo, skipped)``, ``skipped`` as ``[(file, why)]``: without ``overwrite``,
    those whose output exists (a re-run skips what is done) or would replace one of the inputs."""
    inputs = {os.path.realpath(f) for f in files}
    todo, skipped = [], []
    for f in files:
        out = outputs[f]
        if os.path.realpath(out) in inputs and not overwrite:
            skipped.append((f, f"the output {out} would overwrite an input (pass --overwrite)"))
        elif (out.exists() or out.is_symlink()) and not overwrite:
            skipped.append((f, f"{out} exists (pass --overwrite to replace it)"))
        else:
            todo.append(f)
    return todo, skipped

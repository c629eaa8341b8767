"""Each input's hints and colour reference in a predict job: ``--hint`` (one image), a hints file or dict keyed
by file name, path relative to the input folder, or path as given (``colorize.io.input_keys``), whose entries may
name a reference (``{"reference": "ref.jpg", "hints": [...]}``, relative to the hints file's folder), and
``--reference`` for every input. Unknown or ambiguous keys are errors, so a typo never silently does nothing."""
import os
from pathlib import Path

from colorize.errors import InputError
from colorize.io import input_keys


def steering(scan, hint=(), hints=None, reference=None):
    """-> ``({file: raw hint list}, {file: reference path})`` for the files of ``scan``."""
    from colorize.pipeline import hint_files, parse_cli_hint
    found = {f: Path(reference) for f in scan.files} if reference else {}
    if hint:
        if len(scan.files) != 1:
            raise InputError(f"--hint applies to one image, and {len(scan.files)} were given; use --hints FILE to "
                             "give hints to several")
        return {scan.files[0]: [parse_cli_hint(text) for text in hint]}, found
    if not hints:
        return {}, found
    if isinstance(hints, (str, os.PathLike)):
        what, folder = f"hints file {hints}", Path(hints).parent
        entries = hint_files.load_hints_file(hints, references=True)
    else:
        what, folder, entries = "hints", Path(), hints
    by_file, references = {}, {}
    for f, entry in input_keys.files_for_keys(entries, scan.files, scan.roots, what).items():
        by_file[f], path = hint_files.file_entry(entry, f"{what}: {str(f)!r}")
        if path is not None:
            references[f] = folder / path
    return by_file, {**found, **references}

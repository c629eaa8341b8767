"""Writing files and folders atomically: the one helper behind every output, record, weights file and export.

A write goes to a temporary path in the target's own folder, is flushed and fsynced, and then moved into place:
with a no-clobber hard link when ``overwrite=False`` (two writers cannot replace each other's file: the second
gets ``OutputExistsError``, the first file stays whole), with a rename when ``overwrite=True``; the folder is
fsynced after. Readers see the old file or the whole new one, never part of one.

Temporary names are short whatever the target's name (``.colorize-<host>-<pid>-<random>.tmp``), so a target
name near the 255-byte limit still works, and they say which process made them: ``clean_stale`` removes those
left by processes that no longer run (killed mid-write), and any older than a day.
"""
import contextlib
import errno
import os
import re
import secrets
import shutil
import socket
import time
import zlib
from pathlib import Path

from colorize.errors import ColorizeError, OutputExistsError, WriteError

PREFIX = ".colorize-"
STALE_AFTER_S = 24 * 3600
_HOST = "%04x" % (zlib.crc32(socket.gethostname().encode()) & 0xFFFF)
_TEMP = re.compile(r"^\.colorize-([0-9a-f]{4})-(\d+)-[0-9a-f]{8}\.tmp")
_LEGACY_TEMP = re.compile(r"^\..+\.tmp-(\d+)-\d+$")  # save_png's names before this module: .NAME.tmp-PID-THREAD
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}


def temp_path(folder, suffix=""):
    """A fresh temporary path in ``folder``, of this process, ending in ``suffix`` (e.g. ``.weights.h5``)."""
    return Path(folder) / f"{PREFIX}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.tmp{suffix}"


def _exists(path):
    return path.exists() or path.is_symlink()


def _exists_error(path):
    err = OutputExistsError(f"{path} already exists; pass overwrite=True to replace it")
    err.path = path  # the command line names its --overwrite flag instead
    return err


@contextlib.contextmanager
def writing(path, overwrite=False, suffix="", directory=False, sync=True, sync_folder=True):
    """``with writing(path) as tmp:`` write the file (or, with ``directory=True``, fill the folder) ``tmp``; on a
    clean exit it is fsynced (unless ``sync=False``: the caller did it) and moved to ``path``, and the folder is
    fsynced (unless ``sync_folder=False``: the new name may then be lost in a power cut, never half a file).
    The filesystem's failures (the body's own writes' ``OSError`` included: a full disk, a read-only folder) raise
    ``WriteError`` naming ``path`` (never the temporary name); anything else the body raises (a converter's or a
    tracer's error) propagates as itself. The temporary file is removed either way, also on Ctrl-C."""
    path = Path(path)
    if not overwrite and _exists(path):
        raise _exists_error(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(path.parent, suffix)
        if directory:
            tmp.mkdir()
    except OSError as err:
        raise _write_error(path, err) from err
    try:
        try:
            yield tmp
        except ColorizeError:
            raise
        except OSError as err:
            raise _write_error(path, err) from err
        try:
            if sync:
                _sync_tree(tmp) if directory else _sync_file(tmp)
            _move(tmp, path, overwrite, directory)
            if sync_folder:
                _sync_folder(path.parent)
        except ColorizeError:
            raise
        except Exception as err:
            raise _write_error(path, err) from err
    finally:
        _remove(tmp)


def write_bytes(path, data, overwrite=False, sync_folder=True):
    """Write ``data`` (bytes, or an iterable of byte strings written in turn) to ``path`` atomically -> ``path``."""
    path = Path(path)
    with writing(path, overwrite, sync=False, sync_folder=sync_folder) as tmp:
        with open(tmp, "wb") as f:
            for piece in [data] if isinstance(data, (bytes, bytearray, memoryview)) else data:
                f.write(piece)
            f.flush()
            os.fsync(f.fileno())
    return path


def write_with(path, write, overwrite=False):
    """Call ``write(tmp)`` to write a temporary file that ends like ``path`` (Keras wants ``.weights.h5``), then
    move it into place as ``writing`` does -> ``path``."""
    path = Path(path)
    with writing(path, overwrite, suffix="".join(path.suffixes)[-40:]) as tmp:
        write(tmp)
    return path


def write_text(path, text, overwrite=False):
    """Write ``text`` as UTF-8 to ``path`` atomically -> ``path``."""
    return write_bytes(path, text.encode("utf-8"), overwrite)


def check_writable(folder):
    """Create ``folder`` if needed and make sure a file can be created in it; ``WriteError`` naming it if not."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise WriteError(f"output folder {folder} is a file, not a folder; pass a folder path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = temp_path(folder)
        probe.open("xb").close()
        probe.unlink()
    except (OSError, ValueError) as err:
        raise WriteError(f"cannot write in the output folder {folder} ({getattr(err, 'strerror', None) or err}); "
                         "pass a folder you can write to") from None
    return folder


def clean_stale(folder, now=None):
    """Remove temporary files and folders of this tool in ``folder`` whose process no longer runs on this host,
    or older than ``STALE_AFTER_S``; returns how many were removed. Missing or unreadable folders count 0."""
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        match, legacy = _TEMP.match(entry.name), _LEGACY_TEMP.match(entry.name)
        if not (match or legacy):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        here, pid = (match.group(1) == _HOST, int(match.group(2))) if match else (True, int(legacy.group(1)))
        if age > STALE_AFTER_S or (here and not _running(pid)):
            removed += _remove(Path(entry.path))
    return removed


def _running(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
    return True


def _write_error(path, err):
    detail = err.strerror if isinstance(err, OSError) and err.strerror else f"{type(err).__name__}: {err}"
    if isinstance(err, OSError) and err.errno and os.strerror(err.errno) not in detail:
        detail = f"{os.strerror(err.errno)}: {detail}"  # h5py's strerror is its own text; the cause comes first
    detail = " ".join(str(detail).split())[:300]  # one line: h5py's text holds a ctime() and its newline
    return WriteError(f"cannot write {path} ({detail}); check that the folder is writable and the disk is not full")


def _move(tmp, path, overwrite, directory):
    if directory:
        _move_folder(tmp, path, overwrite)
    elif overwrite:
        os.replace(tmp, path)
    else:
        try:
            os.link(tmp, path)  # fails if path exists: no moment where a finished file is replaced
        except FileExistsError:
            raise _exists_error(path) from None
        except OSError as err:
            if err.errno not in _NO_LINKS:  # a filesystem without hard links: check, then rename (best effort)
                raise
            if _exists(path):
                raise _exists_error(path) from None
            os.replace(tmp, path)


def _move_folder(tmp, path, overwrite):
    if not _exists(path):
        os.rename(tmp, path)
        return
    if not overwrite:
        raise _exists_error(path)
    if not path.is_dir() or path.is_symlink():
        os.replace(tmp, path)
        return
    old = temp_path(path.parent, ".old")
    os.rename(path, old)
    try:
        os.rename(tmp, path)
    except BaseException:
        os.rename(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _sync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder):
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot sync folders; the data itself is synced
        pass
    finally:
        os.close(fd)


def _sync_tree(folder):
    for root, _, files in os.walk(folder):
        for name in files:
            _sync_file(os.path.join(root, name))
        _sync_folder(root)


def _remove(path):
    """Remove a file, link or folder if it is there -> 1 if something was removed."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        return 1
    except FileNotFoundError:
        return 0
    except OSError:
        return 0

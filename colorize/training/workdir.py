"""A training workdir before the first step: that it can hold checkpoints (``check_workdir``: writable, enough free
space, no temporary files of a killed write) and that no other training uses it (``WorkdirLock``)."""
import errno
import json
import os
import shutil
import socket
import time
from pathlib import Path

from colorize.errors import TrainingError
from colorize.io import clean_stale

MIN_FREE_BYTES = 200 * 2 ** 20


def check_workdir(workdir):
    """Fail before any training step if the workdir cannot hold checkpoints."""
    workdir = Path(workdir)
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        probe = workdir / ".write_probe"
        probe.write_bytes(b"x" * 4096)
        probe.unlink()
    except OSError as err:
        raise TrainingError(f"workdir {workdir} is not writable ({err.strerror or err}); "
                            "pass --workdir with a folder you can write to") from None
    for folder in (workdir, workdir / "checkpoints"):  # temp files of writes a kill interrupted
        clean_stale(folder)
    free = shutil.disk_usage(workdir).free
    if free < MIN_FREE_BYTES:
        raise TrainingError(f"workdir {workdir} has only {free / 2**20:.0f} MiB free; checkpoints need at least "
                            f"{MIN_FREE_BYTES / 2**20:.0f} MiB: free some space or choose another --workdir")
    return workdir


class WorkdirLock:
    """``WORKDIR/train.lock``, holding the pid of the training that uses the workdir.

    The lock is an ``flock`` on that file, which the kernel drops when its process ends however it ends, so a lock
    file left by a killed run is stale by construction and simply taken over. Where the filesystem has no
    ``flock`` (some network mounts), the pid in the file decides: a live pid on this host refuses the lock.
    """

    def __init__(self, workdir):
        self.path = Path(workdir) / "train.lock"
        self._file = None

    def __enter__(self):
        import fcntl
        f = open(self.path, "a+")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = _read_holder(self.path)
            if err.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                f.close()
                raise TrainingError(self._refusal(holder)) from None
            if holder and _alive(holder):  # no flock here: fall back on the pid
                f.close()
                raise TrainingError(self._refusal(holder)) from None
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}))
        f.flush()
        self._file = f
        return self

    def _refusal(self, holder):
        who = f"process {holder.get('pid')} on {holder.get('host')}" if holder else "another process"
        return (f"workdir {self.path.parent} is in use by the training {who} (lock file {self.path}); wait for it "
                "to finish or stop it, or pass another --workdir")

    def __exit__(self, *exc):
        if self._file is not None:
            self.path.unlink(missing_ok=True)  # while still locked, so no other run's fresh lock is removed
            self._file.close()
            self._file = None


def _read_holder(path):
    try:
        return json.loads(Path(path).read_text() or "null")
    except (OSError, ValueError):
        return None


def _alive(holder):
    if holder.get("host") != socket.gethostname():
        return True  # cannot tell: assume it runs
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, KeyError, TypeError, ValueError):
        return True
    return True

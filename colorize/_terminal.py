"""For the front ends only (the command line, the cluster driver), never the library: holding back what libraries
write on the process's file descriptor 2 (TensorFlow's and Ray's C++ start-up lines) while they load or connect."""
import contextlib
import os
import sys
import tempfile


@contextlib.contextmanager
def held_stderr(quiet_on=()):
    """``with held_stderr() as terminal:`` what is written on file descriptor 2 meanwhile goes to a temporary file,
    replayed only if the block raises an exception other than ``quiet_on``'s; ``terminal`` writes to the real
    stderr meanwhile (the front end's own lines)."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no usable file descriptor 2 (embedded interpreters): nothing to hold
        yield sys.stderr
        return
    terminal = os.fdopen(os.dup(saved), "w", buffering=1, errors="replace")
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield terminal
        except quiet_on:
            raise
        except BaseException:
            sys.stderr.flush()
            held.seek(0)
            terminal.write(held.read().decode(errors="replace"))
            raise
        finally:
            terminal.close()
            os.dup2(saved, 2)
            os.close(saved)

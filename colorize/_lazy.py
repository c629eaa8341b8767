"""Lazy public doors: a room's ``__init__`` names its public objects and the module that defines each, and they
are imported on first use, so that importing a room (or ``colorize --help``) loads no TensorFlow.

When such a first use imports TensorFlow, its start-up lines are held back (``first_tensorflow_import``), for the
command line and the Python API alike: what it prints while its libraries load (absl's "before InitializeLog"
notice, CUDA stubs, CPU features) and, later, its C++ log lines (a CPU machine's alarming ``failed call to
cuInit``). ``TF_CPP_MIN_LOG_LEVEL=3`` quiets the C++ logging: the level is read once, when the library loads, so
it is set only for the import (unless the user set it: they can turn the logs back on) and put back after it.
What is written to stderr meanwhile goes to a temporary file and is replayed only if the import fails (or did
not load TensorFlow). Nothing happens at ``import colorize``.
"""
import contextlib
import importlib
import importlib.util
import os
import sys

LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"


def lazy_door(package, names):
    """-> (``__getattr__``, ``__dir__``) for the package ``package`` whose public ``names`` map to submodules."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name):
        if name in names:
            with first_tensorflow_import():  # TensorFlow's start-up lines held back, as on the command line
                value = getattr(importlib.import_module(f"{package}.{names[name]}"), name)
            namespace[name] = value  # later lookups skip this function
            return value
        if not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}") is not None:
            with first_tensorflow_import():
                return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__


@contextlib.contextmanager
def first_tensorflow_import():
    """Around an import of one of colorize's modules: if it is the one that imports TensorFlow first, TensorFlow's
    start-up and C++ log lines are held back (see the module docstring). Anything else written to stderr meanwhile
    is replayed when TensorFlow did not load, and always when the import fails."""
    if "tensorflow" in sys.modules:
        yield
        return
    was_set = LEVEL_VARIABLE in os.environ
    os.environ.setdefault(LEVEL_VARIABLE, "3")
    try:
        with held_stderr(keep=lambda: "tensorflow" not in sys.modules):
            yield
    finally:
        if not was_set:
            os.environ.pop(LEVEL_VARIABLE, None)  # read once at TensorFlow's load: the process is left as found


@contextlib.contextmanager
def held_stderr(keep=lambda: False):
    """Send what is written to file descriptor 2 to a temporary file meanwhile; replay it if the block raises,
    or if ``keep()`` says so at its end, else drop it."""
    import tempfile
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no usable file descriptor 2 (embedded interpreters): nothing to hold
        yield
        return
    replay = True
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
            sys.stderr.flush()
            replay = keep()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if replay:
                held.seek(0)
                text = held.read().decode(errors="replace")
                if text:
                    sys.stderr.write(text)
                    sys.stderr.flush()

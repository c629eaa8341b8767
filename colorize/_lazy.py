"""Lazy public doors: a room's ``__init__`` names its public objects and the module that defines each, and they
are imported on first use, so that importing a room (or ``colorize --help``) loads no TensorFlow.

A door only imports: it leaves the process as it found it (no environment variable, no file descriptor, no logger
touched). TensorFlow's start-up lines are the command line's business (``colorize.cli.common.quiet_tensorflow``);
a library user sees TensorFlow's messages, as with any library that imports it.
"""
import importlib
import importlib.util


def lazy_door(package, names):
    """-> (``__getattr__``, ``__dir__``) for the package ``package`` whose public ``names`` map to submodules."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name):
        if name in names:  # a name that maps to itself is a submodule the door offers as a namespace
            module = importlib.import_module(f"{package}.{names[name]}")
            value = module if names[name] == name else getattr(module, name)
            namespace[name] = value  # later lookups skip this function
            return value
        if not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}") is not None:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__

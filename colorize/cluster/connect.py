"""Reaching a Ray cluster: ``local`` (a Ray instance for this run, stopped at its end), ``auto`` (the cluster this
machine joined with ``ray start``), ``HOST:PORT`` (a head's GCS port) or ``ray://HOST:PORT`` (Ray Client). A wrong
or unreachable address is one line, said before any photo is read; Ray's own logs stay off the terminal."""
import contextlib
import logging
import re
import socket

from colorize._terminal import held_stderr
from colorize.errors import ColorizeError

INSTALL = "pip install -e '.[cluster]' (or pip install 'colorize-photos[cluster]')"
_ADDRESS = re.compile(r"^(ray://)?(\[[0-9a-fA-F:]+\]|[^:/\s]+):(\d{1,5})$")
_QUIET = ("ray", "ray.data", "ray.util", "ray._private", "ray.air", "ray.train")


def import_ray():
    """-> the ``ray`` module with ``ray.data`` loaded; a one-line error naming the install command without it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as err:
        raise ColorizeError(f"--ray needs Ray Data, which is not installed ({err}); install it with {INSTALL}") \
            from None
    return ray


def check_address(address):
    """Refuse a malformed address, and a ``HOST:PORT`` where nothing listens, before Ray tries (and waits)."""
    if address in ("local", "auto"):
        return
    match = _ADDRESS.match(address or "")
    if not match or not 0 < int(match.group(3)) < 65536:
        raise ColorizeError(f"--ray {address!r} is not a cluster address; pass local, auto, HOST:PORT (the head's "
                            "port of `ray start --head --port PORT`) or ray://HOST:PORT (Ray Client)")
    host, port = match.group(2).strip("[]"), int(match.group(3))
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as err:
        raise ColorizeError(f"cannot reach the Ray head at {host}:{port} ({err.strerror or err}); start one with "
                            f"`ray start --head --port {port}` on that machine, or check --ray") from None


@contextlib.contextmanager
def connected(address):
    """``with connected(address) as (ray, stderr):`` a driver connected to the cluster (disconnected, and a ``local``
    instance stopped, at the end). Meanwhile what Ray's core and TensorFlow's C++ write on the process's stderr
    (notices, retries) is held back, and replayed only if the block fails unexpectedly: the run's own lines go to
    the ``stderr`` stream yielded, which is the terminal's."""
    check_address(address)
    ray = import_ray()
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.ERROR)
    options = {"include_dashboard": False} if address == "local" else {}
    with held_stderr(quiet_on=(ColorizeError,)) as stderr:
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR, **options)
        except Exception as err:  # ConnectionError, RuntimeError, TimeoutError...: Ray says which
            ray.shutdown()
            raise _connect_error(address, err) from None
        try:
            yield ray, stderr
        finally:
            ray.shutdown()


def _connect_error(address, err):
    causes = [err]  # Ray wraps the refusal in a ConnectionError, with its text or its exception as the cause
    while len(causes) < 10 and (causes[-1].__cause__ or causes[-1].__context__) is not None:
        causes.append(causes[-1].__cause__ or causes[-1].__context__)
    if any(type(e).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(e) for e in causes):
        return ColorizeError(f"the Ray cluster at {address!r} wants its token (Ray's token authentication): set "
                             "RAY_AUTH_MODE=token and RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH) as on its nodes")
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return ColorizeError(f"cannot connect to the Ray cluster at {address!r} ({first}); check --ray")

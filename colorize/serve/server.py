"""Running ``colorize serve``'s web app (``colorize.serve.app``): binding a socket, serving with uvicorn until
Ctrl-C, or in a background thread (tests, notebooks, benchmarks).

Needs the optional ``web`` extra: ``pip install -e '.[web]'`` (Starlette, uvicorn, python-multipart).
"""
import ipaddress
import socket
import threading
import time

from colorize.errors import ColorizeError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def bind(host=DEFAULT_HOST, port=DEFAULT_PORT):
    """A listening TCP socket on ``host``:``port`` (0: a free port) -> (socket, is_loopback). ``ColorizeError``
    with one line if the address cannot be used."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                      flags=socket.AI_PASSIVE)[0]
        sock = socket.create_server(address[:2] if family == socket.AF_INET else address, family=family)
    except socket.gaierror as err:
        raise ColorizeError(f"--host {host!r} is not an address or host name of this machine ({err.strerror})") \
            from None
    except OSError as err:
        hint = "; pick another --port (0: any free one)" if err.errno in (98, 48) else ""
        raise ColorizeError(f"cannot listen on {host}:{port}: {err.strerror or err}{hint}") from None
    sock.setblocking(False)
    return sock, ipaddress.ip_address(address[0]).is_loopback


def url_of(sock, host):
    """The http:// URL a browser on this machine opens for a socket bound by ``bind``."""
    address, port = sock.getsockname()[:2]
    shown = host if host not in ("", "0.0.0.0", "::") else address
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}/"


def exposure_warning(host):
    """The warning printed when serving beyond this machine, or None on loopback."""
    try:
        loopback = all(ipaddress.ip_address(info[4][0]).is_loopback
                       for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM))
    except (socket.gaierror, ValueError):
        loopback = False
    if loopback:
        return None
    where = "every network interface" if host in ("", "0.0.0.0", "::") else host
    return (f"colorize serve: warning: listening on {where}: anyone who can reach this machine on that network can "
            "upload photos to it and use its CPU; serve on 127.0.0.1 (the default) to keep it to yourself")


def _uvicorn_server(app, log_level="warning"):
    import uvicorn
    config = uvicorn.Config(app, log_level=log_level, access_log=False, timeout_graceful_shutdown=3,
                            server_header=False, lifespan="on")
    return uvicorn.Server(config)


def serve_forever(app, sock):
    """Serve ``app`` on ``sock`` until SIGINT / SIGTERM (uvicorn's graceful shutdown). Returns normally on Ctrl-C."""
    try:
        _uvicorn_server(app).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the signal it caught, after shutting down cleanly
        pass


class BackgroundServer:
    """``app`` served on a free loopback port in a daemon thread: ``with BackgroundServer(app) as server:``
    then ``server.url``. Stops (lifespan shutdown included) on leaving the block or ``stop()``."""

    def __init__(self, app, host=DEFAULT_HOST, port=0, start_timeout_s=30.0):
        self.app = app
        self._sock, _ = bind(host, port)
        self.url = url_of(self._sock, host)
        self._server = _uvicorn_server(app)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True,
                                        name="colorize-serve")
        self._thread.start()
        deadline = time.monotonic() + start_timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the background server did not start")
            time.sleep(0.01)

    def stop(self):
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

"""``colorize serve``'s web app: one static page and the HTTP API it uses, around one ``Colorizer``.

    POST /api/colorize   multipart: ``image`` (the photo's bytes), optional ``hints`` (a JSON list of
                         {"x", "y", "color"[, "radius"]}) -> image/png of the photo's size
    GET  /api/info       {"preset", "hints", "max_upload_bytes", "max_pixels", ...}

Errors are JSON ``{"error": "one line"}``: 400 (bad image, hints or form), 403 (a cross-site request), 404,
413 (upload or pixel count over the limit), 503 (busy beyond the queue).

The network runs one request at a time, on one worker thread; at most ``queue_size`` requests wait or run, and
the next is refused with 503 before its body is read. A photo is decoded and prepared once: the prepared photo
is kept in memory (a few entries, a few minutes, keyed by the sha256 of its bytes), so re-colorizing it after a
click only runs the network and the full-resolution finish. Nothing is written to disk: the request body is
read into memory (up to ``max_upload_bytes``) and parsed there, and no part of a request is used as a path.
The image's size is read from its header and checked before a pixel is decoded (decompression bombs).
"""
import asyncio
import collections
import concurrent.futures
import contextlib
import hashlib
import io
import json
import threading
import time
import warnings
from importlib import resources
from urllib.parse import urlsplit

import numpy as np
from PIL import Image
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import __version__
from .errors import ColorizeError
from .png import encode_png

DEFAULT_MAX_UPLOAD_BYTES = 64 * 2 ** 20   # a 24 Mpx phone JPEG is 5-15 MB; as a PNG it can reach ~50 MB
DEFAULT_MAX_PIXELS = 40_000_000           # 24 Mpx phones and 36 Mpx cameras fit; the full-resolution finish
                                          # needs ~40 bytes a pixel while it runs
DEFAULT_QUEUE_SIZE = 16
MAX_HINTS = 200
MAX_HINTS_BYTES = 2 ** 20
STATIC_FILES = {"/": ("index.html", "text/html; charset=utf-8"),
                "/app.js": ("app.js", "text/javascript; charset=utf-8"),
                "/style.css": ("style.css", "text/css; charset=utf-8")}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class RequestError(Exception):
    """An HTTP error whose one-line message is sent to the client as ``{"error": message}``."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class PhotoCache:
    """A small in-memory LRU of prepared photos with a time to live; thread-safe."""

    def __init__(self, entries=4, ttl_s=600.0, clock=time.monotonic):
        self.entries, self.ttl_s, self._clock = entries, ttl_s, clock
        self._items = collections.OrderedDict()  # key -> (expiry time, prepared photo)
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            self._purge()
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            _, prepared = self._items[key]
            self._items[key] = (self._clock() + self.ttl_s, prepared)
            return prepared

    def put(self, key, prepared):
        if self.entries < 1:
            return
        with self._lock:
            self._items[key] = (self._clock() + self.ttl_s, prepared)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)

    def purge(self):
        with self._lock:
            self._purge()

    def clear(self):
        with self._lock:
            self._items.clear()

    def __len__(self):
        with self._lock:
            return len(self._items)

    def _purge(self):
        now = self._clock()
        for key in [k for k, (expiry, _) in self._items.items() if expiry <= now]:
            del self._items[key]


def open_checked(data, name, max_pixels):
    """Image bytes -> a PIL image with only its header read, refused (``RequestError``) if it is not an image or
    has more than ``max_pixels`` pixels, before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's bomb warning: our own limit decides, below
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise RequestError(413, f"{name} has too many pixels to decode safely (a decompression bomb?)") from None
    except Exception:  # Pillow raises UnidentifiedImageError, OSError, SyntaxError ... on bytes it cannot read
        raise RequestError(400, f"{name} is not an image this server can read (JPEG, PNG, WebP, TIFF, BMP, GIF)") \
            from None
    width, height = image.size
    if width * height > max_pixels:
        raise RequestError(413, f"{name} is {width}x{height} = {width * height:,} pixels, more than this server's "
                                f"limit of {max_pixels:,}; resize it first")
    return image


def parse_form(body, content_type):
    """A multipart/form-data body -> {field name: (filename or None, bytes)}, parsed in memory."""
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise RequestError(400, "send the photo as multipart/form-data with a field 'image' (and optional 'hints')")
    fields, part, header = {}, {}, {}

    def on_part_begin():
        part.clear()
        part["data"] = []

    def on_header_field(data, start, end):
        header["field"] = header.get("field", b"") + data[start:end]

    def on_header_value(data, start, end):
        header["value"] = header.get("value", b"") + data[start:end]

    def on_header_end():
        if header.get("field", b"").strip().lower() == b"content-disposition":
            part["disposition"] = parse_options_header(header.get("value", b""))[1]
        header.clear()

    def on_part_data(data, start, end):
        part["data"].append(data[start:end])

    def on_part_end():
        disposition = part.get("disposition", {})
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if len(fields) >= 8:
            raise RequestError(400, "too many form fields; send only 'image' and 'hints'")
        filename = disposition.get(b"filename")
        fields[name] = (filename.decode("utf-8", "replace") if filename is not None else None, b"".join(part["data"]))

    parser = MultipartParser(boundary, {"on_part_begin": on_part_begin, "on_header_field": on_header_field,
                                        "on_header_value": on_header_value, "on_header_end": on_header_end,
                                        "on_part_data": on_part_data, "on_part_end": on_part_end})
    try:
        parser.write(body)
        parser.finalize()
    except RequestError:
        raise
    except Exception as err:  # python-multipart's MultipartParseError and friends
        raise RequestError(400, f"the multipart form cannot be parsed ({err})") from None
    return fields


def parse_hints_field(raw, takes_hints):
    """The ``hints`` form field (JSON text) -> a list of hint dicts, checked for shape only (the Colorizer checks
    each hint against the photo)."""
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_HINTS_BYTES:
        raise RequestError(400, f"hints are over {MAX_HINTS_BYTES} bytes")
    try:
        hints = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise RequestError(400, f"hints are not valid JSON ({err})") from None
    if not isinstance(hints, list):
        raise RequestError(400, 'hints must be a JSON list like [{"x": 120, "y": 40, "color": "#1f4e9c"}]')
    if len(hints) > MAX_HINTS:
        raise RequestError(400, f"{len(hints)} hints; at most {MAX_HINTS} are accepted")
    if hints and not takes_hints:
        raise RequestError(400, "this model takes no colour hints; send the photo alone or serve a hints preset")
    return hints or None


class Engine:
    """Runs the Colorizer on one worker thread, with a bounded queue and the prepared-photo cache."""

    def __init__(self, colorizer, max_pixels=DEFAULT_MAX_PIXELS, queue_size=DEFAULT_QUEUE_SIZE, cache=None):
        self.colorizer, self.max_pixels, self.queue_size = colorizer, max_pixels, queue_size
        self.cache = cache if cache is not None else PhotoCache()
        self.pending = 0  # requests admitted and not yet answered; only touched on the event loop
        self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="colorize-model")

    def admit(self):
        if self.pending >= self.queue_size:
            raise RequestError(503, f"busy: {self.pending} requests are already waiting; try again in a moment")
        self.pending += 1

    def release(self):
        self.pending -= 1

    async def colorize_png(self, data, name, hints):
        return await asyncio.wrap_future(self._worker.submit(self._run, data, name, hints))

    def _run(self, data, name, hints):
        """On the worker thread: bytes -> (PNG bytes, whether the prepared photo was cached, stage timings).
        Decodes and prepares the photo unless cached."""
        start = time.perf_counter()
        key = hashlib.sha256(data).hexdigest()
        prepared = self.cache.get(key)
        cached = prepared is not None
        if not cached:
            prepared = self.colorizer.prepare(open_checked(data, name, self.max_pixels), name=name)
            self.cache.put(key, prepared)
        ready = time.perf_counter()
        rgb = self.colorizer.colorize_prepared(prepared, hints=hints, name=name)
        colorized = time.perf_counter()
        png = encode_png(rgb)
        timings = {"prepare": ready - start, "colorize": colorized - ready, "png": time.perf_counter() - colorized}
        return png, cached, timings

    def warm_up(self):
        """Run a photo through every step once, on the worker thread, so that TensorFlow's tracing and XLA's
        compiling (seconds on a CPU) happen before the first person waits for a result rather than during it.
        Noise of full contrast over several pixel chunks reaches every kernel, the gamut fitting's included."""
        noise = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
        hints = [{"x": 10.5, "y": 20.5, "color": "#4a7fc1"}] if self.colorizer.hints else None

        def run():
            prepared = self.colorizer.prepare(Image.fromarray(noise), name="warm-up")
            for with_hints in ([None, hints] if hints else [None]):
                encode_png(self.colorizer.colorize_prepared(prepared, hints=with_hints, name="warm-up"))

        self._worker.submit(run).result()

    def close(self):
        self._worker.shutdown(wait=False, cancel_futures=True)
        self.cache.clear()


async def read_body(request, limit):
    """The request body, at most ``limit`` bytes, else 413. An oversized body is still drained (up to a bound) so
    that the client can read the answer instead of finding its connection reset mid-upload."""
    declared = request.headers.get("content-length")
    too_large = declared is not None and declared.isdigit() and int(declared) > limit
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                too_large, chunks = True, []
            if too_large:
                if size > 4 * limit + 2 ** 20:
                    break
                continue
            chunks.append(chunk)
    except ClientDisconnect:
        raise RequestError(400, "the upload was cut off before its end") from None
    if too_large:
        raise RequestError(413, f"the upload is over this server's limit of {limit / 2 ** 20:.3g} MiB; "
                                "resize or re-compress the photo")
    return b"".join(chunks)


def _display_name(filename):
    """The uploaded file's name, for messages only (never a path): its last component, printable, short."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable())[:80]
    return name or "the upload"


class HostGuard:
    """ASGI middleware. When serving on loopback, answer only requests for a loopback host name (a DNS-rebinding
    guard); everywhere, refuse POSTs whose Origin is another site (a cross-site request)."""

    def __init__(self, app, loopback_only):
        self.app, self.loopback_only = app, loopback_only

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            host = headers.get("host", "")
            origin = headers.get("origin")
            if self.loopback_only and _hostname(f"//{host}") not in LOOPBACK_NAMES:
                return await _error(400, f"host {host[:100]!r} is not served: this app answers on localhost only")(
                    scope, receive, send)
            if scope["method"] == "POST" and origin is not None and _netloc(origin) != host:
                return await _error(403, "cross-site requests are refused; use the page this server serves")(
                    scope, receive, send)
        await self.app(scope, receive, send)


def _hostname(url):
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # a malformed [IPv6] part
        return ""


def _netloc(url):
    try:
        return urlsplit(url).netloc
    except ValueError:
        return None


def _error(status, message):
    return JSONResponse({"error": message}, status_code=status, headers=SECURITY_HEADERS)


def create_app(colorizer, max_upload_bytes=DEFAULT_MAX_UPLOAD_BYTES, max_pixels=DEFAULT_MAX_PIXELS,
               queue_size=DEFAULT_QUEUE_SIZE, cache_entries=4, cache_ttl_s=600.0, loopback_only=True):
    """The ASGI app serving ``colorizer``. ``max_pixels`` is capped by the colorizer's own limit."""
    max_pixels = min(max_pixels, colorizer.max_pixels or max_pixels)
    engine = Engine(colorizer, max_pixels, queue_size, PhotoCache(cache_entries, cache_ttl_s))
    static = {route: ((resources.files("colorize") / "static" / filename).read_bytes(), media_type)
              for route, (filename, media_type) in STATIC_FILES.items()}

    async def page(request):
        content, media_type = static[request.url.path]
        return Response(content, media_type=media_type, headers=SECURITY_HEADERS)

    async def info(request):
        return JSONResponse({"preset": colorizer.name, "hints": bool(colorizer.hints),
                             "max_upload_bytes": max_upload_bytes, "max_pixels": max_pixels,
                             "max_hints": MAX_HINTS, "queue_size": queue_size, "busy": engine.pending,
                             "version": __version__}, headers=SECURITY_HEADERS)

    async def colorize_endpoint(request):
        engine.admit()
        try:
            body = await read_body(request, max_upload_bytes)
            fields = parse_form(body, request.headers.get("content-type"))
            if "image" not in fields or not fields["image"][1]:
                raise RequestError(400, "no photo: send its bytes in the multipart field 'image'")
            filename, data = fields["image"]
            hints_raw = fields.get("hints", (None, b""))[1].decode("utf-8", "replace")
            hints = parse_hints_field(hints_raw, colorizer.hints)
            try:
                png, cached, timings = await engine.colorize_png(data, _display_name(filename), hints)
            except ColorizeError as err:
                raise RequestError(400, str(err)) from None
        finally:
            engine.release()
        timing = ", ".join(f"{k};dur={v * 1000:.1f}" for k, v in timings.items())
        return Response(png, media_type="image/png", headers={
            **SECURITY_HEADERS, "Server-Timing": timing, "X-Photo-Cached": "1" if cached else "0"})

    async def request_error(request, err):
        return _error(err.status, str(err))

    async def http_error(request, err):
        messages = {404: "not found", 405: f"{request.method} is not allowed here"}
        return _error(err.status_code, messages.get(err.status_code, str(err.detail)))

    async def server_error(request, err):  # the server's log gets the traceback
        return _error(500, f"internal error ({type(err).__name__}); the server log has the details")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def purge():  # expired photos leave memory even when no request comes
            while True:
                await asyncio.sleep(min(30.0, cache_ttl_s))
                engine.cache.purge()

        task = asyncio.create_task(purge())
        try:
            yield
        finally:
            task.cancel()
            engine.close()

    routes = [Route(path, page, methods=["GET"]) for path in STATIC_FILES]
    routes += [Route("/api/info", info, methods=["GET"]),
               Route("/api/colorize", colorize_endpoint, methods=["POST"])]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(HostGuard, loopback_only=loopback_only)],
                    exception_handlers={RequestError: request_error, HTTPException: http_error,
                                        Exception: server_error})
    app.state.engine = engine
    return app

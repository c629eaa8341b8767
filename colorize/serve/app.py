"""``colorize serve``'s web app: one static page and the HTTP API it uses, around one ``Colorizer``.

    POST /api/colorize   multipart: ``image`` (the photo's bytes), optional ``hints`` (a JSON list of
                         {"x", "y", "color"[, "radius"]} in the photo's pixels), optional ``preview`` (a longest
                         side in pixels), optional ``saturation`` (a chroma multiplier, 0-4; 1 the model's own),
                         optional ``reference`` (a colour photo's bytes whose colours are matched onto the photo;
                         a hint model; prepared once and kept like the photo)
                         -> image/png of the photo's size (or the preview's); the photo's size in the header
                         X-Photo-Size: WxH; X-Network-Cached: 1 when only the finish ran (the same photo and hints
                         as before, e.g. a new saturation)
    GET  /api/info       {"preset", "hints", "max_upload_bytes", "max_pixels", "preview_side", ...}

Errors are JSON ``{"error": "one line"}``: 400 (bad image, hints or form), 403 (a cross-site request), 404,
413 (upload or pixel count over the limit), 503 (busy beyond the queue).

The network runs one request at a time, on one worker thread; at most ``queue_size`` requests wait or run, and
the next is refused with 503. A request takes its place in the queue only once its body is in (stalled uploads
hold no place), and a body that sends nothing for ``body_timeout_s`` seconds is refused with 408. A photo is
decoded and prepared once: the prepared photo is kept in memory (a few entries, a few minutes, keyed by the
sha256 of its bytes), so re-colorizing it after a click only runs the network and the full-resolution finish;
while a large photo is steered the page asks for a preview, so a click costs what a small photo costs, and for
the full resolution when it downloads the result. Nothing is written to disk, and no part of a request is used as
a path (``colorize.serve_requests``).
"""
import asyncio
import collections
import concurrent.futures
import contextlib
import hashlib
import json
import threading
import time
from importlib import resources
from urllib.parse import urlsplit

import numpy as np
from PIL import Image
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from colorize._version import __version__
from colorize.errors import ColorizeError
from colorize.io.png import encode_png
from colorize.pipeline import hints as hint_lib
from colorize.serve.requests import (
    MAX_HINTS,
    RequestError,
    display_name,
    open_checked,
    parse_form,
    parse_hints_field,
    parse_preview_field,
    parse_saturation_field,
    read_body,
)

DEFAULT_MAX_UPLOAD_BYTES = 64 * 2 ** 20   # a 24 Mpx phone JPEG is 5-15 MB; as a PNG it can reach ~50 MB
MAX_UPLOAD_PIXELS = 40_000_000           # 24 Mpx phones and 36 Mpx cameras fit; the full-resolution finish
                                          # needs ~40 bytes a pixel while it runs
DEFAULT_QUEUE_SIZE = 16
DEFAULT_BODY_TIMEOUT_S = 30.0             # no byte of an upload for this long: 408 (a phone on a slow link sends more)
DEFAULT_PREVIEW_SIDE = 1600               # larger than the page shows a photo on most screens
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


class Engine:
    """Runs the Colorizer on one worker thread, with a bounded queue and the prepared-photo cache."""

    def __init__(self, colorizer, max_pixels=MAX_UPLOAD_PIXELS, queue_size=DEFAULT_QUEUE_SIZE, cache=None):
        self.colorizer, self.max_pixels, self.queue_size = colorizer, max_pixels, queue_size
        self.cache = cache if cache is not None else PhotoCache()
        # the network's ab per photo, preview side and hints: a new saturation re-runs only the finish
        self.ab_cache = PhotoCache(max(self.cache.entries, 1) * 4, self.cache.ttl_s)
        self.reference_cache = PhotoCache(max(self.cache.entries, 1), self.cache.ttl_s)  # prepared references
        self.pending = 0  # requests admitted and not yet answered; only touched on the event loop
        self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="colorize-model")

    def admit(self):
        if self.pending >= self.queue_size:
            raise RequestError(503, f"busy: {self.pending} requests are already waiting; try again in a moment")
        self.pending += 1

    def release(self):
        self.pending -= 1

    async def colorize_png(self, data, name, hints, preview=None, saturation=None, reference=None):
        return await asyncio.wrap_future(self._worker.submit(self._run, data, name, hints, preview, saturation,
                                                             reference))

    def _reference(self, reference):
        """(name, bytes) of a colour reference -> (its ``Reference``, prepared once and cached, and its digest)."""
        name, data = reference
        digest = hashlib.sha256(data).hexdigest()
        prepared = self.reference_cache.get(digest)
        if prepared is None:
            image = open_checked(data, f"reference {name}", self.max_pixels)
            prepared = self.colorizer.prepare_reference(image, name=name)
            self.reference_cache.put(digest, prepared)
        return prepared, digest

    def _run(self, data, name, hints, preview, saturation=None, reference=None):
        """On the worker thread: bytes -> (PNG bytes, the photo's (width, height), whether the prepared photo came
        from the cache, stage timings; "network" is absent when the network's ab came from the cache)."""
        start = time.perf_counter()
        digest = hashlib.sha256(data).hexdigest()
        prepared, width, height, cached = self._prepared(data, name, preview, digest)
        if hints and (prepared.width, prepared.height) != (width, height):
            hints = _scaled_hints(hints, width, height, prepared.width / width, prepared.height / height, name)
        ready = time.perf_counter()
        reference, reference_digest = self._reference(reference) if reference else (None, None)
        key = (digest, prepared.width, prepared.height, json.dumps(hints, sort_keys=True, default=str),
               reference_digest)
        entry = self.ab_cache.get(key)
        ran_network = entry is None
        if ran_network:
            parsed = self.colorizer.parse_hints(hints, prepared, name)
            entry = (self.colorizer.predict_ab([prepared], [parsed], [reference])[0], parsed)
            self.ab_cache.put(key, entry)
        network = time.perf_counter()
        rgb = self.colorizer.finish(prepared, entry[0], entry[1], saturation)
        colorized = time.perf_counter()
        png = encode_png(rgb)
        timings = {"prepare": ready - start, "network": network - ready, "finish": colorized - network,
                   "png": time.perf_counter() - colorized}
        if not ran_network:
            timings.pop("network")
        return png, (width, height), cached, timings

    def _prepared(self, data, name, preview, digest=None):
        """The photo prepared at full resolution, or with its longest side ``preview`` where it is longer, from the
        cache or decoded now -> (prepared, the photo's own width and height, whether it was cached)."""
        digest = digest or hashlib.sha256(data).hexdigest()
        image = open_checked(data, name, self.max_pixels)  # the header only: cheap, and it settles the size
        preview = preview if preview and max(image.size) > preview else None
        entry = self.cache.get((digest, preview))
        if entry is not None:
            return (*entry, True)
        # with a preview side, a smaller photo for the page to steer: every click then costs what a small photo costs
        prepared = self.colorizer.prepare(image, name=name, max_side=preview)
        entry = (prepared, *image.size)
        self.cache.put((digest, preview), entry)
        return (*entry, False)

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
        self.ab_cache.clear()
        self.reference_cache.clear()


def _scaled_hints(hints, width, height, sx, sy, name):
    """Hints in the photo's pixels, checked against the photo itself -> the same hints in a preview's pixels."""
    return [(h.x * sx, h.y * sy, h.rgb) + (() if h.radius is None else (h.radius * min(sx, sy),))
            for h in hint_lib.parse_hints(hints, height, width, name)]


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


def create_app(colorizer, max_upload_bytes=DEFAULT_MAX_UPLOAD_BYTES, max_pixels=MAX_UPLOAD_PIXELS,
               queue_size=DEFAULT_QUEUE_SIZE, cache_entries=4, cache_ttl_s=600.0, loopback_only=True,
               preview_side=DEFAULT_PREVIEW_SIDE, body_timeout_s=DEFAULT_BODY_TIMEOUT_S):
    """The ASGI app serving ``colorizer``. ``max_pixels`` is capped by the colorizer's own limit. The page asks
    for results of at most ``preview_side`` pixels a side while a photo is steered (0: always full resolution)
    and for the full resolution when it is downloaded."""
    max_pixels = min(max_pixels, colorizer.max_pixels or max_pixels)
    engine = Engine(colorizer, max_pixels, queue_size, PhotoCache(cache_entries, cache_ttl_s))
    static = {route: ((resources.files("colorize.serve") / "static" / filename).read_bytes(), media_type)
              for route, (filename, media_type) in STATIC_FILES.items()}

    async def page(request):
        content, media_type = static[request.url.path]
        return Response(content, media_type=media_type, headers=SECURITY_HEADERS)

    async def info(request):
        return JSONResponse({"preset": colorizer.name, "hints": bool(colorizer.hints),
                             "max_upload_bytes": max_upload_bytes, "max_pixels": max_pixels,
                             "max_hints": MAX_HINTS, "preview_side": preview_side, "queue_size": queue_size,
                             "busy": engine.pending,
                             "version": __version__}, headers=SECURITY_HEADERS)

    async def colorize_endpoint(request):
        body = await read_body(request, max_upload_bytes, body_timeout_s)  # before admit: uploads hold no place
        engine.admit()
        try:
            fields = parse_form(body, request.headers.get("content-type"))
            if "image" not in fields or not fields["image"][1]:
                raise RequestError(400, "no photo: send its bytes in the multipart field 'image'")
            filename, data = fields["image"]
            hints_raw = fields.get("hints", (None, b""))[1].decode("utf-8", "replace")
            hints = parse_hints_field(hints_raw, colorizer.hints)
            preview = parse_preview_field(fields.get("preview", (None, b""))[1].decode("utf-8", "replace"))
            saturation = parse_saturation_field(fields.get("saturation", (None, b""))[1].decode("utf-8", "replace"))
            reference = fields.get("reference", (None, b""))
            reference = (display_name(reference[0]), reference[1]) if reference[1] else None
            try:
                png, (width, height), cached, timings = await engine.colorize_png(
                    data, display_name(filename), hints, preview, saturation, reference)
            except ColorizeError as err:
                raise RequestError(400, str(err)) from None
        finally:
            engine.release()
        timing = ", ".join(f"{k};dur={v * 1000:.1f}" for k, v in timings.items())
        return Response(png, media_type="image/png", headers={
            **SECURITY_HEADERS, "Server-Timing": timing, "X-Photo-Cached": "1" if cached else "0",
            "X-Network-Cached": "0" if "network" in timings else "1", "X-Photo-Size": f"{width}x{height}"})

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
                engine.ab_cache.purge()
                engine.reference_cache.purge()

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

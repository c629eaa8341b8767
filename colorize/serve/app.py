"""``colorize serve``'s web app: one static page and the HTTP API it uses, around one ``Colorizer``.

    POST /api/colorize   multipart: ``image`` (the photo's bytes), optional ``hints`` (a JSON list of
                         {"x", "y", "color"[, "radius"]} in the photo's pixels), optional ``preview`` (a longest
                         side in pixels), optional ``saturation`` (a chroma multiplier, 0-4; 1 the model's own),
                         optional ``reference`` (a colour photo's bytes whose colours are matched onto the photo;
                         a hint model; prepared once and kept like the photo), optional ``border`` (auto: a
                         scan's border is found and left neutral; off; or LEFT,TOP,RIGHT,BOTTOM, the photo's box
                         inside its border in the photo's pixels; empty: the server's setting)
                         -> image/png of the photo's size (or the preview's); the photo's size in the header
                         X-Photo-Size: WxH; X-Network-Cached: 1 when only the finish ran (the same photo and hints
                         as before, e.g. a new saturation); with a reference, X-Reference-Note: what it did
                         ("reference r.jpg: matched 34% of photo.jpg" / "... matched nothing ...", URI-encoded);
                         X-Border: LEFT,TOP,RIGHT,BOTTOM of the box inside a scan's border, left neutral (the
                         photo's pixels), or none
    GET  /api/info       {"preset", "hints", "max_upload_bytes", "max_pixels", "preview_side", ...}

Errors are JSON ``{"error": "one line"}``: 400 (bad image, hints or form; a field not listed above, named with the
known ones), 403 (a cross-site request), 404,
413 (upload or pixel count over the limit), 503 (busy beyond the queue).

The network runs one request at a time, on one worker thread; at most ``queue_size`` requests wait or run, and
the next is refused with 503. A request takes its place in the queue only once its body is in (stalled uploads
hold no place), and a body that sends nothing for ``body_timeout_s`` seconds is refused with 408. A photo is
decoded and prepared once: the prepared photo is kept in memory (a few entries, a few minutes, keyed by the
sha256 of its bytes), so re-colorizing it after a click only runs the network and the full-resolution finish;
while a large photo is steered the page asks for a preview, so a click costs what a small photo costs, and for
the full resolution when it downloads the result. Nothing is written to disk, and no part of a request is used as
a path (``colorize.serve.requests``).

This module is the routes; the worker thread, queue and caches are ``engine`` and ``cache``, the host and
cross-site guard ``guard``.
"""
import asyncio
import contextlib
from importlib import resources
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from colorize._version import __version__
from colorize.errors import ColorizeError
from colorize.serve.cache import PhotoCache
from colorize.serve.engine import DEFAULT_QUEUE_SIZE, MAX_UPLOAD_PIXELS, Engine
from colorize.serve.guard import SECURITY_HEADERS, HostGuard, error_response
from colorize.serve.requests import (
    MAX_HINTS,
    RequestError,
    check_fields,
    display_name,
    parse_border_field,
    parse_form,
    parse_hints_field,
    parse_preview_field,
    parse_saturation_field,
    read_body,
)

DEFAULT_MAX_UPLOAD_BYTES = 64 * 2 ** 20   # a 24 Mpx phone JPEG is 5-15 MB; as a PNG it can reach ~50 MB
DEFAULT_BODY_TIMEOUT_S = 30.0             # no byte of an upload for this long: 408 (a phone on a slow link sends more)
DEFAULT_PREVIEW_SIDE = 1600               # larger than the page shows a photo on most screens
STATIC_FILES = {"/": ("index.html", "text/html; charset=utf-8"),
                "/app.js": ("app.js", "text/javascript; charset=utf-8"),
                "/border.js": ("border.js", "text/javascript; charset=utf-8"),
                "/style.css": ("style.css", "text/css; charset=utf-8")}


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
                             "border": bool(getattr(colorizer, "border", True)),
                             "busy": engine.pending,
                             "version": __version__}, headers=SECURITY_HEADERS)

    async def colorize_endpoint(request):
        body = await read_body(request, max_upload_bytes, body_timeout_s)  # before admit: uploads hold no place
        engine.admit()
        try:
            fields = parse_form(body, request.headers.get("content-type"))
            check_fields(fields)
            if "image" not in fields or not fields["image"][1]:
                raise RequestError(400, "no photo: send its bytes in the multipart field 'image'")
            filename, data = fields["image"]
            hints_raw = fields.get("hints", (None, b""))[1].decode("utf-8", "replace")
            hints = parse_hints_field(hints_raw, colorizer.hints)
            preview = parse_preview_field(fields.get("preview", (None, b""))[1].decode("utf-8", "replace"))
            saturation = parse_saturation_field(fields.get("saturation", (None, b""))[1].decode("utf-8", "replace"))
            reference = fields.get("reference", (None, b""))
            reference = (display_name(reference[0]), reference[1]) if reference[1] else None
            border = parse_border_field(fields.get("border", (None, b""))[1].decode("utf-8", "replace"))
            try:
                png, (width, height), cached, timings, use, box = await engine.colorize_png(
                    data, display_name(filename), hints, preview, saturation, reference, border,
                    client=request.client.host if request.client else "")
            except ColorizeError as err:
                raise RequestError(400, str(err)) from None
        finally:
            engine.release()
        timing = ", ".join(f"{k};dur={v * 1000:.1f}" for k, v in timings.items())
        return Response(png, media_type="image/png", headers={
            **SECURITY_HEADERS, "Server-Timing": timing, "X-Photo-Cached": "1" if cached else "0",
            "X-Network-Cached": "0" if "network" in timings else "1", "X-Photo-Size": f"{width}x{height}",
            "X-Border": "none" if box is None else ",".join(str(v) for v in box),
            # what the reference did ("matched 34% of ..."), URI-encoded: a header is Latin-1, a file name is not
            **({"X-Reference-Note": quote(str(use))} if use is not None else {})})

    async def request_error(request, err):
        return error_response(err.status, str(err))

    async def http_error(request, err):
        messages = {404: "not found", 405: f"{request.method} is not allowed here"}
        return error_response(err.status_code, messages.get(err.status_code, str(err.detail)))

    async def server_error(request, err):  # the server's log gets the traceback
        return error_response(500, f"internal error ({type(err).__name__}); the server log has the details")

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

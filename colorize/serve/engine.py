"""The web app's engine: the ``Colorizer`` on one worker thread, a bounded queue of requests (``admit``,
``release``), and the caches of prepared photos, the network's ab and prepared references (``Engine``)."""
import asyncio
import concurrent.futures
import dataclasses
import hashlib
import json
import time

import numpy as np
from PIL import Image

from colorize.io import encode_png
from colorize.pipeline import parse_hints
from colorize.serve.cache import PhotoCache
from colorize.serve.requests import RequestError, open_checked

MAX_UPLOAD_PIXELS = 40_000_000           # 24 Mpx phones and 36 Mpx cameras fit; the full-resolution finish
                                          # needs ~40 bytes a pixel while it runs
DEFAULT_QUEUE_SIZE = 16


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

    async def colorize_png(self, data, name, hints, preview=None, saturation=None, reference=None, border=None,
                           client=""):
        """``client``: who asks (the app passes the peer's address); every cache is keyed by it, so one client's
        uploads never make another's faster or show in its ``X-...-Cached`` headers (no oracle of who sent what)."""
        return await asyncio.wrap_future(self._worker.submit(self._run, data, name, hints, preview, saturation,
                                                             reference, border, client))

    def _reference(self, reference, client=""):
        """(name, bytes) of a colour reference -> (its ``Reference``, prepared once and cached, and its digest)."""
        name, data = reference
        digest = _digest(client, data)
        prepared = self.reference_cache.get(digest)
        if prepared is None:
            image = open_checked(data, f"reference {name}", self.max_pixels)
            prepared = self.colorizer.prepare_reference(image, name=name)
            self.reference_cache.put(digest, prepared)
        return prepared, digest

    def _run(self, data, name, hints, preview, saturation=None, reference=None, border=None, client=""):
        """On the worker thread: bytes -> (PNG bytes, the photo's (width, height), whether the prepared photo came
        from the cache, stage timings; "network" is absent when the network's ab came from the cache; what the
        reference did, or None; the box inside a scan's border left neutral, (left, top, right, bottom) in the
        photo's pixels, or None).
        ``border``: as ``Colorizer.prepare`` takes it (None: the Colorizer's setting)."""
        start = time.perf_counter()
        digest = _digest(client, data)
        prepared, width, height, cached = self._prepared(data, name, preview, digest, border)
        if hints and (prepared.width, prepared.height) != (width, height):
            hints = _scaled_hints(hints, width, height, prepared.width / width, prepared.height / height, name)
        ready = time.perf_counter()
        reference, reference_digest = self._reference(reference, client) if reference else (None, None)
        key = (digest, prepared.width, prepared.height, json.dumps(hints, sort_keys=True, default=str),
               reference_digest, prepared.frame)
        entry = self.ab_cache.get(key)
        ran_network = entry is None
        if ran_network:
            parsed = self.colorizer.parse_hints(hints, prepared, name)
            uses = []
            ab = self.colorizer.predict_ab([prepared], [parsed], [reference], uses)[0]
            entry = (ab, parsed, None if uses[0] is None else dataclasses.replace(uses[0], photo=name))
            self.ab_cache.put(key, entry)
        network = time.perf_counter()
        rgb = self.colorizer.finish(prepared, entry[0], entry[1], saturation)
        colorized = time.perf_counter()
        png = encode_png(rgb)
        timings = {"prepare": ready - start, "network": network - ready, "finish": colorized - network,
                   "png": time.perf_counter() - colorized}
        if not ran_network:
            timings.pop("network")
        frame, sx, sy = prepared.frame, width / prepared.width, height / prepared.height
        box = None if frame is None else (round(frame.left * sx), round(frame.top * sy), round(frame.right * sx),
                                          round(frame.bottom * sy))
        return png, (width, height), cached, timings, entry[2], box

    def _prepared(self, data, name, preview, digest=None, border=None):
        """The photo prepared at full resolution, or with its longest side ``preview`` where it is longer, from the
        cache or decoded now -> (prepared, the photo's own width and height, whether it was cached)."""
        digest = digest or hashlib.sha256(data).hexdigest()
        image = open_checked(data, name, self.max_pixels)  # the header only: cheap, and it settles the size
        preview = preview if preview and max(image.size) > preview else None
        entry = self.cache.get((digest, preview, border))
        if entry is not None:
            return (*entry, True)
        # with a preview side, a smaller photo for the page to steer: every click then costs what a small photo costs
        prepared = self.colorizer.prepare(image, name=name, max_side=preview, border=border)
        entry = (prepared, *image.size)
        self.cache.put((digest, preview, border), entry)
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
            for h in parse_hints(hints, height, width, name)]


def _digest(client, data):
    """The cache key of uploaded bytes for one client: the same photo from another client is another entry."""
    return hashlib.sha256(client.encode("utf-8", "replace") + b"\0" + data).hexdigest()

"""The prepared-photo cache of ``colorize serve``: a small in-memory LRU with a time to live (``PhotoCache``), so
that re-colorizing a photo after a click skips decoding and preparing it."""
import collections
import threading
import time


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

"""The worker threads that spread work on a full-resolution photo over the cores (PNG bands, pixel tiles): one pool
per kind of work, made when it is first needed, not at import, and shared by every call after."""
import concurrent.futures
import os
import threading

WORKERS = max(1, min(4, os.cpu_count() or 1))
_pools = {}
_lock = threading.Lock()


def shared_pool(name):
    """The thread pool named ``name`` (its threads are ``name``-N), started on first use with ``WORKERS`` threads."""
    with _lock:
        if name not in _pools:
            _pools[name] = concurrent.futures.ThreadPoolExecutor(WORKERS, thread_name_prefix=name)
        return _pools[name]

"""The executor of one machine: the job's batches through three explicit stages, each photo's ``Outcome`` as it is
settled.

    read-ahead   the next batch decoded in a thread pool while this one is colorized (``_read_ahead``)
    network      this batch colorized on the calling thread (``BatchStep.colorize``)
    write stage  outputs encoded and written in a thread pool; the network waits while more than the pixel
                 budget is queued (``_WriteStage``)

Memory: at most two batches decoded (each within the budget, or one photo) and one budget of outputs waiting.
A cluster worker runs its batch through this same executor, so both give the same bytes.
"""
import collections
import concurrent.futures
import contextlib
import sys

from colorize.predict.step import Outcome

THREADS = 2  # decoding, and encoding and writing, each two at a time beside the network


class LocalExecutor:
    """Runs a job's batches on this machine (threads: a read-ahead and a write stage beside the network)."""

    def check(self):
        """Nothing to reach before the photos are looked at."""

    @contextlib.contextmanager
    def session(self):
        """``with executor.session() as stream:`` where the run's lines go (the terminal's stderr)."""
        yield sys.stderr

    def run(self, batches, step, recipe=None, budget=None):
        """``batches`` (lists of ``Photo``, consumed lazily) through ``step`` (a ``BatchStep``) -> each photo's
        ``Outcome``; ``budget``: the most pixels of outputs waiting to be written (default: no wait)."""
        budget = float("inf") if budget is None else budget
        with concurrent.futures.ThreadPoolExecutor(THREADS) as readers, \
                concurrent.futures.ThreadPoolExecutor(THREADS) as writers:
            writes = _WriteStage(writers, step.write)
            for batch in _read_ahead(readers, step.decode, batches):
                good = []
                for photo, image in batch:
                    if isinstance(image, Exception):
                        yield Outcome(photo.name, "failed", str(image))
                    else:
                        good.append((photo, image))
                del batch
                done, failed = step.colorize(good)
                del good
                yield from failed
                for photo, rgb, lines in done:
                    pixels = rgb.shape[0] * rgb.shape[1]
                    yield from writes.settle(budget - pixels)
                    writes.submit(photo, rgb, lines, pixels)
                del done
            yield from writes.settle(-1)


def _read_ahead(pool, decode, batches):
    """Yield each batch as ``[(photo, decoded samples or the error)]``, the next one's decoding submitted first."""
    pending = collections.deque()
    for batch in batches:
        pending.append([(photo, pool.submit(decode, photo)) for photo in batch])
        if len(pending) == 2:
            yield [(photo, future.result()) for photo, future in pending.popleft()]
    while pending:
        yield [(photo, future.result()) for photo, future in pending.popleft()]


class _WriteStage:
    """Outputs being written, oldest first, with their pixels."""

    def __init__(self, pool, write):
        self.pool, self.write, self.queued = pool, write, collections.deque()

    def submit(self, photo, rgb, lines, pixels):
        self.queued.append((pixels, self.pool.submit(self.write, photo, rgb, lines)))

    def settle(self, limit):
        """Wait for the oldest writes until no more than ``limit`` pixels are queued -> their ``Outcome``s."""
        while self.queued and sum(pixels for pixels, _ in self.queued) > limit:
            yield self.queued.popleft()[1].result()

"""The work of a predict job: a ``Photo`` (an input, its output, its hints and colour reference), and the rule that
groups photos into network batches.

The network's arithmetic is not batch-invariant (a photo colorized alone and in a batch of three may differ by one
level in a few pixels), so every executor colorizes the very batches ``plan_batches`` forms: the same outputs,
bit for bit, on one machine and on a cluster.
"""
import dataclasses
import os

DEFAULT_BATCH_SIZE = 16  # --batch-size: most photos per network batch
DEFAULT_BATCH_PIXELS = 16_000_000  # --batch-pixels: about 20 bytes each, decoded ahead or waiting to be written


@dataclasses.dataclass(frozen=True)
class Photo:
    """One input to colorize: ``name`` as the user gave it (in every message), ``path`` to read, ``out`` to write,
    its raw ``hints`` (a list, or None) and ``reference`` (a colour photo's path, or None)."""
    name: str
    path: str
    out: str
    hints: list = None
    reference: str = None

    def absolute(self):
        """The same photo with absolute paths, for workers with another working folder (a cluster's)."""
        reference = None if self.reference is None else os.path.abspath(self.reference)
        return dataclasses.replace(self, path=os.path.abspath(self.path), out=os.path.abspath(self.out),
                                   reference=reference)

    def to_json(self):
        return dataclasses.asdict(self)


def plan_batches(photos, sizes, batch_size, budget):
    """``photos`` in order, and their ``sizes`` in pixels (from their headers; any iterable) -> batches (lists of
    photos), lazily: consecutive photos, at most ``batch_size`` of them and at most ``budget`` pixels, but always
    at least one."""
    batch, pixels = [], 0
    for photo, size in zip(photos, sizes):
        if batch and (len(batch) >= batch_size or pixels + size > budget):
            yield batch
            batch, pixels = [], 0
        batch.append(photo)
        pixels += size
    if batch:
        yield batch

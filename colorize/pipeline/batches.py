"""How ``colorize predict`` groups photos into network batches, shared by every front end that must give its bits.

The network's arithmetic is not batch-invariant (a photo colorized alone and in a batch of three may differ by one
level in a few pixels), so a front end that promises the outputs of ``colorize predict`` (the cluster path) forms
the very same batches: ``plan_batches`` is the rule predict's read-ahead follows, and ``colorize_or_each`` is what
it does with a batch (the whole batch at once; if one photo's hints are refused, the others one by one).
"""
from colorize.errors import ColorizeError


def plan_batches(files, sizes, batch_size, budget):
    """``files`` in order -> batches (lists of files): consecutive photos, at most ``batch_size`` of them and at most
    ``budget`` pixels by ``sizes`` (``{file: pixels}`` from their headers), but always at least one."""
    batches, batch, pixels = [], [], 0
    for f in files:
        if batch and (len(batch) >= batch_size or pixels + sizes[f] > budget):
            batches.append(batch)
            batch, pixels = [], 0
        batch.append(f)
        pixels += sizes[f]
    return batches + ([batch] if batch else [])


def colorize_or_each(colorizer, batch, hints):
    """``[(file, decoded image)]`` and ``{file: hints}`` -> ``([(file, uint8 RGB)], [(file, ColorizeError)])``: the
    batch in one ``colorize_batch`` call; if that is refused (one photo's hints), the photos one by one."""
    if not batch:
        return [], []
    files = [f for f, _ in batch]
    try:
        results = colorizer.colorize_batch([image for _, image in batch], batch_size=len(batch),
                                           names=[str(f) for f in files], hints=[hints.get(f) for f in files])
        return list(zip(files, results)), []
    except ColorizeError as err:
        if len(batch) == 1:
            return [], [(files[0], err)]
    done, failed = [], []
    for item in batch:
        results, failures = colorize_or_each(colorizer, [item], hints)
        done += results
        failed += failures
    return done, failed

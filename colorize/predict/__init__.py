"""``colorize predict`` as one job that every front end calls: the CLI, ``predict --ray`` and
``colorize.cluster.colorize_files``. ``job``: the steps from "these files" to "these outputs, skipped, failed"
(scan, output names, skips, batches, the tally and ``failed.jsonl``), read top to bottom; ``steering``: each
photo's hints and colour reference; ``batches``: the batches within the pixel budget; ``step``: what is done with
a batch (decode, colorize, 16-bit lightness (``colorize.pipeline.bit_depth``), write with metadata); ``local``:
the executor of one machine (a read-ahead, the network, a write stage); ``tally``: counts, lines, progress. The
cluster's executor is in ``colorize.cluster``."""
from colorize._lazy import lazy_door

_NAMES = {
    "Job": "job", "run_job": "job", "ModelRecipe": "step", "Writing": "step", "BatchStep": "step",
    "Summary": "tally", "LocalExecutor": "local", "Photo": "batches", "DEFAULT_BATCH_SIZE": "batches",
    "DEFAULT_BATCH_PIXELS": "batches",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

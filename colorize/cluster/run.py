"""``colorize predict --ray``: the predict job (``colorize.predict.job``: scan, names, skips, batches, tally,
``failed.jsonl``) with ``RayExecutor``, which sends its batches to a Ray Data actor pool (``actors``);
``colorize_files`` is the Python call.

Faults: a batch whose worker is lost (killed, out of memory, its node gone) is tried again on another actor, at
most ``TASK_RETRIES`` more times (outputs are whole or absent, and written once: a retry finds what the lost try
finished, with the same pixels); after that its photos fail and the others carry on (``max_errored_blocks``).
"""
import contextlib
import json
import os
import warnings

from colorize import io as imageio
from colorize.cluster import connect
from colorize.cluster.actors import ColorizeActor
from colorize.errors import ColorizeError, first_line
from colorize.predict.batches import DEFAULT_BATCH_PIXELS, DEFAULT_BATCH_SIZE
from colorize.predict.job import Job, run_job
from colorize.predict.step import ModelRecipe, Outcome
from colorize.predict.tally import Summary

TASK_RETRIES = 2
CPUS_PER_ACTOR = 2  # an actor keeps about two cores busy: the network, and decoding and PNG encoding beside it

__all__ = ["colorize_files", "RayExecutor", "Summary"]


def colorize_files(sources, out, address="local", actors=None, *, preset=None, weights=None, sha256=None,
                   config=None, readout=None, upsampling=None, saturation=None, batch_size=DEFAULT_BATCH_SIZE,
                   batch_pixels=DEFAULT_BATCH_PIXELS, hints=None, reference=None, overwrite=False,
                   max_pixels=imageio.MAX_FILE_PIXELS, quality=95, bit_depth=8, progress=True, verbose=False,
                   say=None):
    """Colorize image files and folders ``sources`` into ``out`` on the Ray cluster at ``address`` (``local``,
    ``auto``, ``HOST:PORT``, ``ray://HOST:PORT``) with ``actors`` model copies (default: one per
    ``CPUS_PER_ACTOR`` CPUs of each node, or one per GPU) -> ``Summary``. The outputs, skips and failures are
    those of ``colorize predict`` with the same options; ``hints``: a hints JSON file or its dict (entries may
    name a colour reference), ``reference``: a colour photo for every input (with no model named, the hint preset
    colorizes). ``say(line)`` reports skips and failures (default: stderr), photos already done in one line
    unless ``verbose``; ``progress`` shows photos done / total and photos a second."""
    if isinstance(config, (str, os.PathLike)):
        from colorize.config import load_config
        config = load_config(config)
    recipe = ModelRecipe(preset, weights, sha256, config, readout, upsampling, max_pixels, saturation)
    job = Job(list(sources), out, batch_size, batch_pixels, overwrite, quality, bit_depth, (), hints, reference,
              verbose, progress)
    return run_job(job, recipe, RayExecutor(address, actors), say=say)


class RayExecutor:
    """Runs a job's batches on a Ray Data actor pool of ``actors`` model copies at ``address``."""

    def __init__(self, address="local", actors=None):
        if actors is not None and actors < 1:
            raise ColorizeError(f"--ray-actors must be at least 1, got {actors}")
        self.address, self.actors, self.ray = address, actors, None

    def check(self):
        """A wrong or unreachable address, or no Ray installed: one line, before any photo is read."""
        connect.check_address(self.address)
        connect.import_ray()

    @contextlib.contextmanager
    def session(self):
        """``with executor.session() as stream:`` connected to the cluster; the run's lines go to ``stream`` (the
        terminal's stderr) while Ray's own are held back."""
        with connect.connected(self.address) as (self.ray, stream):
            try:
                yield stream
            finally:
                self.ray = None

    def run(self, batches, step, recipe, budget=None):
        """The batches, as JSON rows with absolute paths (workers have another working folder), through the pool
        -> each photo's ``Outcome``."""
        batches = list(batches)
        rows = [json.dumps([p.absolute().to_json() for p in batch]) for batch in batches]
        ray = self.ray
        context = ray.data.DataContext.get_current()
        context.max_errored_blocks = -1  # a batch lost TASK_RETRIES + 1 times fails its photos, not the run
        context.enable_progress_bars = context.print_on_execution_start = False
        size, resources = _pool(ray, self.actors)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Ray's deprecation notice for max_restarts / max_task_retries
            ds = ray.data.from_items([{"batch": b} for b in rows], override_num_blocks=len(rows)).map_batches(
                ColorizeActor, fn_constructor_kwargs={"recipe": recipe, "writing": step.writing, "budget": budget,
                                                  "verbose": step.verbose},
                batch_size=1, compute=ray.data.ActorPoolStrategy(size=size), max_restarts=-1,
                max_task_retries=TASK_RETRIES, **resources)
        seen = set()
        try:
            for row in ds.iter_rows():
                outcome = Outcome(**json.loads(row["result"]))
                seen.add(outcome.name)
                yield outcome
        except Exception as err:  # the pool itself failed (e.g. no actor could load the model)
            raise ColorizeError(f"the Ray run stopped: {first_line(err)}") from None
        for photo in (p.absolute() for batch in batches for p in batch):  # batches lost with their workers each time
            if photo.name not in seen:
                if os.path.exists(photo.out):
                    yield Outcome(photo.name, "written")  # finished by a try whose worker was lost after it
                else:
                    yield Outcome(photo.name, "failed", f"its worker was lost {TASK_RETRIES + 1} times (killed, out "
                                                        "of memory, or its node gone); nothing was written for it")


def _pool(ray, actors):
    """-> (actors, Ray resources of each): one per GPU where the cluster has GPUs, else one per ``CPUS_PER_ACTOR``
    CPUs of each node (at least one a node); at most one a CPU."""
    nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
    gpus, cpus = sum(int(n.get("GPU", 0)) for n in nodes), sum(int(n.get("CPU", 0)) for n in nodes)
    if gpus:
        return actors or gpus, {"num_gpus": 1, "num_cpus": 1}
    if actors and actors > cpus:
        raise ColorizeError(f"--ray-actors {actors}: the cluster has {cpus} CPUs, room for at most {cpus} actors")
    return actors or sum(max(1, int(n["CPU"]) // CPUS_PER_ACTOR) for n in nodes if n.get("CPU", 0) >= 1), \
        {"num_cpus": 1}

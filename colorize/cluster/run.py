"""The driver of ``colorize predict --ray``: what ``colorize predict`` decides on one machine (the inputs, their
output names, what is skipped, the batches), decided here once; the batches go to a Ray Data actor pool
(``actors``), and their results come back as progress, one line per skip or failure, ``OUTDIR/failed.jsonl`` and a
``Summary``.

Faults: a batch whose worker is lost (killed, out of memory, its node gone) is tried again on another actor, at
most ``TASK_RETRIES`` more times (outputs are whole or absent, and written once: a retry finds what the lost try
finished, with the same pixels); after that its photos fail and the others carry on (``max_errored_blocks``).
"""
import concurrent.futures
import dataclasses
import json
import os
import sys
import time
import warnings
from pathlib import Path

from colorize import io as imageio
from colorize.cluster import connect
from colorize.cluster.actors import ColorizeActor, ModelRecipe, Writing
from colorize.errors import ColorizeError, InputError, WriteError
from colorize.io import atomic, input_keys, output_names
from colorize.io import outputs as output_files
from colorize.pipeline.batches import plan_batches
from colorize.pipeline.saturation import check_saturation

DEFAULT_BATCH_PIXELS = 16_000_000  # as colorize predict's --batch-pixels
TASK_RETRIES = 2
CPUS_PER_ACTOR = 2  # an actor keeps about two cores busy: the network, and decoding and PNG encoding beside it
FAILED = "failed.jsonl"


@dataclasses.dataclass
class Summary:
    """What a run did: ``written`` and ``skipped`` counts, ``failed`` as ``[(path, reason)]``; ``seconds`` in all,
    ``startup_seconds`` until the first photo came back."""
    written: int = 0
    skipped: int = 0
    failed: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    startup_seconds: float = None

    def __str__(self):
        return f"written {self.written}, skipped {self.skipped}, failed {len(self.failed)}"


def colorize_files(sources, out, address="local", actors=None, *, preset=None, weights=None, sha256=None,
                   config=None, readout=None, upsampling=None, saturation=None, batch_size=16,
                   batch_pixels=DEFAULT_BATCH_PIXELS, hints=None, overwrite=False, max_pixels=imageio.MAX_FILE_PIXELS,
                   quality=95, bit_depth=8, progress=True, verbose=False, say=None):
    """Colorize image files and folders ``sources`` into the folder ``out`` on the Ray cluster at ``address``
    (``local``, ``auto``, ``HOST:PORT``, ``ray://HOST:PORT``) with ``actors`` model copies (default: one per
    ``CPUS_PER_ACTOR`` CPUs of each node, or one per GPU) -> ``Summary``. The outputs, skips and failures are
    those of ``colorize predict`` with the same options (``quality``, ``bit_depth``: of the outputs, as its
    ``--quality`` and ``--bit-depth``); ``hints``: a hints JSON file or its dict (with no model named, the hint
    preset colorizes). ``say(line)`` reports skips and failures (default: stderr), photos already done in one line
    unless ``verbose``; ``progress`` shows photos done / total and photos a second."""
    start = time.monotonic()
    for what, value in (("batch_size", batch_size), ("batch_pixels", batch_pixels), ("max_pixels", max_pixels),
                        ("actors", 1 if actors is None else actors)):
        if value < 1:
            raise ColorizeError(f"{what} must be at least 1, got {value}")
    if not 1 <= quality <= 100 or bit_depth not in (8, 16):
        raise ColorizeError(f"quality must be from 1 to 100 and bit_depth 8 or 16, got {quality} and {bit_depth}")
    if saturation is not None:
        check_saturation(saturation)
    connect.check_address(address)
    connect.import_ray()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise WriteError(f"-o {out} is a file; pass a folder for the colour PNGs")
    if output_files.output_target(out)[1] is not None:
        raise ColorizeError(f"-o {out} names one file; on a cluster, -o names a folder (the outputs are PNGs named "
                            "after the inputs)")
    summary, report = Summary(), _Report(say, progress)
    scan = imageio.scan_inputs(sources, exclude=out)
    for path, message, failed in scan.problems:
        report.fail(summary, path, message) if failed else report.skip(summary, path, message)
    if not scan.files and scan.left_out:
        raise ColorizeError(f"no images to colorize: what {', '.join(map(str, sources))} holds is inside the output "
                            f"folder {out}, which is never read as input; pass another output folder")
    if not scan.files and not scan.problems:
        raise ColorizeError(f"no images found in {', '.join(map(str, sources))}")
    outputs = output_names.output_paths(scan.files, scan.roots, out)
    hints = _hints(hints, scan)
    todo, skipped = output_names.pending(scan.files, outputs, overwrite)
    inputs = {os.path.realpath(f) for f in scan.files}
    done = {f for f, _ in skipped if os.path.realpath(outputs[f]) not in inputs}  # the rest would replace an input
    for f, why in skipped:
        if verbose or f not in done:
            report.skip(summary, f, why)
    if done and not verbose:  # a re-run of a big folder: one line, not one per photo
        summary.skipped += len(done)
        report.line(f"colorize: {len(done)} already done (pass --overwrite to redo them)")
    hinted = any(hints.values()) and not (preset or weights)
    if hinted:
        from colorize.presets import DEFAULT_HINT_PRESET as preset
    recipe = ModelRecipe(preset, weights, sha256, _config(config), readout, upsampling, max_pixels, saturation)
    if todo:
        if hinted:
            report.line(f"colorize: hints given and no model named: using the hint preset {preset} (--preset names "
                        "another)")
        with connect.connected(address) as (ray, report.stream):
            colorizer = recipe.build()  # here first: a bad model option is one line, before any actor starts
            if any(hints.values()) and not colorizer.hints:
                raise InputError(f"colour hints were given, but the model {colorizer.name} takes none; use a hint "
                                 "preset such as bigru_fusion_64_hints (--preset)")
            del colorizer
            atomic.check_writable(out)
            for folder in sorted({outputs[f].parent for f in todo}):
                atomic.clean_stale(folder)
            batches = _batches(todo, outputs, hints, batch_size, batch_pixels)
            _run(ray, batches, recipe, Writing(overwrite, quality, bit_depth), actors, summary, report, start)
        report.stream = sys.stderr
    if summary.failed or (out / FAILED).exists():
        atomic.write_text(out / FAILED, "".join(json.dumps({"path": str(f), "reason": why}) + "\n"
                                                for f, why in summary.failed), overwrite=True)
    summary.seconds = time.monotonic() - start
    return summary


class _Report:
    def __init__(self, say, progress):
        self.say, self.progress, self.bar, self.stream = say, progress, None, sys.stderr

    def line(self, text):
        if self.say is not None:
            self.say(text)
        elif self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream)

    def skip(self, summary, what, why):
        self.line(f"colorize: skipped {what}: {why}")
        summary.skipped += 1

    def fail(self, summary, what, why):
        why = _first_line(why)
        self.line(f"colorize: failed {what}: {why}")
        summary.failed.append((str(what), why))


def _config(config):
    if config is None or not isinstance(config, (str, os.PathLike)):
        return config
    from colorize.config import load_config
    return load_config(config)


def _hints(hints, scan):
    if not hints:
        return {}
    if isinstance(hints, (str, os.PathLike)):
        from colorize.pipeline.hint_files import load_hints_file
        return input_keys.files_for_keys(load_hints_file(hints), scan.files, scan.roots, f"hints file {hints}")
    return input_keys.files_for_keys(hints, scan.files, scan.roots, "hints")


def _batches(todo, outputs, hints, batch_size, batch_pixels):
    """The batches predict would form (their sizes from the photos' headers, read a few at a time), as JSON rows:
    each photo's name as given, and its path and output as absolute paths (workers have another working folder)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        sizes = dict(zip(todo, (p or 1 for p in pool.map(imageio.pixels_of, todo))))
    return [json.dumps([{"name": str(f), "path": os.path.abspath(f), "out": os.path.abspath(outputs[f]),
                         "hints": hints.get(f)} for f in batch])
            for batch in plan_batches(todo, sizes, batch_size, batch_pixels)]


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


def _run(ray, batches, recipe, writing, actors, summary, report, start):
    from tqdm import tqdm
    context = ray.data.DataContext.get_current()
    context.max_errored_blocks = -1  # a batch lost TASK_RETRIES + 1 times fails its photos, not the run
    context.enable_progress_bars = context.print_on_execution_start = False
    size, resources = _pool(ray, actors)
    total = sum(len(json.loads(b)) for b in batches)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Ray's deprecation notice for max_restarts / max_task_retries
        ds = ray.data.from_items([{"batch": b} for b in batches], override_num_blocks=len(batches)).map_batches(
            ColorizeActor, fn_constructor_kwargs={"recipe": recipe, "writing": writing}, batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=size), max_restarts=-1, max_task_retries=TASK_RETRIES,
            **resources)
    seen = set()
    with tqdm(total=total, unit="img", disable=not report.progress, file=report.stream) as bar:
        report.bar = bar
        try:
            for row in ds.iter_rows():
                result = json.loads(row["result"])
                if summary.startup_seconds is None:
                    summary.startup_seconds = time.monotonic() - start
                seen.add(result["name"])
                if result["status"] == "written":
                    summary.written += 1
                elif result["status"] == "skipped":
                    report.skip(summary, result["name"], result["reason"])
                else:
                    report.fail(summary, result["name"], result["reason"])
                bar.update(1)
        except Exception as err:  # the pool itself failed (e.g. no actor could load the model)
            raise ColorizeError(f"the Ray run stopped: {_first_line(err)}") from None
        finally:
            report.bar = None
    for batch in batches:  # photos of batches lost with their workers every time
        for photo in json.loads(batch):
            if photo["name"] not in seen:
                if os.path.exists(photo["out"]):
                    summary.written += 1  # finished by a try whose worker was lost after it
                else:
                    report.fail(summary, photo["name"], f"its worker was lost {TASK_RETRIES + 1} times (killed, out "
                                                        "of memory, or its node gone); nothing was written for it")


def _first_line(err):
    return next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)

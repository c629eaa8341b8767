"""A predict job, read top to bottom: the one sequence from "these files" to "these outputs, skipped, failed" that
``colorize predict``, ``predict --ray`` and ``colorize.cluster.colorize_files`` run, each with its executor.

    options checked                  before anything is read (and the executor's cluster reached)
    scan                             the inputs (``colorize.io.scan.scan_inputs``), the output folder left out
    output names                     ``colorize.io.output_names``: unique, the same on every re-run
    steering                         each photo's hints and colour reference (``steering``)
    skips                            outputs that exist: one "already done" line (``tally``)
    model                            built once here: a bad option, or hints for a model without hint inputs,
                                     is one line before any photo is decoded; the references prepared once
    output folder                    checked writable; temporary files of killed runs removed
    batches                          ``batches.plan_batches``: within the count and pixel budgets
    executor                         each batch: decode, colorize, write with metadata (``step.BatchStep``)
    tally                            a line per skip and failure, ``failed.jsonl``, the ``Summary``

Outputs are written with no-clobber renames (``colorize.io.atomic``): an output another run finished meanwhile
is a skip, not a failure. With one input, ``output`` may name the file to write (its format by its suffix).
"""
import concurrent.futures
import dataclasses
import os
import sys

from colorize import io as imageio
from colorize.errors import ColorizeError, InputError, WriteError
from colorize.io import atomic, output_names
from colorize.io import outputs as output_files
from colorize.predict.batches import DEFAULT_BATCH_PIXELS, DEFAULT_BATCH_SIZE, Photo, plan_batches
from colorize.predict.steering import steering
from colorize.predict.step import BatchStep, Writing
from colorize.predict.tally import Tally


@dataclasses.dataclass
class Job:
    """What to colorize and how, as ``colorize predict``'s options say it: ``inputs`` (files and folders),
    ``output`` (a folder, or with one input a file); ``hint`` (``--hint`` texts, one input), ``hints`` (a hints
    JSON file or its dict), ``reference`` (a colour photo for every input); ``verbose``: a line per photo already
    done; ``progress``: a progress bar."""
    inputs: list
    output: object
    batch_size: int = DEFAULT_BATCH_SIZE
    batch_pixels: int = DEFAULT_BATCH_PIXELS
    overwrite: bool = False
    quality: int = 95
    bit_depth: int = 8
    hint: list = ()
    hints: object = None
    reference: object = None
    verbose: bool = False
    progress: bool = True


def run_job(job, recipe, executor, say=None):
    """Colorize ``job`` with the model of ``recipe`` (a ``ModelRecipe``) on ``executor`` (``LocalExecutor``, or
    the cluster's) -> ``Summary``. ``say(line)`` reports skips and failures (default: stderr)."""
    out, single = _check(job, recipe)
    executor.check()
    tally = Tally(say, job.progress)
    scan = imageio.scan_inputs(job.inputs, exclude=None if single else out)
    for path, message, failed in scan.problems:
        (tally.fail if failed else tally.skip)(path, message)
    if not scan.files and scan.left_out:
        raise ColorizeError(f"no images to colorize: what {', '.join(map(str, job.inputs))} holds is inside the "
                            f"output folder {out}, which is never read as input; pass another -o")
    if not scan.files and not scan.problems:
        raise ColorizeError(f"no images found in {', '.join(map(str, job.inputs))}")
    if single and len(scan.files) > 1:
        raise ColorizeError(f"-o {out} names one file, and {len(scan.files)} images were given; pass a folder as -o "
                            "for several")
    outputs = {f: out for f in scan.files} if single else output_names.output_paths(scan.files, scan.roots, out)
    hints, references = steering(scan, job.hint, job.hints, job.reference)
    todo = _pending(scan.files, outputs, job, tally)
    if todo:
        steered = any(hints.values()) or bool(references)
        if steered:
            recipe, notice = recipe.steered()
            if notice:
                tally.line(notice)
        with executor.session() as tally.stream:  # Ray's own lines held back meanwhile: the run's go here
            step = BatchStep(recipe.build(), Writing(job.overwrite, job.quality, job.bit_depth), job.verbose)
            if any(hints.values()) and not step.colorizer.hints:
                raise InputError(f"colour hints were given, but the model {step.colorizer.name} takes none; use a "
                                 "hint preset such as bigru_fusion_64_hints (--preset)")
            atomic.check_writable(out.parent if single else out)
            for folder in sorted({outputs[f].parent for f in todo}):
                atomic.clean_stale(folder)
            for path in dict.fromkeys(references.values()):  # each checked once, before any photo
                step.reference(str(path))
            photos = [Photo(str(f), str(f), str(outputs[f]), hints.get(f),
                            None if f not in references else str(references[f])) for f in todo]
            headers = concurrent.futures.ThreadPoolExecutor(max_workers=8)
            try:
                sizes = headers.map(_size, photos)  # read a few at a time, ahead of the batches
                batches = plan_batches(photos, sizes, job.batch_size, job.batch_pixels)
                with tally.progress_bar(len(todo)):
                    for outcome in executor.run(batches, step, recipe, job.batch_pixels):
                        tally.count(outcome)
            finally:
                headers.shutdown(wait=False, cancel_futures=True)
        tally.stream = sys.stderr
    if not single:
        tally.write_failed(out)
    return tally.finish()


def _check(job, recipe):
    """Refuse options that cannot work, before anything is read -> (the output path, whether it names a file)."""
    for flag, value in (("--batch-size", job.batch_size), ("--batch-pixels", job.batch_pixels),
                        ("--max-pixels", recipe.max_pixels)):
        if value < 1:
            raise ColorizeError(f"{flag} must be at least 1, got {value}")
    if recipe.saturation is not None:
        from colorize.pipeline.saturation import check_saturation
        check_saturation(recipe.saturation)
    if job.hint and job.hints:
        raise ColorizeError("give hints with --hint (one image) or --hints FILE (several), not both")
    if not 1 <= job.quality <= 100:
        raise ColorizeError(f"--quality must be from 1 to 100, got {job.quality}")
    if job.bit_depth not in (8, 16):
        raise ColorizeError(f"--bit-depth must be 8 or 16, got {job.bit_depth}")
    out, fmt = output_files.output_target(job.output)  # -o out.jpg: that file; -o out.jpg/: a folder
    try:
        is_file = not os.path.isdir(out) and os.stat(out) is not None
    except FileNotFoundError:
        is_file = False
    except (OSError, ValueError) as err:  # a file on the way, name too long, NUL byte, no permission
        raise WriteError(f"-o {job.output!r} cannot be used ({err}); pass a folder for the colour PNGs") from None
    single = fmt is not None
    if is_file and not single:
        raise WriteError(f"-o {out} is a file; pass a folder for the colour PNGs, or a file name ending in "
                         f"{', '.join(sorted(output_files.OUTPUT_FORMATS))}")
    if job.bit_depth == 16 and (fmt if single else "PNG") not in output_files.DEEP_FORMATS:
        raise ColorizeError(f"--bit-depth 16 needs a PNG or TIFF output; {out.name} is {fmt}")
    return out, single


def _pending(files, outputs, job, tally):
    """The files to colorize; the others are skipped, those a previous run finished said in one line."""
    todo, skipped = output_names.pending(files, outputs, job.overwrite)
    inputs = {os.path.realpath(f) for f in files}
    done = [f for f, _ in skipped if os.path.realpath(outputs[f]) not in inputs]  # the rest would replace an input
    for f, why in skipped:
        if job.verbose or f not in done:
            tally.skip(f, why)
    if done and not job.verbose:  # a re-run of a big folder: one line, not one per photo
        tally.already_done(len(done))
    return todo


def _size(photo):
    return imageio.pixels_of(photo.path) or 1

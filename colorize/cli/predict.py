"""``colorize predict``: colorize image files and folders into an output folder; every output whole or absent.

Names: ``colorize.io.output_names`` (unique, and the same on every re-run). Nothing under the output folder is
read as input. Outputs are written with no-clobber renames (``colorize.atomic``): an output another run
finished meanwhile is a skip, not a failure; temporary files of killed runs are removed at the start. With one
input, ``-o out.jpg`` writes that file instead, in the format of its suffix. Every output keeps the input's
metadata where its format can (``colorize.io.outputs.read_metadata``; folder PNGs of inputs without any are the
same bytes as ever); ``--bit-depth 16`` writes the input's lightness at its own precision (``pipeline.bit_depth``).

Memory: photos are decoded ahead of the network in their own samples (``imageio.load_array``) and colorized in
batches of at most ``--batch-size`` photos and ``--batch-pixels`` pixels (a larger photo is a batch of its own,
worked a strip of rows at a time), and writes wait when that many pixels are queued.
"""
import collections
import concurrent.futures
import os
import sys
import warnings
from pathlib import Path

from colorize import io as imageio
from colorize.cli import common as cli_common
from colorize.errors import ColorizeError, InputError, OutputExistsError, ReferenceReport, WriteError
from colorize.io import atomic, input_keys, output_names
from colorize.io import outputs as output_files
from colorize.pipeline.batches import colorize_or_each

DEFAULT_BATCH_PIXELS = 16_000_000


def add_parser(sub):
    p = sub.add_parser("predict", help="colorize image files and folders into an output folder",
                       description="Colorize greyscale photos: each INPUT file, and every image in each INPUT folder, "
                                   "into a same-size colour image. -o names a folder (colour PNGs, named after the "
                                   "inputs and kept on re-runs: what is done is skipped) or, for one input, the file "
                                   "to write (.png, .jpg, .webp, .tif). Outputs keep the input's EXIF, ICC profile, "
                                   "XMP and DPI where the format holds them. Steer colours with --hint/--hints.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders (searched recursively)")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR|FILE",
                   help="folder for the colour PNGs, or with one INPUT the file to write, its format by its suffix "
                        f"({', '.join(sorted(output_files.OUTPUT_FORMATS))})")
    p.add_argument("--quality", type=int, default=95, metavar="1-100", help="JPEG and WebP quality")
    p.add_argument("--bit-depth", type=int, choices=(8, 16), default=8,
                   help="bits a sample of PNG and TIFF outputs; 16 keeps a 16-bit scan's tones (its lightness) "
                        "exactly")
    p.add_argument("--batch-size", type=int, default=16, help="most photos per network batch (default 16)")
    p.add_argument("--batch-pixels", type=int, default=DEFAULT_BATCH_PIXELS, metavar="N",
                   help=f"most pixels per batch, and decoded ahead or waiting to be written (default "
                        f"{DEFAULT_BATCH_PIXELS:,}: about 20 bytes each; a larger photo is a batch of its own)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (and inputs, if they clash)")
    p.add_argument("--max-pixels", type=int, default=imageio.MAX_FILE_PIXELS,
                   help=f"refuse larger images, before decoding (default {imageio.MAX_FILE_PIXELS:,})")
    p.add_argument("--hint", action="append", default=[], metavar="X,Y,COLOUR[,RADIUS]",
                   help="a colour hint (repeatable; one input image only): the point X, Y (pixels from the "
                        "top-left) was this colour (#rrggbb or a CSS name: red, navy); needs a hint model")
    p.add_argument("--hints", metavar="HINTS.json",
                   help='hints for several images: {"photo.jpg": [{"x": 120, "y": 40, "color": "#1f4e9c"}], ...}, '
                        "keyed by file name, path relative to the input folder, or path as given")
    p.add_argument("--reference", metavar="REF",
                   help="a colour photo of the same scene, person or kind of thing: its colours are matched onto "
                        "every input (a hint model; per file: {\"photo.jpg\": {\"reference\": \"ref.jpg\"}} in "
                        "--hints, paths relative to the hints file)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="colorize on a Ray cluster (the cluster extra): local (a Ray instance for this run), auto (the "
                        "cluster this machine joined), HOST:PORT or ray://HOST:PORT; the same outputs")
    p.add_argument("--ray-actors", type=int, metavar="N",
                   help="model copies on the cluster (default: one per 2 CPUs of each node, or one per GPU)")
    p.add_argument("--verbose", action="store_true",
                   help="name each input skipped because its output exists, and say what was found around each "
                        "photo (a border)")
    cli_common.add_model_args(p)
    cli_common.add_saturation_arg(p)
    cli_common.add_border_arg(p)
    p.set_defaults(func=cmd_predict)
    return p


class _Tally:
    def __init__(self, quiet):
        self.written = self.skipped = self.failed = 0
        self.quiet, self.bar = quiet, None

    def say(self, line):
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def skip(self, what, why):
        self.say(f"colorize: skipped {what}: {why}")
        self.skipped += 1

    def fail(self, what, why):
        self.say(f"colorize: failed {what}: {cli_common.one_line(why)}")
        self.failed += 1


def cmd_predict(args):
    for flag, value in (("--batch-size", args.batch_size), ("--batch-pixels", args.batch_pixels),
                        ("--max-pixels", args.max_pixels)):
        if value < 1:
            raise ColorizeError(f"{flag} must be at least 1, got {value}")
    if args.hint and args.hints:
        raise ColorizeError("give hints with --hint (one image) or --hints FILE (several), not both")
    cli_common.check_model_args(args)  # before any photo is looked at: conflicting or unused model options
    if args.ray is not None or args.ray_actors is not None:
        if getattr(args, "reference", None):
            raise ColorizeError("--reference is not available with --ray yet; colorize without --ray")
        return _on_cluster(args)
    if not 1 <= args.quality <= 100:
        raise ColorizeError(f"--quality must be from 1 to 100, got {args.quality}")
    outdir, fmt = output_files.output_target(args.output)
    try:
        is_file = not os.path.isdir(outdir) and os.stat(outdir) is not None
    except FileNotFoundError:
        is_file = False
    except (OSError, ValueError) as err:  # a file on the way, name too long, NUL byte, no permission
        raise WriteError(f"-o {args.output!r} cannot be used ({err}); pass a folder for the colour PNGs") from None
    single = fmt is not None  # -o out.jpg: that file; -o out.jpg/: a folder
    if is_file and not single:
        raise WriteError(f"-o {outdir} is a file; pass a folder for the colour PNGs, or a file name ending in "
                         f"{', '.join(sorted(output_files.OUTPUT_FORMATS))}")
    deep = output_files.DEEP_FORMATS
    if args.bit_depth == 16 and (output_files.output_format(outdir) if single else "PNG") not in deep:
        raise ColorizeError(f"--bit-depth 16 needs a PNG or TIFF output; {outdir.name} is "
                            f"{output_files.output_format(outdir)}")
    tally = _Tally(args.quiet)
    scan = imageio.scan_inputs(args.inputs, exclude=None if single else outdir)
    for path, message, failed in scan.problems:
        (tally.fail if failed else tally.skip)(path, message)
    if not scan.files:
        if scan.left_out:
            raise ColorizeError(f"no images to colorize: what {', '.join(args.inputs)} holds is inside the output "
                                f"folder {outdir}, which is never read as input; pass another -o")
        if not scan.problems:
            raise ColorizeError(f"no images found in {', '.join(args.inputs)}")
    if single and len(scan.files) > 1:
        raise ColorizeError(f"-o {outdir} names one file, and {len(scan.files)} images were given; pass a folder "
                            "as -o for several")
    outputs = {f: outdir for f in scan.files} if single else output_names.output_paths(scan.files, scan.roots, outdir)
    hints = hints_for(args, scan)
    references = references_for(args, scan)
    todo = _to_do(scan.files, outputs, args.overwrite, tally, args.verbose)
    if todo:
        steered = any(hints.values()) or bool(getattr(args, "reference", None)) or bool(references)
        colorizer = cli_common.colorizer(args, hints=steered, max_pixels=args.max_pixels)
        if args.verbose:  # once per photo: the border found around it, or none
            colorizer.report = lambda name, line: tally.say(f"colorize: {name}: {line}")
        if any(hints.values()) and not colorizer.hints:
            raise InputError(f"colour hints were given, but the model {colorizer.name} takes none; use a hint "
                             "preset such as bigru_fusion_64_hints (--preset)")
        atomic.check_writable(outdir.parent if single else outdir)
        for folder in sorted({outputs[f].parent for f in todo}):
            atomic.clean_stale(folder)
        if references:  # each reference decoded, checked and prepared once, before any photo
            colorizer = _WithReferences(colorizer, references)
        _run(colorizer, todo, outputs, hints, args, tally)
    print(f"written {tally.written}, skipped {tally.skipped}, failed {tally.failed} -> {args.output}")
    return 1 if tally.failed else 0


def _on_cluster(args):
    """``--ray``: the same run by a pool of Ray actors (``colorize.cluster``)."""
    if args.ray is None:
        raise ColorizeError("--ray-actors needs --ray ADDRESS (local, auto, HOST:PORT or ray://HOST:PORT)")
    if args.hint:
        raise ColorizeError("--hint is for one photo; with --ray, give hints in a file (--hints FILE)")
    if args.keep_border:
        raise ColorizeError("--keep-border is not available with --ray yet; colorize without --ray")
    from colorize.cluster import colorize_files
    summary = colorize_files(args.inputs, args.output, args.ray, args.ray_actors,
                             preset=args.preset or args.preset_file, weights=args.weights, sha256=args.sha256,
                             config=args.config, readout=args.readout,
                             upsampling=args.upsampling, saturation=getattr(args, "saturation", None),
                             batch_size=args.batch_size, batch_pixels=args.batch_pixels, hints=args.hints,
                             overwrite=args.overwrite, max_pixels=args.max_pixels, quality=args.quality,
                             bit_depth=args.bit_depth, progress=not args.quiet, verbose=args.verbose)
    print(f"{summary} -> {args.output}")
    return 1 if summary.failed else 0


def _to_do(files, outputs, overwrite, tally, verbose=False):
    todo, skipped = output_names.pending(files, outputs, overwrite)
    inputs = {os.path.realpath(f) for f in files}
    done = [f for f, _ in skipped if os.path.realpath(outputs[f]) not in inputs]  # the rest would replace an input
    for f, why in skipped:
        if verbose or f not in done:
            tally.skip(f, why)
    if done and not verbose:  # a re-run of a big folder: one line, not one per photo
        tally.skipped += len(done)
        tally.say(f"colorize: {len(done)} already done (pass --overwrite to redo them)")
    return todo


# -- output names ------------------------------------------------------------------------------------------------
# -- hints -------------------------------------------------------------------------------------------------------
def hints_for(args, scan):
    """The hints of each input file ({file: raw hint list}) from --hint or --hints; unknown or ambiguous keys are
    errors, so that a typo never silently does nothing."""
    from colorize.pipeline import hint_files
    from colorize.pipeline import hints as hint_lib
    if args.hint:
        if len(scan.files) != 1:
            raise InputError(f"--hint applies to one image, and {len(scan.files)} were given; use --hints FILE to "
                             "give hints to several")
        return {scan.files[0]: [hint_lib.parse_cli_hint(text) for text in args.hint]}
    if not args.hints:
        return {}
    entries = input_keys.files_for_keys(hint_files.load_hints_file(args.hints, references=True), scan.files,
                                        scan.roots, f"hints file {args.hints}")
    return {f: hint_files.file_entry(entry, args.hints)[0] for f, entry in entries.items()}


def references_for(args, scan):
    """The colour reference of each input file ({file: path}): --reference for all, a ``"reference"`` in the
    --hints file's entry for its file (a path relative to the hints file's folder) instead."""
    from colorize.pipeline import hint_files
    found = {f: Path(args.reference) for f in scan.files} if getattr(args, "reference", None) else {}
    if args.hints:
        entries = input_keys.files_for_keys(hint_files.load_hints_file(args.hints, references=True), scan.files,
                                            scan.roots, f"hints file {args.hints}")
        for f, entry in entries.items():
            reference = hint_files.file_entry(entry, args.hints)[1]
            if reference is not None:
                found[f] = Path(args.hints).parent / reference
    return found


class _WithReferences:
    """A Colorizer whose ``colorize_batch`` adds each photo's colour reference (found by the photo's name); each
    distinct reference file is prepared once, here (``InputError`` naming it if unusable)."""

    def __init__(self, colorizer, references):
        prepared = {}
        for path in references.values():
            if path not in prepared:
                prepared[path] = colorizer.prepare_reference(path, name=str(path))
        self._colorizer = colorizer
        self._references = {str(f): prepared[path] for f, path in references.items()}

    def __getattr__(self, name):
        return getattr(self._colorizer, name)

    def colorize_batch(self, images, names=None, **kwargs):
        references = [self._references.get(n) for n in names]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ReferenceReport)
            results = self._colorizer.colorize_batch(images, names=names, references=references, **kwargs)
        for note in caught:  # what each reference did, one line a photo ("matched 34% of ..." / "matched nothing")
            if issubclass(note.category, ReferenceReport):
                print(note.message, file=sys.stderr)
            else:
                warnings.showwarning(note.message, note.category, note.filename, note.lineno)
        return results


# -- the pipeline ------------------------------------------------------------------------------------------------
class _ReadAhead:
    """Decodes the photos in order, in a thread pool, up to two batches' worth ahead of the network (this batch
    and the next, decoded while this one is colorized): at most ``2 * batch_size`` photos and ``2 * budget``
    pixels (by their headers), but always at least one."""

    def __init__(self, pool, decode, files, batch_size, budget):
        self.pool, self.decode, self.files = pool, decode, iter(files)
        self.batch_size, self.budget = batch_size, budget
        self.pending, self.pixels, self.sizes = collections.deque(), 0, {}
        self.next = next(self.files, None)
        self.fill()

    def fill(self):
        while self.next is not None:
            pixels = self.sizes.setdefault(self.next, imageio.pixels_of(self.next) or 1)
            if self.pending and (self.pixels + pixels > 2 * self.budget or len(self.pending) >= 2 * self.batch_size):
                return
            self.pending.append((self.next, self.pool.submit(self.decode, self.next)))
            self.pixels += pixels
            self.next = next(self.files, None)

    def batch(self):
        """The next batch: ``[(file, decoded image or the InputError)]``, within the count and pixel budgets."""
        batch, pixels = [], 0
        while self.pending and len(batch) < self.batch_size and (
                not batch or pixels + self.sizes[self.pending[0][0]] <= self.budget):
            f, future = self.pending.popleft()
            batch.append((f, future.result()))
            pixels += self.sizes[f]
            self.pixels -= self.sizes[f]
        self.fill()
        return batch


def _run(colorizer, todo, outputs, hints, args, tally):
    from tqdm import tqdm

    from colorize.pipeline.bit_depth import to_16_bits

    def decode(f):
        try:
            return colorizer.preprocessor.decode(f, name=str(f))
        except ColorizeError as err:
            return err

    writes = collections.deque()  # (file, pixels, future), oldest first

    def settle(limit):
        """Wait for the oldest writes until no more than ``limit`` pixels are queued."""
        while writes and sum(pixels for _, pixels, _ in writes) > limit:
            f, _, future = writes.popleft()
            try:
                for line in future.result():
                    tally.say(f"colorize: warning: {line}")
                tally.written += 1
            except OutputExistsError:
                tally.skip(f, f"{outputs[f]} was written by another run meanwhile")
            except (ColorizeError, OSError) as err:
                tally.fail(f, err)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as readers, \
            concurrent.futures.ThreadPoolExecutor(max_workers=2) as writers, \
            tqdm(total=len(todo), unit="img", disable=args.quiet, file=sys.stderr) as bar:
        tally.bar = bar
        ahead = _ReadAhead(readers, decode, todo, args.batch_size, args.batch_pixels)
        while True:
            batch = ahead.batch()
            if not batch:
                break
            for f, image in batch:
                if isinstance(image, Exception):
                    tally.fail(f, image)
            good = [(f, image) for f, image in batch if not isinstance(image, Exception)]
            count = len(batch)
            del batch
            sources = dict(good) if args.bit_depth == 16 else {}
            for f, rgb in _colorize(colorizer, good, hints, tally):
                pixels = rgb.shape[0] * rgb.shape[1]
                settle(args.batch_pixels - pixels)
                if args.bit_depth == 16:  # the input's own lightness, at its precision
                    rgb = to_16_bits(rgb, sources[f])
                writes.append((f, pixels, writers.submit(_write, rgb, f, outputs[f], args)))
            bar.update(count)
            del good
        settle(-1)
        tally.bar = None


def _write(rgb, source, path, args):
    """One output, in the format of its name, with the input's metadata (see ``colorize.io.outputs.save_image``);
    returns the warning lines about metadata its format cannot hold."""
    notes = []
    output_files.save_image(rgb, path, overwrite=args.overwrite, quality=args.quality,
                            metadata=output_files.read_metadata(source), warn=notes.append)
    return notes


def _colorize(colorizer, batch, hints, tally):
    """Colorize a batch -> [(file, uint8 RGB)]; if one photo's hints are refused, the others are done one by one."""
    results, failures = colorize_or_each(colorizer, batch, hints)
    for f, err in failures:
        tally.fail(f, err)
    return results

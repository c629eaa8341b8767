"""``colorize predict``: colorize image files and folders into an output folder; every output whole or absent.

The options are parsed here; the work is the predict job (``colorize.predict.job``), on this machine
(``LocalExecutor``) or, with ``--ray``, on a cluster's actors (``colorize.cluster.RayExecutor``): the same
outputs either way.
"""
from colorize import io as imageio
from colorize.cli import common as cli_common
from colorize.errors import ColorizeError
from colorize.io import outputs as output_files
from colorize.predict.batches import DEFAULT_BATCH_PIXELS, DEFAULT_BATCH_SIZE


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
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                   help=f"most photos per network batch (default {DEFAULT_BATCH_SIZE})")
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


def cmd_predict(args):
    """The predict job (``colorize.predict``) with the options of ``args``, on this machine or with ``--ray`` on a
    cluster's actors."""
    from colorize.predict import Job, LocalExecutor, ModelRecipe, run_job
    cli_common.check_model_args(args)  # before any photo is looked at: conflicting or unused model options
    if args.ray is None and args.ray_actors is not None:
        raise ColorizeError("--ray-actors needs --ray ADDRESS (local, auto, HOST:PORT or ray://HOST:PORT)")
    if args.ray is not None:
        from colorize.cluster import RayExecutor
        executor = RayExecutor(args.ray, args.ray_actors)
    else:
        executor = LocalExecutor()
    config = None
    if args.weights and args.config:
        from colorize.config import load_config
        config = load_config(args.config)
    recipe = ModelRecipe(args.preset or args.preset_file, args.weights, args.sha256, config, args.readout,
                         args.upsampling, args.max_pixels, getattr(args, "saturation", None),
                         not getattr(args, "keep_border", False))
    job = Job(args.inputs, args.output, args.batch_size, args.batch_pixels, args.overwrite, args.quality,
              args.bit_depth, args.hint, args.hints, args.reference, args.verbose, progress=not args.quiet)
    summary = run_job(job, recipe, executor)
    print(f"{summary} -> {args.output}")
    return 1 if summary.failed else 0

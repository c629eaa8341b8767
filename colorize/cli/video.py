"""``colorize video``: colorize a video file, stable in time, sound and subtitles copied unchanged."""
from colorize.cli import common as cli_common
from colorize.errors import InputError


def add_parser(sub):
    from colorize.video import DEFAULT_BATCH_SIZE, DEFAULT_CODEC, DEFAULT_CRF, DEFAULT_ENCODER_PRESET
    p = sub.add_parser("video", help="colorize a video (stable in time; sound and subtitles kept)",
                       description="Colorize INPUT into OUTPUT (.mp4, .mkv or .mov): same size, frame rate, frame "
                                   "count and rotation; audio and subtitle streams copied without re-encoding; "
                                   "colours carried along the motion so that they do not flicker, reset at shot "
                                   "cuts. OUTPUT appears only when complete. Needs the video extra: "
                                   "pip install 'colorize-photos[video]'.")
    p.add_argument("input", metavar="INPUT", help="the video file to colorize")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="the colour video to write")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--codec", default=DEFAULT_CODEC, help=f"video encoder (default {DEFAULT_CODEC}; e.g. libx265, "
                                                          "libvpx-vp9 for .mkv/.webm)")
    p.add_argument("--crf", type=float, default=DEFAULT_CRF,
                   help=f"constant-quality level of the encoder (default {DEFAULT_CRF}; lower is better and larger)")
    p.add_argument("--encoder-preset", default=DEFAULT_ENCODER_PRESET,
                   help=f"x264/x265 speed preset (default {DEFAULT_ENCODER_PRESET}; slower presets make smaller files)")
    p.add_argument("--hints", metavar="HINTS.json",
                   help='colour hints by frame number: {"0": [{"x": 120, "y": 40, "color": "#1f4e9c"}], ...}; each '
                        "frame's hints hold, following the motion, until the next shot cut (needs a hint preset)")
    p.add_argument("--reference", metavar="IMAGE",
                   help="a colour photo or a frame someone coloured: its colours are matched onto every frame "
                        "(needs a hint preset)")
    p.add_argument("--per-frame", action="store_true", help="colour each frame on its own (no stabilisation)")
    p.add_argument("--strength", type=float, help="share of the colour carried along the motion, 0-1 "
                                                  "(default 0.8; 0 = per frame)")
    p.add_argument("--cut-threshold", type=float, help="L-histogram distance that marks a shot cut, 0-1 "
                                                       "(default 0.4)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="frames per network batch")
    p.add_argument("--allow-truncated", action="store_true",
                   help="colorize the frames a cut-off video has (by default a video that ends before its declared "
                        "end is refused)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    cli_common.add_model_args(p)
    cli_common.add_saturation_arg(p)
    p.set_defaults(func=cmd_video)
    return p


def cmd_video(args):
    import sys

    from colorize.video import colorize_video, require_av
    require_av()
    _refuse_still_image(args.input)
    crf = int(args.crf) if float(args.crf).is_integer() else args.crf
    colorizer = cli_common.colorizer(args, hints=bool(args.hints) or bool(args.reference))
    try:
        report = colorize_video(colorizer, args.input, args.output, overwrite=args.overwrite,
                                codec=args.codec, crf=crf, encoder_preset=args.encoder_preset, hints=args.hints,
                                stabilize=not args.per_frame, strength=args.strength,
                                cut_threshold=args.cut_threshold, batch_size=args.batch_size,
                                progress=not args.quiet, allow_truncated=args.allow_truncated,
                                reference=args.reference)
    except KeyboardInterrupt:
        print(f"colorize: interrupted; {args.output} was not written (no half-written video is left)",
              file=sys.stderr)
        return 130
    if report.ended_early:
        print(f"colorize: warning: {report.ended_early}; the frames it has were colorized", file=sys.stderr)
    cuts = f", {len(report.cuts)} shot cuts" if report.cuts else ""
    print(f"wrote {report.path}: {report.frames} frames in {report.seconds:.1f} s "
          f"({report.fps:.1f} frames/s){cuts}")
    return 0


def _refuse_still_image(path):
    """A still photo (one frame that Pillow reads: JPEG, PNG, TIFF...) would become a one-frame video: refused, in
    one line that points to ``colorize predict``. Animated GIFs and WebPs, and videos, pass."""
    import warnings

    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                frames = getattr(im, "n_frames", 1)
    except Exception:  # not an image Pillow knows (a video, or missing): the video reader says what it is
        return
    if frames <= 1:
        raise InputError(f"{path} is a still image, not a video; colorize it with: colorize predict {path} -o OUTDIR")

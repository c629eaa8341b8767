"""``colorize export``: write a preset's (or your own weights') Colorizer as a SavedModel or a TFLite model."""
from colorize.cli import common as cli_common


def cmd_export(args):
    from colorize import export
    colorizer = cli_common.colorizer(args)
    if args.format == "savedmodel":
        path = export.export_savedmodel(colorizer, args.output, overwrite=args.overwrite)
        print(f"wrote SavedModel {path}: signature '{export.SIGNATURE_KEY}', uint8 image (H, W, 1 or 3) -> "
              "uint8 (H, W, 3)")
    else:
        path = export.export_tflite(colorizer, args.output, overwrite=args.overwrite)
        size = colorizer.config.input_size
        print(f"wrote TFLite model {path}: scaled L (1, {size}, {size}, 1) float32 -> ab in Lab units "
              f"(1, {size}, {size}, 2)")
    return 0


def add_parser(sub):
    p = sub.add_parser("export", help="export a Colorizer as a SavedModel (whole pipeline) or TFLite (network)",
                       description="Write a preset's (or your own weights') Colorizer for serving without colorize: a "
                                   "SavedModel of the whole pipeline (signature: uint8 image in, uint8 colour image "
                                   "out) or a TFLite model of the network alone (scaled L in, ab out).")
    p.add_argument("--format", choices=("savedmodel", "tflite"), default="savedmodel",
                   help="savedmodel: uint8 image in, colour image out; tflite: the network only")
    p.add_argument("-o", "--output", required=True, metavar="PATH",
                   help="the SavedModel folder or .tflite file to write")
    p.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
    cli_common.add_model_args(p)
    p.set_defaults(func=cmd_export)
    return p

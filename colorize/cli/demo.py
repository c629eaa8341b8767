"""``colorize demo``: colorize greyscale versions of scikit-image's colour photos and compare with the originals."""
from colorize.cli import common as cli_common


def add_parser(sub):
    p = sub.add_parser("demo", help="colorize scikit-image's sample photos from greyscale and show the result",
                       description="Turn the colour photos shipped with scikit-image into greyscale, colorize "
                                   "them, write demo.png (greyscale | colorized | original) and print the "
                                   "metrics beside the grey baseline.")
    p.add_argument("-o", "--output", default="colorize-demo", metavar="OUTDIR",
                   help="folder for demo.png and the colorized photos (default ./colorize-demo)")
    cli_common.add_model_args(p)
    cli_common.add_saturation_arg(p)
    p.set_defaults(func=cmd_demo)
    return p


def cmd_demo(args):
    import sys

    from colorize.evaluation import run_demo
    run_demo(cli_common.colorizer(args), args.output, out=sys.stdout)
    return 0

"""``colorize serve``: a local web page to colorize a photo and steer its colours with clicks (``colorize.serve``)."""
import math
import sys

from colorize.cli import common as cli_common
from colorize.errors import ColorizeError

HINTS_PRESET = "bigru_fusion_64_hints"


def default_preset():
    """The hint preset where it is registered with weights (the page's clicks then steer colours), else the
    shipped one."""
    from colorize.presets import DEFAULT_PRESET, get_preset, list_presets
    if HINTS_PRESET in list_presets() and get_preset(HINTS_PRESET).weights_path is not None:
        return HINTS_PRESET
    return DEFAULT_PRESET


def cmd_serve(args):
    try:
        from colorize.serve import bind, create_app, exposure_warning, serve_forever, url_of
    except ImportError as err:
        raise ColorizeError(f"colorize serve needs the web extra ({err.name} is missing): "
                            "pip install 'colorize-photos[web]'") from None
    for flag, value in (("--queue", args.queue), ("--max-upload-mb", args.max_upload_mb),
                        ("--max-pixels", args.max_pixels)):
        if not 0 < value < math.inf:  # nan and inf too: neither is a size
            raise ColorizeError(f"{flag} must be a positive finite number, got {value}")
    if not 0 <= args.port <= 65535:  # the socket layer wraps 99999 to 34463, and blames -1 on the host
        raise ColorizeError(f"--port must be from 0 to 65535 (0: any free port), got {args.port}")
    if args.preview_side and not 64 <= args.preview_side <= 8192:
        raise ColorizeError(f"--preview-side must be 0 (off) or from 64 to 8192, got {args.preview_side}")
    sock, loopback = bind(args.host, args.port)  # before the model loads: a busy port fails at once
    try:
        warning = None if loopback else exposure_warning(args.host)
        if warning:
            print(warning, file=sys.stderr)
        if not args.weights:
            args.preset = args.preset or default_preset()
        colorizer = cli_common.colorizer(args, max_pixels=args.max_pixels)
        app = create_app(colorizer, max_upload_bytes=int(args.max_upload_mb * 2 ** 20),
                               max_pixels=args.max_pixels, queue_size=args.queue, loopback_only=loopback,
                               preview_side=args.preview_side)
        app.state.engine.warm_up()
        print(f"colorize serve: {url_of(sock, args.host)}  (model {colorizer.name}, "
              f"{'colour hints on' if colorizer.hints else 'no colour hints'}; Ctrl-C to stop)", flush=True)
        serve_forever(app, sock)
    except KeyboardInterrupt:  # Ctrl-C while the model loads
        pass
    finally:
        sock.close()
    print("colorize serve: stopped", file=sys.stderr)
    return 0


def add_parser(sub):
    p = sub.add_parser("serve", help="a local web page: open a photo, colorize it, steer its colours with clicks",
                       description="Serve a web page (and its HTTP API: POST /api/colorize, GET /api/info) that "
                                   "colorizes a photo and, with a hints model, lets you click points and pick "
                                   "their colours. Needs pip install 'colorize-photos[web]'.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to your "
                        "network, with a warning)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--max-upload-mb", type=float, default=64, help="largest upload in MiB (default 64)")
    p.add_argument("--max-pixels", type=int, default=40_000_000,
                   help="largest photo in pixels, checked before decoding (default 40,000,000)")
    p.add_argument("--preview-side", type=int, default=1600,
                   help="while a larger photo is steered, the page gets results this many pixels on their longest "
                        "side, and the full resolution when it downloads (default 1600; 0: always full)")
    p.add_argument("--queue", type=int, default=16,
                   help="requests that may wait or run at once; more get 503 (default 16)")
    preset = default_preset()
    cli_common.add_model_args(p, f"{preset}, whose clicks steer colours" if preset == HINTS_PRESET else preset)
    cli_common.add_border_arg(p)  # the page's checkbox starts unticked
    p.set_defaults(func=cmd_serve)
    return p

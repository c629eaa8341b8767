"""``colorize presets``: every shipped model in one line each: what it is for, whether it takes hints, and what its
card measured. Reads the preset cards only (no TensorFlow)."""
from colorize.cli import common as cli_common


def add_parser(sub):
    p = sub.add_parser("presets", help="list the shipped models (--preset NAME) and what each is for",
                       description="List every registered preset: what it is for, whether it takes colour hints, "
                                   "and its card's measurements (PSNR in dB beside the grey input's, on its "
                                   "validation images and on large photos). Pass the name to --preset.")
    p.set_defaults(func=cmd_presets, tensorflow=False)
    return p


def describe(preset, default_name, hint_name):
    """One line for ``preset``: name, purpose, hints or not, size and the card's metrics."""
    purpose = ("takes colour hints: steer colours with --hint, --hints or clicks in colorize serve"
               if preset.model.get("hints") else "automatic colours, no hints")
    marks = [m for m, name in (("default", default_name), ("default with hints", hint_name)) if preset.name == name]
    size = preset.model.get("input_size")
    parts = [purpose, f"network at {size}x{size}"]
    if preset.parameters:
        parts.append(f"{preset.parameters / 1e6:.1f}M parameters")
    parts += [_measured(what, preset.metrics.get(key)) for key, what in (("validation", "validation"),
                                                                          ("photos", "large photos"))]
    if preset.weights is None:
        parts.append("not trained yet")
    head = f"{preset.name}" + (f" ({', '.join(marks)})" if marks else "")
    return f"{head}: " + "; ".join(p for p in parts if p)


def _measured(what, figures):
    try:
        model, grey = figures["model"]["psnr"], figures["grey"]["psnr"]
    except (KeyError, TypeError):
        return ""
    images = figures.get("images")
    return f"{what}{f' ({images} images)' if images else ''}: PSNR {model:.2f} dB (grey {grey:.2f})"


def cmd_presets(args):
    from colorize import presets
    for name in presets.list_presets():
        print(describe(presets.get_preset(name), presets.DEFAULT_PRESET, presets.DEFAULT_HINT_PRESET))
    for name, why in sorted(presets.BROKEN.items()):
        print(f"{name}: unusable: {cli_common.one_line(why)}")
    return 0

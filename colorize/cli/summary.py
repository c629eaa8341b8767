"""``colorize summary``: the layer and shape table of a preset's network."""


def add_parser(sub):
    from colorize.presets import DEFAULT_PRESET
    p = sub.add_parser("summary", help="print the layer and shape table of a preset's network",
                       description="Print a preset's network: input size, parameter count, weights file, and each "
                                   "layer's type, output shape and parameters.")
    p.add_argument("--preset", help=f"the preset to show (default {DEFAULT_PRESET}); colorize presets lists them")
    p.set_defaults(func=cmd_summary)


def cmd_summary(args):
    from colorize.model import build_model
    from colorize.presets import get_preset
    preset = get_preset(args.preset)
    model = build_model(preset.model_config)
    print(f"preset {preset.name}: input {preset.model_config.input_size}x{preset.model_config.input_size}, "
          f"{model.count_params():,} parameters, weights: {preset.weights or 'not trained yet'}")
    print(f"{'layer':32s} {'type':20s} {'output shape':28s} {'params':>9s}")
    for layer in model.layers:
        shape = layer.output.shape if not isinstance(layer.output, (list, tuple)) else layer.output[0].shape
        print(f"{layer.name:32s} {type(layer).__name__:20s} {str(tuple(shape)):28s} {layer.count_params():9,d}")
    return 0

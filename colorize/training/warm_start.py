"""Start training from a trained model's weights (``train.init_weights``), also into a wider network.

Layers are matched by name. A weight of the same shape is copied. A convolution kernel whose only difference is
more input channels at the end (the hint model's first conv and decoder convs, which take the hint channels after
the channels of the model they grew from) gets the old kernel in its first channels and zeros in the new ones, so
the new network starts out computing exactly what the old one did, and learns to use the new inputs from there.
Layers that the source lacks (a class head, say) keep their fresh initialisation.
"""
from pathlib import Path

import numpy as np

from colorize.errors import ConfigError, WeightsError


def expand(old, new_shape):
    """``old`` weight array placed into zeros of ``new_shape`` (same shape, or a kernel with more input channels
    in its last-but-one axis); None if it does not fit that way."""
    if old.shape == tuple(new_shape):
        return old
    if len(old.shape) == len(new_shape) >= 2 and old.shape[:-2] == tuple(new_shape[:-2]) and \
            old.shape[-1] == new_shape[-1] and old.shape[-2] < new_shape[-2]:
        grown = np.zeros(new_shape, old.dtype)
        grown[..., :old.shape[-2], :] = old
        return grown
    return None


def copy_weights(source, target):
    """Copy ``source`` model's weights into ``target`` layer by layer (see the module docstring). Returns the
    names of the target layers that were left as initialised."""
    by_name = {layer.name: layer for layer in source.layers}
    fresh = []
    for layer in target.layers:
        if not layer.weights:
            continue
        old = by_name.get(layer.name)
        values = [expand(np.asarray(o), n.shape) for o, n in zip(old.get_weights(), layer.weights)] \
            if old is not None and len(old.weights) == len(layer.weights) else [None]
        if any(v is None for v in values):
            fresh.append(layer.name)
            continue
        layer.set_weights(values)
    return fresh


def warm_start(model, spec):
    """Initialise ``model`` from ``spec``: ``preset:NAME`` (a shipped preset, sha256-checked) or a ``.weights.h5``
    path whose training config lies beside it as ``NAME.yaml``. Returns the names of the layers left fresh."""
    from colorize.model import build_model, load_weights, sha256_of
    from colorize.presets import get_preset
    if spec.startswith("preset:"):
        preset = get_preset(spec[len("preset:"):])
        source = load_weights(build_model(preset.model_config), preset.weights_path, preset.sha256,
                              f"preset {preset.name!r}")
    else:
        path = Path(spec)
        config_path = path.with_name(path.name.replace(".weights.h5", ".yaml"))
        if not path.is_file() or not config_path.is_file():
            raise ConfigError(f"train.init_weights {spec!r}: expected preset:NAME, or a .weights.h5 file with its "
                              f"training config beside it as {config_path.name}")
        from colorize.config import load_config
        source = build_model(load_config(config_path))
        load_weights(source, path, sha256_of(path), f"train.init_weights {spec}")
    fresh = copy_weights(source, model)
    if len(fresh) == len([layer for layer in model.layers if layer.weights]):
        raise WeightsError(f"train.init_weights {spec!r} shares no layer with this model")
    return fresh

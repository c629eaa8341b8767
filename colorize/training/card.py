"""The preset card a training run writes beside its weights (``WORKDIR/final-stepN.preset.json``), in the form of the
shipped presets' cards: the model, the weights file and its sha256, the readout of the preset the run started from
(``train.init_weights``; a fine-tuned model is used as its preset was), what it trained on, and its validation.
``colorize predict --preset-file CARD`` (or ``--weights`` beside it) loads the model whole."""
import dataclasses
import json
import shlex
from pathlib import Path

from colorize import presets
from colorize._version import __version__
from colorize.io import write_text


def starting_readout(config):
    """The readout of the card ``train.init_weights`` names (regression from scratch, or where the model has no
    bins head for the card's readout)."""
    card = presets.starting_card(config.train.init_weights)
    readout = dict(card.readout) if card else {"kind": "regression"}
    if readout.get("kind", "regression") != "regression" and not config.model.bins_head:
        return {"kind": "regression"}
    return readout


def card_path(weights):
    weights = Path(weights)
    return weights.with_name(weights.name[:-len(".weights.h5")] + ".preset.json")


def write_card(weights, sha256, parameters, config, steps, validation=None):
    """Write the card of ``weights`` beside them (never over an existing card: a weights file's card is written
    once, as the file itself) -> its path. ``validation``: the run's last validation figures."""
    weights, path = Path(weights), card_path(weights)
    if path.exists():
        return path
    data, tc = config.data, config.train
    start = tc.init_weights or "scratch"
    card = presets.Preset(
        name=f"{weights.parent.name}/{weights.name[:-len('.weights.h5')]}",
        model=dataclasses.asdict(config.model), weights=weights.name, sha256=sha256, parameters=parameters,
        readout=starting_readout(config),
        training_data=f"{data.source}{f' ({data.train_split} split)' if data.source.startswith('tfds:') else ''}, "
                      f"{config.model.input_size}x{config.model.input_size} crops",
        recipe=f"{steps} steps of batch {tc.batch_size} from {start}, learning rate {tc.learning_rate}, "
               f"colorize {__version__} (config: {weights.parent / 'config.yaml'})",
        metrics={"validation": _figures(validation, tc.validation_readout)} if validation else {},
        started_from=tc.init_weights or "")
    write_text(path, json.dumps(card.card(), indent=1), overwrite=False)
    return path


def _figures(val, validation_readout):
    """The loop's validation line in the cards' form (model / grey / truth): the figures of the readout the run
    validated with (``train.validation_readout``) where it has them, else of the network's regression head."""
    prefix = "readout_" if "readout_psnr" in val else ""
    return {"step": val.get("step"), "readout": validation_readout if prefix else "regression",
            "model": {k: val[prefix + k] for k in ("psnr", "auc", "colorfulness") if prefix + k in val},
            "grey": {k: val[f"grey_{k}"] for k in ("psnr", "auc", "colorfulness") if f"grey_{k}" in val},
            "truth": {"colorfulness": val.get("truth_colorfulness")}}


def predict_command(card):
    return f"colorize predict PHOTOS -o colorized --preset-file {shlex.quote(str(card))}"

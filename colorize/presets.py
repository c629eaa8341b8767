"""The registry of pretrained presets. A preset is plain data: a model config, a weights file shipped in the
package with its sha256, how it was trained and what it measured. ``load_pretrained`` turns one into a Colorizer.

Trained presets are described by ``colorize/weights/<name>.preset.json`` files (written by
``scripts/ship_preset.py``) next to their ``.weights.h5``; they replace the built-in entry of the same name. A
training run writes a card of the same form beside its own weights (``WORKDIR/final-stepN.preset.json``): it loads
by its path wherever a preset name is taken (``load_card``, ``get_preset``).
"""
import dataclasses
import json
import os
from pathlib import Path

from colorize.config import ModelConfig
from colorize.errors import WeightsError

WEIGHTS_DIR = Path(__file__).parent / "weights"


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    model: dict
    weights: str = None            # file name in colorize/weights/, None until trained
    sha256: str = None
    parameters: int = None
    readout: dict = dataclasses.field(default_factory=lambda: {"kind": "regression"})  # Readout fields
    training_data: str = ""
    recipe: str = ""
    metrics: dict = dataclasses.field(default_factory=dict)
    started_from: str = ""         # a fine-tuned model's train.init_weights (its readout came from there)
    folder: str = dataclasses.field(default=None, compare=False)  # the card's folder; None: colorize/weights/

    @property
    def model_config(self):
        return ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in self.model.items()})

    @property
    def weights_path(self):
        return Path(self.folder or WEIGHTS_DIR) / self.weights if self.weights else None

    def card(self):
        """The card's JSON fields (what ``load_card`` reads back)."""
        fields = dataclasses.asdict(self)
        del fields["folder"]
        fields["model"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.model.items()}
        return fields


PRESETS = {}
BROKEN = {}  # name -> why its card cannot be used (said when that preset is asked for)
DEFAULT_PRESET = "bigru_fusion_64"
DEFAULT_HINT_PRESET = "bigru_fusion_64_hints"  # used when hints are given and no model is named


def register(preset):
    PRESETS[preset.name] = preset
    return preset


register(Preset(
    name="bigru_fusion_64",
    model=dict(input_size=64, encoder_widths=(32, 64, 128), row_units=64, global_units=128, fusion_width=128,
               bins_head=True),
    training_data="Tiny ImageNet colour photos (tiny_imagenet_color, train split), 64x64",
    recipe="configs/tiny_imagenet_64.yaml",
))


def _read_card(path, folder=None):
    """The Preset a card file describes; OSError / ValueError / TypeError when it cannot be used."""
    fields = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(fields, dict):
        raise TypeError(f"it holds a {type(fields).__name__}, not an object")
    if "folder" in fields:
        raise TypeError("unexpected key 'folder'")
    return Preset(**fields, folder=folder)


def load_cards(folder):
    """Register every ``*.preset.json`` card in ``folder``. A card that cannot be read (bad JSON, an unknown or
    missing key) is set aside in ``BROKEN``: asking for that preset names the card; the others still load."""
    for card in sorted(Path(folder).glob("*.preset.json")):
        name = card.name[:-len(".preset.json")]
        try:
            preset = register(_read_card(card))
            BROKEN.pop(preset.name, None)
        except (OSError, ValueError, TypeError) as err:
            BROKEN[name] = f"the preset card {card} cannot be used ({err}); reinstall colorize or fix the card"
            PRESETS.pop(name, None)


def load_card(path):
    """The preset a card file anywhere describes (e.g. the one a training run writes beside its weights): its
    weights are the file it names, in the card's own folder."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"preset card {path} does not exist (colorize train writes WORKDIR/final-stepN.preset.json"
                           " beside the weights)")
    try:
        return _read_card(path, folder=str(path.parent))
    except (OSError, ValueError, TypeError) as err:
        raise WeightsError(f"the preset card {path} cannot be used ({err}); fix it or train again") from None


def card_beside(weights):
    """The card ``NAME.preset.json`` beside a ``NAME.weights.h5`` file, or None when there is none."""
    path = Path(weights)
    if not path.name.endswith(".weights.h5"):
        return None
    card = path.with_name(path.name[:-len(".weights.h5")] + ".preset.json")
    return card if card.is_file() else None


def starting_card(init_weights):
    """The card of what ``train.init_weights`` names (``preset:NAME``, or a ``.weights.h5`` with its card beside
    it), or None (a start from scratch, or weights without a card)."""
    if not init_weights:
        return None
    if init_weights.startswith("preset:"):
        return get_preset(init_weights[len("preset:"):])
    card = card_beside(init_weights)
    return load_card(card) if card else None


load_cards(WEIGHTS_DIR)


def list_presets():
    """Names of the registered presets."""
    return sorted(PRESETS)


def get_preset(name=None):
    """A registered preset by name (default: the default preset), or the card file a path names
    (``.../NAME.preset.json``)."""
    if isinstance(name, Preset):
        return name
    if isinstance(name, os.PathLike) or (isinstance(name, str) and name.endswith(".json")):
        return load_card(name)
    name = name or DEFAULT_PRESET
    if name in BROKEN:
        raise WeightsError(BROKEN[name])
    if name not in PRESETS:
        raise WeightsError(f"unknown preset {name!r}; available presets: {', '.join(list_presets())}")
    return PRESETS[name]

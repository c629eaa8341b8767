"""The registry of pretrained presets. A preset is plain data: a model config, a weights file shipped in the
package with its sha256, how it was trained and what it measured. ``load_pretrained`` turns one into a Colorizer.

Trained presets are described by ``colorize/weights/<name>.preset.json`` files (written by
``scripts/ship_preset.py``) next to their ``.weights.h5``; they replace the built-in entry of the same name.
"""
import dataclasses
import json
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

    @property
    def model_config(self):
        return ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in self.model.items()})

    @property
    def weights_path(self):
        return WEIGHTS_DIR / self.weights if self.weights else None


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


def load_cards(folder):
    """Register every ``*.preset.json`` card in ``folder``. A card that cannot be read (bad JSON, an unknown or
    missing key) is set aside in ``BROKEN``: asking for that preset names the card; the others still load."""
    for card in sorted(Path(folder).glob("*.preset.json")):
        name = card.name[:-len(".preset.json")]
        try:
            fields = json.loads(card.read_text())
            if not isinstance(fields, dict):
                raise TypeError(f"it holds a {type(fields).__name__}, not an object")
            register(Preset(**fields))
            BROKEN.pop(fields["name"], None)
        except (OSError, ValueError, TypeError) as err:
            BROKEN[name] = f"the preset card {card} cannot be used ({err}); reinstall colorize or fix the card"
            PRESETS.pop(name, None)


load_cards(WEIGHTS_DIR)


def list_presets():
    """Names of the registered presets."""
    return sorted(PRESETS)


def get_preset(name=None):
    name = name or DEFAULT_PRESET
    if name in BROKEN:
        raise WeightsError(BROKEN[name])
    if name not in PRESETS:
        raise WeightsError(f"unknown preset {name!r}; available presets: {', '.join(list_presets())}")
    return PRESETS[name]

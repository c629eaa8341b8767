"""The registry of pretrained presets. A preset is plain data: a model config, a weights file shipped in the
package with its sha256, how it was trained and what it measured. ``load_pretrained`` turns one into a Colorizer.

Trained presets are described by ``colorize/weights/<name>.preset.json`` files (written by
``scripts/ship_preset.py``) next to their ``.weights.h5``; they replace the built-in entry of the same name.
"""
import dataclasses
import json
from pathlib import Path

from .config import ModelConfig
from .errors import WeightsError

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
DEFAULT_PRESET = "bigru_fusion_64"


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


for _card in sorted(WEIGHTS_DIR.glob("*.preset.json")):
    register(Preset(**json.loads(_card.read_text())))


def list_presets():
    """Names of the registered presets."""
    return sorted(PRESETS)


def get_preset(name=None):
    name = name or DEFAULT_PRESET
    if name not in PRESETS:
        raise WeightsError(f"unknown preset {name!r}; available presets: {', '.join(list_presets())}")
    return PRESETS[name]

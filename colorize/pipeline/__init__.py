"""A photo through the network: ``Colorizer`` composes the ``Preprocessor`` (decoded RGB -> L on the canvas),
the network and the ``Postprocessor`` (readout, guided upsampling, hints, Lab -> sRGB); user colour hints;
writing a result as the command line does (``save``)."""
from colorize._lazy import lazy_door

_NAMES = {
    "Colorizer": "colorizer", "load_pretrained": "colorizer",
    "Preprocessor": "preprocess", "Prepared": "preprocess", "Postprocessor": "postprocess", "Readout": "readout",
    "Hint": "hints", "parse_hints": "hints", "parse_cli_hint": "hints", "load_hints_file": "hint_files",
    "Reference": "reference", "prepare_reference": "reference",
    "to_16_bits": "bit_depth", "save": "saving",
    "check_saturation": "saturation", "SATURATION_MAX": "saturation", "SATURATION_HELP": "saturation",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

"""Files: decoding and checking input images (``images``), PNG encoding (``png``), atomic no-clobber writes
(``atomic``) and the stable output names of ``colorize predict`` (``output_names``). No TensorFlow here."""
from colorize._lazy import lazy_door

_NAMES = {
    "load_rgb": "images", "load_array": "images", "to_float": "images", "save_png": "outputs", "pixels_of": "images",
    "scan_inputs": "scan", "list_images": "scan", "MAX_FILE_PIXELS": "images", "IMAGE_SUFFIXES": "scan",
    "encode_png": "png", "writing": "atomic", "write_bytes": "atomic", "write_text": "atomic",
    "check_writable": "atomic", "clean_stale": "atomic", "output_paths": "output_names",
    "save_image": "outputs", "read_metadata": "outputs", "Metadata": "outputs", "OUTPUT_FORMATS": "outputs",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

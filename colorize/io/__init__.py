"""Files: decoding and checking input images (``images``), PNG encoding (``png``), atomic no-clobber writes
(``atomic``), the stable output names of ``colorize predict`` (``output_names``) and the
worker threads for full-resolution work (``threads``). No TensorFlow here."""
from colorize._lazy import lazy_door

_NAMES = {
    "load_rgb": "images", "load_array": "images", "to_float": "images", "pixels_of": "images",
    "MAX_FILE_PIXELS": "images", "scan_inputs": "scan", "list_images": "scan", "IMAGE_SUFFIXES": "scan",
    "save_png": "outputs", "save_image": "outputs", "read_metadata": "outputs", "OUTPUT_FORMATS": "outputs",
    "DEEP_FORMATS": "outputs", "output_format": "outputs",
    "encode_png": "png", "output_paths": "output_names",
    "writing": "atomic", "write_bytes": "atomic", "write_text": "atomic", "write_with": "atomic",
    "check_writable": "atomic", "clean_stale": "atomic",
    "shared_pool": "threads", "WORKERS": "threads",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_door(__name__, _NAMES)

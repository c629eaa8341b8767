"""Loading weights safely: sha256 checked before Keras opens the file, weights-only (``.weights.h5``, never a
pickled or ``.keras`` model with code in it), and every variable's shape compared with the network we built, so a
mismatch names the layer instead of failing deep inside Keras."""
import hashlib
from pathlib import Path

import h5py

from colorize._internals import snake_case
from colorize.errors import WeightsError
from colorize.io import write_with


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path, sha256, what):
    """Refuse a missing file, a file that is not ``.weights.h5``, or one whose sha256 differs from ``sha256``."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} for {what} does not exist")
    if not path.name.endswith(".weights.h5"):
        raise WeightsError(f"{path} is not a .weights.h5 file: colorize loads weights only, never whole models "
                           "(.keras, SavedModel, pickles), because those can carry code")
    if sha256 is None:
        raise WeightsError(f"no sha256 given for {path}: pass the expected hash (sha256sum {path}) so a changed "
                           "or corrupted file is refused")
    actual = sha256_of(path)
    if actual != sha256.lower():
        if what.startswith("preset "):  # a file shipped in the package
            raise WeightsError(f"weights file {path} of {what} has sha256 {actual}, expected {sha256.lower()}: the "
                               "installed file was changed or corrupted; reinstall colorize")
        raise WeightsError(f"weights file {path} changed since its sha256 {sha256.lower()[:12]}... was taken (it is "
                           f"now {actual[:12]}...): overwritten, edited or corrupted; pass the sha256 printed with "
                           "the file you mean (a training run prints a new file and line at its end)")
    return path


def _expected_variables(model):
    """Map the h5 paths Keras uses (class-based names in layer order) to (our layer name, variable shapes)."""
    seen, expected = {}, {}
    for layer in model.layers:
        base = snake_case(layer.__class__.__name__)
        count = seen.get(base, 0)
        seen[base] = count + 1
        if layer.weights:
            expected[base if count == 0 else f"{base}_{count}"] = (layer.name, _shapes_of(layer))
    return expected


def _shapes_of(layer):
    return [tuple(w.shape) for w in layer.weights]


def _file_variables(path):
    try:
        with h5py.File(path, "r") as f:
            if "layers" not in f:
                raise WeightsError(f"{path} is not a Keras .weights.h5 file (no 'layers' group)")
            found = {}
            for name, group in f["layers"].items():
                shapes = []
                def visit(_, obj, shapes=shapes):
                    if isinstance(obj, h5py.Dataset):
                        shapes.append(tuple(obj.shape))
                group.visititems(visit)
                if shapes:
                    found[name] = shapes
            return found
    except OSError as err:
        raise WeightsError(f"{path} is not a readable HDF5 weights file: {err}") from None


def load_weights(model, path, sha256, what):
    """Verify ``path`` and load it into ``model``; raise WeightsError naming ``what`` and any mismatching layer."""
    path = verify_file(path, sha256, what)
    expected, found = _expected_variables(model), _file_variables(path)
    for key, (layer_name, shapes) in expected.items():
        if key not in found:
            raise WeightsError(f"weights file {path} has no weights for layer {layer_name!r} of {what}: "
                               "it was saved from another architecture")
        if sorted(found[key]) != sorted(shapes):
            raise WeightsError(f"weights file {path} does not fit {what}: layer {layer_name!r} expects variable "
                               f"shapes {shapes}, the file has {found[key]} (another architecture or input size)")
    extra = sorted(set(found) - set(expected))
    if extra:
        raise WeightsError(f"weights file {path} has weights for layers {extra[:5]} that {what} does not have: "
                           "it was saved from another architecture")
    try:
        model.load_weights(path)
    except Exception as err:  # anything Keras still rejects is reported in the same terms
        raise WeightsError(f"cannot load weights file {path} into {what}: {err}") from None
    return model


def store_as_float16(path):
    """Rewrite a ``.weights.h5`` file with its float32 arrays stored as float16, atomically: half the size, and
    Keras casts them back to the model's float32 variables on loading (outputs move by ~0.01 Lab units)."""
    import numpy as np
    path = Path(path)

    def write(tmp):
        with h5py.File(path, "r") as src, h5py.File(tmp, "w") as dst:
            def copy(name, item):
                if isinstance(item, h5py.Group):
                    dst.require_group(name).attrs.update(item.attrs)
                else:
                    data = item[()]
                    dst.create_dataset(name, data=data.astype(np.float16) if data.dtype == np.float32 else data)
            dst.attrs.update(src.attrs)
            src.visititems(copy)
    return write_with(path, write, overwrite=True)


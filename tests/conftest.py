import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED_TFDS = REPO.parent / "shared" / "data" / "tfds"


def needs_shared_data():
    return pytest.mark.skipif(not (SHARED_TFDS / "tiny_imagenet_color").is_dir(),
                              reason=f"needs the prepared TFDS data in {SHARED_TFDS} (not on users' machines)")


@pytest.fixture(scope="session")
def photos():
    """Real colour photos bundled with scikit-image, uint8 (H, W, 3)."""
    import skimage.data
    return {name: getattr(skimage.data, name)()[..., :3] for name in ("astronaut", "coffee", "chelsea")}


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """A randomly initialised small model saved as .weights.h5, with its config and sha256."""
    from colorize.config import load_config
    from colorize.model.network import build_model
    from colorize.model.weights import sha256_of
    config = load_config(REPO / "configs" / "smoke.yaml")
    model = build_model(config)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.2, w.shape).astype("float32") if w.ndim > 1 else w
                       for w in model.get_weights()])
    path = tmp_path_factory.mktemp("weights") / "tiny.weights.h5"
    model.save_weights(path)
    return path, config, sha256_of(path)

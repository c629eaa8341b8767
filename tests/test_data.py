"""The data layer: sources (TFDS, folders, the bundled photos) and the training / validation streams."""
import hashlib
import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from colorize import data
from colorize.config import load_config
from conftest import REPO

SMOKE = REPO / "configs" / "smoke.yaml"


def smoke(*overrides):
    return load_config(SMOKE, list(overrides))


# -- the stream of TFDS and bundled-photo sources is pinned ------------------------------------------------------
def fake_tfds_examples(count=11):
    """Small PNG-encoded crops of scikit-image photos (one of them greyscale) with labels, as ``tfds.load`` with
    ``SkipDecoding`` gives them. PNG is lossless, so the pixels do not depend on the encoder's version."""
    import skimage.data
    rng = np.random.default_rng(7)
    photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea()]
    images, labels = [], []
    for i in range(count):
        photo = photos[i % 3]
        h, w = int(rng.integers(24, 60)), int(rng.integers(24, 60))
        top, left = int(rng.integers(photo.shape[0] - h)), int(rng.integers(photo.shape[1] - w))
        crop = photo[top:top + h, left:left + w, :3]
        if i == 4:
            crop = np.repeat(crop[..., :1], 3, axis=-1)  # greyscale: dropped by the stream
        buf = io.BytesIO()
        Image.fromarray(crop).save(buf, format="PNG")
        images.append(buf.getvalue())
        labels.append(i)
    return {"image": images, "label": np.array(labels, np.int64)}


def use_fake_tfds(monkeypatch):
    import tensorflow_datasets as tfds
    examples = fake_tfds_examples()
    monkeypatch.setattr(tfds, "load", lambda name, split, **kw: tf.data.Dataset.from_tensor_slices(examples))


def _digest(batch):
    parts = batch.values() if isinstance(batch, dict) else [batch]
    return hashlib.sha256(b"".join(np.ascontiguousarray(p.numpy()).tobytes() for p in parts)).hexdigest()[:16]


STREAMS = {  # name: (config overrides, start step, batches)
    "skimage": ([], 0, 3),
    "skimage_cached": (["data.cache=true", "train.batch_size=3"], 0, 4),
    "tfds_labels": (["data.source=tfds:fake", "model.classes=12", "train.batch_size=3"], 0, 4),
    "tfds_labels_resumed": (["data.source=tfds:fake", "model.classes=12", "train.batch_size=3"], 2, 2),
    "tfds_labels_cached": (["data.source=tfds:fake", "model.classes=12", "train.batch_size=3", "data.cache=true"],
                           0, 5),
    "tfds_centre": (["data.source=tfds:fake", "data.random_crop=false", "train.batch_size=2"], 0, 3),
}


def stream_digests():
    """Digests of the first batches of each pinned stream, and of two validation streams."""
    out = {}
    for name, (overrides, start, count) in STREAMS.items():
        out[name] = [_digest(b) for b in data.train_dataset(smoke(*overrides), start_step=start).take(count)]
    for name, overrides in (("val_skimage", []), ("val_tfds", ["data.source=tfds:fake", "data.val_limit=5"])):
        out[name] = [_digest(l) + _digest(ab) for l, ab in data.val_dataset(smoke(*overrides), batch_size=2)]
    return out


PINNED = {  # computed with colorize/data.py at commit 0bf6fb2 (python tests/test_data.py, that package first)
    'skimage': ['54aade8b12bda4a1', '1f3b9c6d5be26058', 'a11539f74f4eebb4'],
    'skimage_cached': ['e171127c41ab3fe0', '4c77611f44683e56', '210f205986eb366b', '2cc92f11b9bd491c'],
    'tfds_labels': ['2b8a20447fd426fb', '5b0dee4fbd1c1d3f', '64bfb859bf3d3322', 'fb082b8e8989cb33'],
    'tfds_labels_resumed': ['64bfb859bf3d3322', 'fb082b8e8989cb33'],
    'tfds_labels_cached': ['3802a285078b03ad', '9ca5493d48251894', 'abc7500e186c39bb', '9673293197880adb',
                           'e9c26e975ec45987'],
    'tfds_centre': ['cc676992a5424d24', '46b72bc0cce60c25', '3eff6681091574ae'],
    'val_skimage': ['a14a68c23ffc2f1d8ab6c5c45e2c8462', '285301562f217118b5a29a1355d3966f'],
    'val_tfds': ['377397673a603185ed82e126e015dfff', '196b668edc19f519d88f7c2933b138b3',
                 '35371321a4e0c26edcfead9cb5c58c63'],
}


def test_tfds_and_bundled_photo_streams_are_pinned(monkeypatch):
    """A run resumed from a checkpoint must see the same batches: the streams of TFDS sources (with and without
    labels, cached or not, resumed) and of the bundled photos, and the validation batches, are bit for bit those
    of the code that trained the current runs."""
    use_fake_tfds(monkeypatch)
    assert stream_digests() == PINNED


if __name__ == "__main__":  # prints the digests; run with an older colorize first on sys.path to pin them
    import json
    import tensorflow_datasets
    examples = fake_tfds_examples()
    tensorflow_datasets.load = lambda name, split, **kw: tf.data.Dataset.from_tensor_slices(examples)
    print(json.dumps(stream_digests(), indent=1))

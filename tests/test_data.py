"""The data layer: sources (TFDS, folders, the bundled photos) and the training / validation streams."""
import io
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO, SHARED_TFDS, needs_shared_data
from PIL import Image

from colorize import io as imageio
from colorize.config import load_config
from colorize.data import sources
from colorize.data import streams as data
from colorize.errors import ConfigError

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

    def load(name, split, **kw):  # honours the slices train_dataset asks for: "train[6:]"
        offset = int(split.split("[", 1)[1].split(":")[0]) if "[" in split else 0
        return tf.data.Dataset.from_tensor_slices(examples).skip(offset)
    monkeypatch.setattr(tfds, "load", load)


def _batches(overrides, start, count):
    stream = data.train_dataset(smoke(*overrides), start=start).take(count)
    return [{k: v.numpy() for k, v in b.items()} for b in stream]


def _assert_same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.keys() == w.keys()
        for key in w:
            np.testing.assert_array_equal(g[key], w[key], err_msg=key)


def test_a_stream_cached_or_resumed_anywhere_is_the_stream_itself(monkeypatch):
    """A run resumed from a checkpoint sees the batches it would have seen: started at the next position after
    any batch (inside an epoch, or in the next one), the stream continues with the batch that came next; cached,
    it is the uncached stream; built twice, it is the same (seeded)."""
    use_fake_tfds(monkeypatch)
    labels = ["data.source=tfds:fake", "model.classes=12", "train.batch_size=3"]
    whole = _batches(labels, 0, 5)  # 10 colour records an epoch: batch 4 is the next epoch's
    assert len({data.split_position(int(p))[0] for b in whole for p in b["position"]}) == 2
    for k in range(4):
        resumed = _batches(labels, int(whole[k]["position"].max()) + 1, 1)
        _assert_same(resumed, whole[k + 1:k + 2])
    _assert_same(_batches(labels + ["data.cache=true"], 0, 5), whole)
    _assert_same(_batches(labels, 0, 5), whole)
    photos = ["train.batch_size=3"]
    _assert_same(_batches(photos + ["data.cache=true"], 0, 4), _batches(photos, 0, 4))


def test_validation_is_the_centre_crops_of_the_first_colour_images_in_order(monkeypatch):
    """The validation batches: the first ``data.val_limit`` colour images of the split, in order, centre-cropped.
    Compared with a tolerance: Lab in float32 differs in the last bits between thread schedules (the digests of
    these batches, once pinned above, changed with the order the tests ran in)."""
    use_fake_tfds(monkeypatch)
    examples = fake_tfds_examples()["image"]
    colour = [im for im in (tf.io.decode_png(e, channels=3) for e in examples) if sources.is_colour(im)]
    expected = [data.to_training_pair(data.crop_and_resize(im, 32)) for im in colour[:5]]
    got = [pair for l, ab in data.val_dataset(smoke("data.source=tfds:fake", "data.val_limit=5"), batch_size=2)
           for pair in zip(l, ab)]
    assert len(got) == 5 and len(colour) == 10
    for (l, ab), (l_want, ab_want) in zip(got, expected):
        np.testing.assert_allclose(l, l_want, atol=1e-5)
        np.testing.assert_allclose(ab, ab_want, atol=1e-5)


# -- sources ------------------------------------------------------------------------------------------------------
def test_tfds_spec_parsing():
    assert sources.parse_tfds_spec("tfds:cifar10") == ("cifar10", "validation")
    assert sources.parse_tfds_spec("tfds:cifar10:test") == ("cifar10", "test")
    assert sources.parse_tfds_spec("tfds:cifar10:test[:10%]") == ("cifar10", "test[:10%]")
    assert sources.parse_tfds_spec("tfds:mnist:3.0.1:train") == ("mnist:3.0.1", "train")
    assert sources.parse_tfds_spec("tfds:mnist:3.0.1", default_split=None) == ("mnist:3.0.1", None)
    with pytest.raises(ConfigError, match="names no dataset"):
        sources.parse_tfds_spec("tfds:")


def test_a_training_source_with_a_split_is_refused(monkeypatch):
    use_fake_tfds(monkeypatch)
    with pytest.raises(ConfigError, match="data.train_split"):
        data.records(smoke("data.source=tfds:fake:train").data, "train")
    ds, _ = data.val_records(smoke("data.source=tfds:fake", "data.val_source=tfds:fake:test").data)
    assert int(ds.cardinality()) == 11  # a validation source may name its split


def test_evaluation_sets_skip_grey_and_unreadable_images_and_read_every_suffix(photos, tmp_path):
    images = [image[::6, ::6] for image in photos.values()]
    Image.fromarray(images[0]).save(tmp_path / "a.png")
    Image.fromarray(images[1]).save(tmp_path / "b.jpg", quality=95)
    Image.fromarray(images[2]).save(tmp_path / "c.tif")
    Image.fromarray(images[2][..., 0]).save(tmp_path / "grey.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    found = list(sources.iter_dataset(tmp_path))
    assert [name for name, _ in found] == ["a.png", "b.jpg", "c.tif"]
    assert found[0][1].dtype == np.uint8 and (found[0][1] == images[0]).all()
    assert (found[2][1] == images[2]).all()
    assert len(list(sources.iter_dataset(tmp_path, limit=1))) == 1
    assert len(list(sources.iter_dataset(tmp_path, colour_only=False))) == 4
    assert [name for name, _ in sources.iter_dataset("skimage")] == list(sources.SKIMAGE_PHOTOS)


def test_greyscale_test_is_shared_by_training_and_evaluation(photos, tmp_path):
    grey = np.full((8, 8, 3), 120, np.uint8)
    grey[3, 4] = (122, 120, 121)  # within 2/255: grey
    colour = grey.copy()
    colour[5, 1] = (120, 123, 120)  # one pixel 3/255 apart: colour
    assert data.is_colour is sources.is_colour
    assert not bool(sources.is_colour(grey)) and bool(sources.is_colour(colour))
    for name, image in (("grey", grey), ("colour", colour)):
        Image.fromarray(image).save(tmp_path / f"{name}.png")
    assert [name for name, _ in sources.iter_dataset(tmp_path)] == ["colour.png"]


def _photo_folder(folder, photos, count, size=48, grey=0, broken=0, suffix=".png"):
    """``count`` small colour crops of the test photos (and ``grey`` greyscale, ``broken`` corrupt files)."""
    folder.mkdir(parents=True, exist_ok=True)
    images = list(photos.values())
    for i in range(count):
        image = images[i % len(images)]
        crop = image[7 * i % 200:7 * i % 200 + size, 5 * i % 200:5 * i % 200 + size + 8]
        Image.fromarray(crop).save(folder / f"photo_{i:03d}{suffix}")
    for i in range(grey):
        Image.fromarray(images[0][:size, :size, 0]).save(folder / f"grey_{i}.png")
        Image.fromarray(np.repeat(images[1][:size, :size, :1], 3, -1)).save(folder / f"grey_rgb_{i}.jpg")
    for i in range(broken):
        (folder / f"broken_{i}.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    return folder


def test_folder_scan_counts_and_reports_greyscale_and_unreadable_files(photos, tmp_path, caplog):
    folder = _photo_folder(tmp_path / "photos", photos, 5, grey=1, broken=2)
    Image.fromarray(photos["coffee"][:40, :60]).save(folder / "scan.tiff")  # the suffixes predict reads, too
    (folder / ".hidden.jpg").write_bytes(b"")  # dot files are not images (macOS resource forks)
    scan = sources.scan_folder(folder, val_share=0.0)
    assert len(scan.train) == 6 and not scan.held_out
    assert len(scan.grey) == 2 and len(scan.unreadable) == 2
    assert [f.pil for f in scan.train] == [False] * 5 + [True]  # TensorFlow cannot decode TIFF: Pillow does
    assert "6 colour photos" in caplog.text and "skipped 2 greyscale and 2 unreadable" in caplog.text
    config = smoke(f"data.source={folder}", "data.val_share=0", "train.batch_size=6")
    batch = next(iter(data.train_dataset(config)))["rgb"]
    assert batch.shape == (6, 32, 32, 3) and float(tf.reduce_min(tf.reduce_max(batch, -1) - tf.reduce_min(batch, -1)))


def test_a_folder_of_greyscale_photos_fails_at_once(photos, tmp_path):
    folder = _photo_folder(tmp_path / "grey", photos, 0, grey=3, broken=1)
    with pytest.raises(ConfigError, match=r"no colour photos .*\(7 image file\(s\): 6 greyscale, 1 unreadable"):
        data.train_dataset(smoke(f"data.source={folder}"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no image files"):
        data.train_dataset(smoke(f"data.source={tmp_path / 'empty'}"))
    with pytest.raises(ConfigError, match="does not exist"):
        data.train_dataset(smoke(f"data.source={tmp_path / 'missing'}"))


def test_folder_validation_is_a_held_out_share_chosen_by_file_name(photos, tmp_path, caplog):
    caplog.set_level("INFO")
    folder = _photo_folder(tmp_path / "photos", photos, 40, size=24)
    config = smoke(f"data.source={folder}", "data.val_share=0.25", "data.val_limit=100")
    scan = sources.scan_folder(folder, 0.25)
    names = {Path(f.path).name for f in scan.held_out}
    assert names == {f"photo_{i:03d}.png" for i in range(40) if sources.hash_fraction(f"photo_{i:03d}.png") < 0.25}
    assert 3 <= len(names) <= 20 and not names & {Path(f.path).name for f in scan.train}
    train_ds, _ = data.records(config.data, config.data.train_split)
    val_ds, _ = data.val_records(config.data)
    assert int(train_ds.cardinality()) == 40 - len(names) and int(val_ds.cardinality()) == len(names)
    assert sum(int(l.shape[0]) for l, _ in data.val_dataset(config, batch_size=4)) == len(names)
    assert "held out of training by file-name hash (data.val_share=0.25)" in caplog.text
    # More photos leave the split of the others as it was
    _photo_folder(tmp_path / "photos", photos, 0, size=24)
    Image.fromarray(photos["chelsea"][:30, :30]).save(folder / "new.png")
    assert names <= {Path(f.path).name for f in sources.scan_folder(folder, 0.25).held_out} | {"new.png"}
    # A tiny folder still holds one photo out (never all); without a share, validation says it is the training set
    small = _photo_folder(tmp_path / "small", photos, 3)
    assert len(sources.scan_folder(small, 0.05).held_out) == 1
    single = _photo_folder(tmp_path / "single", photos, 1)
    assert not sources.scan_folder(single, 0.05).held_out
    caplog.clear()
    list(data.val_dataset(smoke(f"data.source={folder}", "data.val_share=0")))
    assert "the training photos themselves" in caplog.text
    assert any(r.levelname == "WARNING" for r in caplog.records)


def test_validation_from_its_own_folder(photos, tmp_path):
    train_folder = _photo_folder(tmp_path / "train", photos, 6)
    val_folder = _photo_folder(tmp_path / "val", photos, 2, size=30)
    config = smoke(f"data.source={train_folder}", f"data.val_source={val_folder}")
    assert int(data.records(config.data, "train")[0].cardinality()) == 6  # no share held out: the whole folder
    assert sum(int(l.shape[0]) for l, _ in data.val_dataset(config)) == 2
    assert data.describe_validation(config.data) == f"validation: data.val_source {val_folder}"
    with pytest.raises(ConfigError, match="data.val_share"):
        smoke("data.val_share=0.9")


# -- decoding folder images -----------------------------------------------------------------------------------------
def _record(path, orientation=1):
    return {"path": tf.constant(str(path)), "orientation": tf.constant(orientation), "pil": tf.constant(False)}


def test_large_jpegs_are_decoded_at_reduced_scale_to_what_the_crops_need(photos, tmp_path):
    big = np.asarray(Image.fromarray(photos["astronaut"]).resize((1024, 1024)))[:768]
    Image.fromarray(big).save(tmp_path / "big.jpg", quality=95)
    Image.fromarray(big).save(tmp_path / "big.png")
    reference = np.asarray(Image.fromarray(big).resize((171, 128), Image.Resampling.BOX), np.float32)
    for name in ("big.jpg", "big.png"):
        image = sources.decode_file(_record(tmp_path / name), 128).numpy()
        assert image.shape == (128, 171, 3) and image.dtype == np.uint8
        assert np.abs(image - reference).mean() < 3  # the same picture as Pillow's full decode and box filter
    full = data.decode(_record(tmp_path / "big.png"), True).numpy()
    assert (full == big).all()
    assert data.decode(_record(tmp_path / "big.jpg"), True, size=32).shape == (64, 85, 3)  # DECODE_SCALE = 2
    small = sources.decode_file(_record(tmp_path / "big.jpg"), 1024).numpy()
    assert small.shape == big.shape  # never enlarged


def test_exif_orientation_is_applied_as_pillow_does(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (4, 6, 3), np.uint8)
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = tmp_path / f"o{orientation}.png"
        Image.fromarray(pixels).save(path, exif=exif)
        (record,) = sources.scan_folder(tmp_path, 0.0).train[-1:]
        assert record.orientation == orientation
        expected = np.round(imageio.load_rgb(path) * 255).astype(np.uint8)
        decoded = sources.decode_file(sources.file_records([record]).get_single_element()).numpy()
        assert (decoded == expected).all(), orientation


def _resumes_anywhere(config, batches=4):
    """The first batches of a stream, and, for each, the stream started at the position after the batch before it
    gives it again, bit for bit."""
    first = list(data.train_dataset(config).take(batches))
    for k in range(1, batches):
        after = int(first[k - 1]["position"].numpy().max()) + 1
        resumed = next(iter(data.train_dataset(config, start=after)))
        assert np.array_equal(resumed["rgb"].numpy(), first[k]["rgb"].numpy()), k
        assert np.array_equal(resumed["position"].numpy(), first[k]["position"].numpy()), k
    return first


def test_folder_stream_is_reproducible_resumable_and_cached_at_training_size(photos, tmp_path):
    folder = _photo_folder(tmp_path / "photos", photos, 7, size=150, suffix=".jpg")
    for cache in ("false", "true"):
        config = smoke(f"data.source={folder}", f"data.cache={cache}", "train.batch_size=3", "data.val_share=0")
        first = _resumes_anywhere(config, 5)
        assert first[0]["rgb"].shape == (3, 32, 32, 3)
        again = list(data.train_dataset(config).take(5))
        assert all(np.array_equal(a["rgb"].numpy(), b["rgb"].numpy()) for a, b in zip(first, again))
    records, is_path = data.records(config.data, "train")
    cached = [data.decode(r, is_path, size=32) for r in records]
    assert all(min(image.shape[:2]) == 64 for image in cached)  # what the cache keeps: 2x the input, short side


def test_mosaics_tile_shrunken_photos_of_the_batch_in_the_share_asked_for():
    images = tf.random.stateless_uniform([40, 12, 12, 3], [1, 2])
    same = data.mosaic(images, 0.0, tf.constant([0, 0], tf.int64))
    np.testing.assert_array_equal(same.numpy(), images.numpy())
    half = data.mosaic(images, 0.5, tf.constant([0, 5], tf.int64)).numpy()
    np.testing.assert_array_equal(half, data.mosaic(images, 0.5, tf.constant([0, 5], tf.int64)).numpy())
    changed = [i for i in range(40) if not np.array_equal(half[i], images[i].numpy())]
    assert 8 <= len(changed) <= 32
    small2 = tf.image.resize(images, (6, 6), method="area").numpy()
    small3 = tf.image.resize(images, (4, 4), method="area").numpy()
    for i in changed:  # each a 2x2 of this photo and the next three, or a 3x3 of this one and the next eight
        if np.allclose(half[i, :6, :6], small2[i]):
            np.testing.assert_allclose(half[i, 6:, 6:], small2[(i + 3) % 40], atol=1e-6)
        else:
            np.testing.assert_allclose(half[i, :4, :4], small3[i], atol=1e-6)
            np.testing.assert_allclose(half[i, 8:, 4:8], small3[(i + 7) % 40], atol=1e-6)
    every = data.mosaic(images, 1.0, tf.constant([0, 5], tf.int64)).numpy()
    assert not any(np.array_equal(every[i], images[i].numpy()) for i in range(40))


def test_each_epoch_has_its_own_order_and_crops_and_every_colour_image_once(monkeypatch):
    use_fake_tfds(monkeypatch)  # 11 images, one of them greyscale
    for cache in ("false", "true"):
        config = smoke("data.source=tfds:fake", "model.classes=12", "train.batch_size=5", f"data.cache={cache}",
                       "data.shuffle_buffer=4")
        batches = _resumes_anywhere(config, 6)
        labels = np.concatenate([b["label"].numpy() for b in batches])
        epochs = np.concatenate([b["position"].numpy() for b in batches]) >> data.EPOCH_SHIFT
        first, second = labels[epochs == 0], labels[epochs == 1]
        assert sorted(first) == sorted(second) == [i for i in range(11) if i != 4]  # the grey one dropped
        assert list(first) != list(second)
        index = np.concatenate([b["position"].numpy() for b in batches]) & ((1 << data.EPOCH_SHIFT) - 1)
        assert (labels // 4 == index // 4).all()  # windows of 4 records: a record is shuffled within its window
        rgb = {}
        for b in batches:
            for label, image, _ in zip(b["label"].numpy(), b["rgb"].numpy(), b["position"].numpy()):
                rgb.setdefault(label, []).append(image)
        assert not np.array_equal(rgb[0][0], rgb[0][1])  # the same photo, cropped and flipped anew


def test_a_start_at_the_end_of_an_epoch_is_the_start_of_the_next(monkeypatch):
    use_fake_tfds(monkeypatch)  # 11 records: position (0, 11) is past the last one, as a checkpoint may store
    config = smoke("data.source=tfds:fake", "model.classes=12", "train.batch_size=2", "data.shuffle_buffer=11")
    at_end = next(iter(data.train_dataset(config, start=data.position(0, 11))))
    next_epoch = next(iter(data.train_dataset(config, start=data.position(1, 0))))
    assert np.array_equal(at_end["position"].numpy(), next_epoch["position"].numpy())
    assert np.array_equal(at_end["rgb"].numpy(), next_epoch["rgb"].numpy())


def test_a_file_broken_after_the_scan_drops_one_photo_and_keeps_the_order_cached_or_not(photos, tmp_path, caplog):
    """The cache keeps one element per record even when a file no longer decodes, so a cached stream is the
    uncached one and resumes anywhere in it."""
    import os
    folder = _photo_folder(tmp_path / "photos", photos, 8)
    streams = {}
    for cache in ("false", "true"):
        config = smoke(f"data.source={folder}", f"data.cache={cache}", "train.batch_size=3", "data.val_share=0",
                       "data.shuffle_buffer=3")
        if cache == "false":
            data.records(config.data, "train")  # scanned while whole
            victim = folder / "photo_002.png"
            stat = victim.stat()
            victim.write_bytes(b"\x89PNG" + b"\0" * (stat.st_size - 4))  # same size and time: the scan is reused
            os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        streams[cache] = _resumes_anywhere(config, 5)
    assert all(np.array_equal(a["rgb"].numpy(), b["rgb"].numpy()) for a, b in zip(*streams.values()))
    positions = np.concatenate([b["position"].numpy() for b in streams["true"]])
    assert len(set(positions.tolist())) == 15 and (positions >> data.EPOCH_SHIFT).max() == 2  # 7 photos a pass


@needs_shared_data()
def test_a_real_tfds_stream_resumes_on_the_records_it_would_have_read():
    """TFDS interleaves a split's files when it reads, and counts a slice in file order: training reads the
    files in turn, so that the slice a resume starts from holds the records the run would have read."""
    config = smoke("data.source=tfds:tiny_imagenet_color", f"data.data_dir={SHARED_TFDS}",
                   "data.train_split=validation", "train.batch_size=4", "data.shuffle_buffer=8")
    first = list(data.train_dataset(config).take(12))
    for k in (4, 5, 11):
        after = int(first[k - 1]["position"].numpy().max()) + 1
        resumed = next(iter(data.train_dataset(config, start=after)))
        assert np.array_equal(resumed["rgb"].numpy(), first[k]["rgb"].numpy()), k


def test_an_input_pipeline_reads_only_its_share_of_the_records(monkeypatch):
    use_fake_tfds(monkeypatch)
    config = smoke("data.source=tfds:fake", "model.classes=12", "train.batch_size=4", "data.shuffle_buffer=3")
    seen = []
    for pipeline in (0, 1):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline,
                                             num_replicas_in_sync=2)
        batches = list(data.train_dataset(config, input_context=context).take(4))
        assert batches[0]["rgb"].shape[0] == 2  # the per-replica batch
        positions = np.concatenate([b["position"].numpy() for b in batches])
        labels = np.concatenate([b["label"].numpy() for b in batches])
        seen.append(set(labels[(positions >> data.EPOCH_SHIFT) == 0].tolist()))
    assert seen[0] | seen[1] == {i for i in range(11) if i != 4} and not seen[0] & seen[1]


def test_the_validation_images_of_a_config_are_its_own_held_out_photos(tmp_path):
    """scripts/ship_preset.py measured every config on 'tfds:' + source[5:]: a folder source became nonsense."""
    for i in range(6):
        Image.fromarray(np.full((20, 30, 3), (40 * i, 200 - 30 * i, 90), np.uint8)).save(tmp_path / f"p{i}.png")
    config = smoke(f"data.source={tmp_path}", "data.val_share=0.3")
    held_out = {Path(r.path).name for r in sources.scan_folder(str(tmp_path), 0.3).held_out}
    got = dict(sources.iter_validation(config.data))
    assert set(got) == held_out and 0 < len(got) < 6
    assert all(im.shape == (20, 30, 3) for im in got.values())
    assert [name for name, _ in sources.iter_validation(smoke("data.source=skimage").data, limit=2)] == \
        [name for name, _ in sources.iter_dataset("skimage", limit=2)]

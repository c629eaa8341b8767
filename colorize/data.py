"""Training and validation input pipelines: encoded images -> (scaled L, scaled ab) batches, all in tf.data.

Sources: ``tfds:NAME`` (any TensorFlow Datasets dataset with an ``image`` feature), a folder of images
(searched recursively), or ``skimage`` (the photos bundled with scikit-image, for the smoke config).
The training stream is one seeded, endless sequence, so a resumed run can skip to the exact element it stopped at.
"""
import functools
import io
import logging
from pathlib import Path

import numpy as np
import tensorflow as tf

from . import color
from .errors import ConfigError

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
GREY_TOLERANCE = 2.0 / 255.0


def _tfds_records(name, split, data_dir, with_labels=False):
    import tensorflow_datasets as tfds
    try:
        ds = tfds.load(name, split=split, data_dir=data_dir, decoders={"image": tfds.decode.SkipDecoding()},
                       download=data_dir is None)
    except Exception as err:  # tfds raises many types; the user needs the name, split and folder
        raise ConfigError(f"cannot load TFDS dataset {name!r} split {split!r} from data_dir={data_dir!r}: {err}") \
            from None
    if with_labels:
        if "label" not in ds.element_spec:
            raise ConfigError(f"model.classes needs labels, and TFDS dataset {name!r} has no 'label' feature")
        return ds.map(lambda ex: (ex["image"], ex["label"]), num_parallel_calls=tf.data.AUTOTUNE,
                      deterministic=True)
    return ds.map(lambda ex: ex["image"], num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def scan_folder(folder):
    """Image files under ``folder`` that PIL can open, sorted; unreadable ones are logged and counted."""
    from PIL import Image
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    good, bad = [], 0
    for path in files:
        try:
            with Image.open(path) as im:
                im.verify()
            good.append(str(path))
        except Exception as err:  # PIL raises OSError, SyntaxError, ValueError... for corrupt files
            bad += 1
            log.warning("skipping unreadable image %s: %s", path, err)
    if bad:
        log.warning("skipped %d unreadable image(s) of %d in %s", bad, len(files), folder)
    return good, bad


def _decode_file_with_pil(path):
    from .imageio import load_rgb
    try:
        return (load_rgb(path.decode()) * 255.0 + 0.5).astype(np.uint8)
    except Exception as err:
        log.warning("skipping %s: %s", path.decode(), err)
        return np.zeros((0, 0, 3), np.uint8)


def _folder_records(folder):
    files, _ = scan_folder(folder)
    if not files:
        raise ConfigError(f"data.source folder {folder} holds no readable .jpg/.png/.webp/.bmp images")
    return tf.data.Dataset.from_tensor_slices(files), True


def _skimage_records():
    import skimage.data
    from PIL import Image
    encoded = []
    for name in SKIMAGE_PHOTOS:
        buf = io.BytesIO()
        Image.fromarray(getattr(skimage.data, name)()[..., :3]).save(buf, format="PNG")
        encoded.append(buf.getvalue())
    return tf.data.Dataset.from_tensor_slices(encoded)


def has_labels(data_config):
    """Whether the source carries class labels (TFDS datasets do; folders and the bundled photos do not)."""
    return data_config.source.startswith("tfds:")


def records(data_config, split, with_labels=False):
    """Dataset of encoded images (or file paths, for folders) and whether elements are paths. With
    ``with_labels`` (TFDS sources only), elements are (image, label) pairs."""
    source = data_config.source
    if source.startswith("tfds:"):
        return _tfds_records(source[5:], split, data_config.data_dir, with_labels), False
    if source == "skimage":
        return _skimage_records(), False
    if Path(source).is_dir():
        return _folder_records(source)
    raise ConfigError(f"data.source {source!r} is neither tfds:NAME, 'skimage', nor an existing folder")


def decode(element, is_path):
    """Encoded bytes (or a path) -> uint8 (H, W, 3); an unreadable file gives a 0x0 image, filtered later."""
    if is_path:
        image = tf.numpy_function(_decode_file_with_pil, [element], tf.uint8, stateful=False)
        return tf.ensure_shape(image, [None, None, 3])
    return tf.io.decode_image(element, channels=3, expand_animations=False)


def is_colour(image):
    """False for empty images and for greyscale ones (all channels within 2/255 everywhere). uint8 (H, W, 3):
    max - min over the channels cannot wrap, and the max of an empty uint8 tensor is 0, so empty means grey."""
    image = tf.convert_to_tensor(image, tf.uint8)
    spread = tf.reduce_max(image, axis=-1) - tf.reduce_min(image, axis=-1)
    return tf.reduce_max(spread) > int(GREY_TOLERANCE * 255)


def to_training_pair(rgb):
    """float RGB (..., 3) in [0, 1] -> (scaled L (..., 1), scaled ab (..., 2))."""
    lab = color.rgb_to_lab(rgb)
    return color.scale_l(lab[..., :1]), color.scale_ab(lab[..., 1:])


def crop_and_resize(image, size, seed=None, random_crop=True):
    """uint8 (H, W, 3) -> float (size, size, 3) in [0, 1]. With a seed: random flip and, if ``random_crop``, a
    random square crop (80-100% of the short side), reproducible from the seed; otherwise a centre square crop.
    Few ops on purpose: for small images tf.data's cost is per op, not per pixel."""
    shape = tf.shape(image)
    short = tf.minimum(shape[0], shape[1])
    if seed is None or not random_crop:
        side, top, left = short, (shape[0] - short) // 2, (shape[1] - short) // 2
    if seed is not None:
        frac, u_top, u_left, u_flip = tf.unstack(tf.random.stateless_uniform([4], seed))
    if seed is not None and random_crop:
        side = tf.maximum(1, tf.cast(tf.cast(short, tf.float32) * (0.8 + 0.2 * frac), tf.int32))
        top = tf.cast(u_top * tf.cast(shape[0] - side + 1, tf.float32), tf.int32)
        left = tf.cast(u_left * tf.cast(shape[1] - side + 1, tf.float32), tf.int32)
    image = tf.image.resize(image[top:top + side, left:left + side], (size, size), method="area") / 255.0
    if seed is not None:  # the flip as a gather of reordered columns: 3x cheaper in tf.data than a select
        columns = tf.range(size)
        image = tf.gather(image, tf.where(u_flip < 0.5, size - 1 - columns, columns), axis=1)
    return tf.clip_by_value(image, 0.0, 1.0)


def _decode_checked(element, is_path, then=lambda image: image):
    """-> (is_colour, then(image)); an empty or greyscale image is swapped for a 1x1 stand-in, filtered later."""
    image = decode(element, is_path)
    colour = is_colour(image)
    return colour, then(tf.cond(colour, lambda: image, lambda: tf.zeros([1, 1, 3], tf.uint8)))


def _is_kept(colour, image, label):
    return colour


def _image_only(colour, image, label):
    return image, label


def with_labels(config):
    """Whether training on ``config`` uses class labels: the model has a class head and the data has labels."""
    return bool(config.model.classes) and has_labels(config.data)


def _seeded_crop(index, image, size, seed, random_crop):
    """The crop and flip of the stream's ``index``-th image, seeded by the position, so a resume repeats them."""
    return crop_and_resize(image, size, tf.stack([tf.cast(seed, tf.int64), index]), random_crop)


def _options():
    options = tf.data.Options()
    options.deterministic = True  # the seeded order is what lets a resumed run skip to its exact position
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


def train_dataset(config, start_step=0, records_ds=None):
    """The endless, seeded training stream of global batches of float RGB (B, size, size, 3) in [0, 1],
    positioned at ``start_step``. The Lab conversion is left to the training step (``to_training_pair``), on the
    accelerator: it is the costliest per-pixel work, and the input pipeline's host CPU is the usual bottleneck."""
    size, batch, seed = config.model.input_size, config.train.batch_size, config.train.seed
    labels = with_labels(config)
    ds, is_path = records_ds if records_ds is not None else records(config.data, config.data.train_split, labels)
    crop = functools.partial(_seeded_crop, size=size, seed=seed, random_crop=config.data.random_crop)
    if not labels:  # the same code below, with a dummy label that is dropped at the end
        ds = ds.map(lambda x: (x, tf.constant(-1, tf.int64)))
    if config.data.cache:
        # Decode and drop greyscale images once; later epochs read decoded pixels from memory.
        ds = ds.map(lambda x, y: _decode_checked(x, is_path) + (y,), num_parallel_calls=tf.data.AUTOTUNE,
                    deterministic=True)
        ds = ds.filter(_is_kept).map(_image_only).cache()
        ds = ds.shuffle(config.data.shuffle_buffer, seed=seed, reshuffle_each_iteration=True).repeat().enumerate()
        ds = ds.map(lambda i, xy: (crop(i, xy[0]), xy[1]), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.shuffle(config.data.shuffle_buffer, seed=seed, reshuffle_each_iteration=True).repeat().enumerate()
        # One map per image (decode, colour test, crop, flip), then drop the greyscale ones.
        ds = ds.map(lambda i, xy: _decode_checked(xy[0], is_path, lambda image: crop(i, image)) + (xy[1],),
                    num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.filter(_is_kept).map(_image_only)
    ds = ds.map(lambda image, label: {"rgb": image, "label": label}) if labels else ds.map(lambda image, _: image)
    ds = ds.skip(start_step * batch).batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    return ds.with_options(_options())


def val_dataset(config, batch_size=None):
    """Centre-cropped validation pairs (first ``data.val_limit`` colour images of the validation split)."""
    ds, is_path = records(config.data, config.data.val_split)
    ds = ds.map(lambda x: decode(x, is_path), num_parallel_calls=tf.data.AUTOTUNE).filter(is_colour)
    if config.data.val_limit:
        ds = ds.take(config.data.val_limit)
    ds = ds.map(lambda image: to_training_pair(crop_and_resize(image, config.model.input_size)),
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size or config.train.batch_size).prefetch(tf.data.AUTOTUNE).with_options(_options())

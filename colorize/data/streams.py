"""Training and validation input pipelines: images from a source (``colorize.data.sources``) -> batches of float RGB in
[0, 1], all in tf.data; the sRGB -> Lab conversion (``to_training_pair``) is left to the training step.

The training stream is a seeded order of the records, epoch after epoch, and every image in it carries its stream
position: a checkpoint stores where training stood, and a resumed run starts there by skipping records, not
decoded images.
A folder source is scanned once (greyscale and unreadable files dropped and counted, a share held out for
validation); its images are decoded straight to twice the network input, and cached at that size.
"""
import functools
import io
import logging
import re

import tensorflow as tf

from colorize import color
from colorize.data import sources
from colorize.data.sources import is_colour  # noqa: F401  (the stream's grey test; part of this module's API)
from colorize.errors import ConfigError

log = logging.getLogger(__name__)
# Folder images are decoded to this many times the network input (short side): the crop takes 80-100% of the
# short side and area-resizes it to the input, so more pixels would only cost decoding time and cache memory.
DECODE_SCALE = 2


def _tfds_records(name, split, data_dir, with_labels=False, file_order=False):
    ds = sources.load_tfds(name, split, data_dir, file_order)
    if with_labels:
        if "label" not in ds.element_spec:
            raise ConfigError(f"model.classes needs labels, and TFDS dataset {name!r} has no 'label' feature")
        return ds.map(lambda ex: (ex["image"], ex["label"]), num_parallel_calls=tf.data.AUTOTUNE,
                      deterministic=True)
    return ds.map(lambda ex: ex["image"], num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _skimage_records():
    from PIL import Image
    encoded = []
    for _, photo in sources.skimage_photos():
        buf = io.BytesIO()
        Image.fromarray(photo).save(buf, format="PNG")
        encoded.append(buf.getvalue())
    return tf.data.Dataset.from_tensor_slices(encoded)


def _source_records(spec, split, data_config, with_labels=False, what="data.source", offset=0, training=False):
    kind = sources.kind_of(spec)
    if kind == "tfds":
        name, spec_split = sources.parse_tfds_spec(spec, default_split=None)
        if spec_split and what == "data.source":
            raise ConfigError(f"{what} {spec!r} names a split; write tfds:{name} and set data.train_split and "
                              "data.val_split")
        split = spec_split or split
        if offset and re.fullmatch(r"[\w-]+", split):  # a slice skips whole files, without reading them
            split = f"{split}[{offset}:]"
        elif offset:
            return _tfds_records(name, split, data_config.data_dir, with_labels, training).skip(offset), False
        return _tfds_records(name, split, data_config.data_dir, with_labels, training), False
    if kind == "skimage":
        return _skimage_records().skip(offset), False
    share = data_config.val_share if what == "data.source" and not data_config.val_source else 0.0
    return sources.file_records(sources.scan_folder(spec, share, what).train).skip(offset), True


def count_records(config):
    """Records in the training split (a folder's: its colour photos not held out)."""
    ds, _ = records(config.data, config.data.train_split)
    n = int(ds.cardinality())
    return n if n >= 0 else int(ds.reduce(0, lambda c, _: c + 1))


def has_labels(data_config):
    """Whether the source carries class labels (TFDS datasets do; folders and the bundled photos do not)."""
    return sources.kind_of(data_config.source) == "tfds"


def records(data_config, split, with_labels=False, offset=0, training=False):
    """Dataset of encoded images (or, for folders, file records) and whether elements are file records. With
    ``with_labels`` (TFDS sources only), elements are (image, label) pairs. A folder has no splits: this gives
    its training files whatever ``split`` says, and ``val_records`` the files it holds out. ``offset`` starts at
    that record; ``training`` reads a TFDS split's files in turn (the order a slice counts in)."""
    return _source_records(data_config.source, split, data_config, with_labels, offset=offset, training=training)


def val_records(data_config):
    """The validation images, as ``records``: ``data.val_source`` when set (a TFDS spec without a split reads
    ``data.val_split``; a folder is read whole), else a folder source's held-out files, else ``data.val_split``."""
    if data_config.val_source:
        return _source_records(data_config.val_source, data_config.val_split, data_config, what="data.val_source")
    if sources.kind_of(data_config.source) == "folder":
        scan = sources.scan_folder(data_config.source, data_config.val_share)
        return sources.file_records(scan.held_out or scan.train), True
    return records(data_config, data_config.val_split)


def describe_validation(data_config):
    """One line saying where the validation images come from (a folder's held-out share, another source...)."""
    return _validation(data_config)[0]


def _validation(data_config):
    if data_config.val_source:
        return f"validation: data.val_source {data_config.val_source}", logging.INFO
    if sources.kind_of(data_config.source) != "folder":
        return f"validation: split {data_config.val_split!r} of {data_config.source}", logging.INFO
    scan = sources.scan_folder(data_config.source, data_config.val_share)
    if scan.held_out:
        return (f"validation: {len(scan.held_out)} of the {len(scan.held_out) + len(scan.train)} colour photos in "
                f"{data_config.source}, held out of training by file-name hash (data.val_share="
                f"{data_config.val_share:g})"), logging.INFO
    return (f"validation: the training photos themselves ({len(scan.train)} in {data_config.source}; too few to "
            "hold any out, or data.val_share is 0): set data.val_source or data.val_share for a held-out figure"), \
        logging.WARNING


def decode(element, is_path, size=None):
    """Encoded bytes (or a folder's file record) -> uint8 (H, W, 3). A file is decoded to a short side of
    ``DECODE_SCALE * size`` (full size without ``size``); an unreadable one gives a 0x0 image, filtered later."""
    if is_path:
        return sources.decode_file(element, None if size is None else DECODE_SCALE * size)
    return tf.io.decode_image(element, channels=3, expand_animations=False)


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
    if seed is not None:  # the flip as a gather of reordered columns: cheaper in tf.data than a select
        columns = tf.range(size)
        image = tf.gather(image, tf.where(u_flip < 0.5, size - 1 - columns, columns), axis=1)
    return tf.clip_by_value(image, 0.0, 1.0)


def mosaic(images, share, seed):
    """A batch of float (B, S, S, 3) with about ``share`` of its images replaced, half by 2x2 and half by 3x3
    mosaics of shrunken images of the same batch (the image itself and the next ones, cyclically): scenes of many
    small things with edges between them, what a large photo looks like to the network once shrunk to its input.
    Stateless: the same ``seed`` (2,) gives the same batch."""
    size = images.shape[1]
    count = tf.shape(images)[0]
    result, draw = images, tf.random.stateless_uniform(tf.reshape(count, [1]), seed)
    for grid, low, high in ((2, 0.0, share / 2), (3, share / 2, share)):
        tile = -(-size // grid)  # ceil: a 3x3 mosaic of 64 is three 22-pixel tiles, cropped to 64
        small = tf.image.resize(images, (tile, tile), method="area")
        rows = [tf.concat([tf.roll(small, -(r * grid + c), axis=0) for c in range(grid)], axis=2)
                for r in range(grid)]
        tiled = tf.concat(rows, axis=1)[:, :size, :size]
        chosen = (draw >= low) & (draw < high)
        result = tf.where(chosen[:, None, None, None], tiled, result)
    return result


def _decode_checked(element, is_path, size, then=lambda image: image):
    """-> (is_colour, then(image)); an empty or greyscale image is swapped for a 1x1 stand-in, filtered later."""
    image = decode(element, is_path, size)
    colour = is_colour(image)
    return colour, then(tf.cond(colour, lambda: image, lambda: tf.zeros([1, 1, 3], tf.uint8)))


def with_labels(config):
    """Whether training on ``config`` uses class labels: the model has a class head and the data has labels."""
    return bool(config.model.classes) and has_labels(config.data)


def _seeded_crop(position, image, size, seed, random_crop):
    """The crop and flip of the image at stream ``position``, seeded by it, so a resume repeats them."""
    return crop_and_resize(image, size, tf.stack([tf.cast(seed, tf.int64), position]), random_crop)


# A stream position is (epoch << EPOCH_SHIFT) | the element's index in that epoch's order: one int64 that says
# which record comes next, whatever the batch size, the greyscale images dropped or the steps taken.
EPOCH_SHIFT = 32


def position(epoch, index):
    return (int(epoch) << EPOCH_SHIFT) | int(index)


def split_position(value):
    """A stream position -> (epoch, index in the epoch's order)."""
    return int(value) >> EPOCH_SHIFT, int(value) & ((1 << EPOCH_SHIFT) - 1)


def _epoch_order(source, epoch, seed, window, first_run=0, start=0):
    """One epoch of ``source`` (elements of scalars), each element with its stream position: every run of
    ``window`` consecutive records comes in an order seeded by (seed, epoch, run). The order depends only on these
    and on the source's length, never on what the elements hold (so an epoch of the records and of their cached
    decodes come in the same order). ``source`` begins at run ``first_run``; the epoch starts at its ``start``-th
    element (of the whole epoch's order), so what is skipped is read, never decoded."""
    epoch = tf.cast(epoch, tf.int64)
    runs = tf.data.Dataset.zip(tf.data.Dataset.range(first_run, 2 ** 62), source.batch(window))

    def permute(run, elements):
        count = tf.shape(tf.nest.flatten(elements)[0])[0]
        # keys below zero: never the key of a crop, whose second word is a stream position
        key = tf.stack([tf.cast(seed, tf.int64), -1 - (tf.bitwise.left_shift(epoch, EPOCH_SHIFT) + run)])
        order = tf.argsort(tf.random.stateless_uniform([count], key))
        positions = tf.bitwise.left_shift(epoch, EPOCH_SHIFT) + run * window + tf.range(count, dtype=tf.int64)
        return tf.data.Dataset.from_tensor_slices((positions, order)).map(  # one element at a time: no copy of
            lambda p, i: (p, tf.nest.map_structure(lambda t: tf.gather(t, i), elements)))  # the whole run
    return runs.flat_map(permute).skip(start - first_run * window)


def _epochs(source, first, seed, window):
    """Every epoch of ``source`` from epoch ``first`` on, endlessly."""
    return tf.data.Dataset.range(first, 2 ** 31).flat_map(lambda epoch: _epoch_order(source, epoch, seed, window))


def _options():
    options = tf.data.Options()
    options.deterministic = True  # the seeded order is what lets a resumed run start at its exact position
    # Folder and in-memory sources are sharded by hand (``input_context``); auto-sharding by data would make every
    # worker decode every image and keep a share.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return options


def _one_per_record(ds, decode, is_path):
    """``ds.map(decode)``, where a file that fails to decode (changed since the folder scan) gives a stand-in that
    is dropped later, so that the cache still holds one element per record and its epochs keep their order."""
    if not is_path:
        return ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def one(x, y):
        stand_in = (tf.constant(False), tf.io.serialize_tensor(tf.zeros([1, 1, 3], tf.uint8)), y)
        decoded = tf.data.Dataset.from_tensors((x, y)).map(decode).ignore_errors(log_warning=True)
        return decoded.concatenate(tf.data.Dataset.from_tensors(stand_in)).take(1)
    return ds.interleave(one, cycle_length=tf.data.AUTOTUNE, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _skip_errors(ds, is_path):
    """A file that passed the folder scan and still fails to decode (changed since) is dropped, not fatal."""
    return ds.ignore_errors(log_warning=True) if is_path else ds


def train_dataset(config, start=0, input_context=None):
    """The endless, seeded training stream, starting at stream ``start`` (a ``position``; the stream's own
    ``"position"`` entries say where each image was, so a checkpoint can store where training stood). Batches
    are dicts: ``"rgb"`` float (B, size, size, 3) in [0, 1], ``"position"`` (B,) int64 and, when the model has a
    class head and the source has labels, ``"label"`` (B,) int64. The Lab conversion is left to the training step
    (``colorize.training.batches``), on the accelerator: it is the costliest per-pixel work, and the input
    pipeline's host CPU is the usual bottleneck.

    Each epoch is the records in an order seeded by (``train.seed``, epoch): every ``data.shuffle_buffer``
    consecutive records shuffled, by stateless ops. Starting anywhere skips the runs before ``start`` unread
    (a TFDS slice, an offset in a list of files) and reads at most one run without decoding it (with
    ``data.cache``, the rest of that epoch is decoded as it is read and the cache fills in the next one). With a
    ``tf.distribute.InputContext``, batches are per replica, each input pipeline (one per worker) keeps only its
    share of the records (before decoding), and ``start`` is that pipeline's position."""
    size, seed, window = config.model.input_size, config.train.seed, config.data.shuffle_buffer
    batch = input_context.get_per_replica_batch_size(config.train.batch_size) if input_context else \
        config.train.batch_size
    labels = with_labels(config)
    pipelines = input_context.num_input_pipelines if input_context else 1
    if input_context and pipelines > 1:
        seed += input_context.input_pipeline_id << 32  # the shards' orders and crops are their own draws
    crop = functools.partial(_seeded_crop, size=size, seed=seed, random_crop=config.data.random_crop)
    first_epoch, first_index = split_position(start)
    first_run = first_index // window

    def source(run=0):  # the records (this pipeline's share), from the start of a run of the order
        ds, is_path = records(config.data, config.data.train_split, labels, run * window * pipelines, training=True)
        if not labels:  # the same code below, with a dummy label that is dropped at the end
            ds = ds.map(lambda x: (x, tf.constant(-1, tf.int64)))
        return (ds.shard(pipelines, input_context.input_pipeline_id) if pipelines > 1 else ds), is_path

    def decode(ordered):  # decoding comes after the order, and after skipping what was trained on
        decoded = ordered.map(lambda p, xy: _decode_checked(xy[0], is_path, size, lambda image: crop(p, image))
                              + (xy[1], p), num_parallel_calls=tf.data.AUTOTUNE)
        return _skip_errors(decoded, is_path)

    ds, is_path = source()
    if 0 < int(ds.cardinality()) <= first_index:  # the very end of an epoch: the start of the next one
        first_epoch, first_index, first_run = first_epoch + 1, 0, 0
    resumed = _epoch_order(source(first_run)[0], first_epoch, seed, window, first_run, first_index) \
        if first_index else None
    if config.data.cache:
        # Decoded once (greyscale images as 1x1 stand-ins, so the cache holds every record and its epochs come in
        # the records' order), kept as bytes, then every epoch reads the cache: only the seeded crop is computed
        # again. A run resumed inside an epoch decodes the rest of it as it goes and fills the cache in the next.
        cached = _one_per_record(ds, lambda x, y: _decode_checked(x, is_path, size, tf.io.serialize_tensor) + (y,),
                                 is_path).cache()

        def uncached(p, cxy):
            return cxy[0], crop(p, tf.ensure_shape(tf.io.parse_tensor(cxy[1], tf.uint8), [None, None, 3])), cxy[2], p
        stream = _epochs(cached, first_epoch + bool(first_index), seed, window).map(
            uncached, num_parallel_calls=tf.data.AUTOTUNE)
        stream = decode(resumed).concatenate(stream) if resumed is not None else stream
    else:
        stream = _epochs(ds, first_epoch + bool(first_index), seed, window)
        stream = decode(resumed.concatenate(stream) if resumed is not None else stream)
    stream = stream.filter(lambda colour, image, label, p: colour)
    stream = stream.map(lambda colour, image, label, p: {"rgb": image, "label": label, "position": p} if labels
                        else {"rgb": image, "position": p})
    stream = stream.batch(batch, drop_remainder=True)
    if config.data.mosaic:  # seeded by the batch's last stream position: a resumed run makes the same mosaics
        stream = stream.map(lambda b: {**b, "rgb": mosaic(b["rgb"], config.data.mosaic, tf.stack(
            [tf.cast(seed, tf.int64) + (1 << 40), tf.reduce_max(b["position"])]))}, num_parallel_calls=tf.data.AUTOTUNE)
    return stream.prefetch(tf.data.AUTOTUNE).with_options(_options())


def val_dataset(config, batch_size=None):
    """Centre-cropped validation pairs (first ``data.val_limit`` colour images of ``val_records``)."""
    ds, is_path = val_records(config.data)
    text, level = _validation(config.data)
    log.log(level, "%s", text)
    size = config.model.input_size
    ds = ds.map(lambda x: decode(x, is_path, size), num_parallel_calls=tf.data.AUTOTUNE)
    ds = _skip_errors(ds, is_path).filter(is_colour)
    if config.data.val_limit:
        ds = ds.take(config.data.val_limit)
    ds = ds.map(lambda image: to_training_pair(crop_and_resize(image, config.model.input_size)),
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size or config.train.batch_size).prefetch(tf.data.AUTOTUNE).with_options(_options())

"""Where images come from, for training and for evaluation: source specs, the TFDS loader, the folder scan, the
photos bundled with scikit-image, and the grey test.

A source is ``tfds:NAME[:VERSION][:SPLIT]`` (any TensorFlow Datasets dataset with an ``image`` feature), a folder
of images (searched recursively, with the suffixes ``colorize.io.scan`` finds), or ``skimage`` (the colour photos
bundled with scikit-image). Training (``colorize.data``) and evaluation read sources through this module only, so
they agree on what an image file is, what counts as greyscale and how a TFDS split is named.
"""
import dataclasses
import functools
import hashlib
import logging
import os
import re
from pathlib import Path

import numpy as np
import tensorflow as tf

from colorize import io as imageio
from colorize.errors import ConfigError, InputError

log = logging.getLogger(__name__)

GREY_TOLERANCE = 2.0 / 255.0  # channels within 2/255 everywhere: greyscale (JPEG chroma noise included)
# The real colour photographs bundled with scikit-image (its other colour images are microscopy, astronomy or
# synthetic). None is in the training data of the shipped preset (Tiny ImageNet).
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
SCAN_SIDE = 64  # the folder scan's grey test looks at each image decoded to about this short side
_PIL_ONLY = frozenset({".tif", ".tiff"})  # suffixes TensorFlow's decoders do not read: Pillow decodes them


def kind_of(spec):
    """``"tfds"``, ``"skimage"`` or ``"folder"`` (anything else is taken for a path)."""
    spec = str(spec)
    return "tfds" if spec.startswith("tfds:") else "skimage" if spec == "skimage" else "folder"


def parse_tfds_spec(spec, default_split="validation"):
    """``tfds:NAME[:VERSION][:SPLIT]`` -> (``NAME[:VERSION]``, SPLIT or ``default_split``)."""
    parts = str(spec)[len("tfds:"):].split(":", 2)
    if not parts[0]:
        raise ConfigError(f"{spec!r} names no dataset; write tfds:NAME[:SPLIT], e.g. tfds:tiny_imagenet_color")
    name, rest = parts[0], parts[1:]
    if rest and re.fullmatch(r"\d+(\.[\d*]+)*", rest[0]):  # tfds:mnist:3.0.1[:split]
        name, rest = f"{name}:{rest[0]}", rest[1:]
    return name, ":".join(rest) or default_split


def load_tfds(name, split, data_dir=None, file_order=False):
    """A TFDS split as a dataset of example dicts, the ``image`` feature still encoded. ``data_dir`` defaults
    to ``$COLORIZE_TFDS_DIR``; with neither, TFDS downloads and prepares the dataset in its own folder.
    ``file_order`` reads the split's files one after the other, so that ``split[k:]`` is the split without its
    first k records (TFDS otherwise interleaves its files, and a slice counts in file order)."""
    import tensorflow_datasets as tfds
    data_dir = data_dir or os.environ.get("COLORIZE_TFDS_DIR") or None
    read_config = tfds.ReadConfig(interleave_cycle_length=1) if file_order else None
    try:
        ds = tfds.load(name, split=split, data_dir=data_dir, decoders={"image": tfds.decode.SkipDecoding()},
                       download=data_dir is None, read_config=read_config)
    except Exception as err:  # tfds raises many types; the user needs the name, split and folder
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]  # TFDS appends hundreds of dataset names
        raise ConfigError(f"cannot load TFDS dataset {name!r} split {split!r} from data_dir={data_dir!r}: {first}") \
            from None
    if "image" not in ds.element_spec:
        raise ConfigError(f"TFDS dataset {name!r} has no 'image' feature")
    return ds


def skimage_photos(names=SKIMAGE_PHOTOS):
    """``[(name, uint8 RGB)]`` for the scikit-image photos, at their full resolution."""
    import skimage.data
    return [(name, getattr(skimage.data, name)()[..., :3]) for name in names]


def is_colour(image):
    """False for empty images and for greyscale ones (all channels within 2/255 everywhere). uint8 (H, W, 3):
    max - min over the channels cannot wrap, and the max of an empty uint8 tensor is 0, so empty means grey."""
    image = tf.convert_to_tensor(image, tf.uint8)
    spread = tf.reduce_max(image, axis=-1) - tf.reduce_min(image, axis=-1)
    return tf.reduce_max(spread) > int(GREY_TOLERANCE * 255)


# -- folders -----------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ImageFile:
    path: str
    orientation: int = 1  # EXIF orientation (1-8), applied after a TensorFlow decode
    pil: bool = False     # decoded by Pillow (a format TensorFlow cannot read), which orients it itself


@dataclasses.dataclass(frozen=True)
class FolderScan:
    """A folder's colour images, split into training and held-out files, and the files that were dropped."""
    folder: str
    train: tuple
    held_out: tuple
    grey: tuple
    unreadable: tuple
    val_share: float

    def summary(self):
        line = f"{self.folder}: {len(self.train) + len(self.held_out)} colour photos"
        if self.held_out:
            line += (f", {len(self.train)} for training and {len(self.held_out)} held out for validation (by "
                     f"file-name hash, data.val_share={self.val_share:g})")
        elif self.val_share:
            line += ", too few to hold any out for validation"
        if self.grey or self.unreadable:
            line += f"; skipped {len(self.grey)} greyscale and {len(self.unreadable)} unreadable image file(s)"
        return line


def hash_fraction(name):
    """A file name -> a fraction in [0, 1) that depends on the name alone: the split survives added files."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") / 2.0 ** 64


def scan_folder(folder, val_share=0.0, what="data.source"):
    """The image files under ``folder`` (those ``imageio.list_images`` lists), each decoded once at small size:
    greyscale and unreadable ones are dropped and reported, and a share of the colour ones, chosen by a hash of
    their path in the folder, is held out for validation (at least one when there are two or more, never all).
    No colour photo -> ``ConfigError`` at once. Scans are remembered while the files are unchanged."""
    root = Path(folder)
    try:
        files = imageio.list_images([root])
    except InputError:
        raise ConfigError(f"{what} {folder} does not exist; pass a folder of images, tfds:NAME or skimage") \
            from None
    stats = [f.stat() for f in files]
    listing = tuple((str(f), s.st_size, s.st_mtime_ns) for f, s in zip(files, stats))
    return _scan(str(root), listing, float(val_share), what)


@functools.lru_cache(maxsize=8)
def _scan(root, listing, val_share, what):
    paths = [p for p, _, _ in listing]
    by_tf = [i for i, p in enumerate(paths) if Path(p).suffix.lower() not in _PIL_ONLY]
    colour = dict(zip(*_tf_colour_test([paths[i] for i in by_tf], by_tf)))
    kept, grey, unreadable = [], [], []
    for i, path in enumerate(paths):
        if i in colour:
            (kept if colour[i] else grey).append(ImageFile(path, _exif_orientation(path)))
            continue
        try:  # a format or a variant TensorFlow cannot decode: Pillow may
            rgb = imageio.load_rgb(path)
        except InputError as err:
            log.warning("skipping unreadable image: %s", err)
            unreadable.append(path)
            continue
        (kept if bool(is_colour(np.round(rgb * 255).astype(np.uint8))) else grey).append(ImageFile(path, pil=True))
    if not kept:
        found = f"{len(paths)} image file(s): {len(grey)} greyscale, {len(unreadable)} unreadable" if paths else \
            f"no image files ({', '.join(sorted(imageio.IMAGE_SUFFIXES))})"
        raise ConfigError(f"{what} {root} holds no colour photos to learn colours from ({found})")
    ranked = sorted(kept, key=lambda f: hash_fraction(Path(f.path).relative_to(root).as_posix()))
    count = sum(hash_fraction(Path(f.path).relative_to(root).as_posix()) < val_share for f in kept)
    count = min(max(count, 1), len(kept) - 1) if val_share > 0 else 0
    held = {f.path for f in ranked[:count]}
    scan = FolderScan(root, tuple(f for f in kept if f.path not in held), tuple(f for f in kept if f.path in held),
                      tuple(f.path for f in grey), tuple(unreadable), val_share)
    log.log(logging.WARNING if grey or unreadable else logging.INFO, "%s", scan.summary())
    return scan


def _exif_orientation(path):
    """The EXIF orientation TensorFlow's decoders ignore (Pillow reads the header only)."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            orientation = im.getexif().get(0x0112, 1)
    except Exception:  # damaged metadata should not cost pixels that decode fine
        return 1
    return orientation if orientation in range(1, 9) else 1


def _tf_colour_test(paths, indices):
    """(indices, colour flags) of the files TensorFlow decodes; the ones it cannot are left out."""
    ds = tf.data.Dataset.from_tensor_slices((tf.constant(indices, tf.int64), tf.constant(paths, tf.string)))
    ds = ds.map(lambda i, path: (i, is_colour(_decode_reduced(tf.io.read_file(path), SCAN_SIDE))),
                num_parallel_calls=tf.data.AUTOTUNE)
    found = list(ds.ignore_errors().as_numpy_iterator())
    return [int(i) for i, _ in found], [bool(c) for _, c in found]


def file_records(files):
    """``ImageFile``s -> a dataset of ``{"path", "orientation", "pil"}`` records, what ``decode_file`` reads."""
    return tf.data.Dataset.from_tensor_slices({
        "path": tf.constant([f.path for f in files], tf.string),
        "orientation": tf.constant([f.orientation for f in files], tf.int32),
        "pil": tf.constant([f.pil for f in files], tf.bool)})


def decode_file(record, min_side=None):
    """A file record -> upright uint8 (H, W, 3), its short side brought down to ``min_side`` when it is larger:
    JPEGs are decoded at 1/2, 1/4 or 1/8 scale by the decoder itself (far cheaper than decoding all pixels),
    then every image is area-resized right after decoding. A file Pillow cannot read gives a 0x0 image."""
    def with_tf():
        image = _decode_reduced(tf.io.read_file(record["path"]), min_side)
        return _orient(image, record["orientation"])

    def with_pil():
        image = tf.numpy_function(_decode_with_pil, [record["path"]], tf.uint8, stateful=False)
        return tf.ensure_shape(image, [None, None, 3])
    image = tf.cond(record["pil"], with_pil, with_tf)
    return image if min_side is None else _shrink(image, min_side)


def _decode_reduced(contents, min_side):
    if min_side is None:
        return tf.io.decode_image(contents, channels=3, expand_animations=False)

    def jpeg():  # the largest of the decoder's ratios that keeps the short side at least min_side
        shape = tf.io.extract_jpeg_shape(contents)
        branch = tf.reduce_sum(tf.cast(tf.minimum(shape[0], shape[1]) // [2, 4, 8] >= min_side, tf.int32))
        return tf.switch_case(branch, [functools.partial(tf.io.decode_jpeg, contents, channels=3, ratio=r)
                                       for r in (1, 2, 4, 8)])
    is_jpeg = tf.strings.substr(contents, 0, 3) == b"\xff\xd8\xff"
    return tf.cond(is_jpeg, jpeg, lambda: tf.io.decode_image(contents, channels=3, expand_animations=False))


def _orient(image, orientation):
    """Apply an EXIF orientation (as Pillow's ``ImageOps.exif_transpose``)."""
    transpose = functools.partial(tf.transpose, perm=[1, 0, 2])
    return tf.switch_case(orientation - 1, [  # out of range (0 or more than 8): as 1, no change
        lambda: image, lambda: image[:, ::-1], lambda: image[::-1, ::-1], lambda: image[::-1],
        lambda: transpose(image), lambda: transpose(image[::-1]), lambda: transpose(image[::-1, ::-1]),
        lambda: transpose(image[:, ::-1])])


def _shrink(image, min_side):
    shape = tf.shape(image)[:2]
    short = tf.minimum(shape[0], shape[1])

    def resize():
        size = tf.maximum(1, tf.cast(tf.round(tf.cast(shape, tf.float32) * (min_side / tf.cast(short, tf.float32))),
                                     tf.int32))
        return tf.cast(tf.round(tf.image.resize(image, size, method="area")), tf.uint8)
    return tf.cond(short > min_side, resize, lambda: image)


def _decode_with_pil(path):
    try:
        return np.round(imageio.load_rgb(path.decode()) * 255.0).astype(np.uint8)
    except InputError as err:
        log.warning("skipping %s", err)
        return np.zeros((0, 0, 3), np.uint8)


# -- evaluation sets ---------------------------------------------------------------------------------------------
def iter_dataset(spec, limit=None, data_dir=None, colour_only=True):
    """Yield ``(name, uint8 RGB (H, W, 3))`` at full resolution from a folder (or an image file), from
    ``tfds:NAME[:SPLIT]`` (SPLIT defaults to ``validation`` and may be a slice, ``validation[:100]``), or from
    ``skimage``. Unreadable files are skipped with a warning; with ``colour_only``, greyscale images (nothing to
    score a colorizer on) too. ``limit`` counts the images yielded."""
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be at least 1, got {limit}")
    kind = kind_of(spec)
    source = _iter_tfds(spec, data_dir) if kind == "tfds" else iter(skimage_photos()) if kind == "skimage" else \
        _iter_folder(spec)
    count = grey = 0
    try:
        for name, image in source:
            if colour_only and not bool(is_colour(image)):
                grey += 1
                continue
            yield name, image
            count += 1
            if limit is not None and count >= limit:
                break
    finally:
        if grey:
            log.warning("skipped %d greyscale image(s) in %s", grey, spec)


def iter_validation(data_config, limit=None):
    """Yield ``(name, uint8 RGB)`` of a training config's validation images at full resolution: ``data.val_source``
    when set, a TFDS source's ``data.val_split``, a folder source's held-out files (``data.val_share``), or the
    bundled photos; the same images ``colorize.data.streams.val_dataset`` crops for training's validation."""
    if data_config.val_source:
        spec = data_config.val_source
        if kind_of(spec) == "tfds" and len(str(spec).split(":")) == 2:
            spec = f"{spec}:{data_config.val_split}"
        yield from iter_dataset(spec, limit=limit, data_dir=data_config.data_dir)
    elif kind_of(data_config.source) == "tfds":
        name, _ = parse_tfds_spec(data_config.source)
        yield from iter_dataset(f"tfds:{name}:{data_config.val_split}", limit=limit, data_dir=data_config.data_dir)
    elif kind_of(data_config.source) == "folder":
        scan = scan_folder(data_config.source, data_config.val_share)
        for record in list(scan.held_out or scan.train)[:limit]:
            yield os.path.relpath(record.path, scan.folder), imageio.load_array(record.path)
    else:
        yield from iter_dataset(data_config.source, limit=limit, data_dir=data_config.data_dir)


def _iter_folder(spec):
    root = Path(spec)
    if not root.exists():
        raise ConfigError(f"--data {spec} does not exist; pass a folder of images, tfds:NAME[:SPLIT] or skimage")
    files = imageio.list_images([root])
    if not files:
        raise ConfigError(f"no images found in {spec}")
    for path in files:
        try:
            rgb = imageio.load_rgb(path)
        except InputError as err:
            log.warning("skipping %s", err)
            continue
        name = str(path.relative_to(root)) if root.is_dir() else path.name
        yield name, np.round(rgb * 255.0).astype(np.uint8)


def _iter_tfds(spec, data_dir):
    name, split = parse_tfds_spec(spec)
    ds = load_tfds(name, split, data_dir)
    has_file_name = "file_name" in ds.element_spec
    for i, example in enumerate(ds):
        image = tf.io.decode_image(example["image"], channels=3, expand_animations=False).numpy()
        label = example["file_name"].numpy().decode() if has_file_name else f"{i:06d}"
        yield f"{name}/{split}/{label}", image

"""Measure a Colorizer on colour photos: colorize each photo's greyscale version and compare with the photo.

For every truth image, at its full resolution: the grey input is the image's own L with a = b = 0, rounded to
8 bits (the greyscale photo a user would have); the model colorizes that grey input (never the colour truth);
PSNR, SSIM, AuC and colorfulness are computed for the model output and, as the baseline every colorizer must
beat, for the grey input itself. ``iter_dataset`` reads a folder of images or a TensorFlow Datasets split.

PSNR is capped at ``PSNR_CAP`` dB, so that identical images (an oracle, or a grey photo against its own grey
version) give a finite, averageable number rather than infinity.
"""
import logging
import math
import os
import re
from pathlib import Path

import numpy as np
import tensorflow as tf

from . import color, imageio, metrics
from . import hints as hint_lib
from .errors import ConfigError, InputError

log = logging.getLogger(__name__)

PSNR_CAP = 100.0
METRICS = ("psnr", "ssim", "auc", "colorfulness")
SHEET_HEIGHT = 256
SHEET_GAP = 4
SHEET_HEADER = 24
SHEET_LABELS = ("greyscale input", "colorized", "truth")
_METRIC_PIXELS = 1 << 20   # pixels per batched PSNR/SSIM/colorfulness call
_AUC_PIXELS = 1 << 17      # AuC holds 151 thresholds per pixel: 80 MB per call at this budget
_GREY_TOLERANCE = 2.0 / 255.0  # as colorize.data: channels within 2/255 everywhere = a greyscale image


# -- loading ---------------------------------------------------------------------------------------------------
def iter_dataset(spec, limit=None, data_dir=None, colour_only=True):
    """Yield ``(name, uint8 RGB (H, W, 3))`` from a folder (or image file) or from ``tfds:NAME[:SPLIT]``.

    SPLIT defaults to ``validation`` and may be a TFDS slice (``validation[:100]``); ``data_dir`` defaults to
    the ``COLORIZE_TFDS_DIR`` environment variable. Unreadable files are skipped with a warning. With
    ``colour_only``, greyscale images (nothing to score a colorizer on) are skipped too. ``limit`` counts
    the images yielded.
    """
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be at least 1, got {limit}")
    source = _iter_tfds(spec, data_dir) if str(spec).startswith("tfds:") else _iter_folder(spec)
    count = grey = 0
    try:
        for name, image in source:
            if colour_only and _is_grey(image):
                grey += 1
                continue
            yield name, image
            count += 1
            if limit is not None and count >= limit:
                break
    finally:
        if grey:
            log.warning("skipped %d greyscale image(s) in %s", grey, spec)


def _is_grey(image):
    spread = image.max(axis=-1).astype(np.int16) - image.min(axis=-1)
    return int(spread.max()) <= round(_GREY_TOLERANCE * 255)


def _iter_folder(spec):
    root = Path(spec)
    if not root.exists():
        raise ConfigError(f"--data {spec} does not exist; pass a folder of images or tfds:NAME[:SPLIT]")
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
        yield name, _to_uint8(rgb)


def parse_tfds_spec(spec):
    """``tfds:NAME[:VERSION][:SPLIT]`` -> (``NAME[:VERSION]``, SPLIT); SPLIT defaults to ``validation``."""
    parts = spec[len("tfds:"):].split(":", 2)
    if not parts[0]:
        raise ConfigError(f"{spec!r} names no dataset; write tfds:NAME[:SPLIT], e.g. tfds:tiny_imagenet_color")
    name, rest = parts[0], parts[1:]
    if rest and re.fullmatch(r"\d+(\.[\d*]+)*", rest[0]):  # tfds:mnist:3.0.1[:split]
        name, rest = f"{name}:{rest[0]}", rest[1:]
    split = ":".join(rest) or "validation"
    return name, split


def _iter_tfds(spec, data_dir):
    import tensorflow_datasets as tfds
    name, split = parse_tfds_spec(spec)
    data_dir = data_dir or os.environ.get("COLORIZE_TFDS_DIR") or None
    try:
        ds = tfds.load(name, split=split, data_dir=data_dir, download=data_dir is None,
                       decoders={"image": tfds.decode.SkipDecoding()})
    except Exception as err:  # tfds raises many types; the user needs the name, split and folder
        raise ConfigError(f"cannot load TFDS dataset {name!r} split {split!r} from data_dir={data_dir!r}: {err}") \
            from None
    if "image" not in ds.element_spec:
        raise ConfigError(f"TFDS dataset {name!r} has no 'image' feature")
    has_file_name = "file_name" in ds.element_spec
    for i, example in enumerate(ds):
        image = tf.io.decode_image(example["image"], channels=3, expand_animations=False).numpy()
        label = example["file_name"].numpy().decode() if has_file_name else f"{i:06d}"
        yield f"{name}/{split}/{label}", image


def _to_uint8(rgb):
    return np.round(np.asarray(rgb, np.float32) * 255.0).astype(np.uint8)


# -- evaluation --------------------------------------------------------------------------------------------------
def evaluate(colorizer, images, names=None, sheet_path=None, sheet_count=8, batch_size=32, on_image=None,
             hints=0, seed=0):
    """Score ``colorizer`` on colour truth images; returns a dict of means and per-image metrics.

    ``images``: an iterable of RGB arrays (uint8, or float in [0, 1]; any sizes; anything ``imageio.load_rgb``
    takes), or of ``(name, image)`` pairs as ``iter_dataset`` yields. Images are streamed ``batch_size`` at a
    time. With ``sheet_path``, a contact sheet of the first ``sheet_count`` images (rows grey | colorized |
    truth) is written there as PNG. ``on_image(name, grey, output, truth)``, if given, is called for every
    image with the three uint8 arrays (e.g. to save the outputs). ``hints`` > 0 gives the colorizer that many
    colour hints per image sampled from the truth (``colorize.hints.evaluation_hints``, seeded by ``seed``).
    """
    if hints and not colorizer.hints:
        raise InputError(f"hints requested, but the model {colorizer.name!r} takes no hints; use a hint preset")
    names = iter(names) if names is not None else None
    per_image, panels, chunk = [], [], []
    index = 0
    for item in images:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            name, image = item
        else:
            name = next(names, None) if names is not None else None
            name, image = (f"image_{index:05d}" if name is None else name), item
        rgb = imageio.load_rgb(image, name=str(name))
        chunk.append((str(name), rgb, hint_lib.evaluation_hints(_to_uint8(rgb), hints, seed, index)))
        index += 1
        if len(chunk) == batch_size:
            _evaluate_chunk(colorizer, chunk, batch_size, per_image, panels, sheet_count, on_image)
            chunk = []
    if chunk:
        _evaluate_chunk(colorizer, chunk, batch_size, per_image, panels, sheet_count, on_image)
    if not per_image:
        raise InputError("no images to evaluate")
    result = summarize(per_image)
    if sheet_path is not None and panels:
        imageio.save_png(contact_sheet(panels), sheet_path, overwrite=True)
        result["sheet"] = str(sheet_path)
    return result


def _evaluate_chunk(colorizer, chunk, batch_size, per_image, panels, sheet_count, on_image):
    truths = [t for _, t, _ in chunk]
    groups = {}
    for i, t in enumerate(truths):
        groups.setdefault(t.shape, []).append(i)
    greys = [None] * len(chunk)
    for indices in groups.values():
        # L with a = b = 0 is R = G = B up to float error: average the channels so that it is exactly grey
        grey = _to_uint8(tf.reduce_mean(color.rgb_to_gray(np.stack([truths[i] for i in indices])), -1))
        grey = np.repeat(grey[..., None], 3, axis=-1)
        for i, g in zip(indices, grey):
            greys[i] = g
    outputs = colorizer.colorize_batch(greys, batch_size=batch_size,
                                       hints=[h for _, _, h in chunk] if colorizer.hints else None)
    rows = [{"name": name} for name, _, _ in chunk]
    for shape, indices in groups.items():
        step = max(1, _METRIC_PIXELS // (shape[0] * shape[1]))
        for start in range(0, len(indices), step):
            part = indices[start:start + step]
            truth = tf.constant(np.stack([truths[i] for i in part]))
            model = _image_metrics(np.stack([outputs[i] for i in part]), truth)
            grey = _image_metrics(np.stack([greys[i] for i in part]), truth)
            truth_cf = metrics.colorfulness(truth).numpy()
            for j, i in enumerate(part):
                rows[i].update(height=shape[0], width=shape[1],
                               model={k: float(v[j]) for k, v in model.items()},
                               grey={k: float(v[j]) for k, v in grey.items()},
                               truth={"colorfulness": float(truth_cf[j])})
    per_image += rows
    if on_image is not None:
        for (name, truth, _), grey, output in zip(chunk, greys, outputs):
            on_image(name, grey, output, _to_uint8(truth))
    for i in range(min(len(chunk), sheet_count - len(panels))):
        panels.append(tuple(_fit_height(a, SHEET_HEIGHT) for a in (greys[i], outputs[i], _to_uint8(truths[i]))))


def _image_metrics(pred_uint8, truth):
    pred = tf.constant(pred_uint8.astype(np.float32) / np.float32(255.0))
    return {"psnr": np.minimum(metrics.psnr(pred, truth).numpy(), PSNR_CAP),
            "ssim": metrics.ssim(pred, truth).numpy(),
            "auc": _auc(pred, truth),
            "colorfulness": metrics.colorfulness(pred).numpy()}


def _auc(pred, truth):
    """``metrics.auc`` over horizontal strips (it is a mean over pixels), so memory stays bounded."""
    n, h, w = pred.shape[:3]
    rows = max(1, _AUC_PIXELS // (n * w))
    total = np.zeros(n, np.float64)
    for top in range(0, h, rows):
        strip = slice(top, min(h, top + rows))
        total += metrics.auc(pred[:, strip], truth[:, strip]).numpy() * (strip.stop - strip.start)
    return total / h


def summarize(per_image):
    """Means over the per-image rows that ``evaluate`` produces (also useful to merge several runs)."""
    def mean(part, key):
        return float(np.mean([r[part][key] for r in per_image]))

    model = {k: mean("model", k) for k in METRICS}
    grey = {k: mean("grey", k) for k in METRICS}
    truth_cf = mean("truth", "colorfulness")
    return {
        "images": len(per_image),
        "model": model,
        "grey": grey,
        "truth": {"colorfulness": truth_cf},
        "delta_colorfulness": model["colorfulness"] - truth_cf,
        "colorfulness_ratio": model["colorfulness"] / truth_cf if truth_cf > 0 else None,
        "share_beating_grey_psnr": float(np.mean([r["model"]["psnr"] > r["grey"]["psnr"] for r in per_image])),
        "per_image": per_image,
    }


def format_table(result, title=None):
    """The readable summary: model vs grey baseline for each metric, and the colorfulness comparison."""
    lines = [title] if title else []
    lines.append(f"{'metric':<16}{'model':>10}{'grey':>10}{'truth':>10}")
    labels = {"psnr": "PSNR (dB)", "ssim": "SSIM", "auc": "AuC (%)", "colorfulness": "colorfulness"}
    for key in METRICS:
        truth = f"{result['truth']['colorfulness']:10.3f}" if key == "colorfulness" else f"{'':>10}"
        lines.append(f"{labels[key]:<16}{result['model'][key]:10.3f}{result['grey'][key]:10.3f}{truth}")
    ratio = result["colorfulness_ratio"]
    lines.append(f"images: {result['images']}; model PSNR above grey on {100 * result['share_beating_grey_psnr']:.1f}%"
                 f" of them; colorfulness model - truth = {result['delta_colorfulness']:+.3f}"
                 + (f" (ratio {ratio:.3f})" if ratio is not None else ""))
    return "\n".join(lines)


def json_ready(result):
    """``result`` with non-finite floats replaced by None, so ``json.dumps(..., allow_nan=False)`` works."""
    if isinstance(result, dict):
        return {k: json_ready(v) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return [json_ready(v) for v in result]
    if isinstance(result, float) and not math.isfinite(result):
        return None
    return result


# -- contact sheet -----------------------------------------------------------------------------------------------
def _fit_height(rgb_uint8, height):
    from PIL import Image
    h, w = rgb_uint8.shape[:2]
    width = max(1, round(w * height / h))
    if (h, w) == (height, width):
        return rgb_uint8
    return np.asarray(Image.fromarray(rgb_uint8).resize((width, height), Image.Resampling.LANCZOS))


def contact_sheet(rows, height=SHEET_HEIGHT, gap=SHEET_GAP, labels=SHEET_LABELS):
    """Rows of uint8 RGB panels (e.g. grey, colorized, truth) -> one uint8 image on a white background.

    Each panel is scaled to ``height`` (aspect kept) and centred in a cell as wide as the widest panel, so
    that columns line up; a header strip names the columns. Width: ``len(row) * cell + (len(row) - 1) * gap``.
    """
    rows = [[_fit_height(p, height) for p in row] for row in rows]
    columns = max(len(r) for r in rows)
    cell = max(p.shape[1] for r in rows for p in r)
    header = SHEET_HEADER if labels else 0
    sheet = np.full((header + len(rows) * (height + gap) - gap, columns * (cell + gap) - gap, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        top = header + r * (height + gap)
        for c, panel in enumerate(row):
            left = c * (cell + gap) + (cell - panel.shape[1]) // 2
            sheet[top:top + height, left:left + panel.shape[1]] = panel
    if labels:
        sheet = _draw_labels(sheet, labels, cell, gap)
    return sheet


def _draw_labels(sheet, labels, cell, gap):
    from PIL import Image, ImageDraw, ImageFont
    im = Image.fromarray(sheet)
    draw = ImageDraw.Draw(im)
    try:
        font = ImageFont.load_default(size=15)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: the small bitmap font
        font = ImageFont.load_default()
    for c, text in enumerate(labels):
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        x = c * (cell + gap) + (cell - (right - left)) // 2
        draw.text((x, (SHEET_HEADER - (bottom - top)) // 2 - top), text, fill=(0, 0, 0), font=font)
    return np.asarray(im)

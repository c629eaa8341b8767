"""Measure a Colorizer on colour photos: colorize each photo's greyscale version and compare with the photo.

For every truth image, at its full resolution: the grey input is the image's own L with a = b = 0, rounded to
8 bits (the greyscale photo a user would have); the model colorizes that grey input (never the colour truth);
PSNR, SSIM, AuC and colorfulness are computed for the model output and, as the baseline every colorizer must
beat, for the grey input itself. ``iter_dataset`` (``colorize.data.sources``) reads a folder of images, a TensorFlow
Datasets split or the bundled photos; ``colorize.evaluation.sheet`` draws the contact sheet.

PSNR is capped at ``PSNR_CAP`` dB, so that identical images (an oracle, or a grey photo against its own grey
version) give a finite, averageable number rather than infinity.
"""
import math
import typing

import numpy as np
import tensorflow as tf

from colorize import color
from colorize import io as imageio
from colorize.errors import InputError
from colorize.evaluation import metrics, sheet
from colorize.evaluation.hint_sampling import evaluation_hints

PSNR_CAP = 100.0
METRICS = ("psnr", "ssim", "auc", "colorfulness")
_METRIC_PIXELS = 1 << 20   # pixels per batched PSNR/SSIM/colorfulness call
_AUC_PIXELS = 1 << 17      # AuC holds 151 thresholds per pixel: 80 MB per call at this budget


def _to_uint8(rgb):
    return np.round(np.asarray(rgb, np.float32) * 255.0).astype(np.uint8)


# -- evaluation --------------------------------------------------------------------------------------------------
def evaluate(colorizer, images, names=None, sheet_path=None, sheet_count=8, batch_size=32, on_image=None,
             hints=0, seed=0, reference_pairs=None):
    """Score ``colorizer`` on colour truth images; returns a dict of means and per-image metrics.

    ``images``: an iterable of RGB arrays (uint8, or float in [0, 1]; any sizes; anything ``imageio.load_rgb``
    takes), or of ``(name, image)`` pairs as ``iter_dataset`` yields. Images are streamed ``batch_size`` at a
    time. With ``sheet_path``, a contact sheet of the first ``sheet_count`` images (rows grey | colorized |
    truth) is written there as PNG. ``on_image(name, grey, output, truth)``, if given, is called for every
    image with the three uint8 arrays (e.g. to save the outputs). ``hints`` > 0 gives the colorizer that many
    colour hints per image sampled from the truth (``colorize.evaluation.hint_sampling.evaluation_hints``,
    seeded by ``seed``).

    ``reference_pairs`` (``REFERENCE_PAIRS``): each photo is split into overlapping left and right crops
    (``reference_crops``); the left crop is the truth, and its grey is colorized with a colour reference: the
    same photo's right crop (``matched``), another photo's (``shuffled``: the previous photo's, the first photo
    the last one's; an unrelated reference), or none (``none``: the crops alone, e.g. for the hint baseline).
    The automatic colours of the same crops are scored beside them (``automatic`` in the result).
    """
    if hints and not colorizer.hints:
        raise InputError(f"hints requested, but the model {colorizer.name!r} takes no hints; use a hint preset")
    if reference_pairs is not None:
        if reference_pairs not in REFERENCE_PAIRS:
            raise InputError(f"reference_pairs must be one of {REFERENCE_PAIRS}, got {reference_pairs!r}")
        if reference_pairs != "none" and not colorizer.hints:
            raise InputError(f"reference pairs need a model with hint inputs; {colorizer.name!r} has none: use a "
                             "hint preset such as bigru_fusion_64_hints")
        images = _reference_pairs(images, names, reference_pairs)
        names = None
    names = iter(names) if names is not None else None
    per_image, panels, chunk = [], [], []
    index = 0
    for item in images:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            name, image = item
        else:
            name = next(names, None) if names is not None else None
            name, image = (f"image_{index:05d}" if name is None else name), item
        reference = None
        if isinstance(image, ReferencePair):
            image, reference = image.truth, image.reference
        rgb = imageio.load_rgb(image, name=str(name))
        chunk.append((str(name), rgb, evaluation_hints(_to_uint8(rgb), hints, seed, index), reference))
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
        imageio.save_png(sheet.contact_sheet(panels), sheet_path, overwrite=True)
        result["sheet"] = str(sheet_path)
    return result


REFERENCE_PAIRS = ("matched", "shuffled", "none")
REFERENCE_SHARE = 0.6  # each crop's share of the photo's width (two crops of 60% overlap by a third of each)


class ReferencePair(typing.NamedTuple):
    """A truth crop and its colour reference (an RGB array; ``False`` for none)."""
    truth: np.ndarray
    reference: object


def reference_crops(rgb, share=REFERENCE_SHARE):
    """A colour photo (H, W, 3) -> its left and right crops, each ``share`` of its width (they overlap)."""
    width = rgb.shape[1]
    cut = max(1, int(round(share * width)))
    return rgb[:, :cut], rgb[:, width - cut:]


def _reference_pairs(images, names, mode):
    """(name, image) items -> (name, ``ReferencePair``) items for ``evaluate(reference_pairs=mode)``."""
    names = iter(names) if names is not None else None
    first, previous_right = None, None
    for index, item in enumerate(images):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            name, image = item
        else:
            name = next(names, None) if names is not None else None
            name, image = (f"image_{index:05d}" if name is None else name), item
        left, right = reference_crops(imageio.load_array(image, name=str(name)))
        if mode == "matched":
            yield name, ReferencePair(left, right)
        elif mode == "none":
            yield name, ReferencePair(left, False)
        elif first is None:
            first = (name, left)
        else:
            yield name, ReferencePair(left, previous_right)
        previous_right = right
    if first is not None:
        if previous_right is None or index == 0:
            raise InputError("shuffled reference pairs need at least two photos")
        yield first[0], ReferencePair(first[1], previous_right)


def _evaluate_chunk(colorizer, chunk, batch_size, per_image, panels, sheet_count, on_image):
    truths = [t for _, t, _, _ in chunk]
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
    references = [r for _, _, _, r in chunk]
    paired = any(r is not None for r in references) or isinstance(references[0], bool)
    references = [None if r is False else r for r in references]
    extra = {"references": references} if any(r is not None for r in references) else {}  # only with pairs
    outputs = colorizer.colorize_batch(greys, batch_size=batch_size,
                                       hints=[h for _, _, h, _ in chunk] if colorizer.hints else None, **extra)
    automatic = colorizer.colorize_batch(greys, batch_size=batch_size) if paired else None
    rows = [{"name": name} for name, _, _, _ in chunk]
    for shape, indices in groups.items():
        step = max(1, _METRIC_PIXELS // (shape[0] * shape[1]))
        for start in range(0, len(indices), step):
            part = indices[start:start + step]
            truth = tf.constant(np.stack([truths[i] for i in part]))
            model = _image_metrics(np.stack([outputs[i] for i in part]), truth)
            grey = _image_metrics(np.stack([greys[i] for i in part]), truth)
            truth_cf = metrics.colorfulness(truth).numpy()
            auto = None if automatic is None else _image_metrics(np.stack([automatic[i] for i in part]), truth)
            for j, i in enumerate(part):
                rows[i].update(height=shape[0], width=shape[1],
                               model={k: float(v[j]) for k, v in model.items()},
                               grey={k: float(v[j]) for k, v in grey.items()},
                               truth={"colorfulness": float(truth_cf[j])})
                if auto is not None:
                    rows[i]["automatic"] = {k: float(v[j]) for k, v in auto.items()}
    per_image += rows
    if on_image is not None:
        for (name, truth, _, _), grey, output in zip(chunk, greys, outputs):
            on_image(name, grey, output, _to_uint8(truth))
    for i in range(min(len(chunk), sheet_count - len(panels))):
        panels.append(tuple(sheet.fit_height(a, sheet.SHEET_HEIGHT)
                            for a in (greys[i], outputs[i], _to_uint8(truths[i]))))


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
    extra = {}
    if per_image and all("automatic" in r for r in per_image):  # reference pairs: the same crops, no reference
        extra["automatic"] = {k: mean("automatic", k) for k in METRICS}
    return {
        **extra,
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
    auto = result.get("automatic")
    if auto is not None:
        lines[-1] += f"{'automatic':>10}"
    for key in METRICS:
        truth = f"{result['truth']['colorfulness']:10.3f}" if key == "colorfulness" else f"{'':>10}"
        lines.append(f"{labels[key]:<16}{result['model'][key]:10.3f}{result['grey'][key]:10.3f}{truth}"
                     + ("" if auto is None else f"{auto[key]:10.3f}"))
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

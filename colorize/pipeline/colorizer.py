"""``Colorizer``: from any image (path, PIL image, array) to a same-size colour image, optionally steered by hints.

It composes three public parts, each usable on its own (in the manner of keras-hub's preprocessor / backbone /
task split):

    Preprocessor (pipeline/preprocess.py)    decode-checked RGB -> full-resolution L, L on the network's canvas, box
    the network (model/network.py)           the Keras model: scaled L [+ hint channels] -> heads
    Postprocessor (pipeline/postprocess.py)  readout on the photo's area -> upsampling -> [hints] -> Lab -> sRGB uint8

Build one with ``Colorizer.from_preset(name)`` (``load_pretrained`` is the short form) or
``Colorizer.from_weights(path, config, sha256)``.
"""
from __future__ import annotations

import dataclasses
import os
import typing
import warnings

import numpy as np
import tensorflow as tf

from colorize import color
from colorize import io as imageio
from colorize.config import Config, ModelConfig
from colorize.errors import InputError, ReferenceReport, WeightsError
from colorize.model import bins, build_model, load_weights
from colorize.pipeline import hints as hint_lib
from colorize.pipeline import prints
from colorize.pipeline import reference as reference_lib
from colorize.pipeline.hint_channels import network_channels
from colorize.pipeline.postprocess import Postprocessor
from colorize.pipeline.preprocess import Preprocessor
from colorize.pipeline.readout import Readout
from colorize.pipeline.saturation import check_saturation
from colorize.presets import card_beside, get_preset, load_card

if typing.TYPE_CHECKING:
    from PIL import Image

    from colorize.pipeline.preprocess import Prepared
    from colorize.pipeline.reference import Reference

ImageLike = typing.Union[str, os.PathLike, np.ndarray, "Image.Image"]  # what colorize() takes
HintLike = typing.Sequence  # (x, y, colour[, radius]) tuples or {"x", "y", "color"[, "radius"]} dicts


class Colorizer:
    """Colorizes images with one network: ``colorize``, ``colorize_batch``, or ``prepare`` once and
    ``colorize_prepared`` as often as the hints change."""

    def __init__(self, model, config: Config | ModelConfig, readout: str | Readout = "regression",
                 upsampling: str = "guided", fit: str = "pad", max_pixels: int | None = imageio.MAX_FILE_PIXELS,
                 name: str = "model", saturation: float = 1.0, border: bool = True) -> None:
        """``readout``: a ``colorize.pipeline.readout.Readout``, or its kind (regression, annealed, restrained).
        ``border``: find a scan's uniform border and leave it out of the colouring, neutral (False: colour the
        whole image as it is; see ``colorize.pipeline.prints``)."""
        config = _model_config(config)
        if not isinstance(border, (bool, np.bool_)):
            raise InputError(f"border must be True or False, got {border!r}")
        self.border = bool(border)
        self.report = None  # a callable(name, line): told once per photo prepared what was found around it
        readout = readout if isinstance(readout, Readout) else Readout(kind=readout)
        if readout.needs_bins and not config.bins_head:
            raise InputError(f"readout {readout.kind!r} needs a model with a bins head; this model has none: "
                             "use --readout regression")
        self.model, self.config, self.name = model, config, name
        self.saturation = check_saturation(saturation)
        self.preprocessor = Preprocessor(config.input_size, fit, max_pixels)
        self.postprocessor = Postprocessor(config.input_size, readout, upsampling)
        size = config.input_size
        self._network = tf.function(self.network_fn, input_signature=[
            tf.TensorSpec([None, size, size, 1]), tf.TensorSpec([None, size, size, 3]),
            tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, None])])

    @classmethod
    def from_preset(cls, name: str | os.PathLike | None = None, **kwargs) -> Colorizer:
        """The Colorizer of a registered preset (default: the shipped one), or of the preset card file a path names
        (``colorize train`` writes ``WORKDIR/final-stepN.preset.json``), its weights sha256-checked. ``kwargs``
        override the preset's readout kind (its tuned parameters are kept), upsampling, fit, max_pixels."""
        preset = get_preset(name)
        config = preset.model_config
        if preset.weights_path is None:
            raise WeightsError(f"preset {preset.name!r} has no trained weights yet; train one with "
                               f"colorize train --config {preset.recipe} and use Colorizer.from_weights")
        model = build_model(config)
        load_weights(model, preset.weights_path, preset.sha256, f"preset {preset.name!r}")
        return cls(model, config, name=preset.name, **_card_readout(preset, kwargs))

    @classmethod
    def from_weights(cls, path: str | os.PathLike, config: Config | ModelConfig | None = None,
                     sha256: str | None = None, **kwargs) -> Colorizer:
        """A Colorizer for your own ``.weights.h5`` (checked against ``sha256``) and its ``ModelConfig``. Beside its
        own preset card (``NAME.preset.json``, as ``colorize train`` writes), the card gives what is not given
        here: the config, the sha256, and the readout of the preset the training started from."""
        if sha256 is not None and not isinstance(sha256, str):
            raise WeightsError(f"sha256 of {path} must be a hex string, got {type(sha256).__name__}")
        if not isinstance(path, (str, os.PathLike)):
            raise WeightsError(f"weights path must be a file path, got {type(path).__name__}")
        card = card_beside(path)
        if card is not None:
            preset = load_card(card)
            if sha256 and sha256.lower() != (preset.sha256 or "").lower():
                raise WeightsError(f"the sha256 given for {path} is not the one on its card {card} "
                                   f"({preset.sha256}); leave the sha256 out to use the card's")
            if config is None:
                return cls.from_preset(preset, **kwargs)
            kwargs = _card_readout(preset, kwargs)
        elif config is None:
            raise WeightsError(f"{path}: give the config its weights were trained with (--config), or keep the "
                               "preset card colorize train wrote beside them (NAME.preset.json)")
        config = _model_config(config)
        model = build_model(config)
        load_weights(model, path, sha256, "the model its config describes")
        return cls(model, config, name=str(path), **kwargs)

    def __repr__(self) -> str:
        from colorize.presets import list_presets
        source = f"preset={self.name!r}" if self.name in list_presets() else f"weights={self.name!r}"
        size = self.config.input_size
        return (f"Colorizer({source}, readout={self.readout.kind!r}, upsampling={self.upsampling!r}, "
                f"network={size}x{size}, hints={self.hints})")

    # -- the parts' settings -------------------------------------------------------------------------------
    @property
    def hints(self):
        """Whether the network takes colour hints."""
        return bool(self.config.hints)

    @property
    def readout(self):
        return self.postprocessor.readout

    @property
    def upsampling(self):
        return self.postprocessor.upsampling

    @property
    def max_pixels(self):
        return self.preprocessor.max_pixels

    def tracing_counts(self):
        """How often each compiled step was traced (stays at 1 each however many image sizes are colorized)."""
        return {"prepare": self.preprocessor.tracing_count(), "network": self._network.experimental_get_tracing_count(),
                "finish": self.postprocessor.tracing_count()}

    # -- the network ----------------------------------------------------------------------------------------
    def network_fn(self, l_inputs, hint_channels=None, heights=None, widths=None, palettes=None):
        """Scaled L (B, S, S, 1) [+ hint channels (B, S, S, 3)] [+ palettes (B, Q + 1), a palette model] -> ab
        (B, S, S, 2) in Lab units, the readout applied (its cast estimated on each photo's box ``heights``/
        ``widths``; None: the whole canvas). Hints and palettes default to none (zeros)."""
        inputs, hinted, extra = l_inputs, None, []
        if self.hints:
            if hint_channels is None:
                hint_channels = tf.zeros(tf.concat([tf.shape(l_inputs)[:3], [3]], 0))
            if self.config.palette:
                if palettes is None:
                    palettes = tf.zeros([tf.shape(l_inputs)[0], bins.num_bins() + 1])
                extra = [palettes]
            inputs = [l_inputs, hint_channels] + extra
            local = tf.reduce_max(hint_channels[..., 2], axis=[1, 2]) > 0
            # a palette too says what the colours are: the hinted share of the cast removal
            given = extra[0][:, -1] > 0 if extra else tf.zeros_like(local)
            hinted = local | given
        ab = self.postprocessor.read(self.model(inputs, training=False), heights, widths, hinted)
        if self.hints and self.readout.hint_reach:
            def steered():
                # the same photos without local hints: their automatic colours, which a hint changes only near itself
                automatic = self.postprocessor.read(
                    self.model([l_inputs, tf.zeros_like(hint_channels)] + extra, training=False), heights, widths,
                    given)
                lightness = l_inputs * color.L_SCALE + color.L_CENTER
                return self.readout.steer(automatic, ab, hint_channels[..., 2:], lightness)
            # a batch without hints already is its automatic colours: no second pass, no dilation
            ab = tf.cond(tf.reduce_any(local), steered, lambda: ab)
        return ab

    def network(self, prepared, hint_channels=None, palettes=None):
        """A list of ``Prepared`` photos (and their hint channels, (B, S, S, 3) or None, and for a palette model
        their palettes, (B, Q + 1) or None) -> ab (B, S, S, 2)."""
        size = self.config.input_size
        if hint_channels is None:
            hint_channels = np.zeros((len(prepared), size, size, 3), np.float32)
        if palettes is None:
            palettes = np.zeros((len(prepared), bins.num_bins() + 1 if self.config.palette else 1), np.float32)
        return self._network(tf.stack([p.l_input for p in prepared]), tf.constant(hint_channels, tf.float32),
                             tf.stack([p.box_height for p in prepared]), tf.stack([p.box_width for p in prepared]),
                             tf.constant(palettes, tf.float32))

    # -- the public calls ---------------------------------------------------------------------------------
    def load(self, image, name=None):
        """Decode and check an input image (see ``colorize.io.images.load_rgb``) -> float32 (H, W, 3)."""
        return self.preprocessor.load(image, name)

    def prepare(self, image: ImageLike, name: str | None = None, max_side: int | None = None,
                border: bool | typing.Sequence[float] | None = None) -> Prepared:
        """Decode, check and preprocess one image once -> ``colorize.pipeline.preprocess.Prepared``; re-colorize it
        with ``colorize_prepared`` as often as its hints change. ``max_side``: work on the photo shrunk (area
        resampling) to this longest side where it is longer (a quick preview, as the web app's clicks use).
        ``border``: None the Colorizer's setting, True find a border, False none, or the box ``(left, top, right,
        bottom)`` of the photo inside its border, in the image's pixels (the rest is left neutral)."""
        rgb = self.preprocessor.decode(image, name)  # uint8 stays uint8: 3 bytes a pixel, not 12
        height, width = rgb.shape[:2]
        border = self.border if border is None else border
        if not isinstance(border, (bool, np.bool_)):
            try:
                border = prints.frame_from_box(border, height, width, name or "the image") or False
            except ValueError as err:
                raise InputError(str(err)) from None
        if max_side is not None and max(rgb.shape[:2]) > max_side:
            scale = max_side / max(height, width)
            size = [max(1, round(height * scale)), max(1, round(width * scale))]
            small = tf.image.resize(imageio.to_float(rgb), size, method="area", antialias=True).numpy()
            if isinstance(border, prints.Frame):
                border = prints.scaled(border, size[0] / height, size[1] / width, *size)
            rgb = np.clip(small, 0.0, 1.0)
        prepared = self.preprocessor(rgb, border)
        if self.report is not None and border is True:
            found = prepared.frame
            self.report(name or "the image", "no border found" if found is None else
                        found.describe(prepared.height, prepared.width))
        return prepared

    def parse_hints(self, hints, prepared, name=None):
        """User hints for a prepared photo -> parsed ``colorize.pipeline.hints.Hint`` list (``InputError`` if
        unusable)."""
        if not hints:
            return []
        if not self.hints:
            raise InputError(f"hints given for {name or 'the image'}, but the model {self.name!r} takes no hints; "
                             "use a hint preset such as bigru_fusion_64_hints (see colorize.list_presets())")
        return hint_lib.parse_hints(hints, prepared.height, prepared.width, name or "the image")

    def prepare_reference(self, image, name=None):
        """A colour reference photo (path, PIL image, array) -> ``colorize.pipeline.reference.Reference``, prepared
        once and re-usable for any number of photos (``InputError`` if unreadable, greyscale, or this model takes
        no hints)."""
        return reference_lib.prepare_reference(self, image, name)

    def predict_ab(self, prepared, hints=None, references=None, uses=None):
        """The network step: ``Prepared`` photos and their parsed hints (a list of ``Hint`` lists, from
        ``parse_hints``, or None) and references (a list of ``Reference`` or None, from ``prepare_reference``)
        -> ab (B, S, S, 2) on the network's canvas, the readout applied (numpy). A user's hint wins over the
        reference's colour at its point. ``uses``: a list that gets, per photo, what its reference did
        (``colorize.pipeline.reference.ReferenceUse``, or None without a reference)."""
        channels = palettes = None
        if uses is not None and not self.hints:
            uses.extend([None] * len(prepared))  # no hint inputs: no reference either (prepare_reference refuses)
        if self.hints:
            hints = [None] * len(prepared) if hints is None else hints
            references = [None] * len(prepared) if references is None else references
            found = [(None, None) if r is None else reference_lib.channels_and_use(self, p, r)
                     for p, r in zip(prepared, references)]
            if uses is not None:
                uses.extend(use for _, use in found)
            channels = np.stack([reference_lib.combine(
                from_reference, network_channels(*_on_canvas(h or [], p), int(p.box_height), int(p.box_width),
                                                 self.config.input_size))
                for h, p, (from_reference, _) in zip(hints, prepared, found)])
            if self.config.palette:  # a reference's palette steers where its matches do not reach
                none = np.zeros(bins.num_bins() + 1, np.float32)
                palettes = np.stack([none if r is None else reference_lib.palette(r) for r in references])
        return self.network(prepared, channels, palettes).numpy()

    def finish(self, prepared, ab, hints=None, saturation=None):
        """The full-resolution step: a ``Prepared`` photo, its ab from ``predict_ab`` (S, S, 2) and its parsed
        hints -> uint8 (H, W, 3) RGB (guided upsampling by the photo's L, hints honoured, Lab -> sRGB).
        ``saturation``: the chroma multiplier (default: the Colorizer's)."""
        saturation = self.saturation if saturation is None else check_saturation(saturation)
        frame = prepared.frame
        if frame is None:
            return self.postprocessor.finish(prepared.lightness, ab, prepared.box_height, prepared.box_width,
                                             hints or [], saturation)
        inside = self.postprocessor.finish(prepared.lightness[frame.top:frame.bottom, frame.left:frame.right], ab,
                                           prepared.box_height, prepared.box_width,
                                           prints.hints_in_frame(hints or [], frame), saturation)
        return prints.with_neutral_border(inside, prepared.lightness, frame)

    def colorize_prepared(self, prepared, hints=None, name=None, reference=None, saturation=None):
        """Colorize a ``Prepared`` photo with optional ``hints`` and colour ``reference`` (a photo, or a
        ``Reference`` from ``prepare_reference``, re-used as is) -> uint8 (H, W, 3); ``saturation`` as in
        ``finish``."""
        _check_prepared(prepared)
        if saturation is not None:
            check_saturation(saturation)
        return self._colorize([prepared], [hints], [name], [reference], saturation)[0]

    def _colorize(self, prepared, hints, names, references=None, saturation=None, uses=None):
        parsed = [self.parse_hints(h, p, n) for p, h, n in zip(prepared, hints, names)]
        references = [None] * len(prepared) if references is None else references
        found = []
        ab = self.predict_ab(prepared, parsed, [None if r is None else self.prepare_reference(r) for r in references],
                             found)
        for use, name in zip(found, names):
            use = None if use is None else dataclasses.replace(use, photo=name or "the photo")
            if uses is not None:
                uses.append(use)
            elif use is not None:  # said, not only done: an unrelated reference looks like no reference at all
                warnings.warn(ReferenceReport(use), stacklevel=4)
        return [self.finish(p, ab_i, h, saturation) for p, ab_i, h in zip(prepared, ab, parsed)]

    def colorize(self, image: ImageLike, hints: HintLike | None = None, name: str | None = None,
                 reference: ImageLike | Reference | None = None, saturation: float | None = None) -> np.ndarray:
        """Colorize one image: a path, a PIL image or an array ((H,W), (H,W,1), (H,W,3) or (H,W,4); uint8, or
        float in [0, 1]). ``hints``: ``[(x, y, color[, radius]), ...]`` (see ``colorize.pipeline.hints``).
        ``reference``: a colour photo (path, PIL image, array, or a ``prepare_reference`` result) whose colours are
        matched onto this one (a hint model). Returns a uint8 (H, W, 3) RGB array of the same height and width."""
        return self.colorize_batch([image], names=None if name is None else [name],
                                   hints=None if hints is None else [hints],
                                   references=None if reference is None else [reference], saturation=saturation)[0]

    def colorize_batch(self, images: typing.Iterable[ImageLike] | np.ndarray, batch_size: int = 16,
                       names: typing.Sequence[str] | None = None,
                       hints: typing.Sequence[HintLike | None] | None = None,
                       references: typing.Sequence[ImageLike | Reference | None] | None = None,
                       saturation: float | None = None, uses: list | None = None) -> list[np.ndarray]:
        """Colorize several images (any iterable, or an (N, H, W, C) array), running the network on up to
        ``batch_size`` at a time; ``names``, ``hints`` (one hint list per image) and ``references`` (one colour
        reference per image, or None; the same one is prepared once) are optional. ``uses``: a list that gets
        what each photo's reference did (``ReferenceUse``, or None), instead of a ``ReferenceReport`` warning each
        (Python's warnings are process-wide: a thread beside this one may be filtering them)."""
        if saturation is not None:
            check_saturation(saturation)
        images = _as_list(images, "images")
        if not images:
            raise InputError("empty batch: pass at least one image to colorize_batch")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
        names = [None] * len(images) if names is None else _as_list(names, "names")
        hints = [None] * len(images) if hints is None else _as_list(hints, "hints")
        references = [None] * len(images) if references is None else _as_list(references, "references")
        for what, values in (("names", names), ("hints", hints), ("references", references)):
            if len(values) != len(images):
                raise InputError(f"{len(values)} {what} for {len(images)} images; pass one per image")
        prepared_refs = {}  # each distinct reference prepared once, and before any photo is colorized
        for r in references:
            if r is not None and id(r) not in prepared_refs:
                prepared_refs[id(r)] = self.prepare_reference(r)
        references = [None if r is None else prepared_refs[id(r)] for r in references]
        results = []
        for start in range(0, len(images), batch_size):
            end = start + batch_size
            prepared = [self.prepare(image, name) for image, name in zip(images[start:end], names[start:end])]
            results += self._colorize(prepared, hints[start:end], names[start:end], references[start:end],
                                      saturation, uses)
        return results


def _model_config(config):
    """A ``Config`` or ``ModelConfig`` -> the ``ModelConfig``; ``InputError`` for anything else."""
    config = getattr(config, "model", config)
    if not isinstance(config, ModelConfig):
        raise InputError(f"config must be a colorize Config or ModelConfig (colorize.load_config(path)), got "
                         f"{type(config).__name__}")
    return config


def _on_canvas(hints, prepared):
    """A photo's parsed hints and the size of what the network sees of it (the inside of its frame, if any)."""
    frame = prepared.frame
    if frame is None:
        return hints, prepared.height, prepared.width
    return prints.hints_in_frame(hints, frame), frame.height, frame.width


def _check_prepared(prepared):
    """``InputError`` unless ``prepared`` is what ``Colorizer.prepare`` returns (a string got AttributeError)."""
    from colorize.pipeline.preprocess import Prepared
    if not isinstance(prepared, Prepared):
        raise InputError(f"colorize_prepared takes a photo from Colorizer.prepare(image), got "
                         f"{type(prepared).__name__} {str(prepared)[:40]!r}; pass the image to colorize() instead")


def _as_list(values, what):
    if isinstance(values, np.ndarray):
        return list(values) if values.ndim == 4 or what != "images" else [values]
    if isinstance(values, (str, bytes, os.PathLike)) or not hasattr(values, "__iter__"):
        if what == "images":
            raise InputError(f"colorize_batch takes a list of images, got a single {type(values).__name__}; use "
                             "colorize() for one image or wrap it in a list")
        raise InputError(f"{what} must be a list, got {type(values).__name__}")
    return list(values)


def load_pretrained(name: str | None = None, **kwargs) -> Colorizer:
    """The Colorizer of a registered preset (default: the shipped 64x64 BiGRU fusion model), weights verified.
    The short form of ``Colorizer.from_preset``."""
    return Colorizer.from_preset(name, **kwargs)


def _card_readout(preset, kwargs):
    """``kwargs`` with the preset card's readout: its own, or a kind given in ``kwargs`` with the card's tuned
    parameters (a Readout given whole is kept)."""
    options = dict(kwargs)
    kind = options.get("readout") or preset.readout.get("kind", "regression")
    if isinstance(kind, str):
        options["readout"] = Readout(**{**preset.readout, "kind": kind})
    return options

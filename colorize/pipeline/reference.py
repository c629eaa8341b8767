"""Colour from a reference photo: a colour photo of the same scene, person or kind of thing becomes colour hints
for the grey photo being colorized.

Exemplar-based colorization in two halves, as in He, Chen et al. 2018 ("Deep Exemplar-based Colorization"): dense
correspondences between the grey photo and the reference in a deep feature space, with a confidence for each,
then a network that takes the matched colours where they are trustworthy and its own prior elsewhere. The second
half is the hint network (``bigru_fusion_64_hints``), which learned to spread hint channels over the right regions;
this module is the first half:

1. ``prepare_reference``: the reference decoded and checked (colour, not grey), shrunk to the network's canvas,
   its lightness remapped to the grey photo's mean and spread (the luminance remapping of Welsh et al. 2002, done
   per match because it depends on the grey photo), its features and cell colours kept for re-use (the web app
   and a video match many photos against one reference).
2. ``match``: features for every cell of a grid at half the canvas (the decoder's output resolution) from the
   network's own encoder (each stage's last activations, L2-normalised, upsampled to the grid; those of the
   mirrored photo flipped back and added, so that a mirrored reference matches too) plus the cell's
   lightness mean and spread in a 5x5 window (Welsh et al.'s neighbourhood statistics); cosine similarity between
   all cells of the two photos; a grey cell keeps its match only if it is mutual (the reference cell's own best
   match lands within one cell of it: a cycle-consistency check like He et al.'s bidirectional similarity), clear
   of what the grey photo resembles within itself (a ratio test against its best match elsewhere in its own
   image, so an unrelated reference, which matches nothing better than the photo matches itself, gives few
   hints) and agreed on by its best matches (their colours close). Kept cells get the similarity-weighted mean
   colour of their best matches.
3. ``reference_channels``: the kept cells as the network's hint channels (ab and a mask) at its canvas; cells
   without a confident match stay unhinted, so the network's own colours fill them. ``combine`` lets a user's
   explicit hints win at their points.
4. ``palette``: for a model with a palette input (``model.palette``), the reference's ab histogram, a global
   condition that steers the whole photo towards the reference's colours where no cell matched (a reference of
   the same kind of scene rather than the same scene; Zhang, Zhu et al. 2017's global hints).
"""
import dataclasses
import time
import weakref

import numpy as np
import tensorflow as tf

from colorize import color
from colorize import io as imageio
from colorize.errors import InputError
from colorize.model import bins

GREY_CHROMA = 2.0         # Lab units: a reference whose 99th-percentile chroma is below this is greyscale
TOP_K = 4                 # best matches whose colours are averaged (and must agree)
STAGE_WEIGHTS = (0.5, 1.0, 1.0)   # encoder stages, fine to coarse
STATS_WEIGHT = 0.5        # the lightness mean / spread beside the encoder features
MIN_SIMILARITY = 0.6      # cosine similarity below which no match is kept
MARGIN = 0.0              # how much better than the photo's best match within itself a reference match must be
MAX_SPREAD = 12.0         # Lab units: the top matches' colours must agree this closely
RELATED_SHARE = 0.05      # share of strict matches from which the reference counts as showing the same scene
LOOSE_MARGIN = -0.1       # ... and then looser matches are kept too
LOOSE_SPREAD = 20.0
LOOSE_RADIUS = 99         # grid cells (99: no mutual check for the looser matches)
USER_CLEARANCE = 4        # network pixels around a user's hint that the reference leaves to it
MUTUAL_RADIUS = 1         # grid cells: how far the reference cell's own best match may land from the grey cell


@dataclasses.dataclass(frozen=True)
class Reference:
    """A reference photo prepared once: ``lightness`` (h, w) Lab L and ``ab`` (h, w, 2) on the canvas (aspect
    kept, long side = the network's input size), and its ``name`` for messages."""
    name: str
    lightness: np.ndarray
    ab: np.ndarray

    @property
    def mean_ab(self):
        return self.ab.reshape(-1, 2).mean(0)


@dataclasses.dataclass(frozen=True)
class Matches:
    """The result of ``match`` on the grid at half the canvas (the grey photo's box only): ``ab`` (gh, gw, 2)
    the matched colour, ``confidence`` (gh, gw) in [0, 1] (0: no confident match), ``source`` (gh, gw, 2) the
    reference cell (row, col) each grey cell matched best."""
    ab: np.ndarray
    confidence: np.ndarray
    source: np.ndarray
    related: float = 0.0   # share of the grey cells with a strict (mutual, clear, agreed) match

    @property
    def coverage(self):
        return float(np.mean(self.confidence > 0))


def _check_model(colorizer, name):
    if not colorizer.hints:
        raise InputError(f"reference {name} given, but the model {colorizer.name!r} takes no hint inputs to "
                         "carry its colours; use a hint preset such as bigru_fusion_64_hints")


def prepare_reference(colorizer, image, name=None):
    """A colour reference photo (path, PIL image or array, any size and aspect) -> ``Reference`` for
    ``colorizer`` (a hint model). ``InputError`` naming it if it cannot be read, is greyscale, or the model
    takes no hints. A ``Reference`` passed in is returned as it is."""
    if isinstance(image, Reference):  # prepared by another model: this one must take references too
        _check_model(colorizer, image.name)
        return image
    if isinstance(image, (str, bytes)) and not image:
        raise InputError("reference '' is an empty path; give a colour photo's path, or no reference")
    name = str(name) if name is not None else (
        str(image) if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__") else "reference")
    _check_model(colorizer, name)
    rgb = imageio.load_array(image, name=f"reference {name}" if not name.startswith("reference") else name,
                             max_pixels=colorizer.max_pixels)
    size = colorizer.config.input_size
    height, width = rgb.shape[:2]
    scale = size / max(height, width)
    small = tf.image.resize(imageio.to_float(rgb), [max(1, round(height * scale)), max(1, round(width * scale))],
                            method="area", antialias=True)
    lab = color.rgb_to_lab(tf.clip_by_value(small, 0.0, 1.0)).numpy()
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    if np.percentile(chroma, 99) < GREY_CHROMA:
        raise InputError(f"reference {name} is greyscale; a reference must be a colour photo")
    return Reference(name, lab[..., 0], lab[..., 1:])


# -- features ------------------------------------------------------------------------------------------------
_ENCODERS = weakref.WeakKeyDictionary()  # model -> its compiled encoder, which holds no reference to the model
# object itself (only its layers' variables), so the entry goes when the model does


def _encoder(colorizer):
    """The network's encoder: scaled L on the canvas -> each stage's last activations (compiled once per model)."""
    run = _ENCODERS.get(colorizer.model)
    if run is None:
        run = _ENCODERS[colorizer.model] = _compile_encoder(colorizer.model, colorizer.config, colorizer.hints)
    return run


def _compile_encoder(model, config, hints):
    from colorize.model import encoder
    sub = encoder(model, config)
    size = config.input_size
    hint_shape = [1, size, size, 3]

    @tf.function(input_signature=[tf.TensorSpec([None, size, size, 1])])
    def run(l_scaled):
        inputs = [l_scaled, tf.zeros(tf.concat([tf.shape(l_scaled)[:1], hint_shape[1:]], 0))]
        outputs = sub(inputs if hints else l_scaled, training=False)
        grid = size // 2
        parts = []
        for weight, part in zip(STAGE_WEIGHTS, outputs):
            part = tf.math.l2_normalize(tf.cast(part, tf.float32), axis=-1)
            parts.append(weight * tf.image.resize(part, [grid, grid], method="bilinear"))
        return tf.concat(parts, -1)
    return run


def _canvas(lightness, size):
    """L (h, w) in Lab units -> scaled L on the square canvas (size, size, 1), edge-padded as the Preprocessor
    pads a photo."""
    h, w = lightness.shape
    rows, cols = np.minimum(np.arange(size), h - 1), np.minimum(np.arange(size), w - 1)
    return color.scale_l(tf.constant(lightness[rows][:, cols][..., None], tf.float32))


def _local_stats(lightness):
    """L (h, w) -> its mean and standard deviation in a 5x5 window (h, w, 2), in Lab units / 100."""
    l = tf.constant(lightness[None, ..., None] / 100.0, tf.float32)
    mean = tf.nn.avg_pool2d(l, 5, 1, "SAME")
    var = tf.nn.avg_pool2d(l * l, 5, 1, "SAME") - mean * mean
    return tf.concat([mean, tf.sqrt(tf.maximum(var, 0.0))], -1)[0].numpy()


def _grid(values, gh, gw):
    """(h, w, C) on the canvas -> (gh, gw, C) mean of each 2x2 cell (area resize)."""
    return tf.image.resize(values[None], [gh, gw], method="area", antialias=True)[0].numpy()


def cell_features(colorizer, lightness):
    """L (h, w) in Lab units (a photo's box on the canvas) -> unit feature vectors of its grid cells
    (gh, gw, C): the encoder's stages and the lightness statistics, at half the canvas."""
    size = colorizer.config.input_size
    h, w = lightness.shape
    gh, gw = -(-h // 2), -(-w // 2)
    # the photo and its mirror image in one batch, the mirror's features flipped back and added: a descriptor
    # that a mirrored reference shares (the encoder's filters see orientation; colour rarely depends on it)
    both = _encoder(colorizer)(tf.stack([_canvas(lightness, size), _canvas(lightness[:, ::-1], size)])).numpy()
    deep = both[0, :gh, :gw] + both[1, :gh, :gw][:, ::-1]
    stats = _grid(_local_stats(lightness), gh, gw) * np.float32(STATS_WEIGHT * 4.0)
    features = np.concatenate([deep, stats], -1)
    return features / np.maximum(np.linalg.norm(features, axis=-1, keepdims=True), 1e-6)


# -- matching ------------------------------------------------------------------------------------------------
def remap_lightness(reference_l, photo_l):
    """Welsh et al.'s luminance remapping: the reference's L moved to the photo's L mean and spread."""
    ref_mean, ref_std = float(reference_l.mean()), float(reference_l.std())
    scale = float(photo_l.std()) / max(ref_std, 1e-3)
    return np.clip((reference_l - ref_mean) * scale + float(photo_l.mean()), 0.0, 100.0)


def photo_lightness(prepared):
    """The grey photo's L (h, w) in Lab units on its box of the canvas."""
    h, w = int(prepared.box_height), int(prepared.box_width)
    return np.asarray(prepared.l_input[:h, :w, 0], np.float32) * np.float32(color.L_SCALE) + np.float32(color.L_CENTER)


def match(colorizer, prepared, reference, timings=None):
    """A ``Prepared`` grey photo and a ``Reference`` -> ``Matches`` on the photo's grid (see the module doc).
    ``timings``: a dict that gets the seconds of each stage (``features``, ``matching``)."""
    start = time.perf_counter()
    photo_l = photo_lightness(prepared)
    target = cell_features(colorizer, photo_l)
    source = cell_features(colorizer, remap_lightness(reference.lightness, photo_l))
    features_done = time.perf_counter()
    gh, gw = target.shape[:2]
    rh, rw = source.shape[:2]
    t = target.reshape(-1, target.shape[-1])
    s = source.reshape(-1, source.shape[-1])
    ref_ab = _grid(reference.ab, rh, rw).reshape(-1, 2)
    sim = t @ s.T                                                     # (Nt, Nr)
    k = min(TOP_K, sim.shape[1])
    top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    top_sim = np.take_along_axis(sim, top, 1)
    order = np.argsort(-top_sim, axis=1)
    top, top_sim = np.take_along_axis(top, order, 1), np.take_along_axis(top_sim, order, 1)
    best = top[:, 0]
    # mutual: the reference cell's own best grey cell lands near this one
    back = np.argmax(sim, axis=0)[best]
    ty, tx = np.divmod(np.arange(len(t)), gw)
    by, bx = np.divmod(back, gw)
    mutual = (np.abs(by - ty) <= MUTUAL_RADIUS) & (np.abs(bx - tx) <= MUTUAL_RADIUS)
    # ratio test against the photo itself: its best match outside its own neighbourhood
    self_sim = t @ t.T
    near = (np.abs(ty[:, None] - ty[None, :]) <= 2) & (np.abs(tx[:, None] - tx[None, :]) <= 2)
    self_best = np.where(near, -1.0, self_sim).max(1)
    clear = top_sim[:, 0] >= np.minimum(self_best, 1.0) + MARGIN
    weights = np.exp((top_sim - top_sim[:, :1]) * 20.0)
    weights /= weights.sum(1, keepdims=True)
    ab = np.einsum("nk,nkc->nc", weights, ref_ab[top])
    spread = np.sqrt(np.einsum("nk,nk->n", weights, np.square(ref_ab[top] - ab[:, None]).sum(-1)))
    keep = mutual & (top_sim[:, 0] >= MIN_SIMILARITY) & (spread <= MAX_SPREAD) & clear
    related = float(keep.mean())
    if related < RELATED_SHARE:  # the reference has not shown that it shows this scene: no hints at all
        keep[:] = False
    else:  # it has: looser matches are trusted too
        loose_mutual = (np.abs(by - ty) <= LOOSE_RADIUS) & (np.abs(bx - tx) <= LOOSE_RADIUS)
        keep |= ((top_sim[:, 0] >= np.minimum(self_best, 1.0) + LOOSE_MARGIN) & (spread <= LOOSE_SPREAD)
                 & (top_sim[:, 0] >= MIN_SIMILARITY) & loose_mutual)
    confidence = np.where(keep, np.clip(top_sim[:, 0], 0.0, 1.0), 0.0)
    if timings is not None:
        timings["features"] = features_done - start
        timings["matching"] = time.perf_counter() - features_done
    return Matches(ab.reshape(gh, gw, 2).astype(np.float32), confidence.reshape(gh, gw).astype(np.float32),
                   np.stack(np.divmod(best, rw), -1).reshape(gh, gw, 2), related)


def reference_channels(matches, size):
    """``Matches`` -> hint channels (size, size, 3) on the canvas: scaled ab and a 0/1 mask where a grey cell
    kept a confident match (each grid cell covers 2x2 canvas pixels)."""
    channels = np.zeros((size, size, 3), np.float32)
    gh, gw = matches.confidence.shape
    cells = np.concatenate([matches.ab / color.AB_SCALE, (matches.confidence > 0)[..., None]], -1)
    up = np.repeat(np.repeat(cells, 2, 0), 2, 1)[:size, :size]
    channels[:up.shape[0], :up.shape[1]] = up
    channels[..., :2] *= channels[..., 2:]
    return channels


def combine(reference, user):
    """Reference hint channels and a user's (both (S, S, 3)): the user's win wherever their mask is set, and the
    reference gives no hints within ``USER_CLEARANCE`` network pixels of them, so that a click's colour spreads
    over its neighbourhood instead of staying a dot amid the reference's colours."""
    if reference is None:
        return user
    if user is None:
        return reference
    side = 2 * USER_CLEARANCE + 1
    near = tf.nn.max_pool2d(tf.constant(user[None, ..., 2:], tf.float32), side, 1, "SAME")[0].numpy() > 0
    return np.where(near, user, reference)


def palette(reference):
    """A ``Reference`` -> the palette input of a palette model (Q + 1,): the histogram of its colours over the ab
    bins (at a quarter of the canvas, as training makes them: ``colorize.training.hint_simulation``) and a 1 flag."""
    h, w = reference.ab.shape[:2]
    small = tf.image.resize(tf.constant(reference.ab[None], tf.float32), [max(1, h // 4), max(1, w // 4)],
                            method="area")
    histogram = bins.histogram(small, tf.ones(tf.shape(small)[:3]))[0].numpy()
    return np.append(histogram, np.float32(1.0)).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class ReferenceUse:
    """What a reference did for one photo: ``matched`` the share of the photo's cells that took its colours (0:
    nothing matched), ``palette`` whether the model took its palette too (a palette model steers the whole photo
    with it)."""
    reference: str
    photo: str
    matched: float
    palette: bool = False

    def __str__(self):
        if self.matched > 0:
            return f"reference {self.reference}: matched {self.matched:.0%} of {self.photo}" + \
                ("; its palette steers the rest" if self.palette else "")
        if self.palette:
            return f"reference {self.reference}: matched nothing in {self.photo}; its palette steers the colours"
        return f"reference {self.reference}: matched nothing in {self.photo}: automatic colours"


def channels_and_use(colorizer, prepared, reference, photo="the photo"):
    """The hint channels (S, S, 3) a ``Reference`` gives a ``Prepared`` grey photo and its ``ReferenceUse``."""
    matches = match(colorizer, prepared, reference)
    return (reference_channels(matches, colorizer.config.input_size),
            ReferenceUse(reference.name, photo, matches.coverage, bool(colorizer.config.palette)))

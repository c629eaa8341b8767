"""The readouts, the shipped (restrained) one included: the formulas, and the cast estimated on the photo's area."""
import numpy as np
import pytest
import tensorflow as tf

import colorize
from colorize import color
from colorize.evaluation import metrics
from colorize.model import bins
from colorize.pipeline.postprocess import Postprocessor, photo_area
from colorize.pipeline.readout import Readout, count_patches
from colorize.presets import get_preset

S = 8


def _outputs(ab_lab, logits=None):
    out = {"ab": tf.constant(np.asarray(ab_lab, np.float32) / color.AB_SCALE)}
    if logits is not None:
        out["ab_bins"] = tf.constant(logits, tf.float32)
    return out


def test_cast_is_estimated_on_the_photo_not_the_padding():
    # A photo filling the top 3 rows of the canvas, tinted +10 in a; the padding below predicted -50.
    ab = np.zeros((1, S, S, 2), np.float32)
    ab[0, :3, :, 0], ab[0, 3:, :, 0] = 10.0, -50.0
    post = Postprocessor(S, Readout(cast_removal=1.0))
    out = post.read(_outputs(ab), tf.constant([3]), tf.constant([S])).numpy()
    np.testing.assert_allclose(out[0, :3, :, 0], 0.0, atol=1e-4)   # the photo's own cast, all of it, removed
    whole = Readout(cast_removal=1.0)(_outputs(ab), S).numpy()       # the canvas mean would leave it at +32.5
    np.testing.assert_allclose(whole[0, :3, :, 0], 10.0 - (3 * 10.0 - 5 * 50.0) / 8, atol=1e-4)


def test_photo_area_marks_each_box():
    area = photo_area(tf.constant([2, 8]), tf.constant([5, 1]), S).numpy()[..., 0]
    assert area[0].sum() == 10 and area[0, :2, :5].all() and area[1].sum() == 8 and area[1, :, 0].all()


def test_restrained_blends_the_heads_and_fades_uncertain_pixels():
    rng = np.random.default_rng(0)
    ab = rng.uniform(-40, 40, (1, 16, 16, 2))
    q = bins.num_bins()
    sure = np.full((1, 4, 4, q), -30.0)
    sure[..., 100] = 30.0                      # one bin: spread ~0
    vague = np.zeros((1, 4, 4, q))             # uniform over all bins: a wide spread
    regression = Readout()(_outputs(ab, sure), 16).numpy()
    np.testing.assert_allclose(regression, ab, atol=1e-4)
    annealed = Readout(kind="annealed")(_outputs(ab, sure), 16).numpy()
    np.testing.assert_allclose(annealed, np.broadcast_to(bins.bin_centers()[100], annealed.shape), atol=1e-3)
    readout = Readout(kind="restrained", mix=0.5, gain=1.2, spread_low=5.0, spread_high=20.0)
    np.testing.assert_allclose(readout(_outputs(ab, sure), 16).numpy(), 1.2 * (0.5 * ab + 0.5 * annealed),
                               atol=1e-3)
    assert np.abs(readout(_outputs(ab, vague), 16).numpy()).max() < 1e-4  # the model does not know: grey


def test_the_shipped_readout_is_the_cards(photos):
    card = get_preset("bigru_fusion_64").readout
    colorizer = colorize.load_pretrained()
    assert colorizer.readout == Readout(**card) and card["kind"] == "restrained"
    regression = colorize.load_pretrained(readout="regression")
    assert regression.readout.kind == "regression" and regression.readout.cast_removal == card["cast_removal"]
    photo = photos["coffee"][::4, ::4]
    shipped, plain = colorizer.colorize(photo), regression.colorize(photo)
    cf = [float(metrics.colorfulness(tf.constant(x[None] / 255.0, tf.float32))[0]) for x in (shipped, plain)]
    assert cf[0] > cf[1]  # half the annealed mean: more colourful than the regression head alone


def test_readout_errors_are_input_errors():
    with pytest.raises(colorize.InputError, match="readout must be one of"):
        Readout(kind="vivid")
    with pytest.raises(colorize.InputError, match="needs a model with a bins head"):
        config = colorize.config.ModelConfig(input_size=32, encoder_widths=(8, 16), row_units=8, global_units=8,
                                             fusion_width=16, bins_head=False)
        colorize.Colorizer(colorize.build_model(config), config, readout="annealed")


def test_hinted_photos_have_their_own_cast_removal():
    ab = np.full((2, S, S, 2), 20.0, np.float32)
    out = Readout(cast_removal=0.5)(_outputs(ab), S, hinted=tf.constant([False, True])).numpy()
    np.testing.assert_allclose(out[0], 10.0, atol=1e-4)
    np.testing.assert_allclose(out[1], 20.0, atol=1e-4)
    out = Readout(cast_removal=0.5, hinted_cast_removal=0.25)(_outputs(ab), S, hinted=tf.constant([True, False]))
    np.testing.assert_allclose(out.numpy()[0], 15.0, atol=1e-4)


def test_a_hint_changes_the_colours_only_near_itself():
    """``steer``: the automatic colours plus the hints' change, weighted exp(-d^2 / 2 reach^2) by the distance to
    the nearest hinted pixel."""
    readout, size = Readout(hint_reach=4.0), 32
    mask = np.zeros((1, size, size, 1), np.float32)
    mask[0, 5, 6] = mask[0, 20:22, 20:22] = 1.0
    near = readout.near_hints(tf.constant(mask)).numpy()[0, ..., 0]
    rows, cols = np.mgrid[:size, :size]
    squared = np.minimum((rows - 5) ** 2 + (cols - 6) ** 2,
                         np.min([(rows - r) ** 2 + (cols - c) ** 2 for r in (20, 21) for c in (20, 21)], axis=0))
    within = squared <= 12 ** 2  # the Gaussian is cut at 3 reach (exp(-4.5) = 0.011)
    np.testing.assert_allclose(near[within], np.exp(-squared / 32.0)[within], atol=1e-6)
    assert near[~within].max() < 0.012
    automatic, steered = np.zeros((1, size, size, 2), np.float32), np.full((1, size, size, 2), 10.0, np.float32)
    out = readout.steer(tf.constant(automatic), tf.constant(steered), tf.constant(mask)).numpy()
    np.testing.assert_allclose(out[0, 5, 6], 10.0, atol=1e-5)
    assert np.abs(out[0, 5, 26]).max() < 10 * np.exp(-400 / 32) + 1e-5  # 20 pixels from both hints: untouched
    # Two hints (patches) let a share 1 - exp(-1 / 2) of their change reach the whole photo.
    np.testing.assert_allclose(count_patches(tf.constant(mask)).numpy(), [2.0])
    several = Readout(hint_reach=4.0, hints_for_photo=2.0)
    out = several.steer(tf.constant(automatic), tf.constant(steered), tf.constant(mask)).numpy()
    np.testing.assert_allclose(out[0, 5, 26], 10 * (1 - np.exp(-0.5)), atol=1e-3)


def test_a_hints_reach_stops_at_a_strong_edge_of_the_photo():
    """With ``hint_edges`` the reach is geodesic: on the hint's side of a lightness edge it is the straight
    distance's Gaussian; across the edge (dark | light halves) it is nearly nothing, however close."""
    readout, size = Readout(hint_reach=4.0, hint_edges=0.5), 32
    mask = np.zeros((1, size, size, 1), np.float32)
    mask[0, 16, 12] = 1.0
    lightness = np.full((1, size, size, 1), 20.0, np.float32)
    lightness[:, :, 16:] = 80.0                                   # an edge between columns 15 and 16
    near = readout.near_along_edges(tf.constant(mask), tf.constant(lightness)).numpy()[0, ..., 0]
    straight = Readout(hint_reach=4.0).near_hints(tf.constant(mask)).numpy()[0, ..., 0]
    # its own side, off the edge's 3x3 blur: along a row exactly, elsewhere as an 8-connected path approximates it
    np.testing.assert_allclose(near[16, :14], straight[16, :14], atol=1e-5)
    np.testing.assert_allclose(near[8:25, :14], straight[8:25, :14], atol=0.06)
    assert straight[16, 17] > 0.3 and near[16, 17] < 1e-3        # 5 pixels away, across the edge
    flat = readout.near_along_edges(tf.constant(mask), tf.constant(np.full_like(lightness, 50.0))).numpy()
    np.testing.assert_allclose(flat[0, ..., 0], straight, atol=0.06)  # no edge: as before


def test_a_restrained_readout_without_a_fade_does_not_compute_the_spread(monkeypatch):
    """The shipped cards set spread_high 1e9: the fade never acts, so its per-cell spread is not worth a pass."""
    from colorize.model import bins
    from colorize.pipeline.readout import Readout
    logits = tf.random.stateless_normal([1, 8, 8, bins.num_bins()], [1, 2])
    outputs = {"ab": tf.random.stateless_uniform([1, 16, 16, 2], [3, 4], -0.3, 0.3), "ab_bins": logits}
    readout = Readout("restrained", mix=0.5, gain=1.2)
    almost_off = Readout("restrained", mix=0.5, gain=1.2, spread_high=0.99e9)  # the fade's formula, at its limit
    assert almost_off.fades
    before = almost_off(outputs, 16).numpy()
    calls = []
    monkeypatch.setattr(bins, "spread", lambda x: calls.append(1) or tf.zeros(tf.shape(x)[:-1]))
    np.testing.assert_allclose(readout(outputs, 16).numpy(), before, rtol=1e-6, atol=1e-6)  # no spread computed
    assert not calls and not readout.fades
    faded = Readout("restrained", mix=0.5, gain=1.2, spread_low=0.0, spread_high=10.0)
    assert faded.fades
    faded(outputs, 16)
    assert calls

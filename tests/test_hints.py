"""Colour hints: parsing and its errors, the network's hint channels, the training-time simulation, and the
Colorizer's hint interface on a small random hint model (the trained preset's behaviour: test_hint_preset.py)."""
import json
import warnings

import numpy as np
import pytest
import tensorflow as tf

import colorize
from colorize.config import HintsConfig, ModelConfig
from colorize.errors import ConfigError, InputError
from colorize.pipeline import hint_channels, hint_enforcement, hint_files, hints, per_pixel
from colorize.training import hint_simulation

TINY = ModelConfig(input_size=32, encoder_widths=(8, 16), row_units=8, global_units=8, fusion_width=16, hints=True)


@pytest.fixture(scope="module")
def astronaut_small(photos):
    return photos["astronaut"][::8, ::6]  # 64 x 86, not square


@pytest.fixture(scope="module")
def tiny_hint_colorizer():
    return colorize.Colorizer(colorize.build_model(TINY), TINY, name="tiny-hints")


def test_parse_accepts_tuples_dicts_hex_and_rgb():
    parsed = hints.parse_hints([(10, 5, "#ff0000"), {"x": 3.5, "y": 0, "color": "00ff00", "radius": 4},
                                (0, 19.9, (0, 0, 255), 2)], height=20, width=30)
    assert [h.rgb for h in parsed] == [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    assert [h.radius for h in parsed] == [None, 4.0, 2.0]
    assert parsed[0].ab == pytest.approx((80.1, 67.2), abs=0.2)   # sRGB red in CIE Lab (D65)
    assert parsed[2].ab == pytest.approx((79.2, -107.9), abs=0.2)  # blue
    assert hints.parse_hints(None, 5, 5) == [] and hints.parse_hints([], 5, 5) == []


@pytest.mark.parametrize("bad, message", [
    ([(30, 5, "#ff0000")], "outside the 30x20 image"),
    ([(-1, 5, "#ff0000")], "outside"),
    ([(3, 5, "#ff00")], "neither #rrggbb nor a CSS colour name"),
    ([(3, 5, "redd")], "did you mean red"),
    ([(3, 5, "fforestgren")], "did you mean forestgreen"),
    ([(3, 5, "zzzz")], "e.g. red, navy"),
    ([(3, 5, (255, 0, 256))], "ints 0-255"),
    ([(3, 5, (255, 0, 1.5))], "ints 0-255"),
    ([(float("nan"), 5, "#ff0000")], "not a finite number"),
    ([(3, 5, "#ff0000", 0)], "radius must be positive"),
    ([(3, 5)], r"must be \(x, y, color\)"),
    ([{"x": 1, "y": 2}], "needs keys x, y, color"),
    ([{"x": 1, "y": 2, "color": "#000000", "colour": 1}], "needs keys"),
    ("#ff0000", "must be a list"),
])
def test_bad_hints_name_the_hint(bad, message):
    with pytest.raises(InputError, match=message) as err:
        hints.parse_hints(bad, height=20, width=30, name="photo.jpg")
    assert "photo.jpg" in str(err.value) and "\n" not in str(err.value)


def test_css_colour_names_are_colours():
    """CSS names in any case, with spaces or hyphens, give their colours (navy is #000080)."""
    parsed = hints.parse_hints([(1, 1, "red"), {"x": 2, "y": 2, "color": "Forest Green"}, (3, 3, "navy", 2)], 20, 30)
    assert [h.rgb for h in parsed] == [(255, 0, 0), (34, 139, 34), (0, 0, 128)]
    assert parsed[0].ab == hints.parse_hints([(1, 1, "#ff0000")], 20, 30)[0].ab
    assert hints.parse_cli_hint("100,100,red") == (100.0, 100.0, "red")


def test_cli_hint_and_hints_file(tmp_path):
    assert hints.parse_cli_hint("120,40,#1f4e9c") == (120.0, 40.0, "#1f4e9c")
    assert hints.parse_cli_hint("1.5,2,#1f4e9c,8") == (1.5, 2.0, "#1f4e9c", 8.0)
    for bad in ("120,40", "a,40,#1f4e9c", "1,2,#1f4e9c,x"):
        with pytest.raises(InputError, match="--hint"):
            hints.parse_cli_hint(bad)
    good = tmp_path / "h.json"
    good.write_text(json.dumps({"a.jpg": [{"x": 1, "y": 2, "color": "#102030"}]}))
    assert hint_files.load_hints_file(good)["a.jpg"][0]["color"] == "#102030"
    for text, message in (("{", "not valid JSON"), ("[1, 2]", "must map file names")):
        (tmp_path / "bad.json").write_text(text)
        with pytest.raises(InputError, match=message):
            hint_files.load_hints_file(tmp_path / "bad.json")
    with pytest.raises(InputError, match="cannot be read"):
        hint_files.load_hints_file(tmp_path / "missing.json")


def test_hint_to_json_round_trips():
    (hint,) = hints.parse_hints([(4, 2, "#1f4e9c", 3)], 10, 10)
    assert hints.parse_hints([hint.to_json()], 10, 10) == [hint]


def test_network_channels_place_hints_on_the_photos_box():
    # A 100 x 200 photo on a 32 canvas fills its top 16 rows: (x=150, y=50) lands at row 8, column 24.
    parsed = hints.parse_hints([(150, 50, "#ff0000")], height=100, width=200)
    channels = hint_channels.network_channels(parsed, 100, 200, 16, 32, 32)
    assert channels.shape == (32, 32, 3)
    # Without a radius, 3x3 canvas pixels around it (single pixels sway the network little)
    assert np.argwhere(channels[..., 2] == 1).tolist() == [[r, c] for r in (7, 8, 9) for c in (23, 24, 25)]
    np.testing.assert_allclose(channels[8, 24, :2], np.array(parsed[0].ab) / colorize.color.AB_SCALE, atol=1e-6)
    small = hints.parse_hints([(150, 50, "#ff0000", 1)], height=100, width=200)  # radius 1 px: one canvas pixel
    assert np.argwhere(hint_channels.network_channels(small, 100, 200, 16, 32, 32)[..., 2] == 1).tolist() == [[8, 24]]
    wide = hints.parse_hints([(150, 50, "#ff0000", 20)], height=100, width=200)  # radius 20 px = 3.2 canvas px
    assert hint_channels.network_channels(wide, 100, 200, 16, 32, 32)[..., 2].sum() == 7 * 7


# Hints at the borders of 20-row strips of a 150 x 120 photo, wide enough to reach into their neighbours (the
# third across six strips); the last two overlap, so the order of blending counts too.
BORDER_HINTS = [(30, 19.5, "#c0392b", 6), (80, 40.2, "#2a5db0"), (60, 99.9, "#00ff00", 15), (70, 100, "#e6c229", 8)]


def test_enforce_strip_by_strip_gives_the_bits_of_the_whole_photo(photos):
    rgb = photos["astronaut"][::3, ::4][:150, :120] / 255.0
    lightness = colorize.rgb_to_lab(tf.constant(rgb, tf.float32)).numpy()[..., :1]
    coefficients = np.random.default_rng(3).normal(0, 20, (150, 120, 4)).astype(np.float32)
    parsed = hints.parse_hints(BORDER_HINTS, 150, 120)
    whole = hint_enforcement.enforce(coefficients, lightness, parsed, 32)
    strips = per_pixel.row_strips(150, 120, pixels=20 * 120)
    assert len(strips) == 8
    by_strip = np.concatenate([hint_enforcement.enforce(coefficients[start:stop], lightness, parsed, 32, start)
                               for start, stop in strips])
    np.testing.assert_array_equal(by_strip, whole)
    changed = np.flatnonzero(np.any(whole != coefficients, axis=(1, 2)))
    assert changed.min() < 10 and changed.max() > 140  # the windows do reach across strips
    for start, stop in (strips[i] for i in (1, 3, 6, 7)):  # strips without any hint's point still get the blend
        assert not np.array_equal(whole[start:stop], coefficients[start:stop])


def test_hinted_photo_in_strips_gives_the_bits_of_the_whole_photo(tiny_hint_colorizer, photos, monkeypatch):
    c = tiny_hint_colorizer
    rgb = photos["astronaut"][::2, ::3]  # 256 x 171
    prepared = c.prepare(rgb)
    parsed = c.parse_hints([(x * 171 / 120, y * 256 / 150, *rest) for x, y, *rest in BORDER_HINTS], prepared)
    channels = hint_channels.network_channels(parsed, 256, 171, int(prepared.box_height), int(prepared.box_width), 32)
    ab = c.network([prepared], channels[None]).numpy()[0]
    box = prepared.lightness, ab, prepared.box_height, prepared.box_width
    whole = c.postprocessor.finish(*box, parsed)  # one strip: the whole photo's coefficients, then the hints
    assert not np.array_equal(whole, c.postprocessor.finish(*box))
    monkeypatch.setattr(per_pixel, "STRIP_PIXELS", 171 * 34)  # the points scaled: at borders of 34-row strips
    assert len(per_pixel.row_strips(256, 171)) == 8
    np.testing.assert_array_equal(c.postprocessor.finish(*box, parsed), whole)


def _simulate(recipe, batch=64, size=32, seed=(3, 7)):
    ab = tf.random.stateless_uniform([batch, size, size, 2], [1, 2], -0.5, 0.5)
    return ab.numpy(), hint_simulation.simulate(ab, tf.constant(seed, tf.int64), recipe).numpy()


def test_simulated_hints_are_seeded_and_within_the_image():
    recipe = HintsConfig()
    ab, first = _simulate(recipe)
    _, again = _simulate(recipe)
    _, other = _simulate(recipe, seed=(3, 8))
    assert first.shape == (64, 32, 32, 3)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    mask = first[..., 2]
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert np.all(first[..., :2][mask == 0] == 0)  # no hint, no colour
    assert 0.25 < (mask.sum(axis=(1, 2)) == 0).mean() < 0.75  # none_share 0.5 of the images get no hint


def test_simulated_counts_and_values_follow_the_recipe():
    ab, one = _simulate(HintsConfig(none_share=0.0, geometric_p=1.0, max_patch=3, dense_share=0.0))
    areas = one[..., 2].sum(axis=(1, 2))
    assert set(areas.tolist()) <= {1.0, 4.0, 9.0}  # exactly one square patch of side 1..3
    for b in range(8):  # the patch holds the truth's mean ab over the patch
        rows, cols = np.nonzero(one[b, ..., 2])
        patch = ab[b, rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        np.testing.assert_allclose(one[b, rows[0], cols[0], :2], patch.reshape(-1, 2).mean(0), atol=1e-5)
    _, capped = _simulate(HintsConfig(none_share=0.0, geometric_p=1e-6, max_points=3, max_patch=1,
                                           dense_share=0.0))
    assert capped[..., 2].sum(axis=(1, 2)).max() <= 3
    _, dense = _simulate(HintsConfig(dense_share=1.0))
    assert dense[..., 2].min() == 1.0
    np.testing.assert_allclose(dense[..., :2], ab, atol=1e-6)


def test_hints_config_is_range_checked():
    with pytest.raises(colorize.ConfigError, match="hints.none_share"):
        colorize.load_config(None, ["hints.none_share=1.5"])
    assert colorize.load_config(None, ["hints.max_points=7"]).hints == HintsConfig(max_points=7)


def test_hint_model_inputs_and_class_head():
    model = colorize.build_model(ModelConfig(**{**TINY.__dict__, "classes": 5}))
    assert [tuple(i.shape) for i in model.inputs] == [(None, 32, 32, 1), (None, 32, 32, 3)]
    out = model([tf.zeros([2, 32, 32, 1]), tf.zeros([2, 32, 32, 3])])
    assert out["class_logits"].shape == (2, 5) and out["ab"].shape == (2, 32, 32, 2)


def test_colorizer_hint_interface(tiny_hint_colorizer, astronaut_small):
    c = tiny_hint_colorizer
    auto = c.colorize(astronaut_small)
    np.testing.assert_array_equal(c.colorize(astronaut_small, hints=[]), auto)
    hinted = c.colorize(astronaut_small, hints=[(10, 12, "#00ff00")])
    assert hinted.shape == auto.shape and not np.array_equal(hinted, auto)
    got = colorize.rgb_to_lab(hinted[12:13, 10:11].astype(np.float32) / 255).numpy()[0, 0, 1:]
    want = hints.rgb_to_ab([(0, 255, 0)])[0]
    # Honoured at the point itself: the hint's hue, its chroma as far as the photo's lightness there allows
    assert np.dot(got, want) / np.linalg.norm(got) / np.linalg.norm(want) > 0.995
    assert 0.5 * np.linalg.norm(want) < np.linalg.norm(got) <= np.linalg.norm(want) + 1
    batch = c.colorize_batch([astronaut_small, astronaut_small], hints=[None, [(10, 12, "#00ff00")]])
    np.testing.assert_array_equal(batch[0], auto)
    np.testing.assert_array_equal(batch[1], hinted)
    prepared = c.prepare(astronaut_small)
    np.testing.assert_array_equal(c.colorize_prepared(prepared, [(10, 12, "#00ff00")]), hinted)
    with pytest.raises(InputError, match="outside"):
        c.colorize(astronaut_small, hints=[(10_000, 1, "#00ff00")])
    with pytest.raises(InputError, match="2 hints for 1 images"):
        c.colorize_batch([astronaut_small], hints=[[], []])


def test_hints_on_a_model_without_hint_inputs_are_refused(astronaut_small):
    config = ModelConfig(**{**TINY.__dict__, "hints": False})
    c = colorize.Colorizer(colorize.build_model(config), config, name="no-hints")
    with pytest.raises(InputError, match="takes no hints"):
        c.colorize(astronaut_small, hints=[(1, 1, "#00ff00")])


def test_the_simulation_recipe_is_the_checked_config_section():
    """One dataclass for the recipe (it was repeated field for field, unchecked: geometric_p = 0 divided by log 1)."""
    ab = tf.zeros([2, 8, 8, 2])
    for bad in (HintsConfig(geometric_p=0.0), HintsConfig(none_share=2.0), HintsConfig(max_patch=0)):
        with pytest.raises(ConfigError, match="hints\\."):
            hint_simulation.simulate(ab, tf.constant([1, 2], tf.int64), bad)


@pytest.mark.parametrize("radius", [1e300, 1e155, 142.0])
def test_a_radius_beyond_the_photos_diagonal_is_a_bad_hint(tiny_hint_colorizer, radius):
    """Issue 26.1: a huge radius overflowed (OverflowError) in every entry point; the diagonal bounds it."""
    with pytest.raises(InputError, match="larger than the 100x100 image's diagonal") as err:
        hints.parse_hints([(10, 10, "#ff0000", radius)], height=100, width=100, name="p.png")
    assert "p.png" in str(err.value)
    assert hints.parse_hints([(10, 10, "#ff0000", 141.0)], 100, 100)[0].radius == 141.0  # the diagonal itself is fine
    with pytest.raises(InputError, match="diagonal"):
        tiny_hint_colorizer.colorize(np.zeros((100, 100, 3), np.uint8), hints=[(10, 10, "#ff0000", radius)])


def test_a_tiny_radius_colours_its_own_pixel_without_numpy_warnings(tiny_hint_colorizer):
    """Issue 26.1: radius 1e-300 squared is 0, and the blend divided by it (a NumPy divide-by-zero warning)."""
    grey = np.full((40, 40, 3), 128, np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = hints.parse_hints([(10.5, 10.5, "#ff0000", 1e-300)], 40, 40)
        out = hint_enforcement.enforce(np.zeros((40, 40, 4), np.float32), np.full((40, 40, 1), 50.0, np.float32),
                                       parsed, 32)
        tiny_hint_colorizer.colorize(grey, hints=[(10.5, 10.5, "#ff0000", 1e-300)])
    np.testing.assert_allclose(out[10, 10, 2:], parsed[0].ab, rtol=1e-6)
    assert np.all(out[9, 10] == 0) and np.all(out[10, 11] == 0)


def test_deeply_nested_hints_are_one_line_errors(tmp_path, tiny_hint_colorizer):
    """Issue 26.2: a few thousand levels of [[[...]]] raised RecursionError from json (and from repr in messages)."""
    deep = tmp_path / "deep.json"
    deep.write_text('{"a.png": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(InputError, match="nests too deep") as err:
        hint_files.load_hints_file(deep)
    assert "\n" not in str(err.value)
    nested = []
    for _ in range(5000):
        nested = [nested]
    with pytest.raises(InputError, match="must be \\(x, y, color\\)") as err:
        hints.parse_hints(nested, 20, 20, name="p.png")
    assert len(str(err.value)) < 300


def test_enforcement_weighs_distance_and_lightness_as_worked_by_hand():
    """A hint of radius 2 at the centre of pixel (0, 0), L = 50 there: pixel (1, 0) is one pixel away at the same
    L, weight exp(-1 / (2 x 2^2)); pixel (0, 1) is as far but ENFORCE_L_SIGMA lighter, weight times exp(-1/2)
    (the tonal term, which keeps a hint on the clicked object); a pixel past 3 sigma is untouched."""
    (hint,) = hints.parse_hints([(0.5, 0.5, "#c03020", 2.0)], 10, 10)
    lightness = np.full((10, 10, 1), 50.0, np.float32)
    lightness[0, 1, 0] += hint_enforcement.ENFORCE_L_SIGMA
    out = hint_enforcement.enforce(np.zeros((10, 10, 4), np.float32), lightness, [hint], 32)
    spatial = np.exp(-1.0 / 8.0)
    np.testing.assert_allclose(out[0, 0, 2:], hint.ab, rtol=1e-6)
    np.testing.assert_allclose(out[1, 0, 2:], spatial * np.asarray(hint.ab), rtol=1e-5)
    np.testing.assert_allclose(out[0, 1, 2:], spatial * np.exp(-0.5) * np.asarray(hint.ab), rtol=1e-5)
    assert not out[..., :2].any() and not out[7:, :].any() and not out[:, 7:].any()


def test_a_hint_model_without_hints_is_its_network_on_empty_hint_channels(tiny_hint_colorizer, astronaut_small):
    """The automatic path of a hint model (no hints given, none, or an empty list) is the network fed all-zero hint
    channels, read out as an unhinted photo."""
    c = tiny_hint_colorizer
    prepared = c.prepare(astronaut_small)
    automatic = c.predict_ab([prepared])
    np.testing.assert_array_equal(c.predict_ab([prepared], [[]]), automatic)
    l_input = tf.constant(prepared.l_input[None])
    outputs = c.model([l_input, tf.zeros(l_input.shape[:3] + (3,))], training=False)
    by_hand = c.postprocessor.read(outputs, tf.stack([prepared.box_height]), tf.stack([prepared.box_width]),
                                   tf.constant([False]))
    np.testing.assert_allclose(automatic, by_hand.numpy(), atol=1e-4)
    np.testing.assert_array_equal(c.colorize(astronaut_small, hints=[]), c.colorize(astronaut_small))

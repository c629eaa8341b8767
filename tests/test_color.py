import numpy as np
import pytest
import skimage.color
import tensorflow as tf

from colorize import color, lab_to_rgb, rgb_to_lab


@pytest.mark.parametrize("shape", [(7, 3), (2, 16, 16, 3), (2, 3, 8, 8, 3)])
def test_rgb_to_lab_matches_skimage_on_random_pixels(shape):
    rgb = np.random.default_rng(1).random(shape)
    ours = rgb_to_lab(rgb.astype(np.float32)).numpy()
    assert ours.shape == shape
    ref = skimage.color.rgb2lab(rgb.reshape(-1, 1, 3)).reshape(shape)
    assert np.abs(ours - ref).max() <= 1e-3


def test_rgb_to_lab_matches_skimage_on_photos(photos):
    for image in photos.values():
        rgb = image / 255.0
        assert np.abs(rgb_to_lab(rgb.astype(np.float32)).numpy() - skimage.color.rgb2lab(rgb)).max() <= 1e-3


def test_lab_to_rgb_matches_skimage(photos):
    lab = skimage.color.rgb2lab(photos["coffee"] / 255.0)
    assert np.abs(lab_to_rgb(lab.astype(np.float32)).numpy() - skimage.color.lab2rgb(lab)).max() <= 1e-3


def test_round_trip_within_one_level(photos):
    rgb = np.concatenate([photos["astronaut"][:64, :64], photos["chelsea"][:64, :64]]) / 255.0
    back = lab_to_rgb(rgb_to_lab(rgb.astype(np.float32))).numpy()
    assert np.abs(back - rgb).max() <= 1 / 255


def test_extremes_and_greys():
    rgb = np.array([[0, 0, 0], [1, 1, 1], [0.5, 0.5, 0.5], [1, 0, 0], [0, 0, 1]], np.float32)
    lab = rgb_to_lab(rgb).numpy()
    np.testing.assert_allclose(lab[:3, 1:], 0, atol=1e-2)  # neutral colours: a = b = 0 (to the matrix rounding)
    assert abs(lab[1, 0] - 100) < 1e-3 and abs(lab[0, 0]) < 1e-3


def test_works_in_tf_data_and_tf_function(photos):
    rgb = (photos["astronaut"][:32, :32] / 255.0).astype(np.float32)
    eager = rgb_to_lab(rgb).numpy()
    in_graph = tf.function(rgb_to_lab)(tf.constant(rgb)).numpy()
    from_data = next(iter(tf.data.Dataset.from_tensors(rgb).map(rgb_to_lab))).numpy()
    np.testing.assert_allclose(in_graph, eager, atol=1e-4)
    np.testing.assert_allclose(from_data, eager, atol=1e-4)


def test_scaling_constants_round_trip():
    ab = tf.constant([[-100.0, 90.0]])
    np.testing.assert_allclose(color.unscale_ab(color.scale_ab(ab)), ab, atol=1e-4)
    assert float(color.scale_l(tf.constant(0.0))) == -1.0 and float(color.scale_l(tf.constant(100.0))) == 1.0


def test_integer_input_is_refused():
    with pytest.raises(TypeError, match="float"):
        rgb_to_lab(np.zeros((2, 2, 3), np.uint8))


def test_fit_chroma_to_gamut_keeps_lightness_and_lands_in_gamut():
    rng = np.random.default_rng(3)
    lab = np.stack([rng.uniform(0, 100, 2000), rng.uniform(-110, 110, 2000), rng.uniform(-110, 110, 2000)], -1)
    fitted = color.fit_chroma_to_gamut(lab.astype(np.float32)).numpy()
    np.testing.assert_array_equal(fitted[:, 0], lab[:, 0].astype(np.float32))
    back = rgb_to_lab(lab_to_rgb(fitted)).numpy()
    assert np.abs(back[:, 0] - lab[:, 0]).max() < 0.2      # clipping would move L by tens of units
    assert np.abs(rgb_to_lab(lab_to_rgb(lab.astype(np.float32))).numpy()[:, 0] - lab[:, 0]).max() > 5
    in_gamut = np.array([[50.0, 10.0, -10.0]], np.float32)
    np.testing.assert_allclose(color.fit_chroma_to_gamut(in_gamut).numpy(), in_gamut, atol=1e-6)


@pytest.mark.parametrize("jit", [False, True])
def test_rgb_to_lightness_is_the_l_of_rgb_to_lab(photos, jit):
    rgb = (photos["astronaut"][::4, ::4] / 255.0).astype(np.float32)
    fn = tf.function(color.rgb_to_lightness, jit_compile=True) if jit else color.rgb_to_lightness
    lightness = fn(tf.constant(rgb)).numpy()
    assert lightness.shape == rgb.shape[:2] + (1,)
    assert np.abs(lightness - rgb_to_lab(rgb).numpy()[..., :1]).max() <= 1e-4


@pytest.mark.parametrize("jit", [False, True])
def test_lab_to_rgb8_matches_fit_then_lab_to_rgb(jit):
    rng = np.random.default_rng(4)
    lab = np.stack([rng.uniform(0, 100, 4000), rng.uniform(-110, 110, 4000), rng.uniform(-110, 110, 4000)],
                   -1).astype(np.float32)
    l, a, b = (tf.constant(lab[:, i]) for i in range(3))
    fn = tf.function(color.lab_to_rgb8, jit_compile=True) if jit else color.lab_to_rgb8
    clipped, inside = fn(l, a, b, 0)
    fitted, inside_too = fn(l, a, b, 8)
    np.testing.assert_array_equal(inside.numpy(), inside_too.numpy())
    lin = color._lab_to_linear(lab).numpy()
    assert (inside.numpy() == ((lin >= -1e-4) & (lin <= 1 + 1e-4)).all(-1)).mean() > 0.999
    assert 0.05 < inside.numpy().mean() < 0.95
    want_clipped = np.round(lab_to_rgb(lab).numpy() * 255)
    want_fitted = np.round(lab_to_rgb(color.fit_chroma_to_gamut(lab)).numpy() * 255)
    assert np.abs(clipped.numpy() - want_clipped).max() <= 1
    # The bisection's 1/256 steps can land the other way where rounding differs: rare, and tiny in Lab terms.
    diff = np.abs(fitted.numpy() - want_fitted).max(-1)
    assert (diff > 1).mean() < 0.01


def test_samples_to_lightness_is_rgb_to_lightness_for_every_8_bit_grey_and_16_bit_colour():
    greys = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    exact = color.rgb_to_lightness(greys / 255.0)[:, 0].numpy()
    fast = tf.function(color.samples_to_lightness, jit_compile=True)
    assert np.abs(fast(greys).numpy() - exact).max() < 2e-3
    colours16 = np.random.default_rng(6).integers(0, 65536, (5000, 3)).astype(np.uint16)
    exact16 = color.rgb_to_lightness(colours16 / 65535.0)[:, 0].numpy()
    assert np.abs(fast(colours16).numpy() - exact16).max() < 2e-3
    assert np.abs(color.samples_to_lightness(colours16 / 65535.0).numpy() - exact16).max() < 2e-3  # float too


def test_lab_to_rgb8_packed_is_lab_to_rgb8_in_one_int32():
    rng = np.random.default_rng(7)
    lab = np.stack([rng.uniform(0, 100, 3000), rng.uniform(-110, 110, 3000), rng.uniform(-110, 110, 3000)],
                   -1).astype(np.float32)
    l, a, b = (tf.constant(lab[:, i]) for i in range(3))
    for iterations in (0, 8):
        packed = tf.function(color.lab_to_rgb8_packed, jit_compile=True)(l, a, b, iterations).numpy()
        rgb, inside = color.lab_to_rgb8(l, a, b, iterations)
        channels = np.stack([(packed >> shift) & 255 for shift in (0, 8, 16)], axis=-1)
        diff = np.abs(channels - rgb.numpy())  # eager and XLA may round a level apart (or bisect a step apart)
        assert (diff > 0).mean() < 0.005 and (diff.max() <= 1 if iterations == 0 else (diff > 1).mean() < 0.001)
        np.testing.assert_array_equal(packed >> 24, ~inside.numpy())

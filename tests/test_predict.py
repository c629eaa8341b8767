"""The predict API: any input kind and size in, same-size colour out, L preserved."""
import numpy as np
import pytest
import skimage.color
from PIL import Image

import colorize
from colorize import Colorizer, InputError, WeightsError


@pytest.fixture(scope="module")
def colorizer(tiny_weights):
    path, config, sha = tiny_weights
    return Colorizer.from_weights(path, config, sha)


def _l(rgb_uint8):
    return skimage.color.rgb2lab(rgb_uint8 / 255.0)[..., 0]


@pytest.mark.parametrize("shape", [(40, 60), (40, 60, 1), (40, 60, 3), (40, 60, 4)])
def test_array_inputs_of_every_layout_give_same_size_rgb(colorizer, shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    out = colorizer.colorize(image)
    assert out.shape == (40, 60, 3) and out.dtype == np.uint8


def test_float_path_and_pil_inputs_agree(colorizer, photos, tmp_path):
    image = photos["coffee"][::4, ::4]
    path = tmp_path / "coffee.png"
    Image.fromarray(image).save(path)
    a = colorizer.colorize(image)
    np.testing.assert_array_equal(colorizer.colorize(image / 255.0), a)
    np.testing.assert_array_equal(colorizer.colorize(str(path)), a)
    np.testing.assert_array_equal(colorizer.colorize(Image.fromarray(image)), a)


@pytest.mark.parametrize("upsampling", ["guided", "bilinear"])
@pytest.mark.parametrize("fit", ["pad", "squash"])
def test_lightness_of_the_output_is_the_input_lightness(tiny_weights, photos, upsampling, fit):
    path, config, sha = tiny_weights
    colorizer = Colorizer.from_weights(path, config, sha, upsampling=upsampling, fit=fit)
    for image in photos.values():
        grey = (skimage.color.gray2rgb(skimage.color.rgb2gray(image)) * 255).round().astype(np.uint8)
        out = colorizer.colorize(grey)
        assert out.shape == grey.shape
        assert np.abs(_l(out) - _l(grey)).mean() <= 0.5
        assert np.abs(out.astype(int) - grey).max() > 0  # it did add colour


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (1, 500), (500, 1), (3, 1000)])
def test_extreme_sizes(colorizer, shape):
    out = colorizer.colorize(np.full(shape, 128, np.uint8))
    assert out.shape == shape + (3,)


def test_batch_equals_one_by_one(colorizer, photos):
    images = [photos["astronaut"][::8, ::8], photos["coffee"][::5, ::7], photos["chelsea"][::6, ::6]]
    batch = colorizer.colorize_batch(images, batch_size=2)
    for image, out in zip(images, batch):
        np.testing.assert_allclose(out.astype(int), colorizer.colorize(image).astype(int), atol=1)


def test_empty_batch_and_bad_arrays_raise_input_error(colorizer):
    with pytest.raises(InputError, match="empty batch"):
        colorizer.colorize_batch([])
    with pytest.raises(InputError):
        colorizer.colorize(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(InputError):
        colorizer.colorize(np.full((4, 4), np.nan))


def test_public_api_is_listed():
    for name in colorize.__all__:
        assert hasattr(colorize, name), name
    assert "bigru_fusion_64" in colorize.list_presets()


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(WeightsError, match="unknown preset 'nope'.*bigru_fusion_64"):
        colorize.load_pretrained("nope")


# ---------------------------------------------------------------- colorize_batch takes anything, checks everything

def test_colorize_batch_checks_its_arguments(colorizer, tmp_path):
    a, b = np.zeros((6, 8), np.uint8), np.full((5, 7, 3), 200, np.uint8)
    with pytest.raises(InputError, match="1 names for 2 images"):
        colorizer.colorize_batch([a, b], names=["a"])
    with pytest.raises(InputError, match="3 hints for 2 images"):
        colorizer.colorize_batch([a, b], hints=[None, None, None])
    for size in (-1, 0, 1.5, True, "4"):
        with pytest.raises(InputError, match="batch_size must be a positive integer"):
            colorizer.colorize_batch([a, b], batch_size=size)
    Image.fromarray(b).save(tmp_path / "b.png")
    for single in (str(tmp_path / "b.png"), tmp_path / "b.png"):
        with pytest.raises(InputError, match="single"):
            colorizer.colorize_batch(single)
    with pytest.raises(InputError, match="names must be a list"):
        colorizer.colorize_batch([a], names="a")
    out = colorizer.colorize_batch((im for im in (a, b)), batch_size=1)  # any iterable
    assert [o.shape for o in out] == [(6, 8, 3), (5, 7, 3)]
    batch = np.zeros((3, 4, 5, 3), np.uint8)
    assert [o.shape for o in colorizer.colorize_batch(batch, batch_size=2)] == [(4, 5, 3)] * 3


def test_from_weights_checks_its_arguments(tiny_weights):
    path, config, sha = tiny_weights
    with pytest.raises(WeightsError, match="must be a hex string"):
        Colorizer.from_weights(path, config, 123)
    with pytest.raises(InputError, match="config must be"):
        Colorizer.from_weights(path, {"input_size": 32}, sha)
    with pytest.raises(WeightsError, match="must be a file path"):
        Colorizer.from_weights(3, config, sha)


# ---------------------------------------------------------------- strips: bounded memory, the same bits

@pytest.mark.parametrize("upsampling", ["guided", "bilinear"])
def test_tile_by_tile_gives_the_whole_image_graph_within_a_level(tiny_weights, photos, monkeypatch, upsampling):
    import tensorflow as tf

    from colorize.pipeline import per_pixel
    path, config, sha = tiny_weights
    c = Colorizer.from_weights(path, config, sha, upsampling=upsampling)
    whole = tf.function(c.postprocessor.finish_fn)  # the exported graph: the whole image at once, exact L
    rgb = photos["chelsea"][:203, :301]
    prepared = c.prepare(rgb)
    exact = per_pixel.full_resolution_lightness(tf.constant(rgb / 255.0, tf.float32)).numpy()
    assert 0 < np.abs(prepared.lightness - exact).max() < 2e-3  # the fast form, from the 8-bit samples
    ab = c.network([prepared]).numpy()[0]
    expected = whole(tf.constant(prepared.lightness), ab, prepared.box_height, prepared.box_width).numpy()
    tiled = c.postprocessor.finish(prepared.lightness, ab, prepared.box_height, prepared.box_width)
    assert np.abs(tiled.astype(int) - expected).max() <= 1 and (tiled != expected).mean() < 0.01
    # many small tiles, padded at the right and bottom edges, and several lightness chunks: the same bits
    monkeypatch.setattr(per_pixel, "TILE_ROWS", (16, 4))
    monkeypatch.setattr(per_pixel, "TILE_COLUMNS", 64)
    monkeypatch.setattr(per_pixel, "CHUNKS", (4096, 512))
    assert len(per_pixel._pieces(203, (16, 4))) == 12 + 3  # 192 rows, then 4 + 4 + 3 padded to 4
    again = c.prepare(rgb)
    np.testing.assert_array_equal(again.lightness, prepared.lightness)
    np.testing.assert_array_equal(c.postprocessor.finish(again.lightness, ab, again.box_height, again.box_width),
                                  tiled)


def test_row_weights_are_tensorflows_bilinear_resize(tiny_weights):
    import tensorflow as tf

    from colorize.pipeline.postprocess import row_weights
    rng = np.random.default_rng(5)
    for rows, height in [(1, 1), (1, 7), (3, 3), (64, 4000), (37, 1081), (5, 6)]:
        small = rng.normal(0, 30, (rows, 3, 4)).astype(np.float32)
        lower, upper, weight = row_weights(rows, height)
        mine = small[lower] + (small[upper] - small[lower]) * weight[:, None, None]
        np.testing.assert_array_equal(mine, tf.image.resize(small, [height, 3]).numpy())


@pytest.mark.parametrize("bad", ["nope", None, 3, np.zeros((4, 4, 3), np.uint8)])
def test_colorize_prepared_of_something_not_prepared_is_an_input_error(colorizer, bad):
    """Issue 26.12: Colorizer.colorize_prepared("nope") raised a bare AttributeError."""
    with pytest.raises(InputError, match="Colorizer.prepare"):
        colorizer.colorize_prepared(bad)


# ---------------------------------------------------------------- issue 25: repr, type hints, 16 bits

def test_repr_says_which_weights_readout_and_size(colorizer, tiny_weights):
    text = repr(colorizer)
    assert text.startswith("Colorizer(") and f"weights={str(tiny_weights[0])!r}" in text
    assert f"readout={colorizer.readout.kind!r}" in text and "network=32x32" in text and "hints=False" in text
    preset = colorize.load_pretrained()
    assert "preset='bigru_fusion_64'" in repr(preset) and "readout='restrained'" in repr(preset)
    assert "network=64x64" in repr(preset)


def test_the_public_api_has_type_hints():
    import inspect
    functions = [colorize.Colorizer.__init__, colorize.Colorizer.from_preset, colorize.Colorizer.from_weights,
                 colorize.Colorizer.colorize, colorize.Colorizer.colorize_batch, colorize.Colorizer.prepare,
                 colorize.load_pretrained, colorize.train, colorize.load_config, colorize.rgb_to_lab,
                 colorize.lab_to_rgb]
    for function in functions:
        hints = inspect.get_annotations(function)  # present (colorize.train's "Config" resolves only lazily)
        parameters = [name for name, p in inspect.signature(function).parameters.items()
                      if name not in ("self", "cls", "model") and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        missing = [name for name in parameters + ["return"] if name not in hints]
        assert not missing, f"{function.__qualname__}: no type hint for {missing}"


def test_to_16_bits_keeps_a_16_bit_inputs_tones_and_the_colour(colorizer):
    from colorize.pipeline import to_16_bits
    ramp = np.linspace(9000, 50000, 96 * 64).reshape(64, 96).astype(np.uint16)  # finer than 8 bits
    source = np.repeat(ramp[..., None], 3, axis=2)
    colour = colorizer.colorize(source)
    deep = to_16_bits(colour, source)
    assert deep.dtype == np.uint16 and deep.shape == source.shape
    assert len(np.unique(deep[..., 1])) > 4 * len(np.unique(colour[..., 1]))  # more tones than 8 bits hold
    lab_in = skimage.color.rgb2lab(source / 65535.0)
    lab_out = skimage.color.rgb2lab(deep / 65535.0)
    assert np.abs(lab_out[..., 0] - lab_in[..., 0]).max() < 0.05  # the input's L, not the 8-bit result's
    lab_colour = skimage.color.rgb2lab(colour / 255.0)
    assert np.abs(lab_out[..., 1:] - lab_colour[..., 1:]).mean() < 1.0  # the colour is the colorized one

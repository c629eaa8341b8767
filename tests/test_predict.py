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

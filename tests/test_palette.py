"""The global palette input (model.palette): its training simulation, a reference's palette, and the hint
preset's fine-tune recipe running a few steps."""
import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO

import colorize
from colorize import color
from colorize.config import HintsConfig, load_config
from colorize.model import bins
from colorize.pipeline import reference as reference_lib
from colorize.training import hint_simulation


def _two_colour_batch():
    """(2, 32, 32, 2) scaled ab: the left half red-ish, the right half blue-ish."""
    ab = np.zeros((2, 32, 32, 2), np.float32)
    ab[:, :, :16] = (60.0, 40.0)
    ab[:, :, 16:] = (10.0, -50.0)
    return tf.constant(ab / color.AB_SCALE)


def test_a_palette_is_the_photos_own_colours_with_a_flag():
    own = HintsConfig(palette_share=1.0, palette_crop_share=0.0, palette_jitter=0.0)
    palette = hint_simulation.simulate_palette(_two_colour_batch(), tf.constant([0, 1]), own).numpy()
    assert palette.shape == (2, bins.num_bins() + 1)
    np.testing.assert_allclose(palette[:, -1], 1.0)
    np.testing.assert_allclose(palette[:, :-1].sum(-1), 1.0, atol=1e-5)
    # half of the weight near each colour: the mean of the bins it gives is the mean colour
    mean_ab = palette[:, :-1] @ bins.bin_centers()
    np.testing.assert_allclose(mean_ab, [[35.0, -5.0]] * 2, atol=1.0)


def test_palettes_are_sometimes_absent_cropped_and_jittered_and_repeat_with_their_seed():
    recipe = HintsConfig(palette_share=0.5, palette_crop_share=1.0, palette_min_crop=0.2, palette_jitter=6.0)
    ab = tf.repeat(_two_colour_batch(), 32, axis=0)
    palette = hint_simulation.simulate_palette(ab, tf.constant([3, 4]), recipe).numpy()
    given = palette[:, -1] > 0
    assert 10 < given.sum() < 54 and not palette[~given].any()
    # a small crop of the left or right half alone holds one colour: the photos' palettes are not all alike
    red_share = palette[given, :-1][:, np.linalg.norm(bins.bin_centers() - (60, 40), axis=1) < 20].sum(-1)
    assert red_share.max() > 0.9 and red_share.min() < 0.1
    np.testing.assert_array_equal(palette, hint_simulation.simulate_palette(ab, tf.constant([3, 4]), recipe).numpy())


def test_a_references_palette_holds_its_colours():
    ab = np.zeros((40, 64, 2), np.float32)
    ab[:, :32] = (60.0, 40.0)
    ab[:, 32:] = (10.0, -50.0)
    ref = reference_lib.Reference("two colours", np.full((40, 64), 50.0, np.float32), ab)
    palette = reference_lib.palette(ref)
    assert palette.shape == (bins.num_bins() + 1,) and palette[-1] == 1.0
    np.testing.assert_allclose(palette[:-1] @ bins.bin_centers(), [35.0, -5.0], atol=1.0)


def test_the_palette_recipe_trains_a_few_steps_and_colorizes_with_a_reference(tmp_path):
    """The fine-tune config itself, shrunk to 3 steps of 4 on the bundled photos: it starts from the hint preset,
    trains the palette's zero weights away from zero, and its weights colorize a photo with a reference, whose
    palette reaches the network."""
    if "bigru_fusion_64_hints" not in colorize.list_presets():
        pytest.skip("the hint preset is not installed")
    config = load_config(REPO / "configs" / "tiny_imagenet_64_hints_palette.yaml",
                         ["data.source=skimage", "data.val_limit=0", "train.batch_size=4", "train.epochs=1",
                          "train.steps_per_epoch=3", "train.warmup_steps=1", "train.checkpoint_every=3",
                          "train.precision=float32", "model.classes=0", "train.class_weight=0"])
    assert config.model.palette and config.train.init_weights == "preset:bigru_fusion_64_hints"
    record = colorize.train(config, tmp_path / "run", verbose=False)
    colorizer = colorize.Colorizer.from_weights(record["weights"], config, record["weights_sha256"])
    fusion = colorizer.model.get_layer("fusion").kernel.numpy()
    assert np.abs(fusion[..., -config.model.global_units:, :]).max() > 0  # zeros at the start
    grey = np.full((48, 64), 120, np.uint8)
    red = np.zeros((48, 64, 3), np.uint8)
    red[..., 0] = 200
    reference = colorizer.prepare_reference(red)
    prepared = colorizer.prepare(grey)
    plain = colorizer.predict_ab([prepared])
    with_palette = colorizer.predict_ab([prepared], references=[reference])
    assert np.abs(plain - with_palette).max() > 1e-4
    assert colorizer.colorize(grey, reference=reference).shape == (48, 64, 3)

"""The shipped hint preset, a small trained model: it obeys hints at the point, spreads them over the region
(through the network, not only the full-resolution blend), and its automatic mode is a real colorization."""
import numpy as np
import pytest
import tensorflow as tf

import colorize
from colorize.evaluation import metrics
from colorize.pipeline import hints

NAME = "bigru_fusion_64_hints"
pytestmark = pytest.mark.skipif(NAME not in colorize.list_presets(), reason=f"the {NAME} preset is not installed")


@pytest.fixture(scope="module")
def colorizer():
    return colorize.Colorizer.from_preset(NAME)


@pytest.fixture(scope="module")
def cat(photos):
    truth = photos["chelsea"]
    grey = colorize.lab_to_rgb(np.concatenate(
        [colorize.rgb_to_lab(truth / 255.0).numpy()[..., :1], np.zeros(truth.shape[:2] + (2,))], -1).astype(np.float32))
    return truth, np.round(grey.numpy() * 255).astype(np.uint8)


def _ab(rgb_uint8):
    return colorize.rgb_to_lab(np.asarray(rgb_uint8, np.float32) / 255.0).numpy()[..., 1:]


def test_preset_card_and_old_preset(colorizer):
    assert colorizer.hints and colorizer.config.classes == 202
    old = colorize.load_pretrained("bigru_fusion_64")
    assert not old.hints and len(old.model.inputs) == 1


def test_a_hint_spreads_over_its_region_through_the_network(colorizer, cat):
    """One blue hint on the cat's flank: the network's own ab (before the full-resolution blend) turns blue around
    it, the far corner of the photo does not."""
    _, grey = cat
    prepared = colorizer.prepare(grey)
    point = (140, 200)  # x, y: the cat's flank, a large region of similar grey
    parsed = colorizer.parse_hints([(*point, "#2a5db0")], prepared)
    plain = colorizer.network([prepared]).numpy()[0]
    hinted = colorizer.network([prepared], colorizer._hint_channels(parsed, prepared)[None]).numpy()[0]
    target = np.array(parsed[0].ab)
    scale = int(prepared.box_width) / prepared.width
    row, col = int(point[1] * scale), int(point[0] * scale)
    near = (slice(max(0, row - 3), row + 4), slice(max(0, col - 3), col + 4))
    before = np.linalg.norm(plain[near] - target, axis=-1).mean()
    after = np.linalg.norm(hinted[near] - target, axis=-1).mean()
    assert after < 0.6 * before  # the 7x7 network pixels around the hint moved well towards blue
    far = np.abs(hinted[-4:, :4] - plain[-4:, :4]).max()  # the opposite corner of the canvas's photo box
    assert far < 0.5 * np.abs(hinted[near] - plain[near]).max()


def test_hints_from_the_truth_raise_psnr_and_are_obeyed(colorizer, cat):
    truth, grey = cat
    t = tf.constant(truth[None] / 255.0, tf.float32)
    given = hints.evaluation_hints(truth, 10, seed=0)
    auto, steered = colorizer.colorize(grey), colorizer.colorize(grey, hints=given)
    psnr = [float(metrics.psnr(tf.constant(x[None] / 255.0, tf.float32), t)[0]) for x in (auto, steered)]
    assert psnr[1] > psnr[0] + 0.3  # measured: 24.90 -> 25.38 dB (grey: 19.4)
    parsed = hints.parse_hints(given, *truth.shape[:2])
    errors = [np.hypot(*(_ab(steered[int(h.y), int(h.x)]) - h.ab)) for h in parsed]
    assert np.median(errors) <= 4.0

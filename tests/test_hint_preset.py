"""The shipped hint preset, a small trained model: it obeys hints at the point, spreads them over the region
(through the network, not only the full-resolution blend), and its automatic mode is a real colorization."""
import numpy as np
import pytest
import tensorflow as tf

import colorize
from colorize.evaluation import hint_sampling, metrics
from colorize.pipeline import hint_channels, hints

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
    channels = hint_channels.network_channels(parsed, prepared.height, prepared.width, int(prepared.box_height),
                                      int(prepared.box_width), colorizer.config.input_size)
    hinted = colorizer.network([prepared], channels[None]).numpy()[0]
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
    given = hint_sampling.evaluation_hints(truth, 10, seed=0)
    auto, steered = colorizer.colorize(grey), colorizer.colorize(grey, hints=given)
    psnr = [float(metrics.psnr(tf.constant(x[None] / 255.0, tf.float32), t)[0]) for x in (auto, steered)]
    assert psnr[1] > psnr[0] + 0.3  # measured: 24.90 -> 25.38 dB (grey: 19.4)
    parsed = hints.parse_hints(given, *truth.shape[:2])
    errors = [np.hypot(*(_ab(steered[int(h.y), int(h.x)]) - h.ab)) for h in parsed]
    assert np.median(errors) <= 4.0


def test_one_hint_stays_where_it_is_put(colorizer, photos):
    """One orange click on the astronaut's suit turns the suit around it orange and leaves the rest of the photo
    with its automatic colours (the network alone spreads a hint over the whole photo: with the hint's change
    taken everywhere, 80% of the photo beyond 160 pixels changed by more than 2 ab units and the grey-blue studio
    behind her turned orange-yellow, b 9.6 -> 30.9)."""
    truth = photos["astronaut"]
    lab = colorize.rgb_to_lab(truth / 255.0).numpy()
    grey = np.round(colorize.lab_to_rgb(np.concatenate([lab[..., :1], np.zeros_like(lab[..., 1:])], -1).astype(
        np.float32)).numpy() * 255).astype(np.uint8)
    (x, y), orange = (200, 420), "#d9822b"
    automatic = _ab(colorizer.colorize(grey))
    steered = _ab(colorizer.colorize(grey, hints=[(x, y, orange)]))
    target = _ab(np.array([[[0xd9, 0x82, 0x2b]]], np.uint8))[0, 0]
    rows, cols = np.mgrid[:truth.shape[0], :truth.shape[1]]
    distance = np.hypot(cols - x, rows - y)
    near, far = distance < 16, distance > 160  # 2 and 20 of the network's 64 pixels

    def off(ab, where):
        return np.linalg.norm(ab[where] - target, axis=-1).mean()

    assert off(steered, near) < 0.5 * off(automatic, near)  # the suit around the click turned orange
    change = np.linalg.norm(steered - automatic, axis=-1)
    assert (change[far] > 2).mean() < 0.15  # measured 0.07 (0.80 with the hint's change taken everywhere)
    studio = (slice(20, 140), slice(300, 400))  # the grey-blue background right of her head
    assert np.abs(steered[studio].mean(axis=(0, 1)) - automatic[studio].mean(axis=(0, 1))).max() < 2.0
    assert (np.linalg.norm(steered[far] - target, axis=-1) > 20).mean() > 0.9  # most of the photo is not orange


class _CountingModel:
    """The preset's network, counting the passes the compiled step really runs (a variable, so a branch not
    taken by ``tf.cond`` does not count)."""

    def __init__(self, model):
        self.model, self.calls = model, tf.Variable(0)

    def __call__(self, inputs, training=False):
        self.calls.assign_add(1)
        return self.model(inputs, training=training)


def test_an_unhinted_photo_costs_one_pass_and_keeps_its_colours(colorizer, cat):
    """Without hints the hint preset runs its network once (no second, unhinted pass, no dilation) and its colours
    are what the same network gives with the hint reach off; with a hint it runs twice."""
    _, grey = cat
    counting = _CountingModel(colorizer.model)
    counted = colorize.Colorizer(counting, colorizer.config, colorizer.readout, name=NAME)
    unhinted = counted.colorize(grey)
    assert int(counting.calls.numpy()) == 1
    import dataclasses
    no_reach = colorize.Colorizer(colorizer.model, colorizer.config,
                                  dataclasses.replace(colorizer.readout, hint_reach=0.0), name=NAME)
    np.testing.assert_array_equal(unhinted, no_reach.colorize(grey))
    counting.calls.assign(0)
    counted.colorize(grey, hints=[(100, 100, "#2040c0")])
    assert int(counting.calls.numpy()) == 2

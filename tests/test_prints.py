"""Old prints: a scan's border found (or not) and left neutral, a faded photo stretched for the network only."""
import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO
from PIL import Image, ImageDraw

from colorize import Colorizer, InputError, color
from colorize.cli import main
from colorize.data.sources import skimage_photos
from colorize.pipeline import prints
from colorize.pipeline.per_pixel import full_resolution_lightness
from colorize.pipeline.preprocess import Preprocessor


@pytest.fixture(scope="module")
def colorizer(tiny_weights):
    path, config, sha = tiny_weights
    return Colorizer.from_weights(path, config, sha)


def _grey(image):
    return np.asarray(Image.fromarray(image).convert("L"))


def _framed(grey, top, left, bottom, right, value=245, angle=0.0, corner=0):
    """A grey photo (H, W) pasted on a uniform border of the given widths, turned by ``angle`` degrees, its
    corners rounded by ``corner`` px -> uint8 RGB."""
    h, w = grey.shape
    card = Image.new("L", (w + left + right, h + top + bottom), value)
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, w - 1, h - 1], radius=corner, fill=255)
    card.paste(Image.fromarray(grey), (left, top), mask)
    if angle:
        card = card.rotate(angle, resample=Image.BICUBIC, fillcolor=value)
    return np.repeat(np.asarray(card)[..., None], 3, axis=-1)


def _lightness(rgb):
    return color.rgb_to_lab(np.asarray(rgb, np.float32) / 255.0).numpy()[..., 0]


@pytest.mark.parametrize("value", [250, 6, 225])  # white, black, cream-grey
def test_a_uniform_border_is_found_each_side_its_own_width(photos, value):
    grey = _grey(photos["coffee"])
    frame = prints.find_border(_lightness(_framed(grey, 30, 12, 25, 90, value)))
    assert frame is not None
    assert (frame.top, frame.left, frame.bottom, frame.right) == (30, 12, 30 + grey.shape[0], 12 + grey.shape[1])


@pytest.mark.parametrize("angle", [3.0, -4.0])
def test_a_skewed_print_with_rounded_corners_is_found_and_its_border_left_out(photos, angle):
    grey = _grey(photos["chelsea"])
    rgb = _framed(grey, 50, 60, 50, 60, 245, angle=angle, corner=12)
    l = _lightness(rgb)
    frame = prints.find_border(l)
    assert frame is not None and frame.lines is not None
    for _, slope in frame.lines:
        assert abs(abs(np.degrees(np.arctan(slope))) - abs(angle)) < 0.5
    mask = prints.neutral_mask(frame, l)
    paper = np.abs(l - frame.level) <= 1.0
    assert (paper & ~mask).mean() < 0.002  # nearly all of the border (corners too) is left neutral
    assert (mask & (np.abs(l - frame.level) > 10)).mean() < 0.001  # and next to none of the photo
    assert frame.height < rgb.shape[0] - 60 and frame.width < rgb.shape[1] - 80


def test_photos_without_a_border_have_none(photos):
    for name, image in skimage_photos():
        assert prints.find_border(_lightness(image)) is None, name


def test_a_photo_uniform_at_its_edges_is_no_border(photos):
    """A sky along the top (and a wall down one side) is the photo's own, not a print's border."""
    grey = _grey(photos["astronaut"]).copy()
    grey[:140] = 235  # a clear sky
    grey[:, :50] = 235  # and a white wall at the left
    assert prints.find_border(_lightness(np.repeat(grey[..., None], 3, -1))) is None
    grey = _grey(photos["coffee"]).copy()
    grey[:60] = 250
    grey[-40:] = 250  # uniform at the top and the bottom: no border at the sides
    assert prints.find_border(_lightness(np.repeat(grey[..., None], 3, -1))) is None


def test_a_white_object_on_white_is_no_border():
    """A white background around an irregular shape ends on no straight line."""
    card = Image.new("L", (400, 300), 250)
    ImageDraw.Draw(card).ellipse([60, 40, 340, 260], fill=90)
    ImageDraw.Draw(card).polygon([(20, 150), (200, 20), (380, 150), (200, 290)], fill=60)
    rgb = np.repeat(np.asarray(card)[..., None], 3, -1)
    assert prints.find_border(_lightness(rgb)) is None


def test_photos_without_a_border_are_colorized_bit_for_bit_as_before(colorizer, photos):
    plain = Colorizer(colorizer.model, colorizer.config, border=False)
    for name, image in skimage_photos():
        small = image[::2, ::2]
        prepared = colorizer.prepare(small)
        assert prepared.frame is None, name
        np.testing.assert_array_equal(colorizer.colorize(small), plain.colorize(small))
        # and what the network sees is the unstretched L of before
        pre = colorizer.preprocessor
        l = tf.constant(_lightness(small)[..., None])
        padded, h, w = pre.shrink(l)
        np.testing.assert_array_equal(pre.from_lightness(l)[0].numpy(), color.scale_l(padded).numpy())


def test_the_border_is_neutral_and_the_photo_coloured_as_without_it(colorizer, photos):
    grey = _grey(photos["astronaut"][::2, ::2])
    rgb = _framed(grey, 20, 15, 20, 45, 250)
    out = colorizer.colorize(rgb)
    top, left, h, w = 20, 15, *grey.shape
    inside = out[top:top + h, left:left + w].astype(int)
    border = out.astype(int).copy()
    border[top:top + h, left:left + w] = -1
    border = border[border[..., 0] >= 0]
    assert (border.max(axis=-1) == border.min(axis=-1)).all()  # neutral: R = G = B
    np.testing.assert_array_equal(out[top:top + h, left:left + w], colorizer.colorize(rgb[top:top + h, left:left + w]))
    assert (inside.max(axis=-1) - inside.min(axis=-1)).max() > 0
    kept = Colorizer(colorizer.model, colorizer.config, border=False)
    assert kept.prepare(rgb).frame is None
    coloured = kept.colorize(rgb).astype(int)
    assert not np.array_equal(coloured, out)


def test_a_box_given_by_the_user_and_no_border(colorizer, photos):
    grey = _grey(photos["coffee"][::2, ::2])
    rgb = _framed(grey, 10, 10, 10, 10, 250)
    prepared = colorizer.prepare(rgb, border=(30, 20, 200, 150))
    assert prepared.frame[:4] == (20, 30, 150, 200)
    assert colorizer.prepare(rgb, border=False).frame is None
    preview = colorizer.prepare(rgb, border=(30, 20, 200, 150), max_side=rgb.shape[1] // 2)
    assert preview.frame[:4] == (10, 15, 75, 100)
    with pytest.raises(InputError, match="border box"):
        colorizer.prepare(rgb, border=(30, 20, 30, 150))
    with pytest.raises(InputError, match="border must be True or False"):
        Colorizer(colorizer.model, colorizer.config, border="no")


def test_a_faded_photo_is_stretched_for_the_network_and_keeps_its_own_lightness(colorizer, photos):
    grey = _grey(photos["chelsea"]).astype(np.float32)
    faded = np.repeat(np.round(40 + grey * 160 / 255)[..., None], 3, -1).astype(np.uint8)
    prepared = colorizer.prepare(faded)
    box = prepared.l_input.numpy()[:int(prepared.box_height), :int(prepared.box_width)]
    seen = box * color.L_SCALE + color.L_CENTER
    own = _lightness(faded)
    assert np.percentile(seen, 0.2) < np.percentile(own, 0.2) - 10  # its blacks made dark again
    assert np.percentile(seen, 99.8) > np.percentile(own, 99.8) + 10
    # the output's lightness is the input's own: in the prepared photo (its fast form, from the 8-bit samples, within
    # 0.002 of the exact one), to the rounding in the output
    exact = full_resolution_lightness(tf.constant(faded, tf.float32) / 255.0).numpy()
    assert np.abs(np.asarray(prepared.lightness) - exact).max() < 2e-3
    out = colorizer.colorize(faded)
    assert np.abs(_lightness(out) - own).mean() < 0.5


def test_stretching_leaves_full_range_photos_and_lifts_faded_ones():
    size = 32
    full = tf.constant(np.linspace(0, 100, size * size, dtype=np.float32).reshape(size, size, 1))
    np.testing.assert_array_equal(prints.stretch_lightness(full, size, size).numpy(), full.numpy())
    faded = 20.0 + full * 0.55  # 20 .. 75
    stretched = prints.stretch_lightness(faded, size, size).numpy()
    assert np.percentile(stretched, 0.2) == pytest.approx(prints.RANGE[0], abs=0.5)
    assert np.percentile(stretched, 99.8) == pytest.approx(prints.RANGE[1], abs=0.5)
    clipped = tf.minimum(20.0 + full, 100.0)  # lifted blacks, clipped highlights: the top is not narrowed
    assert prints.stretch_lightness(clipped, size, size).numpy().max() == pytest.approx(100.0)
    flat = tf.fill([size, size, 1], 54.0)  # one grey, as light as a faded print's shadows: nothing to stretch
    np.testing.assert_array_equal(prints.stretch_lightness(flat, size, size).numpy(), flat.numpy())


def test_dust_on_a_faded_photo_changes_its_stretch_little(photos):
    """Dark specks of dust (0.5% of the photo) are averaged away on the network's canvas."""
    pre = Preprocessor(64)
    grey = _grey(photos["chelsea"]).astype(np.float32)
    faded = np.round(40 + grey * 160 / 255)
    dusty = faded.copy()
    rng = np.random.default_rng(0)
    for y, x in zip(rng.integers(2, grey.shape[0] - 2, 180), rng.integers(2, grey.shape[1] - 2, 180)):
        dusty[y - 1:y + 2, x - 1:x + 2] = 5.0
    seen = [pre(np.repeat(f[..., None], 3, -1).astype(np.uint8)).l_input.numpy() * color.L_SCALE + color.L_CENTER
            for f in (faded, dusty)]
    assert np.percentile(seen[0], 0.2) < 8  # stretched
    assert np.abs(np.percentile(seen[1], [0.2, 50, 99.8]) - np.percentile(seen[0], [0.2, 50, 99.8])).max() < 3


def test_the_preprocessor_takes_a_frame(photos):
    pre = Preprocessor(32)
    rgb = _framed(_grey(photos["coffee"][::4, ::4]), 8, 8, 8, 8, 250)
    found = pre(rgb, border=True)
    assert found.frame is not None and pre(rgb).frame is None
    assert int(found.box_width) == 32  # the inside fills the canvas's width, the border does not
    assert pre(rgb, border=found.frame).frame == found.frame


def test_keep_border_and_verbose_on_the_command_line(tmp_path, tiny_weights, photos, capsys):
    path, _, sha = tiny_weights
    model = ["--weights", str(path), "--sha256", sha, "--config", str(REPO / "configs" / "smoke.yaml"), "--quiet"]
    rgb = _framed(_grey(photos["coffee"][::4, ::4]), 12, 9, 12, 30, 250)
    Image.fromarray(rgb).save(tmp_path / "scan.png")
    Image.fromarray(photos["chelsea"][::4, ::4]).save(tmp_path / "plain.png")
    assert main(["predict", str(tmp_path / "scan.png"), str(tmp_path / "plain.png"), "-o", str(tmp_path / "a"),
                 "--verbose"] + model) == 0
    err = capsys.readouterr().err
    assert err.count("scan.png: white border 12/9/12/30 px") == 1
    assert err.count("plain.png: no border found") == 1
    out = np.asarray(Image.open(tmp_path / "a" / "scan.png")).astype(int)
    assert (out[:12].max(-1) == out[:12].min(-1)).all()
    assert main(["predict", str(tmp_path / "scan.png"), "-o", str(tmp_path / "b"), "--keep-border", "--verbose"]
                + model) == 0
    assert "border" not in capsys.readouterr().err
    kept = np.asarray(Image.open(tmp_path / "b" / "scan.png")).astype(int)
    assert (kept[:12].max(-1) != kept[:12].min(-1)).any()

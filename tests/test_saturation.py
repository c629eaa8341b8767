"""The saturation dial: a multiplier of the result's chroma in Python (colorize, colorize_batch, colorize_prepared,
finish), on the command line (predict, evaluate, video) and in the web app (re-rendered without the network)."""
import io
import json

import numpy as np
import pytest
from conftest import REPO
from PIL import Image

import colorize
from colorize.cli import main

BAD_VALUES = [-0.5, float("nan"), float("inf"), "1.3", True, [1.0], 4.01, 100, 3000.0, 1e39, 10 ** 400,
              np.float64(1e39), np.bool_(True)]


@pytest.fixture(scope="module")
def colorizer():
    return colorize.load_pretrained()


@pytest.fixture(scope="module")
def grey_photo(photos):
    """The astronaut at a third of its size, greyscale (it has strong colours for the model to find)."""
    return np.asarray(Image.fromarray(photos["astronaut"][::3, ::3]).convert("L"))


def _lab(rgb):
    return colorize.rgb_to_lab(np.asarray(rgb, np.float32) / 255.0).numpy()


def test_the_dial_scales_chroma_keeps_lightness_and_zero_is_grey(colorizer, grey_photo):
    values = (0.0, 0.5, 1.0, 1.3, 2.0, 4.0)
    outputs = {s: colorizer.colorize(grey_photo, saturation=s) for s in values}
    assert np.array_equal(outputs[1.0], colorizer.colorize(grey_photo))  # 1 is the default, bit for bit
    grey = outputs[0.0]
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    l_in = _lab(np.repeat(grey_photo[..., None], 3, -1))[..., 0]
    chroma = []
    for s in values:
        lab = _lab(outputs[s])
        assert np.abs(lab[..., 0] - l_in).max() < 1.5, s  # lightness untouched (8-bit rounding aside)
        chroma.append(float(np.hypot(lab[..., 1], lab[..., 2]).mean()))
    assert chroma[0] < 0.05
    assert all(a < b for a, b in zip(chroma, chroma[1:])), chroma  # more saturation, more chroma
    assert chroma[2] > 3.0  # the default has colour to scale
    # clipped to the gamut, not wrapped: where the default is clearly coloured, x4 keeps its hue
    base, vivid = _lab(outputs[1.0]), _lab(outputs[4.0])
    coloured = np.hypot(base[..., 1], base[..., 2]) > 8
    turn = np.angle(np.exp(1j * (np.arctan2(vivid[..., 2], vivid[..., 1]) - np.arctan2(base[..., 2], base[..., 1]))))
    assert np.degrees(np.abs(turn[coloured])).mean() < 6


def test_batch_prepared_and_finish_take_the_dial(colorizer, grey_photo):
    once = colorizer.colorize(grey_photo, saturation=1.5)
    assert np.array_equal(colorizer.colorize_batch([grey_photo], saturation=1.5)[0], once)
    prepared = colorizer.prepare(grey_photo)
    assert np.array_equal(colorizer.colorize_prepared(prepared, saturation=1.5), once)
    ab = colorizer.predict_ab([prepared])[0]  # the network once; the finish as often as the dial moves
    assert np.array_equal(colorizer.finish(prepared, ab, saturation=1.5), once)
    assert not np.array_equal(colorizer.finish(prepared, ab, saturation=0.5), once)
    vivid = colorize.Colorizer(colorizer.model, colorizer.config, readout=colorizer.readout, saturation=1.5)
    assert np.array_equal(vivid.colorize(grey_photo), once)  # a Colorizer's own default


def test_hinted_photos_take_the_dial(grey_photo):
    hinted = colorize.load_pretrained("bigru_fusion_64_hints")
    hints = [(60, 60, "#c0392b")]
    lab = [_lab(hinted.colorize(grey_photo, hints=hints, saturation=s)) for s in (0.0, 1.0, 1.5)]
    chroma = [float(np.hypot(x[..., 1], x[..., 2]).mean()) for x in lab]
    assert chroma[0] < 0.05 and chroma[0] < chroma[1] < chroma[2]


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_saturation_is_one_line_input_error(colorizer, grey_photo, bad):
    prepared = colorizer.prepare(grey_photo)
    calls = [lambda: colorizer.colorize(grey_photo, saturation=bad),
             lambda: colorizer.colorize_batch([grey_photo], saturation=bad),
             lambda: colorizer.colorize_prepared(prepared, saturation=bad),
             lambda: colorize.Colorizer(colorizer.model, colorizer.config, saturation=bad)]
    for call in calls:
        with pytest.raises(colorize.InputError, match="saturation must be a number from 0 to 4 ") as err:
            call()
        assert "\n" not in str(err.value)


# -- the command line --------------------------------------------------------------------------------------------
def test_predict_saturation_zero_writes_the_grey_photo(tmp_path, grey_photo):
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(grey_photo).save(src)
    assert main(["predict", str(src), "-o", str(out), "--saturation", "0", "--quiet"]) == 0
    rgb = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
    assert np.abs(rgb[..., 0] - grey_photo).max() <= 1


@pytest.mark.parametrize("command", ["predict", "video", "evaluate", "demo", "ray"])
@pytest.mark.parametrize("bad", ["-1", "nan", "inf", "vivid", "4.5", "100", "1e39", "1e400"])
def test_bad_saturation_flag_is_one_line_error(tmp_path, capsys, command, bad):
    target = {"predict": ["x.png", "-o", str(tmp_path / "o")], "video": ["x.mp4", "-o", str(tmp_path / "o.mp4")],
              "evaluate": ["--data", str(tmp_path)], "demo": ["-o", str(tmp_path / "o")],
              "ray": ["x.png", "-o", str(tmp_path / "o"), "--ray", "local"]}[command]
    with pytest.raises(SystemExit) as exit_info:
        main(["predict" if command == "ray" else command, *target, f"--saturation={bad}"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--saturation" in err and "must be a number from 0 to 4 " in err and bad in err
    assert not (tmp_path / "o").exists()


def test_evaluate_saturation_zero_scores_the_grey_photo(tmp_path, photos, capsys):
    folder = tmp_path / "colour"
    folder.mkdir()
    Image.fromarray(photos["coffee"][::4, ::4]).save(folder / "coffee.png")
    out = tmp_path / "result.json"
    assert main(["evaluate", "--data", str(folder), "--saturation", "0", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["model"]["colorfulness"] == pytest.approx(0.0, abs=0.05)
    assert abs(result["model"]["psnr"] - result["grey"]["psnr"]) < 0.2


# -- the web app ---------------------------------------------------------------------------------------------------
def test_web_saturation_rerenders_without_the_network(grey_photo):
    pytest.importorskip("starlette", reason="colorize serve needs the web extra: pip install -e '.[web]'")
    pytest.importorskip("uvicorn", reason="colorize serve needs the web extra: pip install -e '.[web]'")
    import requests

    from colorize import serve

    calls = []
    colorizer = colorize.load_pretrained()
    network = colorizer.predict_ab
    colorizer.predict_ab = lambda *args, **kwargs: calls.append(1) or network(*args, **kwargs)
    buf = io.BytesIO()
    Image.fromarray(grey_photo).save(buf, "PNG")
    app = serve.create_app(colorizer)

    def post(saturation=None):
        fields = {} if saturation is None else {"saturation": (None, saturation)}
        return requests.post(running.url + "api/colorize", files={"image": ("a.png", buf.getvalue()), **fields},
                             timeout=120)

    with serve.BackgroundServer(app) as running:
        first = post()
        assert first.status_code == 200 and first.headers["X-Network-Cached"] == "0"
        vivid, grey = post("1.6"), post("0")
        assert len(calls) == 1  # only the finish ran again
        assert vivid.headers["X-Network-Cached"] == "1" and grey.headers["X-Network-Cached"] == "1"
        decoded = [np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB")) for r in (first, vivid, grey)]
        assert np.array_equal(decoded[0], colorizer.colorize(grey_photo))
        assert np.array_equal(decoded[1], colorizer.colorize(grey_photo, saturation=1.6))
        assert np.ptp(decoded[2].astype(int), axis=-1).max() == 0
        for bad in ("-1", "nan", "x", "9"):
            response = post(bad)
            assert response.status_code == 400 and "saturation must be a number" in response.json()["error"]
    page = (REPO / "colorize" / "serve" / "static" / "index.html").read_text()
    assert 'id="saturation"' in page and 'type="range"' in page

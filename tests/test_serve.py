"""``colorize serve``: its HTTP API against a real server on a free loopback port, its cache, and the command."""
import concurrent.futures
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette", reason="colorize serve needs the web extra: pip install -e '.[web]'")
pytest.importorskip("uvicorn", reason="colorize serve needs the web extra: pip install -e '.[web]'")
pytest.importorskip("python_multipart", reason="colorize serve needs the web extra: pip install -e '.[web]'")
import requests  # noqa: E402  (a dependency of tensorflow)

from colorize import serve  # noqa: E402
from colorize.serve.cache import PhotoCache  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_UPLOAD = 2 ** 20
MAX_PIXELS = 4_000_000


def tiny_hint_colorizer():
    """A small hints model with random weights: fast, and the Colorizer's contract holds for it."""
    import colorize
    from colorize.config import ModelConfig
    config = ModelConfig(input_size=32, encoder_widths=(8, 16), row_units=8, global_units=8, fusion_width=16,
                         hints=True)
    return colorize.Colorizer(colorize.build_model(config), config, name="tiny")


@pytest.fixture(scope="module")
def colorizer():
    return tiny_hint_colorizer()


@pytest.fixture(scope="module")
def server(colorizer):
    app = serve.create_app(colorizer, max_upload_bytes=MAX_UPLOAD, max_pixels=MAX_PIXELS)
    app.state.engine.warm_up()
    with serve.BackgroundServer(app) as running:
        yield running


def encode(rgb, fmt="PNG"):
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buf.getvalue()


def post(server, data, hints=None, name="photo.png", preview=None, **kwargs):
    fields = {"hints": (None, json.dumps(hints))} if hints is not None else {}
    if preview is not None:
        fields["preview"] = (None, preview)
    return requests.post(server.url + "api/colorize", files={"image": (name, data), **fields}, timeout=60, **kwargs)


def decoded(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


def lab(rgb):
    import colorize
    return colorize.rgb_to_lab(np.asarray(rgb, np.float32) / 255.0).numpy()


def png_header_only(width, height):
    """A PNG whose header claims width x height pixels and whose pixel data is cut short: an image that can only
    be refused for its size if the size is checked before decoding (otherwise decoding fails: 400)."""
    def chunk(tag, payload):
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def assert_one_line_error(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    message = response.json()["error"]
    assert message and "\n" not in message and "Traceback" not in message
    return message


# -- the page and the info --------------------------------------------------------------------------------
def test_info(server):
    info = requests.get(server.url + "api/info", timeout=10).json()
    assert info["preset"] == "tiny" and info["hints"] is True
    assert info["max_upload_bytes"] == MAX_UPLOAD and info["max_pixels"] == MAX_PIXELS
    assert info["busy"] == 0 and info["preview_side"] == 1600


def test_page_and_its_files_only(server):
    page = requests.get(server.url, timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="app.js"' in page.text and "default-src 'self'" in page.headers["content-security-policy"]
    for path, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        response = requests.get(server.url + path, timeout=10)
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
    # No directory listing, no other file of the package or the disk, however the path is spelled.
    for path in ("static/", "static/app.js", "colorize/", "../pyproject.toml", "%2e%2e/pyproject.toml",
                 "..%2fcolorize%2fserve.py", "index.html/../serve_app.py", "etc/passwd"):
        assert_one_line_error(requests.get(server.url + path, timeout=10), 404)


# -- round trips ---------------------------------------------------------------------------------------------
def test_round_trip_keeps_size_and_lightness(server, photos):
    photo = photos["chelsea"][:301, :203]  # odd sizes, taller than wide
    result = decoded(post(server, encode(photo)))
    assert result.shape == photo.shape and result.dtype == np.uint8
    difference = np.abs(lab(result)[..., 0] - lab(photo)[..., 0])
    assert difference.mean() < 0.3 and difference.max() < 1.5  # the photo's own L, to uint8 rounding
    assert result.std(axis=-1).mean() > 0.1  # colour, not a grey copy


def test_hints_move_the_colour_at_the_point_towards_the_hint(server, photos):
    grey = np.repeat(photos["coffee"].mean(axis=-1, keepdims=True).astype(np.uint8), 3, axis=-1)
    data = encode(grey)
    hint_rgb = np.array([[[40, 90, 200]]], np.uint8)
    # A point of middle lightness, where the hint's blue is reachable.
    x, y = 300, 60
    before = post(server, data)
    after = post(server, data, hints=[{"x": x + 0.5, "y": y + 0.5, "color": "#285ac8"}])
    assert after.headers["x-photo-cached"] == "1"  # the second request for a photo does not decode it again
    hint_ab = lab(hint_rgb)[0, 0, 1:]
    distance = [np.linalg.norm(lab(decoded(r))[y, x, 1:] - hint_ab) for r in (before, after)]
    assert distance[1] < 0.5 * distance[0], distance
    assert np.abs(lab(decoded(after))[..., 0] - lab(grey)[..., 0]).max() < 1.5  # hints change colour, not L
    # Far from the point the photo is as before.
    assert np.abs(decoded(after)[-20:, -20:].astype(int) - decoded(before)[-20:, -20:]).max() <= 1


def test_preview_is_the_photo_smaller_with_hints_in_the_photos_pixels(server, photos):
    grey = np.repeat(photos["coffee"].mean(axis=-1, keepdims=True).astype(np.uint8), 3, axis=-1)  # 600x400
    data = encode(grey)
    full = post(server, data)
    assert full.headers["x-photo-size"] == "600x400"
    plain = post(server, data, preview="150")
    assert plain.headers["x-photo-size"] == "600x400" and decoded(plain).shape == (100, 150, 3)
    hinted = post(server, data, hints=[{"x": 300.5, "y": 60.5, "color": "#285ac8"}], preview="150")
    assert hinted.headers["x-photo-cached"] == "1"
    hint_ab = lab(np.array([[[40, 90, 200]]], np.uint8))[0, 0, 1:]
    x, y = 75, 15  # the hint's point in the preview's pixels
    distance = [np.linalg.norm(lab(decoded(r))[y, x, 1:] - hint_ab) for r in (plain, hinted)]
    assert distance[1] < 0.5 * distance[0], distance
    small = np.asarray(Image.fromarray(grey).resize((150, 100), Image.BOX))
    assert np.abs(lab(decoded(plain))[..., 0] - lab(small)[..., 0]).mean() < 1.0  # the photo's L, made smaller
    assert decoded(post(server, data, preview="4000")).shape == (400, 600, 3)  # no larger than the photo
    message = assert_one_line_error(post(server, data, hints=[[600, 10, "#ff0000"]], preview="150"), 400)
    assert "600x400" in message  # hints are checked against the photo itself
    assert "preview" in assert_one_line_error(post(server, data, preview="big"), 400)


def test_warm_up_leaves_nothing_to_trace_for_real_photos(server, colorizer, photos):
    assert colorizer.tracing_counts() == {"prepare": 1, "network": 1, "finish": 1}
    decoded(post(server, encode(photos["astronaut"]), hints=[[10.5, 20.5, "#c0392b"]]))
    decoded(post(server, encode(photos["coffee"], "JPEG")))
    assert colorizer.tracing_counts() == {"prepare": 1, "network": 1, "finish": 1}


def test_concurrent_clients_each_get_their_own_photo(server, photos):
    rng = np.random.default_rng(0)
    crops = []
    for i in range(8):
        photo = photos[("astronaut", "coffee", "chelsea")[i % 3]]
        h, w = 120 + 17 * i, 200 - 9 * i
        top, left = rng.integers(0, photo.shape[0] - h), rng.integers(0, photo.shape[1] - w)
        crops.append(photo[top:top + h, left:left + w])
    barrier = threading.Barrier(len(crops))

    def client(photo):
        data = encode(photo)
        barrier.wait()
        return decoded(post(server, data))

    with concurrent.futures.ThreadPoolExecutor(len(crops)) as pool:
        results = list(pool.map(client, crops))
    for photo, result in zip(crops, results):
        assert result.shape == photo.shape
        assert np.abs(lab(result)[..., 0] - lab(photo)[..., 0]).max() < 1.5


# -- errors ------------------------------------------------------------------------------------------------
ERRORS = [
    ("not an image", lambda url: post_raw(url, b"this is not an image", "notes.txt"), 400, "not an image"),
    ("empty file", lambda url: post_raw(url, b"", "empty.png"), 400, "no photo"),
    ("no image field", lambda url: requests.post(url, files={"photo": ("a.png", b"x")}, timeout=10), 400, "image"),
    ("not multipart", lambda url: requests.post(url, json={"image": "a.png"}, timeout=10), 400, "multipart"),
    ("broken multipart", lambda url: requests.post(url, data=b"--xyz\r\nnonsense", timeout=10, headers={
        "content-type": "multipart/form-data; boundary=xyz"}), 400, "image"),
    ("truncated image", lambda url: post_raw(url, png_header_only(100, 80), "cut.png"), 400, "cut.png"),
    ("hints not JSON", lambda url: post_raw(url, SMALL_PNG, hints="[{x: 1}"), 400, "JSON"),
    ("hints not a list", lambda url: post_raw(url, SMALL_PNG, hints='{"x": 1}'), 400, "list"),
    ("hint outside", lambda url: post_raw(url, SMALL_PNG, hints='[{"x": 64, "y": 0, "color": "#ff0000"}]'), 400,
     "outside"),
    ("bad colour", lambda url: post_raw(url, SMALL_PNG, hints='[{"x": 1, "y": 1, "color": "redd1sh"}]'), 400, "colour"),
    ("too many hints", lambda url: post_raw(url, SMALL_PNG, hints=json.dumps([[1, 1, "#ff0000"]] * 201)), 400,
     "at most"),
    ("upload too large", lambda url: post_raw(url, b"\0" * (MAX_UPLOAD + 1), "big.png"), 413, "limit"),
    ("too many pixels", lambda url: post_raw(url, png_header_only(2001, 2000), "wide.png"), 413, "4,002,000"),
    ("decompression bomb", lambda url: post_raw(url, png_header_only(50000, 50000), "bomb.png"), 413, "bomb.png"),
    ("cross-site post", lambda url: requests.post(url, files={"image": ("a.png", SMALL_PNG)}, timeout=10, headers={
        "origin": "http://example.com"}), 403, "cross-site"),
    ("GET the endpoint", lambda url: requests.get(url, timeout=10), 405, "GET"),
]
SMALL_PNG = encode(np.full((48, 64, 3), 128, np.uint8))


def post_raw(url, data, name="photo.png", hints=None):
    fields = {"hints": (None, hints)} if hints is not None else {}
    return requests.post(url, files={"image": (name, data), **fields}, timeout=30)


@pytest.mark.parametrize("case, send, status, words", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_one_json_line_with_their_status(server, case, send, status, words):
    message = assert_one_line_error(send(server.url + "api/colorize"), status)
    assert words in message


def test_server_stays_up_after_bad_inputs(server, photos):
    url = server.url + "api/colorize"
    for _, send, _, _ in ERRORS:
        send(url)
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1].strip("/")))) as raw:
        raw.sendall(b"POST /api/colorize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999\r\n\r\nshort")
    deadline = time.monotonic() + 10  # the server notices the cut-off upload a moment after the socket closes
    while requests.get(server.url + "api/info", timeout=10).json()["busy"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert requests.get(server.url + "api/info", timeout=10).json()["busy"] == 0
    assert decoded(post(server, encode(photos["astronaut"][:64, :80]))).shape == (64, 80, 3)


def test_other_host_names_are_refused_on_loopback(server):
    assert requests.get(server.url.replace("127.0.0.1", "localhost") + "api/info", timeout=10).status_code == 200
    message = assert_one_line_error(requests.get(server.url + "api/info", headers={"host": "attacker.example"},
                                                 timeout=10), 400)
    assert "localhost" in message
    assert_one_line_error(requests.get(server.url + "api/info", headers={"host": "[::1"}, timeout=10), 400)
    assert_one_line_error(requests.post(server.url + "api/colorize", headers={"origin": "http://[x"}, timeout=10,
                                        files={"image": ("a.png", SMALL_PNG)}), 403)


class BlockingColorizer:
    """The tiny colorizer, but each model run waits for ``release`` (so a test controls when the queue is full)."""

    def __init__(self, inner):
        self.inner, self.running, self.release = inner, threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def predict_ab(self, *args, **kwargs):  # the network step, which the app runs for a new photo or new hints
        self.running.set()
        assert self.release.wait(30)
        return self.inner.predict_ab(*args, **kwargs)


def test_busy_beyond_the_queue_is_503_and_the_queued_request_completes(colorizer):
    blocking = BlockingColorizer(colorizer)
    with serve.BackgroundServer(serve.create_app(blocking, queue_size=1)) as running:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            first = pool.submit(post, running, SMALL_PNG)
            assert blocking.running.wait(30)
            assert requests.get(running.url + "api/info", timeout=10).json()["busy"] == 1
            assert "busy" in assert_one_line_error(post(running, SMALL_PNG), 503)
            blocking.release.set()
            assert decoded(first.result()).shape == (48, 64, 3)
        assert decoded(post(running, SMALL_PNG)).shape == (48, 64, 3)


def test_default_limits_take_a_24_megapixel_phone_photo():
    from colorize.serve.app import DEFAULT_MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS
    from colorize.serve.requests import RequestError, open_checked
    assert open_checked(png_header_only(6000, 4000), "phone.png", MAX_UPLOAD_PIXELS).size == (6000, 4000)
    assert DEFAULT_MAX_UPLOAD_BYTES > 24_000_000 * 3 // 2  # even as a PNG of 1.5 bytes a pixel
    with pytest.raises(RequestError, match="more than"):
        open_checked(png_header_only(10000, 10000), "camera.png", MAX_UPLOAD_PIXELS)


# -- the cache -----------------------------------------------------------------------------------------------
def test_photo_cache_is_a_small_lru_with_a_time_to_live():
    now = [0.0]
    cache = PhotoCache(entries=2, ttl_s=60, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    now[0] = 59.0
    assert cache.get("c") == 3  # a read renews
    now[0] = 61.0
    cache.purge()
    assert len(cache) == 1 and cache.get("a") is None and cache.get("c") == 3
    now[0] = 200.0
    cache.purge()
    assert len(cache) == 0


# -- the command ---------------------------------------------------------------------------------------------
def test_exposure_warning_only_beyond_loopback():
    assert serve.exposure_warning("127.0.0.1") is None and serve.exposure_warning("localhost") is None
    assert "anyone" in serve.exposure_warning("0.0.0.0")


def test_without_the_web_extra_serve_says_what_to_install(monkeypatch, capsys):
    import colorize
    from colorize import cli
    for name in [m for m in sys.modules if m.split(".")[0] == "starlette"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if Starlette were not installed
    for name in ("colorize.serve", "colorize.serve.server", "colorize.serve.app"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.delattr(colorize, "serve", raising=False)
    with socket.socket() as taken:  # should the import work after all, the command fails here, not serves
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert cli.main(["serve", "--port", str(taken.getsockname()[1])]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'colorize-photos[web]'" in err and "starlette" in err


def test_busy_port_is_one_line_before_the_model_loads(capsys):
    from colorize import cli
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert cli.main(["serve", "--port", str(taken.getsockname()[1])]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot listen" in err and "--port" in err


def test_colorize_serve_prints_its_url_serves_and_stops_cleanly_on_ctrl_c():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "colorize.cli", "serve", "--port", "0", "--preset",
                                "bigru_fusion_64"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        line = process.stdout.readline()
        assert line.startswith("colorize serve: http://127.0.0.1:"), line + process.stderr.read()
        url = line.split()[2]
        info = requests.get(url + "api/info", timeout=30).json()
        assert info["preset"] == "bigru_fusion_64" and info["hints"] is False
        assert "no colour hints" in line
        message = assert_one_line_error(post_raw(url + "api/colorize", SMALL_PNG, hints='[[1, 1, "#ff0000"]]'), 400)
        assert "hints" in message
        assert decoded(post_raw(url + "api/colorize", SMALL_PNG)).shape == (48, 64, 3)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "Traceback" not in err and "stopped" in err


# -- round 3 of hostile input (issue 26) ---------------------------------------------------------------------
def test_a_huge_hint_radius_and_deeply_nested_hints_are_400(server):
    """Issue 26.1 and 26.2: radius 1e300 overflowed (500), and [[[...]]] a few thousand deep was a RecursionError."""
    url = server.url + "api/colorize"
    huge = post_raw(url, SMALL_PNG, hints='[{"x": 1, "y": 1, "color": "#ff0000", "radius": 1e300}]')
    assert "diagonal" in assert_one_line_error(huge, 400)
    deep = post_raw(url, SMALL_PNG, hints="[" * 5000 + "]" * 5000)
    assert "nest too deep" in assert_one_line_error(deep, 400)


@pytest.mark.parametrize("preview", ["\u00b2\u00b2\u00b2", "9" * 5000, "1\u0662\u0668"])
def test_a_preview_of_odd_digits_is_400_as_for_letters(server, preview):
    """Issue 26.3: superscript (and Arabic-Indic) digits pass str.isdigit(), a 5,000-digit number is over int()'s
    limit: both were 500."""
    expected = assert_one_line_error(post(server, SMALL_PNG, preview="abc"), 400)
    message = assert_one_line_error(post(server, SMALL_PNG, preview=preview), 400)
    assert message.split(", got")[0] == expected.split(", got")[0]


def test_a_multipart_boundary_over_256_characters_is_400(server):
    """Issue 26.19: python-multipart refuses such a boundary when the parser is built, which was outside the try."""
    boundary = "b" * 300
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n").encode() \
        + SMALL_PNG + f"\r\n--{boundary}--\r\n".encode()
    response = requests.post(server.url + "api/colorize", data=body, timeout=30,
                             headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert "cannot be parsed" in assert_one_line_error(response, 400)


def test_stalled_uploads_hold_no_queue_place_and_time_out_with_408(colorizer):
    """Issue 26.4: a queue place was taken before the body was read, and body reads never timed out: a few
    uploads that stop after their headers locked everyone else out with 503."""
    app = serve.create_app(colorizer, queue_size=1, body_timeout_s=2.0)
    with serve.BackgroundServer(app) as running:
        port = int(running.url.rsplit(":", 1)[1].strip("/"))
        stalled = []
        for _ in range(3):
            raw = socket.create_connection(("127.0.0.1", port))
            raw.sendall(b"POST /api/colorize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n"
                        b"Content-Type: multipart/form-data; boundary=xyz\r\n\r\n--xyz\r\n")
            stalled.append(raw)
        try:
            time.sleep(0.3)
            assert decoded(post(running, SMALL_PNG)).shape == (48, 64, 3)  # was 503: busy
            for raw in stalled:
                raw.settimeout(15)
                answer = b""
                while b"\r\n\r\n" not in answer:
                    piece = raw.recv(4096)
                    if not piece:
                        break
                    answer += piece
                assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        finally:
            for raw in stalled:
                raw.close()
        assert requests.get(running.url + "api/info", timeout=10).json()["busy"] == 0


@pytest.mark.parametrize("argv, words", [
    (["--max-upload-mb", "nan"], "--max-upload-mb must be a positive finite number"),
    (["--max-upload-mb", "inf"], "--max-upload-mb must be a positive finite number"),
    (["--port", "99999"], "--port must be from 0 to 65535"),
    (["--port", "65536"], "--port must be from 0 to 65535"),
    (["--port", "-1"], "--port must be from 0 to 65535"),
])
def test_odd_serve_numbers_are_one_line_before_the_model_loads(monkeypatch, capsys, argv, words):
    """Issue 26.8: nan / inf failed after the model loaded; ports over 65535 wrapped; -1 was blamed on --host."""
    from colorize import cli
    from colorize.cli import common

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(common, "colorizer", no_model)
    assert cli.main(["serve", *argv]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "--host" not in err


def test_a_reference_photo_brings_its_colours_and_a_grey_one_is_a_400_naming_it(server, photos):
    photo = photos["coffee"]
    grey = np.repeat(photo.mean(axis=-1, keepdims=True).astype(np.uint8), 3, axis=-1)
    data = encode(grey)
    fields = {"image": ("photo.png", data), "reference": ("same.jpg", encode(photo, "JPEG"))}
    automatic = decoded(post(server, data))
    first = requests.post(server.url + "api/colorize", files=fields, timeout=60)
    again = requests.post(server.url + "api/colorize", files=fields, timeout=60)
    assert again.headers["x-photo-cached"] == "1"  # the photo (and the reference) are prepared once
    from urllib.parse import unquote  # what the reference did, for the page's note beside its thumbnail
    note = unquote(first.headers["x-reference-note"])
    assert note.startswith("reference same.jpg: matched ") and "photo.png" in note
    assert unquote(again.headers["x-reference-note"]) == note and "x-reference-note" not in post(server, data).headers
    referenced = decoded(first)
    np.testing.assert_array_equal(referenced, decoded(again))
    # the reference's colours reached the network (this random test model does not reproduce them faithfully:
    # tests/test_reference.py checks that with the shipped preset), and the photo keeps its lightness
    assert np.abs(referenced.astype(int) - automatic).mean() > 1.0
    assert np.abs(lab(referenced)[..., 0] - lab(grey)[..., 0]).max() < 1.5
    refused = requests.post(server.url + "api/colorize", timeout=60,
                            files={"image": ("photo.png", data), "reference": ("old.png", data)})
    message = assert_one_line_error(refused, 400)
    assert "reference old.png is greyscale" in message


def test_an_unknown_form_field_is_a_400_naming_the_known_ones(server, photos):
    """Issue 33.7: a misspelt field (``saturaton``) did nothing, silently; now it is named with the known ones."""
    data = encode(photos["coffee"][:40, :60])
    response = requests.post(server.url + "api/colorize", timeout=60,
                             files={"image": ("p.png", data), "saturaton": (None, "1.5")})
    message = assert_one_line_error(response, 400)
    assert message == ("unknown form field 'saturaton'; the fields are image, hints, preview, saturation, reference, "
                       "border")
    known = requests.post(server.url + "api/colorize", timeout=60, files={
        "image": ("p.png", data), "saturation": (None, "1.5"), "preview": (None, "64"), "hints": (None, "[]")})
    assert decoded(known).shape == (40, 60, 3)


def test_the_caches_are_each_clients_own_so_they_tell_nobody_what_others_sent():
    """Issue 34 item 9: client B posting A's photo got X-Photo-Cached: 1 and a faster answer (an oracle of who sent
    what, with --host). Every cache is keyed by the client: A's second post is cached, B's first is not."""
    import colorize
    from colorize.serve.engine import Engine
    engine = Engine(colorize.load_pretrained(), cache=PhotoCache(4, 600.0))
    buf = io.BytesIO()
    Image.fromarray(np.tile(np.arange(64, dtype=np.uint8)[:, None, None] * 3, (1, 48, 3))).save(buf, "PNG")
    photo = buf.getvalue()

    def run(client):
        _, _, cached, timings, _, _ = engine._run(photo, "a.png", [], None, client=client)
        return cached, "network" in timings
    assert run("10.0.0.1") == (False, True)
    assert run("10.0.0.1") == (True, False)  # the same client: prepared photo and network ab from the caches
    assert run("10.0.0.2") == (False, True)  # another client: as if nobody had sent it

"""``colorize serve``'s page in a real browser: headless Chromium, driven by Selenium, opens a photo, waits for the
colorization, clicks a point, picks colours, drags, undoes, downloads, and saves a screenshot.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); skips, saying so, without them.
"""
import base64
import io
import json
import os
import shutil
import time

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette", reason="colorize serve needs the web extra: pip install -e '.[web]'")
pytest.importorskip("uvicorn", reason="colorize serve needs the web extra: pip install -e '.[web]'")
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs selenium (the test extra)")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from test_serve import lab, tiny_hint_colorizer  # noqa: E402

from colorize import serve  # noqa: E402

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,820")
PIXEL_AT = """
const img = document.getElementById("result");
const [width, height] = document.body.dataset.photo.split("x").map(Number);
const [x, y] = [Math.floor(arguments[0] * img.naturalWidth / width),
                Math.floor(arguments[1] * img.naturalHeight / height)];
const canvas = document.createElement("canvas");
canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
const context = canvas.getContext("2d");
context.drawImage(img, 0, 0);
return Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
"""


DROP = """
const [data, name] = arguments;
const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
const transfer = new DataTransfer();
transfer.items.add(new File([bytes], name, { type: "image/png" }));
document.body.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
"""


def find_chromium():
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    return browser, shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary, driver = find_chromium()
    if not (binary and driver):
        pytest.skip("no Chromium and chromedriver on this machine (apt-get install chromium chromium-driver, "
                    "as .ci/run does)")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    chrome = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    chrome.downloads = downloads
    yield chrome
    chrome.quit()


@pytest.fixture(scope="module")
def server():
    # Results of 400 pixels a side while steering, as the page gets for photos over 1600 by default.
    with serve.BackgroundServer(serve.create_app(tiny_hint_colorizer(), preview_side=400)) as running:
        yield running


def wait_for(chrome, condition, what, timeout=60):
    return WebDriverWait(chrome, timeout).until(lambda _: condition(), message=f"timed out waiting for {what}")


def results(chrome):
    return int(chrome.find_element(By.TAG_NAME, "body").get_attribute("data-results"))


def wait_for_result(chrome, count):
    wait_for(chrome, lambda: results(chrome) >= count and chrome.execute_script(
        "return document.body.dataset.state") == "ready", f"result {count}")


def click_photo_at(chrome, x, y, element_id="grey"):
    """Click the photo's pixel (x, y), wherever the page has laid the image out and at whatever scale."""
    img = chrome.find_element(By.ID, element_id)
    natural_w, natural_h = chrome.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]",
                                                 img)
    box = img.rect
    dx = (x + 0.5) / natural_w * box["width"] - box["width"] / 2
    dy = (y + 0.5) / natural_h * box["height"] - box["height"] / 2
    ActionChains(chrome).move_to_element_with_offset(img, round(dx), round(dy)).click().perform()


def ab_distance(rgb, target):
    return float(np.linalg.norm(lab(np.array([[rgb]], np.uint8))[0, 0, 1:] - lab(np.array([[target]], np.uint8))[
        0, 0, 1:]))


def hint_list(chrome):
    return [(float(li.find_element(By.CLASS_NAME, "x").get_attribute("value")),
             float(li.find_element(By.CLASS_NAME, "y").get_attribute("value")))
            for li in chrome.find_elements(By.CSS_SELECTOR, "#hint-list li")]


def wait_for_download(folder, name):
    path = folder / name
    deadline = time.monotonic() + 20
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path


def test_page_colorizes_and_steers_a_photo_with_clicks(browser, server, photos, tmp_path):
    from colorize.pipeline.hints import load_hints_file
    grey = np.repeat(photos["coffee"].mean(axis=-1, keepdims=True).astype(np.uint8), 3, axis=-1)
    photo = tmp_path / "coffee.jpg"
    Image.fromarray(grey).save(photo, quality=92)
    browser.get(server.url)
    wait_for(browser, lambda: "tiny" in browser.find_element(By.ID, "model").text, "the model's name")
    assert browser.find_element(By.ID, "toolbar").is_displayed()

    browser.find_element(By.ID, "file").send_keys(str(photo))
    wait_for_result(browser, 1)
    assert browser.execute_script("return [document.getElementById('result').naturalWidth, "
                                  "document.getElementById('result').naturalHeight]") == [400, 267]
    assert browser.execute_script("return document.body.dataset.photo") == "600x400"
    x, y = 300, 60
    automatic = browser.execute_script(PIXEL_AT, x, y)

    # Click a point (a hint in the current colour), then pick a colour for it from the swatches.
    click_photo_at(browser, x, y)
    wait_for_result(browser, 2)
    assert hint_list(browser) == [(pytest.approx(x + 0.5, abs=1.5), pytest.approx(y + 0.5, abs=1.5))]
    red = "#c0392b"
    browser.find_element(By.CSS_SELECTOR, f'.swatch[data-color="{red}"]').click()
    wait_for_result(browser, 3)
    steered = browser.execute_script(PIXEL_AT, x, y)
    red_rgb = (0xc0, 0x39, 0x2b)
    assert ab_distance(steered, red_rgb) < 0.5 * ab_distance(automatic, red_rgb), (automatic, steered)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#grey-stage .marker")) == 1

    # The colour input recolours the selected hint too.
    browser.execute_script("const c = document.getElementById('color'); c.value = '#e6c229';"
                           "c.dispatchEvent(new Event('input')); c.dispatchEvent(new Event('change'));")
    wait_for_result(browser, 4)
    yellow = browser.execute_script(PIXEL_AT, x, y)
    assert ab_distance(yellow, (0xe6, 0xc2, 0x29)) < ab_distance(steered, (0xe6, 0xc2, 0x29))
    browser.find_element(By.ID, "undo").click()  # back to red
    wait_for_result(browser, 5)
    assert ab_distance(browser.execute_script(PIXEL_AT, x, y), red_rgb) < 0.5 * ab_distance(automatic, red_rgb)

    # Drag the marker; the list follows; undo puts it back.
    marker = browser.find_element(By.CSS_SELECTOR, "#result-stage .marker")
    ActionChains(browser).click_and_hold(marker).move_by_offset(40, 25).release().perform()
    wait_for_result(browser, 6)
    (moved_x, moved_y), = hint_list(browser)
    assert moved_x > x + 10 and moved_y > y + 5
    browser.save_screenshot(str(tmp_path / "serve.png"))
    if os.environ.get("COLORIZE_SCREENSHOT"):
        shutil.copy(tmp_path / "serve.png", os.environ["COLORIZE_SCREENSHOT"])
    browser.find_element(By.ID, "undo").click()
    wait_for_result(browser, 7)
    assert hint_list(browser) == [(pytest.approx(x + 0.5, abs=1.5), pytest.approx(y + 0.5, abs=1.5))]

    # Downloads: the result at full resolution (asked for now), and the hints in the shape `colorize predict
    # --hints` reads.
    browser.find_element(By.ID, "download-png").click()
    png = wait_for_download(browser.downloads, "coffee-colorized.png")
    assert np.asarray(Image.open(png)).shape == (400, 600, 3)
    browser.find_element(By.ID, "download-hints").click()
    hints = load_hints_file(wait_for_download(browser.downloads, "coffee.hints.json"))
    assert list(hints) == ["coffee.jpg"] and hints["coffee.jpg"][0]["color"] == red
    assert hints["coffee.jpg"][0]["x"] == pytest.approx(x + 0.5, abs=1.5)

    # Remove the hint: the automatic colours come back.
    browser.find_element(By.CSS_SELECTOR, "#hint-list .remove").click()
    wait_for_result(browser, 8)
    assert hint_list(browser) == []
    assert np.abs(np.subtract(browser.execute_script(PIXEL_AT, x, y), automatic)).max() <= 2

    screenshot = Image.open(tmp_path / "serve.png")
    assert screenshot.size[0] >= 1000 and np.asarray(screenshot.convert("L")).std() > 10


def test_page_shows_errors_in_one_line_and_reads_what_the_server_reads(browser, server, photos, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    browser.get(server.url)
    wait_for(browser, lambda: "tiny" in browser.find_element(By.ID, "model").text, "the model's name")
    browser.find_element(By.ID, "file").send_keys(str(notes))
    error = browser.find_element(By.ID, "error")
    wait_for(browser, error.is_displayed, "the error line")
    assert "notes.txt is not an image" in error.text and "\n" not in error.text
    assert browser.execute_script("return document.body.dataset.state") == "error"
    assert browser.execute_script("return fetch('api/info').then(r => r.ok)")  # the server is still up
    assert not browser.find_element(By.ID, "grey").is_displayed()  # back to "open or drop a photo"
    assert browser.find_element(By.ID, "drop").is_displayed()

    # A TIFF: the server reads it, the browser cannot show it; the grey side shows the result in grey.
    Image.fromarray(photos["coffee"][:200, :300]).save(tmp_path / "scan.tif")
    browser.find_element(By.ID, "file").send_keys(str(tmp_path / "scan.tif"))
    wait_for_result(browser, 1)
    assert not error.is_displayed()
    wait_for(browser, lambda: browser.execute_script(
        "return document.getElementById('grey').src === document.getElementById('result').src"), "the grey side")


def test_page_hides_hint_tools_for_a_model_without_hints(browser, photos, tmp_path):
    import colorize
    from colorize.config import ModelConfig
    config = ModelConfig(input_size=32, encoder_widths=(8, 16), row_units=8, global_units=8, fusion_width=16)
    plain = colorize.Colorizer(colorize.build_model(config), config, name="plain")
    buf = io.BytesIO()
    Image.fromarray(photos["chelsea"]).save(buf, "PNG")
    with serve.BackgroundServer(serve.create_app(plain)) as running:
        browser.get(running.url)
        wait_for(browser, lambda: "plain" in browser.find_element(By.ID, "model").text, "the model's name")
        # This time the photo is dropped on the page (a drop event carrying the file, as a desktop drag sends).
        browser.execute_script(DROP, base64.b64encode(buf.getvalue()).decode(), "chelsea.png")
        wait_for_result(browser, 1)
        assert browser.execute_script("return document.getElementById('result').naturalWidth") == 451
        assert not browser.find_element(By.ID, "toolbar").is_displayed()
        assert not browser.find_element(By.ID, "download-hints").is_displayed()
        assert browser.find_element(By.ID, "no-hints").is_displayed()
        click_photo_at(browser, 100, 100)
        time.sleep(0.3)
        assert results(browser) == 1 and hint_list(browser) == []
    assert json.loads(browser.execute_script("return JSON.stringify(document.body.dataset)"))["results"] == "1"

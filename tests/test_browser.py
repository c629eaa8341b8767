"""``colorize serve``'s page in a real browser: headless Chromium, driven by Selenium, opens a photo, waits for the
colorization, clicks a point, picks colours, drags, undoes, downloads, and saves a screenshot; keeps the work on
screen when a file that is not a photo is opened; compares before / after and zooms.

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
from selenium.webdriver.common.keys import Keys  # noqa: E402
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


def wait_for(chrome, condition, what, timeout=240):  # a first result traces the model: slow on a busy CPU
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
    from colorize.pipeline.hint_files import load_hints_file
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

    # Colour first, as the toolbar says: a swatch, then a click: a hint in that colour, not selected.
    red, yellow_hex = "#c0392b", "#e6c229"
    mode = browser.find_element(By.ID, "hint-mode")
    assert mode.text == "Click the photo to add a hint in"
    browser.find_element(By.CSS_SELECTOR, f'.swatch[data-color="{red}"]').click()
    assert browser.find_element(By.CSS_SELECTOR, f'.swatch[data-color="{red}"]').get_attribute("aria-pressed") \
        == "true"
    click_photo_at(browser, x, y)
    wait_for_result(browser, 2)
    assert hint_list(browser) == [(pytest.approx(x + 0.5, abs=1.5), pytest.approx(y + 0.5, abs=1.5))]
    steered = browser.execute_script(PIXEL_AT, x, y)
    red_rgb = (0xc0, 0x39, 0x2b)
    assert ab_distance(steered, red_rgb) < 0.5 * ab_distance(automatic, red_rgb), (automatic, steered)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#grey-stage .marker")) == 1
    assert not browser.find_elements(By.CSS_SELECTOR, ".marker.selected")
    # The next swatch is the next click's colour: hint 1 stays red (no request, nothing recoloured).
    browser.find_element(By.CSS_SELECTOR, f'.swatch[data-color="{yellow_hex}"]').click()
    assert results(browser) == 2 and browser.execute_script("return state.hints[0].color") == red
    assert mode.text == "Click the photo to add a hint in"

    # Selecting a hint (its chip in the list) marks it, says so, shows Escape; then a colour recolours it.
    browser.find_element(By.CSS_SELECTOR, "#hint-list .chip").click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#grey-stage .marker.selected")) == 1
    assert mode.text == "Hint 1 selected: a colour recolours it"
    assert browser.find_element(By.ID, "deselect").is_displayed() and "Esc" in browser.find_element(
        By.ID, "deselect").text
    browser.execute_script(f"const c = document.getElementById('color'); c.value = '{yellow_hex}';"
                           "c.dispatchEvent(new Event('input')); c.dispatchEvent(new Event('change'));")
    wait_for_result(browser, 3)
    yellow = browser.execute_script(PIXEL_AT, x, y)
    assert ab_distance(yellow, (0xe6, 0xc2, 0x29)) < ab_distance(steered, (0xe6, 0xc2, 0x29))
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()  # Escape: deselected, colours are for clicks again
    assert not browser.find_elements(By.CSS_SELECTOR, ".marker.selected")
    assert mode.text == "Click the photo to add a hint in"
    assert not browser.find_element(By.ID, "deselect").is_displayed()
    done = results(browser)  # from here on, each step waits for one more result than the last one seen
    browser.find_element(By.ID, "undo").click()  # back to red
    wait_for_result(browser, done + 1)
    assert ab_distance(browser.execute_script(PIXEL_AT, x, y), red_rgb) < 0.5 * ab_distance(automatic, red_rgb)

    # Drag the marker; the list follows; undo puts it back.
    marker = browser.find_element(By.CSS_SELECTOR, "#result-stage .marker")
    ActionChains(browser).click_and_hold(marker).move_by_offset(40, 25).release().perform()
    wait_for_result(browser, done + 2)
    (moved_x, moved_y), = hint_list(browser)
    assert moved_x > x + 10 and moved_y > y + 5
    browser.save_screenshot(str(tmp_path / "serve.png"))
    if os.environ.get("COLORIZE_SCREENSHOT"):
        shutil.copy(tmp_path / "serve.png", os.environ["COLORIZE_SCREENSHOT"])
    browser.find_element(By.ID, "undo").click()
    wait_for_result(browser, done + 3)
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
    wait_for_result(browser, done + 4)
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


def stage_pixels(chrome, stage_id):
    """The stage (photo and markers) as the screen shows it: RGB uint8 (H, W, 3)."""
    png = chrome.find_element(By.ID, stage_id).screenshot_as_png
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def open_photo(chrome, path, results_before=0):
    chrome.find_element(By.ID, "file").send_keys(str(path))
    wait_for_result(chrome, results_before + 1)


def test_a_file_that_is_not_a_photo_keeps_the_photo_and_hints_being_worked_on(browser, server, photos, tmp_path):
    photo, notes = tmp_path / "coffee.png", tmp_path / "notes.txt"
    Image.fromarray(photos["coffee"][::2, ::2]).save(photo)
    notes.write_text("not a photo")
    browser.get(server.url)
    wait_for(browser, lambda: "tiny" in browser.find_element(By.ID, "model").text, "the model's name")
    open_photo(browser, photo)
    click_photo_at(browser, 100, 80)
    wait_for_result(browser, 2)
    shown = browser.execute_script("return document.getElementById('result').src")

    browser.find_element(By.ID, "file").send_keys(str(notes))
    error = browser.find_element(By.ID, "error")
    wait_for(browser, error.is_displayed, "the error line")
    assert "notes.txt is not an image" in error.text and "\n" not in error.text
    # Only the banner: the photo, its hint and its result are still there, and still the ones being steered.
    assert browser.find_element(By.ID, "grey").is_displayed() and not browser.find_element(By.ID, "drop").is_displayed()
    assert browser.execute_script("return document.body.dataset.photo") == "300x200"
    assert browser.execute_script("return document.getElementById('result').src") == shown
    assert hint_list(browser) == [(pytest.approx(100.5, abs=1.5), pytest.approx(80.5, abs=1.5))]
    assert browser.find_element(By.ID, "download-png").get_attribute("aria-disabled") == "false"
    click_photo_at(browser, 200, 120)
    wait_for_result(browser, 3)
    assert len(hint_list(browser)) == 2 and not error.is_displayed()

    # A photo does replace it, hints and all.
    other = tmp_path / "cat.png"
    Image.fromarray(photos["chelsea"][::2, ::2]).save(other)
    open_photo(browser, other, results_before=3)
    assert browser.execute_script("return document.body.dataset.photo") == "226x150"
    assert hint_list(browser) == [] and not error.is_displayed()


def test_before_after_split_hold_to_compare_and_zoom(browser, server, photos, tmp_path):
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    photo = tmp_path / "astronaut.png"
    Image.fromarray(photos["astronaut"]).save(photo)  # 512x512: shown on a 400-pixel preview
    browser.get(server.url)
    wait_for(browser, lambda: "tiny" in browser.find_element(By.ID, "model").text, "the model's name")
    open_photo(browser, photo)
    assert not browser.find_element(By.CLASS_NAME, "compare-line").is_displayed()  # no split yet
    browser.find_element(By.CSS_SELECTOR, '.swatch[data-color="#c0392b"]').click()  # red for the next click
    click_photo_at(browser, 130, 250)  # a red hint on the left half: the result differs from the grey there
    wait_for_result(browser, 2)
    after = stage_pixels(browser, "result-stage")

    # Hold C: the greyscale input in place of the result, markers kept; let go: the result again.
    ActionChains(browser).key_down("c").perform()
    before = stage_pixels(browser, "result-stage")
    ActionChains(browser).key_up("c").perform()
    assert np.array_equal(stage_pixels(browser, "result-stage"), after)
    spread = before.max(axis=-1) - before.min(axis=-1)
    assert np.median(spread) <= 2 and np.median(after.max(axis=-1) - after.min(axis=-1)) > np.median(spread)
    width = after.shape[1]
    left, right = slice(0, width // 2 - 12), slice(width // 2 + 12, width)
    assert np.abs(after[:, left] - before[:, left]).mean() > 3  # the red hint: something to compare

    # The slider reads the right way: it starts at "After" (the result shown whole), "Before" at its other end.
    slider = browser.find_element(By.ID, "compare")
    knob_end = slider.rect["x"] if slider.get_attribute("value") == "0" else None
    after_label, before_label = (browser.find_element(By.ID, i).rect for i in ("compare-after-label",
                                                                               "compare-before-label"))
    assert knob_end is not None and after_label["x"] < knob_end < before_label["x"]
    # The slider at 50%: the input on the left half of the result, the result on the right.
    browser.execute_script("const s = document.getElementById('compare'); s.value = '50';"
                           "s.dispatchEvent(new Event('input'));")
    split = stage_pixels(browser, "result-stage")
    assert np.abs(split[:, left] - before[:, left]).mean() < 1.0
    assert np.abs(split[:, right] - after[:, right]).mean() < 1.0
    assert browser.find_element(By.CLASS_NAME, "compare-line").is_displayed()
    browser.save_screenshot(str(tmp_path / "compare.png"))

    # Zoom: both panels together, the markers and clicks still on the photo's own pixels.
    fit = browser.execute_script("return document.getElementById('result').getBoundingClientRect().width")
    browser.find_element(By.ID, "zoom-in").click()
    ActionChains(browser).send_keys("+").perform()
    assert browser.execute_script("return document.body.dataset.zoom") == "2"
    widths = browser.execute_script("return ['grey', 'result'].map((id) => "
                                    "document.getElementById(id).getBoundingClientRect().width)")
    assert widths == [pytest.approx(2 * fit, abs=1.5)] * 2
    assert browser.find_element(By.ID, "zoom-level").text.endswith("%")
    ports = browser.find_elements(By.CLASS_NAME, "viewport")
    assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", ports[1])
    browser.execute_script("arguments[0].scrollLeft = 150; arguments[0].scrollTop = 120;", ports[1])
    wait_for(browser, lambda: browser.execute_script("return [arguments[0].scrollLeft, arguments[0].scrollTop]",
                                                     ports[0]) == [150, 120], "the grey panel to scroll along")
    x, y = 300, 260  # a click on the zoomed result lands on this pixel of the photo
    point = browser.execute_script("""
        const box = document.getElementById('result').getBoundingClientRect();
        return [box.left + (arguments[0] + 0.5) / 512 * box.width, box.top + (arguments[1] + 0.5) / 512 * box.height];
    """, x, y)
    port_box = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", ports[1])
    assert port_box["left"] < point[0] < port_box["right"] and port_box["top"] < point[1] < port_box["bottom"]
    actions = ActionBuilder(browser)
    actions.pointer_action.move_to_location(round(point[0]), round(point[1])).click()
    actions.perform()
    wait_for_result(browser, 3)
    assert hint_list(browser)[1] == (pytest.approx(x + 0.5, abs=2), pytest.approx(y + 0.5, abs=2))
    marker = browser.execute_script("return document.querySelector('#result-stage .marker[data-index=\"1\"]')"
                                    ".getBoundingClientRect().toJSON()")
    assert marker["left"] + marker["width"] / 2 == pytest.approx(point[0], abs=3)
    browser.save_screenshot(str(tmp_path / "zoomed.png"))
    if os.environ.get("COLORIZE_SCREENSHOT_DIR"):
        for name in ("compare.png", "zoomed.png"):
            shutil.copy(tmp_path / name, os.path.join(os.environ["COLORIZE_SCREENSHOT_DIR"], name))
    browser.find_element(By.ID, "zoom-fit").click()
    assert browser.execute_script("return document.getElementById('result').getBoundingClientRect().width") == \
        pytest.approx(fit, abs=1)


RESULT_MEAN_AB = """
const img = document.getElementById("result");
const canvas = document.createElement("canvas");
canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
const context = canvas.getContext("2d");
context.drawImage(img, 0, 0);
const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
let rg = 0, yb = 0;
for (let i = 0; i < data.length; i += 4) {
  rg += data[i] - data[i + 1];
  yb += (data[i] + data[i + 1]) / 2 - data[i + 2];
}
return [rg / (data.length / 4), yb / (data.length / 4)];
"""


def test_a_reference_photo_opened_or_dropped_colours_the_photo_and_hints_work_on_top(browser, photos, tmp_path):
    import colorize
    left, right = photos["coffee"][:, :360], photos["coffee"][:, 240:]
    grey = np.repeat(left.mean(axis=-1, keepdims=True).astype(np.uint8), 3, axis=-1)
    photo, reference, grey_reference = tmp_path / "cup.png", tmp_path / "cup-colour.jpg", tmp_path / "old.png"
    Image.fromarray(grey).save(photo)
    Image.fromarray(right).save(reference, quality=92)
    Image.fromarray(grey).save(grey_reference)
    app = serve.create_app(colorize.Colorizer.from_preset("bigru_fusion_64_hints"))
    with serve.BackgroundServer(app) as running:
        browser.get(running.url)
        wait_for(browser, lambda: "hints" in browser.find_element(By.ID, "model").text, "the model's name")
        assert browser.find_element(By.ID, "reference-tools").is_displayed()
        assert not browser.find_element(By.ID, "reference-thumb").is_displayed()
        browser.find_element(By.ID, "file").send_keys(str(photo))
        wait_for_result(browser, 1)
        automatic = browser.execute_script(RESULT_MEAN_AB)

        browser.find_element(By.ID, "reference-file").send_keys(str(reference))  # open a reference: it shows
        wait_for_result(browser, 2)                                              # and the colours change
        assert browser.find_element(By.ID, "reference-thumb").is_displayed()
        assert browser.find_element(By.ID, "reference-remove").is_displayed()
        referenced = browser.execute_script(RESULT_MEAN_AB)
        truth = [float((left[..., 0].astype(int) - left[..., 1]).mean()),
                 float(((left[..., 0].astype(int) + left[..., 1]) / 2 - left[..., 2]).mean())]
        assert np.linalg.norm(np.subtract(referenced, truth)) < np.linalg.norm(np.subtract(automatic, truth))
        note = browser.find_element(By.ID, "reference-note")  # what the reference did, beside its thumbnail
        assert note.is_displayed() and note.text.startswith("matched ") and "% of cup.png" in note.text

        x, y = 200, 200
        by_reference = browser.execute_script(PIXEL_AT, x, y)
        browser.find_element(By.CSS_SELECTOR, '.swatch[data-color="#c0392b"]').click()
        click_photo_at(browser, x, y)  # a red hint on top of the reference: red wins there, visibly (not a dot)
        wait_for_result(browser, 3)
        assert len(hint_list(browser)) == 1
        red_rgb = (0xc0, 0x39, 0x2b)
        for dx, dy in ((0, 0), (4, 0), (0, -4)):
            clicked = browser.execute_script(PIXEL_AT, x + dx, y + dy)
            assert ab_distance(clicked, red_rgb) < 0.5 * ab_distance(by_reference, red_rgb), (dx, dy, clicked)
        browser.save_screenshot(str(tmp_path / "reference.png"))
        if os.environ.get("COLORIZE_REFERENCE_SCREENSHOT"):
            shutil.copy(tmp_path / "reference.png", os.environ["COLORIZE_REFERENCE_SCREENSHOT"])

        # A greyscale reference dropped on the reference area: one error line, the photo, its hint and its
        # colours stay, the reference is taken off.
        browser.execute_script(DROP.replace("document.body.dispatchEvent",
                                            "document.getElementById('reference-tools').dispatchEvent"),
                               base64.b64encode(grey_reference.read_bytes()).decode(), "old.png")
        wait_for(browser, lambda: browser.find_element(By.ID, "error").is_displayed(), "the error line")
        assert "reference old.png is greyscale" in browser.find_element(By.ID, "error").text
        assert browser.execute_script("return document.body.dataset.photo") == "360x400"
        assert len(hint_list(browser)) == 1 and not browser.find_element(By.ID, "reference-thumb").is_displayed()

        browser.find_element(By.ID, "reference-file").send_keys(str(reference))
        wait_for_result(browser, 4)
        browser.find_element(By.ID, "reference-remove").click()  # remove it: the hint alone again
        wait_for_result(browser, 5)
        assert not browser.find_element(By.ID, "reference-thumb").is_displayed()
        assert len(hint_list(browser)) == 1

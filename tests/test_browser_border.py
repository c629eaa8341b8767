"""``colorize serve``'s page and a scan's border, in a real browser (headless Chromium, as ``test_browser``): the
border found is drawn as a box, its edge dragged, the box removed, the checkbox ticked again.

Needs Debian's ``chromium`` and ``chromium-driver``; skips, saying so, without them.
"""
import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette", reason="colorize serve needs the web extra: pip install -e '.[web]'")
pytest.importorskip("uvicorn", reason="colorize serve needs the web extra: pip install -e '.[web]'")
pytest.importorskip("selenium.webdriver", reason="the browser test needs selenium (the test extra)")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from test_browser import PIXEL_AT, browser, results, wait_for  # noqa: E402, F401
from test_serve import tiny_hint_colorizer  # noqa: E402

from colorize import serve  # noqa: E402


def shown_border(chrome):
    """The box the page shows, (left, top, right, bottom) in the photo's pixels, or None."""
    text = chrome.execute_script("return document.body.dataset.border")
    return None if text == "none" else tuple(int(v) for v in text.split(","))


def wait_for_result(chrome, count):  # the first result compiles the model's steps: minutes on a busy machine
    wait_for(chrome, lambda: results(chrome) >= count and chrome.execute_script(
        "return document.body.dataset.state") == "ready", f"result {count}", timeout=300)


def near(box, expected, tolerance=3):
    """The page steers a preview (here 400 px wide): the box found there is the photo's within a few pixels."""
    return box is not None and max(abs(a - b) for a, b in zip(box, expected)) <= tolerance


def neutral(chrome, x, y):
    r, g, b = chrome.execute_script(PIXEL_AT, x, y)
    return max(r, g, b) - min(r, g, b) <= 1


def test_the_border_found_is_a_box_to_move_or_remove(browser, photos, tmp_path):  # noqa: F811
    grey = np.asarray(Image.fromarray(photos["coffee"]).convert("L"))
    scan = np.pad(grey, [(40, 40), (30, 90)], constant_values=250)  # 720 x 480, the photo at 30..630, 40..440
    Image.fromarray(scan).save(tmp_path / "scan.png")
    with serve.BackgroundServer(serve.create_app(tiny_hint_colorizer(), preview_side=400)) as server:
        browser.get(server.url)
        wait_for(browser, lambda: "tiny" in browser.find_element(By.ID, "model").text, "the model's name")
        browser.find_element(By.ID, "file").send_keys(str(tmp_path / "scan.png"))
        wait_for_result(browser, 1)
        assert near(shown_border(browser), (30, 40, 630, 440)), shown_border(browser)
        box = browser.find_element(By.ID, "border-box")
        assert box.is_displayed() and browser.find_element(By.ID, "border-detect").is_selected()
        assert neutral(browser, 10, 10) and neutral(browser, 700, 240)
        inside = [browser.execute_script(PIXEL_AT, x, y) for x, y in ((200, 200), (400, 300), (120, 100))]
        assert any(max(p) - min(p) > 2 for p in inside)  # the photo inside is coloured

        # Drag the left edge 100 photo pixels to the right: that strip is now border, neutral.
        edge = browser.find_element(By.CSS_SELECTOR, '.border-edge[data-part="left"]')
        scale = box.rect["width"] / 600
        ActionChains(browser).click_and_hold(edge).move_by_offset(round(100 * scale), 0).release().perform()
        wait_for_result(browser, 2)
        assert 115 <= shown_border(browser)[0] <= 145, shown_border(browser)
        assert all(neutral(browser, 60 + 10 * i, 100 + 50 * i) for i in range(5))

        # Remove the box: the whole image is coloured, the checkbox unticked.
        browser.find_element(By.ID, "border-remove").click()
        wait_for_result(browser, 3)
        assert shown_border(browser) is None and not box.is_displayed()
        assert not browser.find_element(By.ID, "border-detect").is_selected()
        assert not all(neutral(browser, x, y) for x, y in ((10, 10), (700, 240), (360, 20), (60, 300)))

        # Tick the box again: the border is found again.
        browser.find_element(By.ID, "border-detect").click()
        wait_for_result(browser, 4)
        assert near(shown_border(browser), (30, 40, 630, 440)) and box.is_displayed()
        assert neutral(browser, 10, 10)

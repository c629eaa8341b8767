"""The examples of the README and of the pages in docs/ run: every Python block (in order, in one namespace, as a
reader would paste them: the README first, then the Python API's page, then the others) and
every ``colorize ...`` command line, each in a temporary folder holding small stand-ins for the files they name
(scikit-image's photos saved under the names the examples use, a tiny hints file, a few-frame video, ...).

The examples are found, not listed here, so a section or page added is run too. What cannot run here is
skipped by rule, each with its reason (``SKIPPED``); a placeholder a reader fills in (``sha256="..."``) gets a value
(``PLACEHOLDERS``); a file name with no stand-in fails the test and names itself (add it to ``stand_in``).
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from PIL import Image

README = REPO / "README.md"
# Pages about how colorize is built, not how it is used: their blocks are diagrams and shape tables (the shapes are
# checked by tests/test_shapes.py).
NOT_EXAMPLES = {"architecture.md", "shapes.md"}
PAGES = [README] + sorted((p for p in (REPO / "docs").glob("*.md") if p.name not in NOT_EXAMPLES),
                          key=lambda p: (p.name != "python-api.md", p.name))
SHELL_WORDS = {"colorize", "python", "python3", "pip", "curl", "tensorboard", "cd", "git", "apt-get", "sudo"}
# Subcommands that do not fit a test of examples, and why (other tests run them). ``train`` runs, from the empty
# folder a user has, for TRAIN_STEPS steps (a real run takes minutes to hours).
SKIPPED = {
    "serve": "a server that runs until it is stopped (tests/test_serve.py and tests/test_browser.py start it)",
    "cluster": "needs a Ray cluster (the cluster tests start one on loopback)",
}
# Arguments that need the prepared data in ../shared (users do not have it; tests/test_evaluate.py reads it).
NEEDS_SHARED = ("../shared/",)
# What a reader replaces: README text -> the text run here (a placeholder the README no longer has is ignored).
PLACEHOLDERS = {
    'sha256="..."': "sha256=MY_WEIGHTS_SHA256",
    "hints=[...]": 'hints=[(10, 20, "#c2452d")]',
}
TRAIN_STEPS = ["--max-steps", "2"]
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".webm")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp")


# -- finding the examples -----------------------------------------------------------------------------------------
def code_blocks(text):
    """(first line number, language or '', code) of each fenced and each indented (4 spaces) block."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        fence = re.match(r"\s*```(\w*)", lines[i])
        if fence:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```")), len(lines))
            blocks.append((i + 2, fence.group(1).lower(), "\n".join(lines[i + 1:end])))
            i = end + 1
        elif lines[i].startswith("    ") and lines[i].strip() and (i == 0 or not lines[i - 1].strip()):
            end = i
            while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
                end += 1
            blocks.append((i + 1, "", "\n".join(line[4:] for line in lines[i:end]).strip("\n")))
            i = end
        else:
            i += 1
    return blocks


def kind_of(language, code):
    if language in ("python", "py", "pycon"):
        return "python"
    if language in ("sh", "bash", "shell", "console"):
        return "shell"
    if language == "json":
        return "json"
    words = [Path(line.split()[0]).name for line in code.splitlines() if line.strip()]
    if words and all(w in SHELL_WORDS for w in words if not w.startswith(("-", "#"))):
        return "shell"
    try:
        json.loads(code)
        return "json"
    except ValueError:
        return "python"


def command_lines(code):
    """(line offset, text, argv) of the ``colorize`` commands of a shell block: continuations joined, ``&&``
    chains split, comments (a ``#`` after a space; ``--hint 1,2,#1f4e9c`` keeps its colour) dropped, paths to
    the console script (``.venv/bin/colorize``) taken as ``colorize``."""
    lines, offset = code.split("\n"), 0
    while offset < len(lines):
        start, line = offset, lines[offset]
        while line.endswith("\\") and offset + 1 < len(lines):
            offset += 1
            line = line[:-1] + " " + lines[offset]
        offset += 1
        for part in re.split(r"&&|;|\|\|", re.sub(r"(^|\s)#.*$", "", line)):
            words = shlex.split(part)
            if words and (words[0] == "colorize" or words[0].endswith("/bin/colorize")):
                yield start, part.strip(), words[1:]


def examples():
    python, commands, jsons = [], [], []
    for page in PAGES:
        where = page.relative_to(REPO).as_posix()
        for line, language, code in code_blocks(page.read_text(encoding="utf-8")):
            kind = kind_of(language, code)
            if kind == "python":
                python.append((f"{where}:{line}", code))
            elif kind == "json":
                jsons.append((f"{where}:{line}", code))
            else:
                commands += [(f"{where}:{line + offset}", text, argv) for offset, text, argv in command_lines(code)]
    return python, commands, jsons


PYTHON_BLOCKS, COMMANDS, JSON_BLOCKS = examples()


# -- stand-ins ----------------------------------------------------------------------------------------------------
def _photo(name="chelsea", side=None):
    import skimage.data
    rgb = getattr(skimage.data, name)()[..., :3]
    image = Image.fromarray(rgb)
    if side:
        image.thumbnail((side, side))
    return image


def write_photo(path, name="chelsea", side=None):
    """A scikit-image photo under ``path`` (format by suffix); chelsea is 451x300, room for the README's hints."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = _photo(name, side)
    image.save(path, **({"quality": 90} if path.suffix.lower() in (".jpg", ".jpeg") else {}))
    return path


def write_video(path, frames=3, size=(96, 64)):
    import av
    path.parent.mkdir(parents=True, exist_ok=True)
    photo = np.asarray(_photo("coffee").resize(size))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264" if path.suffix != ".webm" else "libvpx-vp9", rate=10)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.roll(photo, 2 * i, axis=1).copy(), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def write_weights(path):
    """Your own weights: here, a copy of the shipped default's (they fit configs/tiny_imagenet_64.yaml)."""
    from colorize.presets import get_preset
    shutil.copy(get_preset("bigru_fusion_64").weights_path, path)
    return path


HINT = {"x": 12, "y": 10, "color": "#1f4e9c"}


def stand_in(folder, name, role="input", inputs=()):
    """Create the file or folder a README example names (relative to ``folder``); ``inputs`` are the other inputs
    of the same command (a hints file is keyed by them)."""
    path = folder / name
    if path.exists():
        return
    suffix = path.suffix.lower()
    if role == "hints" and suffix == ".json":
        keys = ["0"] if any(str(i).lower().endswith(VIDEO_SUFFIXES) for i in inputs) else sorted(
            p.name for i in inputs for p in ((folder / i).rglob("*") if (folder / i).is_dir() else [folder / i])
            if p.suffix.lower() in PHOTO_SUFFIXES)
        path.write_text(json.dumps({key: [HINT] for key in keys}))
    elif suffix in (".tif", ".tiff") and "16" in path.stem:  # a 16-bit scan (scan16.tif)
        import tifffile
        tifffile.imwrite(path, (np.asarray(_photo("chelsea"), np.uint16) * 257))
    elif suffix in PHOTO_SUFFIXES:
        write_photo(path)
    elif suffix in VIDEO_SUFFIXES:
        write_video(path)
    elif name.endswith(".weights.h5"):
        write_weights(path)
    elif name.endswith("/") or suffix == "":  # a folder of photos: two of them, one in a sub-folder
        write_photo(path / "photo.jpg", "astronaut", side=160)
        write_photo(path / "2019" / "IMG_0001.png", "coffee", side=160)
    else:
        pytest.fail(f"README example names {name!r}, which has no stand-in here: add one to stand_in()")


# -- running them -------------------------------------------------------------------------------------------------
OUTPUT_OPTIONS = {"-o", "--output", "--json", "--sheet", "--workdir"}
OUTPUT_STEMS = ("out", "colour", "result")  # names in Python examples that are written, not read


def _prepare_command(folder, argv):
    inputs, hints_files = [], []
    for i, word in enumerate(argv[1:], start=1):
        before = argv[i - 1]
        if word.startswith("-") or before in OUTPUT_OPTIONS or "://" in word or word.startswith("tfds:"):
            continue
        if before in ("--hints",):
            hints_files.append(word)
        elif before == "--set":  # a training's own photos: --set data.source=path/to/photos
            key, _, value = word.partition("=")
            if key in ("data.source", "data.val_source") and not value.startswith(("tfds:", "skimage")):
                inputs.append(value)
        elif before in ("--config", "--weights", "--reference") or (before == "--data" or not before.startswith("-")):
            if "/" in word or "." in word:
                inputs.append(word)
    for name in inputs:
        stand_in(folder, name)
    for name in hints_files:
        stand_in(folder, name, "hints", inputs)


@pytest.mark.slow
@pytest.mark.parametrize("line, text, argv", COMMANDS, ids=[f"{line}-{argv[0]}" for line, _, argv in COMMANDS])
def test_readme_command_runs(line, text, argv, tmp_path):
    """Each command as a user runs it: its own process (as the console script), in a folder of stand-ins."""
    if argv[0] in SKIPPED:
        pytest.skip(f"{line} `{text}`: {SKIPPED[argv[0]]}")
    if "--ray" in argv:
        pytest.skip(f"{line} `{text}`: {SKIPPED['cluster']}")
    if any(marker in word for word in argv for marker in NEEDS_SHARED):
        pytest.skip(f"{line} `{text}`: needs the prepared data in ../shared (tests/test_evaluate.py)")
    _prepare_command(tmp_path, argv)
    if argv[0] == "train" and "--max-steps" not in argv:
        argv = [*argv, *TRAIN_STEPS]
    before = set(tmp_path.rglob("*"))
    done = subprocess.run([sys.executable, "-m", "colorize.cli", *argv], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, f"{line} `{text}` exited {done.returncode}: {done.stderr[-800:]}"
    if argv[0] in ("predict", "demo", "export", "video", "evaluate"):
        assert set(tmp_path.rglob("*")) - before, f"{line} `{text}` wrote nothing"
    if argv[0] == "train":  # the line it ends with uses the run's own preset card
        card = re.search(r"--preset-file (\S+)", done.stdout)
        assert card and (tmp_path / card.group(1)).is_file(), f"{line} `{text}`: {done.stdout[-400:]}"


@pytest.mark.slow
def test_readme_python_blocks_run(tmp_path, monkeypatch):
    """All Python blocks, in README order, in one namespace (a later block may use an earlier one's colorizer),
    with stand-ins for the names a reader brings (``path1``, ``my_frames``, ...) and files for the names in
    quotes."""
    import colorize
    from colorize.model.weights import sha256_of
    monkeypatch.chdir(tmp_path)
    frames = [np.asarray(_photo("coffee").resize((96, 64)))] * 3
    namespace = {"colorize": colorize, "path1": str(write_photo(tmp_path / "path1.png", "coffee", side=96)),
                 "array2": np.asarray(_photo("astronaut", side=80)), "pil_image3": _photo("chelsea", side=90),
                 "a": np.asarray(_photo("coffee", side=64)), "b": np.asarray(_photo("astronaut", side=72)),
                 "my_frames": frames}
    assert PYTHON_BLOCKS, "the README has no Python example"
    for line, code in PYTHON_BLOCKS:
        for placeholder, value in PLACEHOLDERS.items():
            code = code.replace(placeholder, value)
        for name in re.findall(r"""["']([\w./-]+\.(?:jpe?g|png|tiff?|webp|mp4|mkv|h5|yaml))["']""", code):
            if not Path(name).stem.startswith(OUTPUT_STEMS):  # "out.mp4" is written, not read
                stand_in(tmp_path, name)
        if "MY_WEIGHTS_SHA256" in code:
            namespace["MY_WEIGHTS_SHA256"] = sha256_of(tmp_path / "my.weights.h5")
        try:
            exec(compile(code, line, "exec"), namespace)
        except Exception as err:
            pytest.fail(f"the Python block at {line} failed: {type(err).__name__}: {err}")


def test_readme_json_examples_parse():
    for line, code in JSON_BLOCKS:
        try:
            json.loads(code)
        except ValueError as err:
            pytest.fail(f"the JSON example at {line} is not JSON: {err}")


def test_the_examples_are_found():
    """The finder itself: the README's and docs' sections are all seen (a finder that found nothing would pass
    above), docs pages included."""
    assert len(PYTHON_BLOCKS) >= 2 and len(COMMANDS) >= 8
    assert {argv[0] for _, _, argv in COMMANDS} >= {"predict", "evaluate", "video", "serve", "train"}
    assert all(not text.startswith("pip") for _, text, _ in COMMANDS)
    assert any(line.startswith("docs/") for line, _, _ in COMMANDS) and any(
        line.startswith("docs/") for line, _ in PYTHON_BLOCKS)


def test_the_readme_is_for_people_with_an_old_photo_and_its_links_lead_somewhere():
    """Issue 33.4: at most 250 lines (the rest lives in docs/, one page a subject), and every relative link of the
    README and the docs pages names a file that exists."""
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250
    for page in [README, *(REPO / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"

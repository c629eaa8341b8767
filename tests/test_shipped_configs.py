"""The training configs ship inside the package (issue 33.1): ``--config NAME`` finds one from any folder, a path
finds a file, ``colorize configs`` lists them one line each, and the wheel carries them."""
import fnmatch
import os
import subprocess
import sys

import pytest
from conftest import REPO

from colorize.cli import main
from colorize.config import CONFIGS_DIR, find_config, load_config, shipped_configs
from colorize.errors import ConfigError

NAMES = {"tiny_imagenet_64", "tiny_imagenet_64_large", "tiny_imagenet_64_hints", "tiny_imagenet_64_hints_palette",
         "cifar10_32", "smoke", "my_photos"}


def test_the_configs_live_in_the_package_and_the_checkout_link_reads_them():
    assert set(shipped_configs()) >= NAMES
    assert CONFIGS_DIR.parent.name == "colorize"
    assert (REPO / "configs" / "smoke.yaml").read_text() == (CONFIGS_DIR / "smoke.yaml").read_text()


def test_the_wheel_carries_every_shipped_config():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["colorize"]
    for path in CONFIGS_DIR.iterdir():
        assert any(fnmatch.fnmatch(f"configs/{path.name}", g) for g in globs), f"{path.name} is not in the wheel"


@pytest.mark.parametrize("spec", ["my_photos", "my_photos.yaml", "configs/my_photos.yaml"])
def test_a_name_finds_a_shipped_config_from_any_folder(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_config(spec) == CONFIGS_DIR / "my_photos.yaml"
    assert load_config(spec).train.init_weights == "preset:bigru_fusion_64"


def test_a_path_finds_the_file_even_under_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_photos.yaml").write_text("train:\n  batch_size: 7\n")
    assert load_config("./my_photos.yaml").train.batch_size == 7
    assert load_config(tmp_path / "my_photos.yaml").train.batch_size == 7


def test_an_unknown_config_is_one_line_naming_the_shipped_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="my_fotos is neither a file nor a shipped config.*my_photos, smoke"):
        load_config("my_fotos")
    with pytest.raises(ConfigError, match="neither a file"):
        load_config("elsewhere/my_photos.yaml")  # a path is a path: no shipped config stands in for it
    assert main(["train", "--config", "my_fotos"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "colorize configs lists them" in err


def test_colorize_configs_lists_each_with_what_it_trains_and_its_cpu_time():
    done = subprocess.run([sys.executable, "-m", "colorize.cli", "configs"], capture_output=True, text=True,
                          cwd="/", timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == sorted(shipped_configs())
    for line in lines:
        assert "; CPU: " in line
    smoke = next(line for line in lines if line.startswith("smoke:"))
    assert "photos bundled with scikit-image" in smoke and "under a minute" in smoke


def test_colorize_configs_show_prints_one_to_copy(capsys):
    assert main(["configs", "--show", "smoke"]) == 0
    assert capsys.readouterr().out == (CONFIGS_DIR / "smoke.yaml").read_text()

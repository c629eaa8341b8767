"""The shipped presets' figures have one source, their cards (issue 33.7: ``colorize presets`` said 22.21 dB where
the README said 22.23): the README and docs quote what the cards hold, and ``colorize presets`` prints it."""
import re

import pytest
from conftest import REPO

from colorize.cli.presets import describe
from colorize.presets import DEFAULT_HINT_PRESET, DEFAULT_PRESET, get_preset, list_presets

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def quoted(figures):
    """PSNR / AuC / colourfulness as a share of the truth's, as the docs write them: 22.23 / 88.41 / 43%."""
    return f"{figures['model']['psnr']:.2f} / {figures['model']['auc']:.2f} / {figures['colorfulness_ratio']:.0%}"


@pytest.mark.parametrize("name", sorted(set(list_presets()) & {DEFAULT_PRESET, DEFAULT_HINT_PRESET}))
@pytest.mark.parametrize("subset", ["validation", "photos"])
def test_the_docs_quote_the_cards_figures(name, subset):
    figures = get_preset(name).metrics[subset]
    text = " ".join(re.sub(r"\s+", " ", doc.read_text(encoding="utf-8")) for doc in DOCS)
    assert quoted(figures) in text, f"no page quotes {name}'s {subset} figures as its card has them: {quoted(figures)}"


def test_colorize_presets_prints_the_cards_figures():
    preset = get_preset(DEFAULT_PRESET)
    line = describe(preset, DEFAULT_PRESET, DEFAULT_HINT_PRESET)
    assert f"PSNR {preset.metrics['photos']['model']['psnr']:.2f} dB" in line
    assert f"{preset.metrics['photos']['model']['psnr']:.2f} / " in " ".join(doc.read_text() for doc in DOCS)

import pytest

from colorize.config import Config, load_config
from colorize.errors import ConfigError
from conftest import REPO


@pytest.mark.parametrize("name", ["tiny_imagenet_64", "tiny_imagenet_64_large", "cifar10_32", "smoke"])
def test_shipped_configs_load(name):
    config = load_config(REPO / "configs" / f"{name}.yaml")
    assert isinstance(config, Config)


def test_overrides_apply_and_parse_yaml_values():
    config = load_config(REPO / "configs" / "smoke.yaml", ["train.epochs=3", "model.encoder_widths=[4, 8]",
                                                          "train.precision=mixed_bfloat16"])
    assert config.train.epochs == 3 and config.model.encoder_widths == (4, 8)
    assert config.train.precision == "mixed_bfloat16"


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  epocs: 3\n")
    with pytest.raises(ConfigError, match="train.epocs"):
        load_config(path)


@pytest.mark.parametrize("override, key", [("train.batch_size=0", "train.batch_size"),
                                           ("model.input_size=48", "model.input_size"),
                                           ("train.precision=fp8", "train.precision"),
                                           ("train.epochs=two", "train.epochs"),
                                           ("train.regression_loss=l1", "train.regression_loss"),
                                           ("model.convs_per_stage=0", "model.convs_per_stage"),
                                           ("nosection=1", "section.key=value")])
def test_bad_values_are_rejected_by_name(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(None, [override])


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)

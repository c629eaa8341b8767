import pytest
from conftest import REPO

from colorize.config import Config, load_config
from colorize.errors import ConfigError


@pytest.mark.parametrize("name", ["tiny_imagenet_64", "tiny_imagenet_64_large", "tiny_imagenet_64_hints", "cifar10_32",
                                  "smoke", "my_photos"])
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
                                           ("nosection=1", "section.key=value"),
                                           ("train.weight_decay=-1", "train.weight_decay"),
                                           ("train.bins_weight=-3", "train.bins_weight"),
                                           ("train.class_weight=-0.5", "train.class_weight"),
                                           ("train.samples_every_epoch=-2", "train.samples_every_epoch"),
                                           ("train.warmup_steps=-1", "train.warmup_steps"),
                                           ("train.epochs=true", "train.epochs"),
                                           ("train.learning_rate=false", "train.learning_rate"),
                                           ("train.batch_size=[64]", "train.batch_size"),
                                           ("train.steps=0", "train.steps"),
                                           ("train.keep_checkpoints=0", "train.keep_checkpoints"),
                                           ("train.validate_every=0", "train.validate_every"),
                                           ("train.strategy=gpu", "train.strategy"),
                                           ("train.devices=['/gpu:0']", "train.devices")])
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


@pytest.mark.parametrize("text", ["- train\n- model\n", "just a string\n", "42\n"])
def test_a_top_level_that_is_not_a_mapping_is_refused(tmp_path, text):
    path = tmp_path / "list.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="mapping of sections"):
        load_config(path, ["train.epochs=2"])


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("# r\xe9glages\ntrain:\n  epochs: 2\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_loss_huber_still_reads_and_says_it_is_now_regression():
    with pytest.warns(FutureWarning, match="train.loss: regression"):
        config = load_config(None, ["train.loss=huber", "model.bins_head=false"])
    assert config.train.loss == "regression"
    assert load_config(None, ["train.loss=regression", "model.bins_head=false"]).train.loss == "regression"


def test_my_photos_config_explains_every_key_with_its_default():
    """configs/my_photos.yaml is the reference of every config key: each appears, with a comment that gives the
    default (the README points there)."""
    import dataclasses
    import re
    text = (REPO / "configs" / "my_photos.yaml").read_text()
    lines = {m.group(2): m.group(3) for m in re.finditer(r"^(  |  # )(\w+): [^#\n]*#(.*)$", text, re.M)}
    for section in dataclasses.fields(Config):
        for field in dataclasses.fields(section.type):
            assert field.name in lines, f"{section.name}.{field.name} is not explained in my_photos.yaml"
            default = field.default if field.default is not dataclasses.MISSING else None
            shown = {None: "null", True: "true", False: "false"}.get(default, default) \
                if not isinstance(default, (int, float)) or isinstance(default, bool) else default
            shown = list(shown) if isinstance(shown, tuple) else shown
            assert f"default {shown}".replace("'", "") in lines[field.name].replace("'", ""), \
                f"{section.name}.{field.name}: the comment should say 'default {shown}'"


HUGE = "99999999999999999999999"


@pytest.mark.parametrize("key", ["train.batch_size", "train.epochs", "train.steps", "train.steps_per_epoch",
                                 "train.warmup_steps", "train.checkpoint_every", "train.keep_checkpoints",
                                 "train.log_every", "train.validate_every", "train.samples_every_epoch",
                                 "data.val_limit", "data.shuffle_buffer"])
def test_every_count_and_size_has_an_upper_bound(key):
    """Issue 26.9: train.batch_size=99999999999999999999999 passed the check and died in a TensorFlow traceback."""
    with pytest.raises(ConfigError, match=f"config value {key} must be between"):
        load_config(REPO / "configs" / "smoke.yaml", [f"{key}={HUGE}"])


def test_an_enormous_batch_size_is_one_line_from_colorize_train(tmp_path, capsys):
    from colorize.cli import main
    assert main(["train", "--config", str(REPO / "configs" / "smoke.yaml"), "--workdir", str(tmp_path / "w"),
                 "--set", f"train.batch_size={HUGE}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.batch_size must be between 1 and 65,536" in err
    assert not (tmp_path / "w").exists()

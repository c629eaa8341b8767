"""The configuration dataclasses, read from YAML files with command-line overrides, and the configs shipped in the
package (``colorize/configs/``, found by name: ``load_config("my_photos")``).

Unknown keys are rejected by name and values are range-checked, so a typo never silently trains the wrong thing.
"""
import dataclasses
import types
import typing
import warnings
from pathlib import Path

import yaml

from colorize.errors import ConfigError


@dataclasses.dataclass
class ModelConfig:
    input_size: int = 64            # square model input, 32 / 64 / 128 / 256
    encoder_widths: tuple = (32, 64, 128)  # one stride-2 stage each
    convs_per_stage: int = 2        # 3x3 convs per encoder stage, the first with stride 2
    row_units: int = 64             # units of each direction of the row BiGRU
    global_units: int = 128         # units of the image-summary GRU
    fusion_width: int = 128
    bins_head: bool = True          # also predict a distribution over quantized ab bins (classification)
    hints: bool = False             # take colour hints: hint ab and a mask as 3 more input channels
    classes: int = 0                # > 0: a class head on the global summary (semantic supervision)
    palette: bool = False           # take a global palette (needs hints): an ab histogram over the bins and a flag,
    #                                 fused with the global summary (Zhang, Zhu et al. 2017's global hints)

    def check(self):
        _require(self.input_size in (32, 64, 128, 256), "model.input_size", "one of 32, 64, 128, 256")
        _require(2 <= len(self.encoder_widths) <= 6 and all(1 <= w <= 1024 for w in self.encoder_widths),
                 "model.encoder_widths", "a list of 2 to 6 widths between 1 and 1024")
        _require(self.input_size >> len(self.encoder_widths) >= 2, "model.encoder_widths",
                 "short enough that the feature map keeps at least 2 rows")
        _require(1 <= self.convs_per_stage <= 4, "model.convs_per_stage", "between 1 and 4")
        for name in ("row_units", "global_units", "fusion_width"):
            _require(1 <= getattr(self, name) <= 2048, f"model.{name}", "between 1 and 2048")
        _require(0 <= self.classes <= 100000, "model.classes", "between 0 and 100000")
        _require(self.hints or not self.palette, "model.palette", "used with model.hints: true")

    @property
    def feature_size(self):
        return self.input_size >> len(self.encoder_widths)


@dataclasses.dataclass
class DataConfig:
    source: str = "tfds:tiny_imagenet_color"  # tfds:NAME, a folder of images, or "skimage" (bundled photos)
    data_dir: str | None = None     # TFDS data_dir
    train_split: str = "train"
    val_split: str = "validation"
    val_limit: int = 1024
    val_source: str | None = None  # validate on another source (a folder, tfds:NAME[:SPLIT], skimage)
    val_share: float = 0.05         # folder source without val_source: share held out for validation (file-name hash)
    shuffle_buffer: int = 20000     # each epoch shuffles every run of this many consecutive records (seeded)
    cache: bool = False             # keep the decoded colour images in memory after the first pass (H*W*3 bytes
    #                                 each; folder images are kept at twice the input size, short side)
    random_crop: bool = True
    mosaic: float = 0.0             # share of training inputs made of 2x2 or 3x3 shrunken training photos (half
    #                                 each): scenes of many small things, as a large photo reaches the network

    def check(self):
        _require(0 <= self.mosaic <= 1, "data.mosaic", "between 0 and 1")
        _require(0 <= self.val_limit <= MAX_RECORDS, "data.val_limit", f"between 0 and {MAX_RECORDS:,}")
        _require(0 <= self.val_share <= 0.5, "data.val_share", "between 0 and 0.5")
        _require(1 <= self.shuffle_buffer <= MAX_RECORDS, "data.shuffle_buffer", f"between 1 and {MAX_RECORDS:,}")


MAX_STEPS = 10 ** 9      # upper bound of every count of steps: far past any run, well inside TensorFlow's int64
MAX_RECORDS = 10 ** 8    # of images in memory at once (shuffle buffer, validation set)
MAX_BATCH = 65536        # a global batch: a TPU pod's largest; larger overflowed inside TensorFlow

LOSSES = ("regression", "classification", "both")
BINS_TARGETS = ("sample", "pixels", "block")
STRATEGIES = ("auto", "default", "mirrored", "multi_worker", "tpu")


@dataclasses.dataclass
class TrainConfig:
    batch_size: int = 64            # global, across all replicas
    epochs: int = 10                # passes over the training split; ignored when ``steps`` is set
    steps: int | None = None            # total steps of the run (instead of epochs), for small data
    steps_per_epoch: int | None = None  # None: one pass over the training split
    learning_rate: float = 2e-3
    warmup_steps: int = 500
    weight_decay: float = 1e-4
    loss: str = "both"              # regression | classification | both: which heads are trained
    regression_loss: str = "huber"  # huber (robust, median-like) | l2 (the conditional mean) | log_mse (per photo:
    #                                 log of its mean squared error, the quantity a mean PSNR averages)
    bins_weight: float = 0.05       # weight of the classification loss when loss == both
    class_weight: float = 0.0       # weight of the semantic (class label) loss, for models with model.classes
    init_weights: str | None = None  # start from these weights: preset:NAME or a .weights.h5 (see colorize.training.
    #                                 warm_start; grown layers start as the old ones, new inputs at zero)
    rebalance: float = 0.5          # Zhang et al.'s lambda: mix of empirical and uniform bin prior
    rebalance_keeps_mean: bool = False  # tilt the rebalancing weights so the colours they favour keep the data's
    #                                 mean ab (the plain weights add a warm cast: colorize.model.bins.rebalance_weights)
    bins_target: str = "sample"     # the bins head's target per 4x4 block: sample (one random pixel's soft encoding,
    #                                 an unbiased draw of the block's mean encoding), pixels (that mean, exactly) or
    #                                 block (the encoding of the block's mean ab: averages a red/green edge to brown)
    validation_readout: str = "regression"  # regression, or preset:NAME: validate with that preset's readout too
    #                                 (what the weights will ship with) and pick the best checkpoint on it
    precision: str = "auto"         # auto (mixed_bfloat16 where the hardware computes in it, mixed_float16 on a
    #                                 GPU of compute capability 7.x, else float32) | float32 | mixed_bfloat16 |
    #                                 mixed_float16
    jit_compile: bool = False
    checkpoint_every: int = 500     # steps
    keep_checkpoints: int = 2       # newest checkpoints of this run kept; older runs' ones are never deleted
    log_every: int = 50
    validate_every: int | None = None  # steps; None: every epoch, at most once per checkpoint_every
    samples_every_epoch: int = 8    # images written to TensorBoard at each validation
    seed: int = 0
    deterministic: bool = False
    strategy: str = "auto"          # auto | default | mirrored | multi_worker | tpu
    devices: tuple[str, ...] = ()  # for strategy mirrored: e.g. ["/gpu:0", "/gpu:1"]; empty: all GPUs
    sync_batch_norm: bool = False   # batch-norm moments over the global batch, across replicas (small batches)

    def __post_init__(self):
        if self.loss == "huber":
            warnings.warn("config value train.loss: huber is deprecated and now reads train.loss: regression "
                          "(it always meant 'train the regression head only'; the regression penalty is "
                          "train.regression_loss, huber by default): write train.loss: regression",
                          FutureWarning, stacklevel=2)
            self.loss = "regression"

    def check(self):
        _require(1 <= self.batch_size <= MAX_BATCH, "train.batch_size", f"between 1 and {MAX_BATCH:,}")
        _require(1 <= self.epochs <= MAX_STEPS, "train.epochs", f"between 1 and {MAX_STEPS:,}")
        steps = f"between 1 and {MAX_STEPS:,}, or null"
        _require(self.steps is None or 1 <= self.steps <= MAX_STEPS, "train.steps", steps)
        _require(self.steps_per_epoch is None or 1 <= self.steps_per_epoch <= MAX_STEPS, "train.steps_per_epoch",
                 steps)
        _require(0 < self.learning_rate < 1, "train.learning_rate", "between 0 and 1")
        _require(0 <= self.warmup_steps <= MAX_STEPS, "train.warmup_steps", f"between 0 and {MAX_STEPS:,}")
        _require(0 <= self.weight_decay < 1, "train.weight_decay", "between 0 and 1")
        _require(self.loss in LOSSES, "train.loss", "regression, classification or both")
        _require(self.regression_loss in ("huber", "l2", "log_mse"), "train.regression_loss", "huber, l2 or log_mse")
        for name in ("bins_weight", "class_weight"):
            _require(0 <= getattr(self, name) <= 1000, f"train.{name}", "between 0 and 1000")
        _require(self.precision in ("auto", "float32", "mixed_bfloat16", "mixed_float16"), "train.precision",
                 "auto, float32, mixed_bfloat16 or mixed_float16")
        _require(0 <= self.rebalance <= 1, "train.rebalance", "between 0 and 1")
        _require(self.validation_readout == "regression" or self.validation_readout.startswith("preset:"),
                 "train.validation_readout", "regression or preset:NAME")
        _require(self.bins_target in BINS_TARGETS, "train.bins_target", ", ".join(BINS_TARGETS))
        for name in ("checkpoint_every", "log_every"):
            _require(1 <= getattr(self, name) <= MAX_STEPS, f"train.{name}", f"between 1 and {MAX_STEPS:,}")
        _require(1 <= self.keep_checkpoints <= 1000, "train.keep_checkpoints", "between 1 and 1000")
        _require(self.validate_every is None or 1 <= self.validate_every <= MAX_STEPS, "train.validate_every", steps)
        _require(0 <= self.samples_every_epoch <= 1000, "train.samples_every_epoch", "between 0 and 1000")
        _require(0 <= self.seed < 2 ** 31, "train.seed", "between 0 and 2**31 - 1")
        _require(self.strategy in STRATEGIES, "train.strategy", ", ".join(STRATEGIES))
        _require(not self.devices or self.strategy == "mirrored", "train.devices",
                 "empty unless train.strategy is mirrored")


@dataclasses.dataclass
class HintsConfig:
    """How training simulates colour hints from the truth, for models with ``model.hints`` (colorize.pipeline.hints)."""
    none_share: float = 0.5         # share of images trained with no hint (keeps the automatic mode good)
    geometric_p: float = 0.125      # the others get 1 + Geometric(p) points (Zhang et al. 2017: p = 1/8) ...
    max_points: int = 30            # ... at most this many
    max_patch: int = 5              # each the mean truth ab of a square patch of 1..max_patch pixels a side
    dense_share: float = 0.01       # share of images whose whole ab is revealed
    # a model with model.palette: the share of images given a palette (independently of the hints), the histogram
    # of their own colours, or of a neighbour crop (a window of palette_min_crop..1 of the side) for a share of
    # them, every colour shifted by one random ab offset per image (Gaussian, palette_jitter Lab units a channel)
    palette_share: float = 0.6
    palette_crop_share: float = 0.5
    palette_min_crop: float = 0.4
    palette_jitter: float = 4.0

    def check(self):
        for name in ("none_share", "dense_share", "palette_share", "palette_crop_share"):
            _require(0 <= getattr(self, name) <= 1, f"hints.{name}", "between 0 and 1")
        _require(0 < self.geometric_p <= 1, "hints.geometric_p", "in (0, 1]")
        _require(1 <= self.max_points <= 1000, "hints.max_points", "between 1 and 1000")
        _require(1 <= self.max_patch <= 64, "hints.max_patch", "between 1 and 64")
        _require(0.1 <= self.palette_min_crop <= 1, "hints.palette_min_crop", "between 0.1 and 1")
        _require(0 <= self.palette_jitter <= 50, "hints.palette_jitter", "between 0 and 50 (Lab units)")


@dataclasses.dataclass
class Config:
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    hints: HintsConfig = dataclasses.field(default_factory=HintsConfig)

    def check(self):
        self.model.check()
        self.data.check()
        self.train.check()
        self.hints.check()
        if self.train.loss != "regression" and not self.model.bins_head:
            raise ConfigError(f"train.loss={self.train.loss!r} needs model.bins_head: true")
        return self

    def to_dict(self):
        return dataclasses.asdict(self)


def _require(ok, key, what):
    if not ok:
        raise ConfigError(f"config value {key} must be {what}")


def _coerce(value, field_type, key):
    optional = typing.get_origin(field_type) in (typing.Union, types.UnionType)  # X | None
    args = [a for a in typing.get_args(field_type) if a is not type(None)]
    if value is None:
        if optional:
            return None
        raise ConfigError(f"config value {key} may not be null")
    target = args[0] if optional else field_type
    try:
        if target is tuple or typing.get_origin(target) is tuple:
            if not isinstance(value, (list, tuple)):
                raise TypeError
            item = (typing.get_args(target) or (int,))[0]
            if any(isinstance(v, bool) or not isinstance(v, (int, float, str)) for v in value):
                raise TypeError
            return tuple(item(v) for v in value)
        if target is bool:
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if not isinstance(value, bool):
                raise TypeError
            return value
        if target in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
            raise TypeError  # YAML's true is not 1, and a list is not a number
        if target is int and isinstance(value, float) and not value.is_integer():
            raise TypeError
        if target is str and isinstance(value, (bool, list, dict)):
            raise TypeError
        return target(value)
    except (TypeError, ValueError):
        kind = getattr(target, "__name__", target)
        raise ConfigError(f"config value {key}={value!r} is not a valid {kind}") from None


def _build(cls, data, prefix):
    if data is None and prefix:  # a section whose keys are all commented out
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config section {prefix or 'top level'} must be a mapping, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(prefix + k for k in unknown)}; "
                          f"known keys: {', '.join(prefix + k for k in fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        if dataclasses.is_dataclass(hints[name]):
            kwargs[name] = _build(hints[name], value, prefix + name + ".")
        else:
            kwargs[name] = _coerce(value, hints[name], prefix + name)
    return cls(**kwargs)


def config_from_dict(data):
    return _build(Config, data or {}, "").check()


def apply_overrides(data, overrides):
    """Apply ``section.key=value`` strings (values parsed as YAML) to a config dict."""
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"a config must be a mapping of sections (model:, data:, train:, ...), got "
                          f"{type(data).__name__} {data!r:.60}")
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in (data or {}).items()}
    for item in overrides or ():
        key, sep, raw = item.partition("=")
        parts = key.strip().split(".")
        if not sep or len(parts) != 2 or not all(parts):
            raise ConfigError(f"override {item!r} must look like section.key=value, e.g. train.epochs=3")
        section = data.setdefault(parts[0], {})
        if not isinstance(section, dict):
            raise ConfigError(f"override {item!r}: {parts[0]} is not a section")
        section[parts[1]] = yaml.safe_load(raw)
    return data


CONFIGS_DIR = Path(__file__).parent / "configs"


def shipped_configs():
    """Name -> path of each config shipped in the package (``colorize configs`` lists them)."""
    return {path.stem: path for path in sorted(CONFIGS_DIR.glob("*.yaml"))}


def find_config(spec: str | Path) -> Path:
    """The YAML file ``spec`` names: an existing file, else a shipped config's name (``my_photos``, with or
    without ``.yaml``; ``configs/my_photos.yaml``, as a checkout spells it, finds it too)."""
    path = Path(spec)
    if path.is_file():
        return path
    shipped = shipped_configs()
    name = path.name[:-len(".yaml")] if path.name.endswith(".yaml") else path.name
    if name in shipped and path.parts in ((path.name,), ("configs", path.name)):
        return shipped[name]
    if len(path.parts) > 1 or path.suffix in (".yaml", ".yml"):  # meant as a file
        raise ConfigError(f"config file {spec} does not exist (neither a file nor a shipped config); give a YAML "
                          "file's path or one of the shipped configs: "
                          f"{', '.join(shipped)} (colorize configs lists them)")
    raise ConfigError(f"config {spec} is neither a file nor a shipped config; give a YAML file's path or one of "
                      f"{', '.join(shipped)} (colorize configs lists them)")


def load_config(path: str | Path | None = None, overrides: typing.Sequence[str] = ()) -> Config:
    """Read a YAML config (a file, or a shipped config by name; the defaults when ``path`` is None), apply
    overrides, validate."""
    data = {}
    if path is not None:
        path = find_config(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as err:
            raise ConfigError(f"config file {path} is not UTF-8 text (byte {err.start}): save it as UTF-8") from None
        except yaml.YAMLError as err:
            raise ConfigError(f"config file {path} is not valid YAML: {err}") from None
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"config file {path} must hold a mapping of sections (model:, data:, train:, ...) "
                              f"at its top level, not a {type(data).__name__}")
    return config_from_dict(apply_overrides(data, overrides))

"""The colorization network: a Conv2D encoder whose feature rows are the timesteps of a bidirectional GRU,
the GRU context broadcast back over the image and fused with the conv features, decoded to Lab ab.

Shapes for the default 64x64 model (see docs/shapes.md for the full table and the reasoning):

    L (B, 64, 64, 1) -> encoder -> features (B, 8, 8, 128)
    rows_as_timesteps      Reshape   -> (B, 8, 1024)   8 timesteps (rows), each 8 columns x 128 channels
    row_context_bigru      BiGRU(64) -> (B, 8, 128)    one context vector per row, both directions, aligned
    broadcast_to_columns   Reshape + UpSampling2D -> (B, 8, 8, 128)
    global_summary_gru     GRU(128, return_sequences=False) -> (B, 128)  one vector per image
    global_summary_repeat  RepeatVector(64) + Reshape -> (B, 8, 8, 128)
    fusion                 Concatenate + 1x1 Conv2D -> (B, 8, 8, 128)
    decoder                UpSampling2D + skip connections -> ab (B, 64, 64, 2) in tanh range

Only stock Keras layers and two registered subclasses of them (``colorize.model.layers``: a fused batch norm and
a nearest-neighbour upsampling, same variables) are used, no Lambda, so weights load without executing code from
files.
"""
import keras
from keras import layers

from colorize.config import ModelConfig
from colorize.model import bins
from colorize.model.layers import BatchNormalization, UpSampling2D


def _conv(x, width, name, strides=1, synchronized=False):
    x = layers.Conv2D(width, 3, strides=strides, padding="same", use_bias=False, name=name + "_conv")(x)
    x = BatchNormalization(synchronized=synchronized, name=name + "_bn")(x)
    return layers.Activation("relu", name=name + "_relu")(x)


def encoder(model, config=None):
    """The encoder of a network from ``build_model(config)``, sharing its layers: the network's inputs -> a list of
    each encoder stage's output (its last activation), fine to coarse (inputs: L, and the hint channels of a hint
    model); what features the network sees, for matching photos against each other (``colorize.pipeline.reference``)."""
    config = getattr(config, "model", config) or ModelConfig()
    last = "abcd"[config.convs_per_stage - 1]
    stages = [model.get_layer(f"enc{i}{last}_relu").output for i in range(len(config.encoder_widths))]
    return keras.Model(model.inputs[:2], stages, name=f"{model.name}_encoder")  # a palette enters after it


def build_model(config=None, synchronized_bn=False):
    """Build the network of a ``ModelConfig`` (or a full ``Config``). Input: scaled L (B, S, S, 1); with
    ``hints``, a list [L, hint channels (B, S, S, 3)] (see ``colorize.pipeline.hint_channels``); with ``palette``
    too, a third input (B, Q + 1): an ab histogram over the bins (``bins.histogram``) and a 1 flag, or zeros for
    none.

    Outputs a dict: ``ab`` (B, S, S, 2), tanh-scaled ab (times ``color.AB_SCALE`` gives Lab units), and, when
    ``bins_head`` is on, ``ab_bins`` (B, S/4, S/4, Q): logits over the quantized ab bins of ``colorize.model.bins``;
    with ``classes`` > 0, ``class_logits`` (B, classes) from the global summary vector.

    ``synchronized_bn`` makes batch norm compute its training moments over the whole global batch, across
    replicas (for small per-replica batches; the variables, and inference, are the same).
    """
    config = getattr(config, "model", config) or ModelConfig()
    config.check()
    size = config.input_size
    inputs = keras.Input((size, size, 1), name="l_channel")
    x = inputs
    if config.hints:  # hint ab (2) and mask (1), as in Zhang, Zhu et al. 2017
        hint_input = keras.Input((size, size, 3), name="hints")
        x = layers.Concatenate(name="l_and_hints")([inputs, hint_input])

    skips = []
    for i, width in enumerate(config.encoder_widths):
        x = _conv(x, width, f"enc{i}a", 2, synchronized_bn)
        for j in range(1, config.convs_per_stage):
            x = _conv(x, width, f"enc{i}" + "abcd"[j], 1, synchronized_bn)
        skips.append(x)
    h = w = config.feature_size
    c = config.encoder_widths[-1]

    # Each feature row is one timestep; its input_dim is all columns' channels.
    rows = layers.Reshape((h, w * c), name="rows_as_timesteps")(x)
    row_context = layers.Bidirectional(
        layers.GRU(config.row_units, return_sequences=True), merge_mode="concat", name="row_context_bigru")(rows)
    row_context = layers.Reshape((h, 1, 2 * config.row_units), name="rows_as_columns_of_one")(row_context)
    row_context = layers.UpSampling2D((1, w), name="broadcast_to_columns")(row_context)

    summary = layers.GRU(config.global_units, return_sequences=False, name="global_summary_gru")(rows)
    class_logits = None
    if config.classes:  # semantic supervision of the global summary (Iizuka et al. 2016)
        class_logits = layers.Dense(config.classes, dtype="float32", name="class_logits")(summary)
    summary = layers.RepeatVector(h * w, name="global_summary_repeat")(summary)
    summary = layers.Reshape((h, w, config.global_units), name="global_summary_grid")(summary)
    fused = [x, row_context, summary]
    if config.palette:  # a global hint (Zhang, Zhu et al. 2017): a palette, broadcast over the grid like the summary
        palette_input = keras.Input((bins.num_bins() + 1,), name="palette")
        palette = layers.Dense(config.global_units, activation="relu", name="palette_dense1")(palette_input)
        palette = layers.Dense(config.global_units, activation="relu", name="palette_dense2")(palette)
        palette = layers.RepeatVector(h * w, name="palette_repeat")(palette)
        # last in the fusion: a model grown from a hint model gets zeros there and starts out as it (warm_start)
        fused.append(layers.Reshape((h, w, config.global_units), name="palette_grid")(palette))

    x = layers.Concatenate(name="fusion_concat")(fused)
    x = layers.Conv2D(config.fusion_width, 1, activation="relu", name="fusion")(x)

    bins_features = x
    # The decoder stops at half resolution: colour varies slowly, and the full-resolution L supplies the detail.
    for i in reversed(range(len(config.encoder_widths) - 1)):
        x = UpSampling2D(2, interpolation="bilinear", name=f"dec{i}_up")(x)
        parts = [x, skips[i]]
        if config.hints:  # the hints again, at this stage's resolution, so they reach the output undiluted
            factor = 2 ** (i + 1)
            parts.append(layers.AveragePooling2D(factor, name=f"dec{i}_hints")(hint_input))
        x = layers.Concatenate(name=f"dec{i}_skip")(parts)
        x = _conv(x, config.encoder_widths[i], f"dec{i}a", 1, synchronized_bn)
        x = _conv(x, config.encoder_widths[i], f"dec{i}b", 1, synchronized_bn)
        if i == 1:
            bins_features = x  # quarter resolution, as in Zhang et al.
    ab = layers.Conv2D(2, 1, activation="tanh", dtype="float32", name="ab_half")(x)
    outputs = {"ab": UpSampling2D(2, interpolation="bilinear", dtype="float32", name="ab")(ab)}
    if config.bins_head:
        outputs["ab_bins"] = layers.Conv2D(bins.num_bins(), 1, dtype="float32", name="ab_bins")(bins_features)
    if class_logits is not None:
        outputs["class_logits"] = class_logits
    model_inputs = [inputs, hint_input] if config.hints else inputs
    if config.palette:
        model_inputs.append(palette_input)
    return keras.Model(model_inputs, outputs, name=f"colorize_bigru_fusion_{size}" + ("_hints" if config.hints else "")
                       + ("_palette" if config.palette else ""))

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

Only stock Keras layers are used (no Lambda), so weights load without executing code from files.
"""
import keras
import tensorflow as tf
from keras import layers

from . import bins
from .config import ModelConfig


@keras.saving.register_keras_serializable(package="colorize")
class BatchNormalization(layers.BatchNormalization):
    """Keras BatchNormalization whose training step runs TensorFlow's fused kernel.

    It keeps the Keras class name on purpose: Keras derives the paths inside a ``.weights.h5`` file from class
    names, so weight files stay interchangeable with models built from the stock layer.

    Same variables and the same results (within float rounding) as the Keras layer, so weights move freely between
    the two. In training, Keras 3's layer computes the batch moments in float32 with separate ops, casting
    bfloat16 activations up and back; the fused kernel takes bfloat16 activations directly. On a 2-core CPU that
    made a training step of the default model ~10% faster in float32 and ~30% faster in mixed bfloat16
    (``bench/train_throughput.py``, synthetic input: 166 -> 183 and 204 -> 267 images/s).
    Inference uses the Keras path unchanged.
    """

    def call(self, inputs, training=None, mask=None):
        if not training or len(inputs.shape) != 4 or self.axis not in (-1, 3):
            return super().call(inputs, training=training, mask=mask)
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, tf.cast(self.gamma, tf.float32), tf.cast(self.beta, tf.float32), epsilon=self.epsilon,
            data_format="NHWC", is_training=True)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        n = tf.cast(tf.reduce_prod(tf.shape(inputs)[:3]), tf.float32)
        variance = variance * (n - 1.0) / n  # the kernel returns the unbiased variance; Keras keeps the biased one
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return y


@keras.saving.register_keras_serializable(package="colorize")
class UpSampling2D(layers.UpSampling2D):
    """Keras UpSampling2D whose bilinear mode runs TensorFlow's resize kernel in the layer's own dtype.

    ``tf.image.resize`` returns float32 and Keras casts back; for bfloat16 activations TensorFlow adds a saturating
    clip on the way (``clip_by_value`` and, in training, its gradient's selects), which cost ~4% of a mixed
    bfloat16 training step of the default model on a CPU and changes nothing (a bilinear mix stays within the
    range of its inputs). Same class name, no variables, and the same values (float32: identical; bfloat16: up
    to the final rounding) as the Keras layer.
    """

    def call(self, inputs):
        if (self.interpolation != "bilinear" or self.data_format != "channels_last"
                or keras.backend.backend() != "tensorflow"):
            return super().call(inputs)
        height, width = inputs.shape[1], inputs.shape[2]
        if height is None or width is None:
            height, width = tf.shape(inputs)[1], tf.shape(inputs)[2]
        size = tf.stack([height * self.size[0], width * self.size[1]])
        resized = tf.raw_ops.ResizeBilinear(images=inputs, size=size, half_pixel_centers=True)
        return tf.cast(resized, inputs.dtype)


def _conv(x, width, name, strides=1):
    x = layers.Conv2D(width, 3, strides=strides, padding="same", use_bias=False, name=name + "_conv")(x)
    x = BatchNormalization(name=name + "_bn")(x)
    return layers.Activation("relu", name=name + "_relu")(x)


def build_model(config=None):
    """Build the network of a ``ModelConfig`` (or a full ``Config``). Input: scaled L (B, S, S, 1); with
    ``hints``, a list [L, hint channels (B, S, S, 3)] (see ``colorize.hints``).

    Outputs a dict: ``ab`` (B, S, S, 2), tanh-scaled ab (times ``color.AB_SCALE`` gives Lab units), and, when
    ``bins_head`` is on, ``ab_bins`` (B, S/4, S/4, Q): logits over the quantized ab bins of ``colorize.bins``;
    with ``classes`` > 0, ``class_logits`` (B, classes) from the global summary vector.
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
        x = _conv(x, width, f"enc{i}a", strides=2)
        for j in range(1, config.convs_per_stage):
            x = _conv(x, width, f"enc{i}" + "abcd"[j])
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

    x = layers.Concatenate(name="fusion_concat")([x, row_context, summary])
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
        x = _conv(x, config.encoder_widths[i], f"dec{i}a")
        x = _conv(x, config.encoder_widths[i], f"dec{i}b")
        if i == 1:
            bins_features = x  # quarter resolution, as in Zhang et al.
    ab = layers.Conv2D(2, 1, activation="tanh", dtype="float32", name="ab_half")(x)
    outputs = {"ab": UpSampling2D(2, interpolation="bilinear", dtype="float32", name="ab")(ab)}
    if config.bins_head:
        outputs["ab_bins"] = layers.Conv2D(bins.num_bins(), 1, dtype="float32", name="ab_bins")(bins_features)
    if class_logits is not None:
        outputs["class_logits"] = class_logits
    model_inputs = [inputs, hint_input] if config.hints else inputs
    return keras.Model(model_inputs, outputs, name=f"colorize_bigru_fusion_{size}" + ("_hints" if config.hints else ""))


def build_question_block_fixed():
    """The 32x32 block of the StackOverflow question, repaired with Keras layers only.

    The question reshaped a (32, 32, 16) conv map to (32, 512) (32 rows as timesteps, 32 columns x 16 channels
    as input_dim) and then (1) added a GRU with ``return_sequences=False`` (shape (16,)) to a backward GRU with
    ``return_sequences=True`` (shape (32, 16)), (2) added a ``go_backwards`` sequence, still in reversed time
    order, to a forward one, and (3) used ``K.expand_dims`` on a symbolic tensor, treating the 16 GRU units as
    if they were 32 image columns. The fix: ``Bidirectional`` keeps both directions row-aligned; the row context
    (32, 2*16) is broadcast over the 32 columns with Reshape + UpSampling2D; the per-image summary
    (``return_sequences=False``) is broadcast over all 32*32 positions with RepeatVector + Reshape.
    Returns a model mapping (B, 32, 32, 1) -> fused features (B, 32, 32, 16 + 32 + 16).
    """
    encoder_input = keras.Input((32, 32, 1), name="l_channel")
    encoder_output = layers.Conv2D(16, 3, activation="relu", padding="same", name="encoder")(encoder_input)
    rows = layers.Reshape((32, 32 * 16), name="rows_as_timesteps")(encoder_output)
    seq = layers.Bidirectional(layers.GRU(16, return_sequences=True), name="gru1_bidirectional")(rows)
    seq = layers.Bidirectional(layers.GRU(16, return_sequences=True), name="gru2_bidirectional")(seq)
    seq = layers.Reshape((32, 1, 32), name="rows_as_columns_of_one")(seq)
    seq = layers.UpSampling2D((1, 32), name="broadcast_to_columns")(seq)
    summary = layers.GRU(16, return_sequences=False, name="global_summary_gru")(rows)
    summary = layers.RepeatVector(32 * 32, name="global_summary_repeat")(summary)
    summary = layers.Reshape((32, 32, 16), name="global_summary_grid")(summary)
    fused = layers.Concatenate(axis=3, name="fusion_concat")([encoder_output, seq, summary])
    return keras.Model(encoder_input, fused, name="question_block_fixed")

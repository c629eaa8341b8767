"""The network of the StackOverflow question this project answers, repaired: see docs/shapes.md."""
import keras
from keras import layers


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

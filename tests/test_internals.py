"""The shims over Keras and TensorFlow internals: each does what the internal does, and says so if it moves."""
import tensorflow as tf

from colorize import _internals
from colorize.model.network import build_model


def test_snake_case_is_keras_naming_and_the_fallback_agrees():
    from keras.src.utils.naming import to_snake_case
    names = ["FusedBatchNorm", "Conv2D", "GRU", "Bidirectional", "UpSampling2D", "RepeatVector", "Dense",
             "HTTPServer2", "already_snake", "BilinearUpSampling2D"]
    assert [_internals.snake_case(n) for n in names] == [to_snake_case(n) for n in names]
    assert [_internals._snake_case(n) for n in names] == [to_snake_case(n) for n in names]


def test_weights_files_are_keyed_as_the_shim_says(tiny_weights, tmp_path):
    import h5py
    _, config, _ = tiny_weights
    model = build_model(config)
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5") as f:
        stored = set(f["layers"])
    bases = {_internals.snake_case(type(layer).__name__) for layer in model.layers if layer.weights}
    assert bases <= stored


def test_freeze_variables_folds_every_variable_into_constants():
    v = tf.Variable(3.0)

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
    def f(x):
        return tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y + v), [0, x])[1]  # read inside a loop
    frozen = _internals.freeze_variables(f.get_concrete_function())
    graph = str(frozen.graph.as_graph_def())  # the while loop's body functions included
    assert 'op: "ReadVariableOp"' not in graph and 'op: "VarHandleOp"' not in graph
    assert float(tf.nest.flatten(frozen(tf.constant(1.0)))[0]) == float(f(tf.constant(1.0))) == 10.0


def test_op_determinism_reads_and_sets_the_flag():
    enabled, set_determinism = _internals.op_determinism()
    assert enabled is False and set_determinism is not None
    try:
        set_determinism(True)
        assert _internals.op_determinism()[0] is True
    finally:
        set_determinism(False)
    assert _internals.op_determinism()[0] is False

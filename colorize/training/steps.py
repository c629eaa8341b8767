"""The training step, compiled: ``make_train_steps`` builds ``train_steps(iterator, n)``, which runs up to ``n``
steps of the distributed forward / backward pass in one graph call (hints and palettes simulated, the loss, the
non-finite checks, the optimizer update, the data positions advanced). ``colorize.training.loop`` calls it."""
import keras
import numpy as np
import tensorflow as tf

from colorize.training import hint_simulation
from colorize.training import input as train_input
from colorize.training.batches import as_training_pair, labels_of, model_inputs

# Steps skipped in a row (non-finite gradients) before a run without loss scaling stops: one bad batch is skipped,
# a run of them means the weights or the data are broken.
MAX_SKIPS_IN_A_ROW = 10


def make_train_steps(config, strategy, model, optimizer, step, positions, loss_fn, stop_flag):
    """``train_steps(iterator, n)``: up to ``n`` steps in one graph call, fewer if ``stop_flag`` (set by a stop
    signal: ``runtime.stop_on_signals``) is set, which each step reads, so SIGTERM is acted on within a step
    whatever ``n``. Returns the sum of the applied steps' losses, the steps done, a status (0 ok, 1 non-finite
    loss, 2 non-finite gradients ``MAX_SKIPS_IN_A_ROW`` steps in a row), the last loss, and how many steps were
    skipped.

    A step whose gradients, summed over all replicas, are not finite is skipped (not applied): what would be
    applied is checked, not one replica's share; mixed_float16's loss scaling skips it and lowers its scale, the
    other precisions skip it as it is. A run of skips stops training. ``positions`` (``colorize.training.input``),
    when given, follows where each input pipeline stands."""
    tc = config.train
    replicas = strategy.num_replicas_in_sync
    loss_scaling = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    recipe = config.hints
    replica_seed = tf.constant(tc.seed, tf.int64)
    skips_in_a_row = tf.Variable(0, dtype=tf.int32, trainable=False, name="skips_in_a_row")  # read across calls
    with_gradient = []  # the trainable variables that get a gradient, in order (found while tracing)

    def gradients(batch, step_value, replica):
        l, ab = as_training_pair(batch)
        hint_channels = palette = None
        if config.model.hints:  # seeded by the step and the replica, so a resumed run sees the same hints
            hint_channels = hint_simulation.simulate(ab, tf.stack([replica_seed * 1000 + replica, step_value]), recipe)
        if config.model.palette:
            palette = hint_simulation.simulate_palette(
                ab, tf.stack([-7 - replica_seed * 1000 - replica, tf.cast(step_value, tf.int64)]), recipe)
        with tf.GradientTape() as tape:
            outputs = model(model_inputs(config.model, l, hint_channels, palette), training=True)
            loss = loss_fn(outputs, ab, labels_of(batch),  # the bins targets' draw: by step and replica too
                           seed=tf.stack([-1 - (replica_seed * 1000 + replica), tf.cast(step_value, tf.int64)]))
            scaled = optimizer.scale_loss(loss) if hasattr(optimizer, "scale_loss") else loss
        grads = tape.gradient(scaled, model.trainable_variables)
        finite = tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(g)) for g in grads if g is not None]))
        return loss, grads, 1.0 - tf.cast(finite, tf.float32)

    compiled = {}  # one XLA function per replica: a trace captures the variables of the replica that traced it

    def replica_gradients(batch):
        context = tf.distribute.get_replica_context()
        replica = tf.cast(context.replica_id_in_sync_group, tf.int64)
        compute = gradients
        if tc.jit_compile:
            key = str(tf.get_static_value(context.replica_id_in_sync_group))  # a constant while tracing strategy.run
            compute = compiled.setdefault(key, tf.function(gradients, jit_compile=True))
        loss, grads, bad = compute(batch, step.read_value() if tc.jit_compile else step, replica)
        if replicas > 1:
            bad = context.all_reduce(tf.distribute.ReduceOp.SUM, bad)
            if loss_scaling:  # Keras checks one replica's local gradients: make every replica's show the verdict
                poison = tf.where(bad > 0, np.float32(np.nan), np.float32(0.0))
                grads = [None if g is None else g + tf.cast(poison, g.dtype) for g in grads]
        with_gradient[:] = [v for g, v in zip(grads, model.trainable_variables) if g is not None]
        return loss, bad, [g for g in grads if g is not None], \
            train_input.where(batch) if positions is not None else tf.zeros([1, 2], tf.int64)

    def replica_apply(grads):
        optimizer.apply_gradients(zip(grads, with_gradient))

    @tf.function
    def train_steps(iterator, n):
        loss_sum, done, status = tf.constant(0.0), tf.constant(0), tf.constant(0)
        last, skipped = tf.constant(0.0), tf.constant(0)
        for _ in tf.range(n):
            loss, bad, grads, where = strategy.run(replica_gradients, args=(next(iterator),))
            if positions is not None:
                train_input.advance(strategy, positions, where)
            loss = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
            bad = strategy.reduce(tf.distribute.ReduceOp.SUM, bad, axis=None) > 0  # the same on every replica
            if loss_scaling:  # on non-finite gradients the optimizer skips the step and lowers the loss scale
                strategy.run(replica_apply, args=(grads,))
            elif not bad:
                strategy.run(replica_apply, args=(grads,))
            step.assign_add(1)
            done += 1
            last = loss
            if not tf.math.is_finite(loss):
                status = 1
                break
            if bad:
                skipped += 1
                skips_in_a_row.assign_add(1)
                if not loss_scaling and skips_in_a_row >= MAX_SKIPS_IN_A_ROW:
                    status = 2
                    break
            else:
                skips_in_a_row.assign(0)
                loss_sum += loss
            if stop_flag:  # read after the step's updates (automatic control dependencies): a whole step is done
                break
        return loss_sum, done, status, last, skipped

    return train_steps

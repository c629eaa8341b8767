"""The training batches under a ``tf.distribute`` strategy, and where each input pipeline stands in its stream.

The built-in stream (``colorize.data.streams.train_dataset``) is made by ``distribute_datasets_from_function``: one
input pipeline per worker, each keeping only its share of the records before decoding (a worker never decodes another's
images), each batch per replica. Every image carries its stream position; the training step keeps the next
position of every pipeline in ``positions``, the checkpoint's JSON stores them (``data_positions``), and a resumed
run starts each pipeline there: skipping records, never decoding them. A user's own stream is distributed as given
and resumed by skipping the batches already trained on.
"""
import tensorflow as tf

from colorize import data


class TrainInput:
    """``iterator``: the distributed batches; ``positions``: a (pipelines,) int64 variable with each pipeline's next
    stream position (None for a user's own stream); ``note``: a line for the log when the start was estimated."""

    def __init__(self, config, strategy, start_step=0, stored=None, dataset=None):
        self.config, self.positions, self.note = config, None, None
        if dataset is not None:
            self.iterator = iter(strategy.experimental_distribute_dataset(dataset.skip(start_step)))
            return
        starts = []  # every pipeline's start, known once the strategy says how many pipelines there are

        def pipeline(context):
            if not starts:
                starts.extend(self._starts(context.num_input_pipelines, start_step, stored))
            batches = data.train_dataset(config, starts[context.input_pipeline_id], context)
            pipeline_id = tf.constant(context.input_pipeline_id, tf.int64)
            return batches.map(lambda batch: {**batch, "pipeline": tf.fill(tf.shape(batch["position"]), pipeline_id)})

        distributed = strategy.distribute_datasets_from_function(pipeline)
        with strategy.scope():
            self.positions = tf.Variable(tf.constant(starts, tf.int64), trainable=False, name="data_positions",
                                         aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.iterator = iter(distributed)

    def _starts(self, count, start_step, stored):
        if stored is not None and len(stored) == count:
            return [int(p) for p in stored]
        if not start_step:
            return [0] * count
        if stored is None:
            epoch = start_step * self.config.train.batch_size // max(data.count_records(self.config), 1)
            self.note = (f"the checkpoint does not say where the data stream stood (made by an older colorize, or "
                         f"while training on another stream): the data resumes at the start of epoch {epoch}")
        else:
            epoch = max(data.split_position(p)[0] for p in stored) + 1
            self.note = (f"the checkpoint was made with {len(stored)} input pipeline(s) and this run has {count}: "
                         f"the data resumes at the start of epoch {epoch}")
        return [data.position(epoch, 0)] * count

    def stored(self):
        """The next positions, for the checkpoint's JSON (None for a user's stream)."""
        return None if self.positions is None else [int(p) for p in self.positions.numpy()]


def where(batch):
    """A replica's batch -> (1, 2) int64 [[the next position after it, its pipeline]]: what ``advance`` gathers."""
    return tf.stack([tf.reduce_max(batch["position"]) + 1, tf.reduce_max(batch["pipeline"])])[None]


def advance(strategy, positions, per_replica_where):
    """Move ``positions`` past the batches every replica just took (cross-replica context, inside the step)."""
    gathered = strategy.gather(per_replica_where, axis=0)  # (replicas, 2), the same on every worker
    latest = tf.math.unsorted_segment_max(gathered[:, 0], gathered[:, 1], tf.shape(positions)[0])
    positions.assign(tf.maximum(positions, latest))

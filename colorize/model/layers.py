"""Two Keras layers with faster TensorFlow training paths, each a drop-in for the stock layer of the same name
(same class name, variables and results), falling back to Keras's own code wherever the fast path does not apply.
"""
import keras
import tensorflow as tf
from keras import layers


@keras.saving.register_keras_serializable(package="colorize")
class BatchNormalization(layers.BatchNormalization):
    """Keras BatchNormalization whose training step runs TensorFlow's fused kernel.

    It keeps the Keras class name on purpose: Keras derives the paths inside a ``.weights.h5`` file from class
    names, so weight files stay interchangeable with models built from the stock layer.

    Same variables and the same results (within float rounding) as the Keras layer, so weights move freely between
    the two. In training, Keras 3's layer computes the batch moments in float32 with separate ops, casting
    bfloat16 activations up and back; the fused kernel takes bfloat16 activations directly (faster, most in mixed
    bfloat16: see ``bench/train_throughput.py``). Inference, and every case the fused kernel does not cover (no
    scale or no centre, synchronized moments, a mask, other ranks or axes, another Keras backend), use Keras's
    own code, but for synchronized moments, which take one all-reduce here instead of three.
    """

    def _fused(self, inputs, mask):
        return mask is None and len(inputs.shape) == 4 and self.axis in (-1, 3) and self.scale and self.center \
            and not self.synchronized and keras.backend.backend() == "tensorflow"

    def _moments(self, inputs, mask):
        """Synchronized moments with one all-reduce: Keras makes three (sum, squares, count), and replicas may
        launch them in different orders, which mismatches them ("Shape mismatch in the collective instance")."""
        context = tf.distribute.get_replica_context()
        if not self.synchronized or mask is not None or context is None or keras.backend.backend() != "tensorflow":
            return super()._moments(inputs, mask)
        x = tf.cast(inputs, tf.float32)
        sums = tf.reduce_sum(x, self._reduction_axes)
        width = tf.shape(sums, tf.int64)[0]
        count = tf.cast(tf.size(x, tf.int64) // width, tf.float32)
        total = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.concat(
            [sums, tf.reduce_sum(tf.square(x), self._reduction_axes), count[None]], 0))
        mean = tf.math.divide_no_nan(total[:width], total[-1])
        variance = tf.maximum(tf.math.divide_no_nan(total[width:2 * width], total[-1]) - tf.square(mean), 0.0)
        return tf.cast(mean, inputs.dtype), tf.cast(variance, inputs.dtype)

    def call(self, inputs, training=None, mask=None):
        if not training or not self._fused(inputs, mask):
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
    clip on the way (``clip_by_value`` and, in training, its gradient's selects), which costs time in a mixed
    bfloat16 training step and changes nothing (a bilinear mix stays within the range of its inputs). Same class
    name, no variables, and the same values (float32: identical; bfloat16: up to the final rounding) as the Keras
    layer; other interpolations, channels_first and other Keras backends use Keras's own code.
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

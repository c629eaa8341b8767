"""A reference for timing: a network the size of Zhang, Isola & Efros, "Colorful Image Colorization" (ECCV 2016).

``build_zhang_eccv16()`` rebuilds the architecture of their released model (the Caffe model and its PyTorch
port, ``colorizers/eccv16.py``) in Keras, with random weights: it is only used to compare speed, so the
weights (and the exact values of the 313 ab bin centres) do not matter.

    input L (B, 256, 256, 1)
    conv1  2 x conv 64,  the second stride 2, BN          -> 128 x 128
    conv2  2 x conv 128, the second stride 2, BN          -> 64 x 64
    conv3  3 x conv 256, the third stride 2, BN           -> 32 x 32
    conv4  3 x conv 512, BN
    conv5  3 x conv 512, dilation 2, BN
    conv6  3 x conv 512, dilation 2, BN
    conv7  3 x conv 512, BN
    conv8  transposed conv 256 (4x4, stride 2), 2 x conv 256, 1x1 conv 313  -> logits (B, 64, 64, 313)

Readout as in the paper: softmax of logits / T (T = 0.38, the annealed mean), the expectation over the bin
centres -> ab (B, 64, 64, 2), upsampled x4 and then to the photo's size. About 32 million parameters.

``ZhangPipeline`` runs it end to end on a file like ``Colorizer.colorize`` does ours: decode, Lab, resize to
256 x 256 (squashed, as Zhang et al. do), network, readout, upsample, Lab -> RGB, PNG encode, with the same
decoding, colour conversion (``per_pixel.full_resolution_lightness``, ``per_pixel.coefficients_to_rgb8``: the
same XLA kernels) and encoding code as ours, so the difference is the network and its readout (and Zhang et
al.'s plain clipping to sRGB where ours fits the chroma into the gamut).

    python bench/zhang_reference.py     # prints the parameter count
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

INPUT_SIZE = 256
NUM_BINS = 313
TEMPERATURE = 0.38


def build_zhang_eccv16():
    """The ECCV 2016 colorization network in Keras, random weights: L (B, 256, 256, 1) -> logits (B, 64, 64, 313)."""
    import keras
    from keras import layers

    def block(x, name, width, count, last_stride=1, dilation=1):
        for i in range(count):
            stride = last_stride if i == count - 1 else 1
            x = layers.Conv2D(width, 3, strides=stride, dilation_rate=dilation, padding="same", activation="relu",
                              name=f"{name}_{i + 1}")(x)
        return layers.BatchNormalization(name=f"{name}_bn")(x)

    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="l_channel")
    x = block(inputs, "conv1", 64, 2, last_stride=2)
    x = block(x, "conv2", 128, 2, last_stride=2)
    x = block(x, "conv3", 256, 3, last_stride=2)
    x = block(x, "conv4", 512, 3)
    x = block(x, "conv5", 512, 3, dilation=2)
    x = block(x, "conv6", 512, 3, dilation=2)
    x = block(x, "conv7", 512, 3)
    x = layers.Conv2DTranspose(256, 4, strides=2, padding="same", activation="relu", name="conv8_1")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv8_2")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv8_3")(x)
    logits = layers.Conv2D(NUM_BINS, 1, name="conv8_313")(x)
    return keras.Model(inputs, logits, name="zhang_eccv16")


def bin_centers():
    """313 ab centres on the 10-unit grid, those nearest the neutral axis (stand-ins for Zhang's in-gamut bins)."""
    grid = np.arange(-110.0, 110.0, 10.0) + 5.0
    centers = np.stack(np.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2)
    order = np.argsort(np.hypot(centers[:, 0], centers[:, 1]), kind="stable")
    return centers[order[:NUM_BINS]].astype(np.float32)


class ZhangPipeline:
    """File in, colour PNG out, with the ECCV 2016 network (random weights)."""

    def __init__(self, model=None):
        import tensorflow as tf

        from colorize import color
        from colorize.pipeline import per_pixel
        self.model = model or build_zhang_eccv16()
        centers = tf.constant(bin_centers())

        def prepare(rgb):
            lightness = per_pixel.full_resolution_lightness(rgb)
            small = tf.image.resize(lightness, [INPUT_SIZE, INPUT_SIZE], method="area", antialias=True)
            return color.scale_l(small), lightness

        def network(l_scaled):
            logits = self.model(l_scaled, training=False)
            probs = tf.nn.softmax(logits / TEMPERATURE, axis=-1)
            return tf.linalg.matmul(probs, centers)  # annealed mean, (B, 64, 64, 2)

        def finish(lightness, ab):
            ab = tf.image.resize(ab[None], [INPUT_SIZE, INPUT_SIZE], method="bilinear")  # x4, as in the paper
            ab = tf.image.resize(ab, tf.shape(lightness)[:2], method="bilinear")[0]
            coefficients = tf.concat([tf.zeros_like(ab), ab], axis=-1)  # ab = 0 * L + ab
            return per_pixel.coefficients_to_rgb8(lightness, coefficients, fit_gamut=False)

        self.prepare = tf.function(prepare, input_signature=[tf.TensorSpec([None, None, 3], tf.float32)])
        self.network = tf.function(network, input_signature=[tf.TensorSpec([None, INPUT_SIZE, INPUT_SIZE, 1])])
        self.finish = tf.function(finish, input_signature=[tf.TensorSpec([None, None, 1]),
                                                           tf.TensorSpec([64, 64, 2])])

    def colorize(self, path):
        from colorize import io as imageio
        rgb = imageio.load_rgb(path)
        l_scaled, lightness = self.prepare(rgb)
        ab = self.network(l_scaled[None]).numpy()[0]
        return self.finish(lightness, ab).numpy()

    def colorize_file(self, path, output):
        from colorize import io as imageio
        return imageio.save_png(self.colorize(path), output, overwrite=True)


def main():
    model = build_zhang_eccv16()
    print(f"{model.name}: {model.count_params():,} parameters, input {model.input_shape}, "
          f"output {model.output_shape}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

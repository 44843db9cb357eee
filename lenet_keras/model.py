"""LeNet-5 (LeCun et al., 1998) in two variants, with the paper's layer names.

`classic` follows the paper: the C3 connection table, scaled tanh, trainable
subsampling. `modern` is the usual Keras LeNet-5: full C3, ReLU or tanh, max or
average pooling. Both return logits; softmax lives in the loss and the export.
"""

from dataclasses import dataclass

import keras
import numpy as np
from keras import layers, ops

INPUT_SHAPE = (32, 32, 1)
NUM_CLASSES = 10

# Table I of the paper, 0-based: which S2 maps each C3 map reads.
C3_TABLE = (
    [[i % 6, (i + 1) % 6, (i + 2) % 6] for i in range(6)]
    + [[i % 6, (i + 1) % 6, (i + 2) % 6, (i + 3) % 6] for i in range(6)]
    + [[0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5]]
    + [[0, 1, 2, 3, 4, 5]]
)


def c3_connections(table=C3_TABLE, in_maps=6):
    """0/1 matrix (in_maps, out_maps) of the C3 table."""
    mask = np.zeros((in_maps, len(table)), np.float32)
    for out, ins in enumerate(table):
        mask[ins, out] = 1.0
    return mask


@keras.saving.register_keras_serializable(package="lenet_keras")
def scaled_tanh(x):
    """The paper's squashing function: 1.7159 * tanh(2x/3)."""
    return 1.7159 * ops.tanh(x * (2.0 / 3.0))


@keras.saving.register_keras_serializable(package="lenet_keras")
class Subsampling(layers.Layer):
    """The paper's S-layer: sum of each 2x2 block, times a trainable coefficient, plus a bias, per map."""

    def build(self, input_shape):
        maps = input_shape[-1]
        self.coefficient = self.add_weight(shape=(maps,), initializer="ones", name="coefficient")
        self.bias = self.add_weight(shape=(maps,), initializer="zeros", name="bias")

    def call(self, x):
        block_sum = 4.0 * ops.average_pool(x, pool_size=2, strides=2, padding="valid")
        return block_sum * self.coefficient + self.bias

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, h // 2, w // 2, c)


@keras.saving.register_keras_serializable(package="lenet_keras")
class PartialConv2D(layers.Layer):
    """5x5 valid convolution where output map j reads only the input maps in table[j].

    Only the connected weights are trainable (the paper's parameter count); they are
    scattered into a dense kernel with a constant index, so the exported graph is a
    plain CONV_2D with a constant, zero-masked kernel (no grouped convolution).
    """

    def __init__(self, table, kernel_size=5, **kwargs):
        super().__init__(**kwargs)
        self.table = [list(map(int, ins)) for ins in table]
        self.kernel_size = kernel_size

    def build(self, input_shape):
        in_maps, out_maps, k = input_shape[-1], len(self.table), self.kernel_size
        mask = c3_connections(self.table, in_maps)  # (in, out)
        n = int(mask.sum())
        # index[i, j] = position of weight (i -> j) in the compact vector, or n (a zero) if unconnected
        index = np.full(mask.shape, n, np.int32)
        index[mask > 0] = np.arange(n)
        self.index = index
        # Glorot-uniform limit with the table's real fan-in and fan-out (averaged over maps)
        fan_in, fan_out = k * k * mask.sum(axis=0).mean(), k * k * mask.sum(axis=1).mean()
        limit = float(np.sqrt(6.0 / (fan_in + fan_out)))
        self.kernel = self.add_weight(
            shape=(k, k, n), initializer=keras.initializers.RandomUniform(-limit, limit), name="kernel"
        )
        self.bias = self.add_weight(shape=(out_maps,), initializer="zeros", name="bias")

    def dense_kernel(self):
        """The (k, k, in, out) kernel with zeros where the table has no connection."""
        padded = ops.concatenate([self.kernel, ops.zeros(self.kernel.shape[:2] + (1,), self.kernel.dtype)], axis=-1)
        return ops.take(padded, self.index, axis=-1)

    def call(self, x):
        return ops.conv(x, self.dense_kernel(), strides=1, padding="valid") + self.bias

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        k = self.kernel_size
        return (n, h - k + 1, w - k + 1, len(self.table))

    def get_config(self):
        return {**super().get_config(), "table": self.table, "kernel_size": self.kernel_size}


@dataclass(frozen=True)
class ModelConfig:
    variant: str = "modern"  # "classic" or "modern"
    activation: str = "relu"  # modern only: "relu" or "tanh"
    pooling: str = "max"  # modern only: "max" or "average"
    dropout: float = 0.0  # before the output layer (modern only)
    batch_norm: bool = True  # modern only: BatchNormalization after C3, C5 and F6 (folded away at export)


VARIANTS = ("classic", "modern")


def build_lenet5(config=ModelConfig()):
    """Build LeNet-5 as a functional model: 32x32x1 input, 10 logits out."""
    if config.variant not in VARIANTS:
        raise ValueError(f"unknown variant {config.variant!r}; choose one of {', '.join(VARIANTS)}.")
    inputs = keras.Input(INPUT_SHAPE, name="image")
    if config.variant == "classic":
        x = layers.Conv2D(6, 5, activation=scaled_tanh, name="C1")(inputs)  # (B, 28, 28, 6)
        x = layers.Activation(scaled_tanh, name="S2_squash")(Subsampling(name="S2")(x))  # (B, 14, 14, 6)
        x = PartialConv2D(C3_TABLE, name="C3")(x)  # (B, 10, 10, 16)
        x = layers.Activation(scaled_tanh, name="C3_squash")(x)
        x = layers.Activation(scaled_tanh, name="S4_squash")(Subsampling(name="S4")(x))  # (B, 5, 5, 16)
        x = layers.Conv2D(120, 5, activation=scaled_tanh, name="C5")(x)  # (B, 1, 1, 120)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(84, activation=scaled_tanh, name="F6")(x)
    else:
        if config.activation not in ("relu", "tanh") or config.pooling not in ("max", "average"):
            raise ValueError("modern LeNet-5 takes activation 'relu' or 'tanh' and pooling 'max' or 'average'.")
        pool = layers.MaxPooling2D if config.pooling == "max" else layers.AveragePooling2D

        def weighted(layer, x):
            """The layer, then BatchNormalization and the activation when batch_norm is on."""
            if not config.batch_norm:
                return layer(x)
            x = layer(x)  # no bias: BatchNormalization's beta takes its place
            x = layers.BatchNormalization(name=f"{layer.name}_norm")(x)
            return layers.Activation(config.activation, name=f"{layer.name}_{config.activation}")(x)

        act = None if config.batch_norm else config.activation
        bias = not config.batch_norm
        # No batch normalization after C1: on its 28x28x6 maps, the largest tensor, it made each training
        # step 1.5 times slower, while after C3, C5 and F6 it costs about a tenth.
        x = layers.Conv2D(6, 5, activation=config.activation, name="C1")(inputs)  # (B, 28, 28, 6)
        x = pool(2, name="S2")(x)  # (B, 14, 14, 6)
        x = weighted(layers.Conv2D(16, 5, activation=act, use_bias=bias, name="C3"), x)  # (B, 10, 10, 16)
        x = pool(2, name="S4")(x)  # (B, 5, 5, 16)
        x = weighted(layers.Conv2D(120, 5, activation=act, use_bias=bias, name="C5"), x)  # (B, 1, 1, 120)
        x = layers.Flatten(name="flatten")(x)
        x = weighted(layers.Dense(84, activation=act, use_bias=bias, name="F6"), x)
        if config.dropout:
            x = layers.Dropout(config.dropout, name="dropout")(x)
    outputs = layers.Dense(NUM_CLASSES, name="output")(x)  # logits
    return keras.Model(inputs, outputs, name=f"lenet5_{config.variant}")

"""The exported graph: raw pixels (B, 28, 28, 1) in 0-255 -> probabilities (B, 10), and with a calibration
also digit_margin (B, 1): the not-a-digit head's verdict on the network's own features (detector.py), in
(-1, 1), negative for "not a digit".

It reads each image in its views (views.py: the image, smaller, larger and turned, one batch) and
computes exactly what `softmax(mean over the views of model(preprocess(view)))` computes, with C1 and S2
rearranged for fast inference. C1 reads one input channel, and on one input channel
TFLite's XNNPACK kernels waste most of their vector width: C1 alone took 14 µs per
image in int8. Here the 28x28 image is first cut into 2x2 pixel blocks (14x14x4, a
reshape and a transpose), C1 becomes a 3x3 convolution over those blocks that emits
the 4 pixels of each output block (14x14x24), and S2 pools over the 4 pixels of a
block. Same arithmetic, half the int8 latency of the whole model.
"""

import keras
import numpy as np
from keras import ops

from lenet_keras.data import preprocess
from lenet_keras.views import VIEWS, mean_over_views, view_batch


def preprocess_affine():
    """`preprocess` maps each raw pixel p (and the raw-0 padding) to scale * p + offset: return (scale, offset).

    Checked on a random image, so the exported graph can never drift from the one preprocessing function.
    """
    probe = np.random.default_rng(0).integers(0, 256, (1, 28, 28)).astype(np.uint8)
    ends = preprocess(np.stack([np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)])).numpy()
    offset, scale = float(ends[0, 0, 0, 0]), float(ends[1, 16, 16, 0] - ends[0, 16, 16, 0]) / 255
    expected = np.pad(probe[0].astype(np.float32) * scale + offset, 2, constant_values=offset)
    if not np.allclose(preprocess(probe).numpy()[0, ..., 0], expected, atol=1e-5):
        raise ValueError("preprocess is no longer a per-pixel affine map with 2-pixel padding; update serving.py.")
    return scale, offset


def block_kernel(kernel, scale):
    """C1's (5, 5, 1, k) kernel for a 2-pixel-padded image -> (3, 3, 4, 4k) kernel over 2x2 blocks.

    Output channel (dy, dx, c) of block (i, j) is C1's map c at pixel (2i + dy, 2j + dx).
    """
    k = kernel.shape[-1]
    blocks = np.zeros((3, 3, 2, 2, 2, 2, k), np.float32)  # (by, bx, sy, sx, dy, dx, c)
    for dy in range(2):
        for dx in range(2):
            for ky in range(5):
                for kx in range(5):
                    ry, rx = dy + ky - 2, dx + kx - 2  # input pixel offset from the block's top-left
                    blocks[ry // 2 + 1, rx // 2 + 1, ry % 2, rx % 2, dy, dx] = kernel[ky, kx, 0] * scale
    return blocks.reshape(3, 3, 4, 4 * k)


class BlockC1S2(keras.layers.Layer):
    """C1 and S2 of a trained LeNet-5 (with `preprocess` folded in) on 2x2 pixel blocks of the raw image."""

    def __init__(self, c1, s2, **kwargs):
        super().__init__(**kwargs)
        scale, offset = preprocess_affine()
        kernel, bias = (np.asarray(w) for w in c1.get_weights())
        self.maps = kernel.shape[-1]
        self.kernel = block_kernel(kernel, scale)
        # The offset reaches every tap, padding included: it adds offset * (sum of the taps) to each map.
        self.bias = np.tile(bias + offset * kernel.sum(axis=(0, 1, 2)), 4)
        self.activation = c1.activation
        self.pool = type(s2).__name__  # Subsampling, MaxPooling2D or AveragePooling2D
        self.subsampling = [np.asarray(w) for w in s2.get_weights()]  # (coefficient, bias) for Subsampling

    def call(self, pixels):
        x = ops.reshape(ops.cast(pixels, "float32"), (-1, 14, 2, 14, 2))
        x = ops.reshape(ops.transpose(x, (0, 1, 3, 2, 4)), (-1, 14, 14, 4))  # (B, 14, 14, 4): 2x2 blocks
        y = self.activation(ops.conv(x, self.kernel, padding="same") + self.bias)  # (B, 14, 14, 4 * maps)
        y = ops.reshape(y, (-1, 14, 14, 4, self.maps))
        if self.pool == "Subsampling":
            coefficient, bias = self.subsampling
            return ops.sum(y, axis=3) * coefficient + bias
        if self.pool == "MaxPooling2D":
            return ops.max(y, axis=3)
        return ops.mean(y, axis=3)  # AveragePooling2D

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 14, 14, self.maps)


class StaticFlatten(keras.layers.Layer):
    """Flatten with a constant target shape: one RESHAPE in TFLite instead of SHAPE, STRIDED_SLICE, PACK and
    RESHAPE (keras.layers.Flatten computes the batch size at run time); the file is about 1 KB smaller."""

    def call(self, x):
        return ops.reshape(x, (-1, int(np.prod(x.shape[1:]))))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))


def _folded(layer, norm, activation):
    """A copy of Conv2D/Dense `layer` computing activation(norm(layer(x))) with BatchNormalization's inference
    statistics folded into its kernel and bias."""
    gamma, beta, mean, variance = (np.asarray(w) for w in norm.get_weights())
    scale = gamma / np.sqrt(variance + norm.epsilon)  # per output channel
    kernel, *bias = (np.asarray(w) for w in layer.get_weights())
    bias = bias[0] if bias else np.zeros_like(mean)
    config = {**layer.get_config(), "use_bias": True, "activation": activation}
    folded = type(layer).from_config(config)
    folded.build(layer.input.shape)
    folded.set_weights([kernel * scale, (bias - mean) * scale + beta])
    return folded


def fold_batch_norm(model):
    """The same chain model with every BatchNormalization folded into the Conv2D or Dense before it, and the
    Activation after it moved into that layer: the same function with the plain LeNet-5 layers and ops."""
    chain = model.layers[1:]
    if not any(isinstance(layer, keras.layers.BatchNormalization) for layer in chain):
        return model
    inputs = keras.Input(model.input_shape[1:], name=model.layers[0].name)
    x, i = inputs, 0
    while i < len(chain):
        layer, following = chain[i], chain[i + 1 : i + 3]
        if following and isinstance(following[0], keras.layers.BatchNormalization):
            has_activation = len(following) > 1 and isinstance(following[1], keras.layers.Activation)
            activation = following[1].get_config()["activation"] if has_activation else None
            x = _folded(layer, following[0], activation)(x)
            i += 3 if has_activation else 2
        else:
            x = layer(x)
            i += 1
    return keras.Model(inputs, x, name=model.name)


def _divided(dense, temperature):
    """A copy of the output Dense layer whose logits are divided by the temperature (kernel and bias scaled):
    the same probabilities as a division before the softmax, without the extra op (about 1 KB of int8 file)."""
    kernel, bias = (np.asarray(w) for w in dense.get_weights())
    copy = type(dense).from_config(dense.get_config())
    copy.build(dense.input.shape)
    copy.set_weights([kernel / temperature, bias / temperature])
    return copy


class DigitMargin(keras.layers.Layer):
    """S4 (V * B, 5, 5, 16), C5 (V * B, 120) and F6 (V * B, 84) features of the V views of each image (views.py)
    -> (B, 1): tanh(z / 2), where z is the not-a-digit head's logit (detector.py) averaged over the views, 0 at
    the threshold; negative: not a digit.

    The head's standardization is folded into its hidden layer's kernel and bias (one matrix product, as in the
    Keras head; ONNX's exporter also turned the Normalization layer's constants into missing inputs). tanh keeps
    the output in (-1, 1), so int8 represents it near the boundary as finely as the probabilities (the logit
    itself spans tens of units on non-digits)."""

    def __init__(self, head, views=VIEWS, **kwargs):
        super().__init__(**kwargs)
        self.views = views
        norm, hidden, last = (head.get_layer(name) for name in ("standardize", "hidden", "is_a_digit"))
        mean = np.asarray(norm.mean, np.float64).reshape(-1)
        std = np.maximum(np.sqrt(np.asarray(norm.variance, np.float64).reshape(-1)), keras.backend.epsilon())
        kernel, bias = (np.asarray(w, np.float64) for w in hidden.get_weights())
        self.hidden_kernel = (kernel / std[:, None]).astype(np.float32)
        self.hidden_bias = (bias - (mean / std) @ kernel).astype(np.float32)
        self.out_kernel, self.out_bias = (np.asarray(w, np.float32) for w in last.get_weights())

    def call(self, s4, c5, f6):
        flat = ops.reshape(s4, (-1, int(np.prod(s4.shape[1:]))))
        x = ops.concatenate([flat, c5, f6], axis=1)
        z = ops.matmul(ops.relu(ops.matmul(x, self.hidden_kernel) + self.hidden_bias), self.out_kernel) + self.out_bias
        return ops.tanh(0.5 * mean_over_views(z, self.views))

    def compute_output_shape(self, s4_shape, c5_shape, f6_shape):
        return (None, 1)


def make_serving_model(model, calibration=None, views=VIEWS):
    """Raw pixels (batch, 28, 28, 1) -> probabilities (batch, 10), equal to softmax(mean_v model(preprocess(v)) / T)
    over the image's views v (views.py: evaluate.predict_logits, softmax'd).

    calibration: {"temperature": T, "head": detector.fit_detector(...)["head"]}; the model then has a second
    output, digit_margin (batch, 1) (DigitMargin), so every export carries the rule for "not a digit".
    Without it, T = 1 and probabilities are the only output. views=views.ALONE: the image alone.
    """
    model = fold_batch_norm(model)
    pixels = keras.Input((28, 28, 1), name="pixels")
    names = [layer.name for layer in model.layers]
    c1_s2 = BlockC1S2(model.get_layer("C1"), model.get_layer("S2"), name="C1_S2")
    x = c1_s2(view_batch(pixels, views))  # (V*B, 14, 14, 6)
    for layer in model.layers[names.index("S2") + 1 :]:  # LeNet-5 is a chain: S2's successors in order
        if layer is model.layers[-1]:
            f6 = x  # the output layer's input: F6's features
            if calibration is not None:
                layer = _divided(layer, calibration["temperature"])  # logits / T, with no op of its own
        if isinstance(layer, keras.layers.Flatten):
            x = c5 = StaticFlatten(name="flatten")(x)  # C5's features
        else:
            x = layer(x)
        if layer.name == "S4":
            s4 = x  # S4's maps, the head's first features
    probabilities = keras.layers.Softmax(name="probabilities")(mean_over_views(x, views))
    if calibration is None:
        return keras.Model(pixels, probabilities, name="serving")
    margin = DigitMargin(calibration["head"], views, name="digit_margin")(s4, c5, f6)
    return keras.Model(pixels, [probabilities, margin], name="serving")

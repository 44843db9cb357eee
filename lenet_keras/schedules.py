"""The learning-rate schedule, registered so that a saved model loads wherever `lenet_keras` is importable."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lenet_keras")
class WarmupCosineDecay(keras.optimizers.schedules.CosineDecay):
    """Keras's CosineDecay with linear warm-up, the same values, computed without a conditional.

    Keras's version picks warm-up or decay with `ops.cond`. AdamW evaluates the schedule again for
    each variable's weight decay, so one training step held 17 conditionals: tracing them took 0.9 s
    at the start of every run, and every step ran them. Here both pieces are plain arithmetic and
    `where` picks one.
    """

    def __call__(self, step):
        if self.warmup_target is None:
            return super().__call__(step)
        with keras.name_scope(self.name):
            initial = ops.convert_to_tensor(self.initial_learning_rate)
            dtype = initial.dtype
            decay_steps = ops.cast(self.decay_steps, dtype)
            warmup_steps = ops.cast(self.warmup_steps, dtype)
            target = ops.cast(self.warmup_target, dtype)
            step = ops.minimum(ops.cast(step, dtype), decay_steps + warmup_steps)
            warmup = initial + (target - initial) * step / ops.maximum(warmup_steps, 1.0)
            cosine = 0.5 * (1.0 + ops.cos(math.pi * ops.maximum(step - warmup_steps, 0.0) / decay_steps))
            decay = target * ((1.0 - self.alpha) * cosine + self.alpha)
            return ops.where(step < warmup_steps, warmup, decay)

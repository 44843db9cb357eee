"""The training loss, registered so that a saved model loads wherever `lenet_keras` is importable."""

import keras


@keras.saving.register_keras_serializable(package="lenet_keras")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy from logits and integer labels, with label smoothing (which Keras's sparse loss lacks)."""

    def __init__(self, label_smoothing=0.0, name="smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        labels = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), y_pred.shape[-1])
        return keras.losses.categorical_crossentropy(
            labels, y_pred, from_logits=True, label_smoothing=self.label_smoothing
        )

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}

"""Compile and fit LeNet-5 with Keras callbacks; write the best model, its history and curves."""

import contextlib
import csv
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import keras
import tensorflow as tf

from lenet_keras.data import DataConfig, make_datasets
from lenet_keras.files import atomic_path, remove_stale_temporaries
from lenet_keras.locks import hold_folder
from lenet_keras.model import ModelConfig, build_lenet5
from lenet_keras.runs import AtomicBackupAndRestore, begin_run, has_backup

MODEL_NAME = "lenet5.keras"
# Model selection on validation loss: with 5,000 validation images, accuracy moves in steps of
# 0.02% and its best epoch is often a lucky one (a run picked 99.22% test over 99.36%).
MONITOR = "val_loss"


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    epochs: int = 30
    learning_rate: float = 8e-3  # peak of the warm-up + cosine schedule (tuned for batch 512)
    warmup_fraction: float = 0.15
    weight_decay: float = 1e-4
    patience: int = 10  # EarlyStopping on validation loss; the cosine schedule needs its last epochs
    seed: int = 0
    deterministic: bool = False
    jit_compile: bool | str = "auto"  # XLA on GPUs only: on these CPUs it made epochs 2-3x slower
    steps_per_execution: int = 16  # fewer Python round trips per epoch
    out_dir: str = "saved_models"

    def to_dict(self):
        return asdict(self)


def recipe(
    variant=None,
    epochs=None,
    limit=None,
    seed=0,
    out_dir="saved_models",
    batch_size=None,
    augment=None,
    deterministic=False,
):
    """The default recipe, with any of its common settings overridden (None keeps the default)."""
    base = TrainConfig()
    model = base.model if variant is None else replace(base.model, variant=variant)
    data_overrides = {
        k: v for k, v in dict(limit=limit, batch_size=batch_size, augment=augment).items() if v is not None
    }
    data = replace(base.data, seed=seed, **data_overrides)
    epochs = base.epochs if epochs is None else epochs
    return replace(
        base, model=model, data=data, epochs=epochs, seed=seed, out_dir=str(out_dir), deterministic=deterministic
    )


def make_schedule(config, steps_per_epoch):
    """Linear warm-up to the peak learning rate, then cosine decay to zero."""
    total = max(1, config.epochs * steps_per_epoch)
    warmup = int(config.warmup_fraction * total)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 10,
        decay_steps=total - warmup,
        warmup_target=config.learning_rate,
        warmup_steps=warmup,
    )


def compile_model(model, config, steps_per_epoch):
    """Compile with AdamW on the schedule, sparse cross-entropy from logits, accuracy."""
    model.compile(
        optimizer=keras.optimizers.AdamW(make_schedule(config, steps_per_epoch), weight_decay=config.weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=config.jit_compile,
        steps_per_execution=config.steps_per_execution,
    )
    return model


def best_logged(history_csv, metric=MONITOR):
    """The lowest value of `metric` in a CSVLogger file, or None if there is none."""
    if not Path(history_csv).is_file():
        return None
    with open(history_csv, newline="") as f:
        values = [float(row[metric]) for row in csv.DictReader(f) if row.get(metric)]
    return min(values, default=None)


def make_callbacks(config, out_dir):
    """Best-model checkpoint, early stopping, CSV and TensorBoard logs, crash backup, NaN guard."""
    out_dir = Path(out_dir)
    history_csv = out_dir / "history.csv"
    if has_backup(out_dir):
        # Resuming a killed run: the checkpoint must beat the best epoch before the crash, not start from scratch.
        best = best_logged(history_csv)
    else:
        best = None
        history_csv.unlink(missing_ok=True)
    return [
        keras.callbacks.TerminateOnNaN(),
        AtomicBackupAndRestore(str(out_dir / "backup"), delete_checkpoint=True),
        AtomicModelCheckpoint(
            str(out_dir / MODEL_NAME), monitor=MONITOR, save_best_only=True, initial_value_threshold=best
        ),
        # The best weights come back from the checkpoint after fit, which also holds across a resume.
        keras.callbacks.EarlyStopping(monitor=MONITOR, patience=config.patience),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
        keras.callbacks.TensorBoard(str(out_dir / "logs"), write_graph=False, profile_batch=0),
    ]


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """ModelCheckpoint that writes to a temporary file and renames it, so a crash never leaves half a model."""

    def _save_model(self, epoch, batch, logs):
        final = self.filepath
        with atomic_path(final) as tmp:  # stays empty, and final untouched, when the epoch is no improvement
            self.filepath = str(tmp)
            try:
                super()._save_model(epoch, batch, logs)
            finally:
                self.filepath = final


def train(config=TrainConfig(), mnist=None, strategy=None, extra_callbacks=(), verbose=2, restart=False):
    """Train LeNet-5 and return (model, history dict). Writes the best model to out_dir/lenet5.keras.

    Holds out_dir's lock throughout. An unfinished run there is resumed if it has the same recipe;
    restart=True discards it and starts over.
    """
    with hold_folder(config.out_dir):
        begin_run(config, restart)
        return _fit(config, mnist, strategy, extra_callbacks, verbose)


def _fit(config, mnist, strategy, extra_callbacks, verbose):
    """The training itself, once out_dir is locked and its unfinished run checked."""
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir, MODEL_NAME)
    train_ds, val_ds, _ = make_datasets(config.data, mnist=mnist)
    steps_per_epoch = int(train_ds.cardinality())
    if strategy is not None:
        # Keras 3.15's multi-step loop fails under tf.distribute ("You must feed a value for placeholder"):
        # distributed runs execute one step per call.
        config = replace(config, steps_per_execution=1)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = compile_model(build_lenet5(config.model), config, steps_per_epoch)
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        callbacks=[*make_callbacks(config, out_dir), *extra_callbacks],
        verbose=verbose,
        shuffle=False,  # the dataset reshuffles itself each epoch
    )
    model.load_weights(out_dir / MODEL_NAME)  # the best validation epoch, as saved by the checkpoint
    return model, history.history

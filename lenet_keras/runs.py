"""An output folder's unfinished run: the recipe its backup was made with, and whether a rerun may resume it."""

import json
import shutil
from pathlib import Path

import keras

from lenet_keras.runtime.files import atomic_path

BACKUP = "backup"  # Keras BackupAndRestore's folder inside OUT
RECIPE = "recipe.json"  # kept inside BACKUP, so Keras deletes it with the backup when a run finishes
HISTORY = "history.csv"
# Settings that say where a run writes, not how it trains.
NOT_RECIPE = {"out_dir"}


class RecipeMismatchError(ValueError):
    """The unfinished run in an output folder was made with another recipe."""


def _flatten(settings, prefix=""):
    flat = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def recipe_of(config):
    """Every setting that shapes training, as {"data.limit": 20000, ...}: the whole config but its output folder.

    Read from config.to_dict(), so a field added to any config is part of the recipe without more code.
    """
    settings = {key: value for key, value in config.to_dict().items() if key not in NOT_RECIPE}
    return json.loads(json.dumps(_flatten(settings), default=str))  # tuples become lists, as read back from disk


def has_backup(out_dir):
    """Whether out_dir holds an unfinished run: a crash backup with saved state, not only its recipe or a temporary."""
    backup = Path(out_dir) / BACKUP
    return backup.is_dir() and any(p.name != RECIPE and not p.name.startswith(".") for p in backup.iterdir())


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """BackupAndRestore that writes each file to a temporary and renames it, so a crash or a full disk
    while it saves keeps the last whole backup (Keras writes in place: half a weights file cannot be resumed)."""

    def _save_model(self):
        with atomic_path(self._weights_path) as tmp:
            self.model.save_weights(tmp, overwrite=True)
        with atomic_path(self._training_metadata_path) as tmp:
            tmp.write_text(json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen}))


def _show(value):
    return value if isinstance(value, str) else repr(value)


def describe_changes(old, new):
    """The settings that differ, as "data.limit 20000 → 5000, data.batch_size 512 → 128"."""
    unset = "(unset)"
    keys = [*new, *(key for key in old if key not in new)]
    return ", ".join(
        f"{key} {_show(old.get(key, unset))} → {_show(new.get(key, unset))}"
        for key in keys
        if old.get(key, unset) != new.get(key, unset)
    )


def _recorded_recipe(out_dir):
    try:
        return json.loads((Path(out_dir) / BACKUP / RECIPE).read_text())
    except (OSError, ValueError):
        return None


def begin_run(config, restart=False):
    """Make out_dir ready for `config`; return True when it resumes the unfinished run there.

    restart=True discards an unfinished run (its backup, recipe and history). Otherwise an unfinished
    run is resumed only if it has the same recipe; one with another recipe, or with none recorded (made
    by an older version), stops with RecipeMismatchError before anything is loaded or written.
    """
    out = Path(config.out_dir)
    if restart:
        shutil.rmtree(out / BACKUP, ignore_errors=True)
        (out / HISTORY).unlink(missing_ok=True)
    recipe = recipe_of(config)
    ways_on = "run with --restart (restart=True in Python) to discard it and start over, or choose another --out"
    if has_backup(out):
        recorded = _recorded_recipe(out)
        if recorded is None:
            raise RecipeMismatchError(
                f"{out} holds an unfinished run whose settings were not recorded (an older lenet-keras made it); "
                f"{ways_on}."
            )
        if recorded != recipe:
            raise RecipeMismatchError(
                f"{out} holds an unfinished run with other settings ({describe_changes(recorded, recipe)}); {ways_on}."
            )
        return True
    with atomic_path(out / BACKUP / RECIPE) as tmp:
        tmp.write_text(json.dumps(recipe, indent=2))
    return False

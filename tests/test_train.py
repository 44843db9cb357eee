import numpy as np
import pandas as pd
import pytest

from lenet_keras.detector import DETECTOR_NAME
from lenet_keras.evaluate import load_model, predict_logits
from lenet_keras.pipeline import train_and_report
from lenet_keras.train import recipe


@pytest.fixture(scope="module")
def trained(mnist_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    config = recipe(variant="classic", epochs=2, limit=3000, batch_size=128, augment=False, out_dir=out)
    return config, train_and_report(config, data_dir=mnist_dir)


def test_short_run_learns_and_writes_its_files(trained):
    config, result = trained
    out = result["model_path"].parent
    assert result["metrics"]["test_accuracy"] > 0.85  # 3,000 images, 2 epochs: far above chance (0.10)
    for name in [
        "lenet5.keras",
        "history.csv",
        "training_curves.png",
        "metrics.json",
        "confusion_matrix.png",
        "mistakes.png",
        DETECTOR_NAME,
    ]:
        assert (out / name).stat().st_size > 0, name
    assert any((out / "logs").rglob("events.out.tfevents.*"))
    assert not (out / "backup").exists()  # BackupAndRestore removes its checkpoint after a finished run
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [0, 1]
    assert {"accuracy", "val_accuracy", "loss", "val_loss"} <= set(history.columns)


def test_saved_model_is_the_best_epoch_and_reloads(trained, mnist):
    config, result = trained
    history = result["history"]
    model = load_model(result["model_path"])
    _, (x_test, y_test) = mnist
    accuracy = float(np.mean(predict_logits(model, x_test).argmax(1) == y_test))
    assert accuracy == pytest.approx(result["metrics"]["test_accuracy"], abs=1e-9)
    assert result["metrics"]["recipe"]["epochs"] == 2
    assert history["val_accuracy"].max() > 0.85


def test_metrics_are_consistent(trained):
    metrics = trained[1]["metrics"]
    cm = np.array(metrics["confusion_matrix"])
    assert cm.sum() == 10000 == metrics["test_images"]
    assert np.trace(cm) == 10000 - metrics["test_errors"]
    assert len(metrics["mistakes"]) == metrics["test_errors"]
    per_class = cm.diagonal() / cm.sum(axis=1)
    np.testing.assert_allclose(list(metrics["per_class_accuracy"].values()), per_class)
    assert metrics["classification_report"]["accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert metrics["model"] == {"variant": "classic", "parameters": 60850}


def test_the_not_a_digit_head_is_fitted_once_per_model_file(trained, mnist, mnist_dir):
    """Evaluating the same model file again (notebook 03 after notebook 02) keeps its head; a changed model
    file gets a new one, fitted on the digits the model learned from (the recipe's `limit`)."""
    from lenet_keras.data import split_validation
    from lenet_keras.pipeline import evaluate_and_report

    _, result = trained
    out, refusal = result["model_path"].parent, result["metrics"]["refusal"]
    (_, y_train), _ = split_validation(*mnist[0], 5000, 0)
    ones = int((y_train[:3000] == 1).sum())  # each given a lead-in
    assert refusal["detector"] == DETECTOR_NAME
    assert refusal["digits"] == 2 * 3000 + ones and refusal["negatives"] == 2 * round(0.18 * 3000)
    head = (out / DETECTOR_NAME).read_bytes()
    again = evaluate_and_report(result["model_path"], data_dir=mnist_dir)["refusal"]
    assert (out / DETECTOR_NAME).read_bytes() == head and again["model_sha256"] == refusal["model_sha256"]
    model = load_model(result["model_path"])
    model.save(out / "lenet5.keras")  # the same weights, another file (a new save time)
    changed = evaluate_and_report(result["model_path"], data_dir=mnist_dir)["refusal"]
    assert changed["model_sha256"] != refusal["model_sha256"]  # recorded by a new fit, not carried over


def test_saved_model_loads_in_a_fresh_process(trained):
    """A notebook that only imports lenet_keras.evaluate can load the model (the custom loss is registered)."""
    import subprocess
    import sys
    from pathlib import Path

    config, result = trained
    assert config.label_smoothing > 0  # the model carries the smoothed loss in its compile config
    code = "import sys; from lenet_keras.evaluate import load_model; print(load_model(sys.argv[1]).name)"
    root = Path(__file__).resolve().parents[1]
    loaded = subprocess.run(
        [sys.executable, "-c", code, str(result["model_path"])], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.strip().endswith("lenet5_classic")


def test_training_step_is_traced_once(mnist_dir, tmp_path):
    """The optimizer's variables exist before fit, so TensorFlow traces the training step once, not twice."""
    from lenet_keras.data import make_datasets
    from lenet_keras.idx import load_mnist
    from lenet_keras.model import build_lenet5
    from lenet_keras.train import compile_model

    config = recipe(epochs=1, limit=1024, batch_size=512, augment=False, steps_per_execution=1, out_dir=tmp_path)
    train_ds, _, _ = make_datasets(config.data, mnist=load_mnist(mnist_dir))
    model = compile_model(build_lenet5(config.model), config, steps_per_epoch=2)
    assert model.optimizer.built
    traces = []
    step = model.train_step
    model.train_step = lambda data: traces.append(1) or step(data)  # Python runs only while tracing
    model.fit(train_ds, epochs=1, verbose=0)
    assert len(traces) == 1

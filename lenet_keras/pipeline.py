"""The project's three jobs end to end, shared by the CLI and the notebooks.

Each function reads its inputs from files, writes its outputs next to the model
and returns what it wrote, so notebooks 02-04 can each run on their own.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from lenet_keras import evaluate as ev
from lenet_keras import plots
from lenet_keras.idx import load_mnist
from lenet_keras.train import MODEL_NAME, train


def _save(fig, path):
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def train_and_report(config, data_dir=None, strategy=None):
    """Train, plot the curves, evaluate the best model; return paths, history and metrics."""
    mnist = load_mnist(data_dir)
    if strategy == "mirrored":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy()
    elif strategy == "default":
        strategy = None
    out = Path(config.out_dir)
    model, _ = train(config, mnist=mnist, strategy=strategy)
    history = pd.read_csv(out / "history.csv")  # the whole run, including epochs before a resume
    curves = _save(plots.plot_history(history), out / "training_curves.png")
    metrics = evaluate_and_report(out / MODEL_NAME, mnist=mnist, out_dir=out, recipe=config.to_dict())
    return {"model_path": out / MODEL_NAME, "curves": curves, "history": history, "metrics": metrics}


def evaluate_and_report(model_path, data_dir=None, out_dir=None, mnist=None, recipe=None):
    """Evaluate a saved model on the test set; write metrics.json and the figures beside it."""
    model_path = Path(model_path)
    out = Path(out_dir) if out_dir else model_path.parent
    model = ev.load_model(model_path)
    mnist = mnist if mnist is not None else load_mnist(data_dir)
    metrics, y_pred = ev.evaluate(model, mnist)
    _, (x_test, y_test) = mnist
    wrong = (y_pred != y_test).nonzero()[0][:40]
    _save(plots.plot_confusion(metrics["confusion_matrix"]), out / "confusion_matrix.png")
    _save(plots.plot_digits(x_test[wrong], y_test[wrong], y_pred[wrong], title="Misclassified"), out / "mistakes.png")
    metrics["model"] = {"variant": model.name.removeprefix("lenet5_"), "parameters": int(model.count_params())}
    if recipe is None and (out / "metrics.json").is_file():
        recipe = ev.read_json(out / "metrics.json").get("recipe")
    if recipe is not None:
        metrics["recipe"] = recipe
    ev.write_json(metrics, out / "metrics.json")
    return metrics

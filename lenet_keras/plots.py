"""Figures: sample grids, training curves, the confusion heatmap and the misclassified digits."""

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns


def plot_digits(images, labels=None, predictions=None, columns=10, title=None):
    """A grid of 28x28 (or 32x32) digits, captioned with labels and, if given, predictions."""
    images = np.asarray(images).squeeze()
    rows = max(1, int(np.ceil(len(images) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.3), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i], cmap="gray")
        if predictions is not None:
            ax.set_title(f"{labels[i]}→{predictions[i]}", fontsize=9, color="crimson")
        elif labels is not None:
            ax.set_title(str(labels[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_class_balance(train_labels, test_labels):
    """Bar chart of how many images each digit has in train and test."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    digits = np.arange(10)
    ax.bar(digits - 0.2, np.bincount(train_labels, minlength=10), width=0.4, label="train")
    ax.bar(digits + 0.2, np.bincount(test_labels, minlength=10), width=0.4, label="test")
    ax.set(xticks=digits, xlabel="digit", ylabel="images", title="Class balance")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_history(history):
    """Loss and accuracy curves from a Keras history dict (or the CSVLogger's DataFrame)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(np.asarray(history[metric]), label=f"train {metric}")
        ax.plot(np.asarray(history[f"val_{metric}"]), label=f"validation {metric}")
        ax.set(xlabel="epoch", title=metric)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion(confusion, normalize=False):
    """Seaborn heatmap of the confusion matrix (counts, or row-normalised recall)."""
    cm = np.asarray(confusion, dtype=float)
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    sns.heatmap(cm, annot=True, fmt=".3f" if normalize else ".0f", cmap="Blues", cbar=False, ax=ax)
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix" + (" (recall)" if normalize else ""))
    fig.tight_layout()
    return fig

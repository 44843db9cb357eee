"""Figures: sample grids, training curves, the confusion heatmap and the misclassified digits."""

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns


def plot_digits(images, labels=None, predictions=None, columns=10, title=None):
    """A grid of 28x28 (or 32x32) digits, captioned with labels and, if given, predictions.

    The digits are tiled into one image, each on its own grey scale, rather than drawn as a subplot
    each: forty digits take a tenth of a second to draw and save instead of a second.
    """
    images = np.asarray(images, dtype=np.float32)
    images = images.reshape(images.shape[:3])  # (N, H, W), from (N, H, W) or (N, H, W, 1)
    n, height, width = images.shape
    rows = max(1, -(-n // columns))
    low = images.min(axis=(1, 2), keepdims=True)
    scaled = (images - low) / np.maximum(images.max(axis=(1, 2), keepdims=True) - low, 1e-6)  # each in [0, 1]
    caption = height // 3 if labels is not None else 0  # pixels of room above each digit for its caption
    pitch_y, pitch_x = height + caption + 2, width + 2
    canvas = np.full((rows * pitch_y, columns * pitch_x), np.nan, np.float32)  # NaN: white gaps
    fig, ax = plt.subplots(figsize=(columns * 1.1, rows * 1.3))
    for i in range(n):
        row, column = divmod(i, columns)
        top, left = row * pitch_y + caption + 1, column * pitch_x + 1
        canvas[top : top + height, left : left + width] = scaled[i]
        if labels is None:
            continue
        text, colour = (f"{labels[i]}→{predictions[i]}", "crimson") if predictions is not None else (labels[i], "k")
        ax.text(left + width / 2, top - 1, str(text), ha="center", va="bottom", fontsize=9, color=colour)
    cmap = plt.get_cmap("gray").with_extremes(bad="white")
    ax.imshow(canvas, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
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


def plot_reliability(reliability, ece):
    """Reliability diagrams before and after temperature scaling: accuracy against confidence per bin.

    reliability: {"before"|"after": {"confidence", "accuracy", "count"}}; ece: {"before"|"after": float}.
    """
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8), sharey=True)
    for ax, name in zip(axes, ("before", "after"), strict=True):
        bins = reliability[name]
        used = np.array(bins["count"]) > 0
        confidence, accuracy = np.array(bins["confidence"])[used], np.array(bins["accuracy"])[used]
        ax.plot([0, 1], [0, 1], color="#aaa", lw=1, label="perfectly calibrated")
        ax.bar(confidence, accuracy - confidence, bottom=confidence, width=0.03, color="crimson", label="gap")
        ax.plot(confidence, accuracy, "o-", color="black", ms=3, label="accuracy")
        ax.set_title(f"{name} temperature scaling (ECE {ece[name]:.2%})", fontsize=10)
        ax.set_xlabel("confidence (top probability)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("accuracy on validation digits")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig

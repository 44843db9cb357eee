"""Figures for notebook 05: kernels, feature maps, the C3 table, the F6 map, confidences, a drawn digit."""

import matplotlib.pyplot as plt
import numpy as np


def plot_kernels(kernels):
    """C1's kernels (n, 5, 5) side by side, on one colour scale centred on zero (red +, blue -)."""
    limit = float(np.abs(kernels).max())
    fig, axes = plt.subplots(1, len(kernels), figsize=(1.6 * len(kernels), 2))
    for i, (ax, kernel) in enumerate(zip(axes, kernels, strict=True)):
        ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"C1 kernel {i}", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_feature_maps(image, maps):
    """The input digit, then one row per layer with each of its maps ({name: (h, w, maps)})."""
    columns = max(m.shape[-1] for m in maps.values())
    fig, axes = plt.subplots(len(maps), columns + 1, figsize=(0.8 * (columns + 1), 1.05 * len(maps)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(image, cmap="gray")
    axes[0, 0].set_title("input", fontsize=8)
    for row, (name, layer_maps) in zip(axes, maps.items(), strict=True):
        row[1].set_title(f"{name} {layer_maps.shape[0]}×{layer_maps.shape[1]}", fontsize=8, loc="left")
        for j in range(layer_maps.shape[-1]):
            row[j + 1].imshow(layer_maps[..., j], cmap="viridis")
    fig.tight_layout(pad=0.3)
    return fig


def plot_c3_table(connections):
    """The C3 connection table (in_maps, out_maps) of 0/1, drawn like Table I of the paper."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.imshow(connections, cmap="Greys", vmin=0, vmax=1.6)
    ax.set_xticks(range(connections.shape[1]), labels=range(connections.shape[1]))
    ax.set_yticks(range(connections.shape[0]), labels=range(connections.shape[0]))
    ax.set_xticks(np.arange(-0.5, connections.shape[1]), minor=True)
    ax.set_yticks(np.arange(-0.5, connections.shape[0]), minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    ax.set(xlabel="C3 feature map", ylabel="S2 feature map", title="C3 connection table (classic variant)")
    fig.tight_layout()
    return fig


def plot_embedding(points, labels, title="F6 features of the test set, first two principal components"):
    """A 2-D scatter of points (N, 2) coloured by digit, with each digit's label at its median."""
    fig, ax = plt.subplots(figsize=(7, 6))
    colours = plt.get_cmap("tab10")
    for digit in range(10):
        mine = points[labels == digit]
        ax.scatter(mine[:, 0], mine[:, 1], s=2, alpha=0.4, color=colours(digit), label=str(digit), rasterized=True)
        if len(mine):
            x, y = np.median(mine, axis=0)
            ax.text(x, y, str(digit), fontsize=16, weight="bold", ha="center", va="center", color="black")
    ax.legend(markerscale=6, loc="best", fontsize=8, ncols=2)
    ax.set(title=title, xticks=[], yticks=[])
    fig.tight_layout()
    return fig


def plot_confidences(images, labels, probabilities, title):
    """Digits captioned 'true → predicted (confidence)', wrong answers in red."""
    predictions = probabilities.argmax(axis=1)
    fig, axes = plt.subplots(1, len(images), figsize=(1.3 * len(images), 1.8), squeeze=False)
    for ax, image, label, prediction, p in zip(axes[0], images, labels, predictions, probabilities, strict=True):
        ax.imshow(image, cmap="gray")
        colour = "black" if label == prediction else "crimson"
        ax.set_title(f"{label}→{prediction}\n{p[prediction]:.1%}", fontsize=9, color=colour)
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_reading(image, probabilities):
    """A drawn digit as the model sees it (28x28) beside its ten probabilities."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(7, 2.8), width_ratios=(1, 2))
    left.imshow(image, cmap="gray", vmin=0, vmax=255)
    left.set_title("28×28, as MNIST")
    left.axis("off")
    best = int(np.argmax(probabilities))
    right.bar(range(10), probabilities, color=["crimson" if d == best else "grey" for d in range(10)])
    right.set(xticks=range(10), ylim=(0, 1), xlabel="digit", title=f"int8 TFLite: {best} ({probabilities[best]:.1%})")
    fig.tight_layout()
    return fig


def plot_verdicts(images, seen, verdicts, title):
    """Each input above the 28x28 image the model saw, titled with the answer: a digit, or why there is none."""
    fig, axes = plt.subplots(2, len(images), figsize=(1.2 * len(images), 2.9), squeeze=False)
    for i, (image, mnist, verdict) in enumerate(zip(images, seen, verdicts, strict=True)):
        axes[0, i].imshow(image, cmap="gray")
        axes[1, i].imshow(mnist, cmap="gray", vmin=0, vmax=255)
        answer = verdict["reason"] or f"{verdict['digit']} ({verdict['probability']:.0%})"
        axes[0, i].set_title(answer.replace("not a digit", "not a\ndigit"), fontsize=8)
        for ax in axes[:, i]:
            ax.axis("off")
    axes[0, 0].text(-0.5, 0.5, "input", transform=axes[0, 0].transAxes, ha="right", fontsize=8)
    axes[1, 0].text(-0.5, 0.5, "seen", transform=axes[1, 0].transAxes, ha="right", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_read(images, classifier, title):
    """Each picture above the 28x28 image `to_mnist` makes of it, titled with the classifier's verdict."""
    from lenet_keras.runtime.images import to_mnist

    seen = np.stack([to_mnist(image) for image in images])
    return plot_verdicts(images, seen, classifier.classify(seen), title)


def plot_dev_scans(classifier, n=12):
    """For each dev set this machine has (devsets.dev_folder), its first n scans above what `to_mnist` made of
    them, titled with the classifier's verdicts; a list of figures, empty without the sets."""
    from lenet_keras import devsets

    figures = []
    for name, load in devsets.LOADERS.items():
        folder = devsets.dev_folder(name)
        if folder:
            scans, labels = load(folder)
            figures.append(plot_read(scans[:n], classifier, f"{name} scans, labels {labels[:n].tolist()}"))
    return figures

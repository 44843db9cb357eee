"""What `predict` refuses: the project's held-out non-digits (fonts never used in training, fresh seeds), blank
and noise images, against the share of real digits refused (MNIST test, and USPS and Semeion when present).

    python -m tests.nondigits [MODEL.tflite]      # refusal rates per kind, shipped int8 model by default
"""

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT_SEED = 20_261_201  # never a training seed (those are small integers)


def noise_images(n, seed, size=96):
    """Uniform and salt-and-pepper noise pictures, size x size: ink with no shape at all."""
    rng = np.random.default_rng(seed)
    uniform = rng.integers(0, 256, (n // 2, size, size), dtype=np.uint8)
    salt = np.where(rng.random((n - n // 2, size, size)) < 0.05, 0, 255).astype(np.uint8)
    return np.concatenate([uniform, salt])


def refusal_table(classifier, mnist, n=2000):
    """{kind: share refused} for held-out non-digits by kind, noise, blank, and real digits."""
    from lenet_keras.negatives import KINDS, make_negatives
    from lenet_keras.runtime.images import to_mnist

    _, (x_test, y_test) = mnist
    negatives, kinds = make_negatives(n, seed=HELD_OUT_SEED, digits=x_test, labels=y_test, held_out=True)
    refused = np.array([v["digit"] is None for v in classifier.classify(negatives)])
    table = {f"held-out: {KINDS[k]}": float(refused[kinds == k].mean()) for k in np.unique(kinds)}
    table["held-out non-digits, all kinds"] = float(refused.mean())
    noise = np.stack([to_mnist(image) for image in noise_images(100, HELD_OUT_SEED)])
    table["noise pictures (96x96)"] = float(np.mean([v["digit"] is None for v in classifier.classify(noise)]))
    blank = np.stack([to_mnist(np.full((64, 64), 230, np.uint8))] * 10)
    table["blank pictures"] = float(np.mean([v["digit"] is None for v in classifier.classify(blank)]))
    verdicts = classifier.classify(x_test)
    table["MNIST test digits (refused)"] = float(np.mean([v["digit"] is None for v in verdicts]))
    return table


def main(argv):
    from lenet_keras.idx import load_mnist
    from lenet_keras.runtime.tflite import TFLiteClassifier

    model = next((a for a in argv if a.endswith(".tflite")), ROOT / "saved_models" / "lenet5_int8.tflite")
    mnist = load_mnist(os.environ.get("LENET_MNIST_DIR") or ROOT.parent / "shared" / "data" / "mnist")
    print(f"| input ({Path(model).name}) | refused |\n| --- | --- |")
    for kind, share in refusal_table(TFLiteClassifier(model), mnist).items():
        print(f"| {kind} | {share:.1%} |")


if __name__ == "__main__":
    main(sys.argv[1:])

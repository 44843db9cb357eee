"""Real handwriting that nobody here wrote, read as a user's scans: USPS test and Semeion, through `predict`.

Both are development sets: they are read, never trained on, never committed. Each digit is written to a
PNG at its own size (16x16), dark ink on white paper, and read back by `TFLiteClassifier.predict_files`,
the path `lenet-keras predict` takes. The folders come from $LENET_USPS_DIR and $LENET_SEMEION_DIR, else
../shared/data/{usps,semeion} beside the checkout.

    python -m tests.realsets [MODEL.tflite] [--show DIR]   # accuracy per set, shipped int8 model by default
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from lenet_keras.devsets import LOADERS, dev_folder, load_semeion, load_usps  # noqa: F401  (re-exported)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def folder(name):
    """The dev set's folder ($LENET_<NAME>_DIR, else ../shared/data/<name>), or None when this machine has none."""
    path = dev_folder(name) or SHARED / name
    return path if path.is_dir() else None


def read_as_files(classifier, images, show_dir=None):
    """Write each image as a PNG, read them through predict_files -> the list of result dicts."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, image in enumerate(images):
            paths.append(Path(tmp) / f"{i:05d}.png")
            Image.fromarray(image).save(paths[-1])
        return classifier.predict_files(paths, show_dir=show_dir)


def score(results, labels):
    """{"accuracy": the top digit right, "answered": the answer right (a refusal counts as a miss), "refused",
    "read"}."""
    top = np.array([r["top"][0]["digit"] for r in results])
    digits = np.array([-1 if r["digit"] is None else r["digit"] for r in results])
    return {
        "accuracy": float(np.mean(top == labels)),
        "answered": float(np.mean(digits == labels)),
        "refused": float(np.mean(digits == -1)),
        "read": len(labels),
    }


def main(argv):
    from lenet_keras.runtime.tflite import TFLiteClassifier

    model = next((a for a in argv if a.endswith(".tflite")), ROOT / "saved_models" / "lenet5_int8.tflite")
    show = argv[argv.index("--show") + 1] if "--show" in argv else None
    classifier = TFLiteClassifier(model)
    print(f"| real set ({Path(model).name}) | top digit right | answered right | refused |\n| --- | --- | --- | --- |")
    for name, load in LOADERS.items():
        path = folder(name)
        if path is None:
            print(f"| {name} | (no copy: set LENET_{name.upper()}_DIR) | | |")
            continue
        images, labels = load(path)
        results = read_as_files(classifier, images, show_dir=show and Path(show) / name)
        s = score(results, labels)
        print(f"| {name} ({s['read']:,}) | {s['accuracy']:.2%} | {s['answered']:.2%} | {s['refused']:.2%} |")


if __name__ == "__main__":
    main(sys.argv[1:])

"""`lenet-keras` command line: train, evaluate, export, predict, benchmark.

TensorFlow is imported only by the commands that need it, so `predict` on a
.tflite model starts fast and runs where TensorFlow is not installed.
"""

import argparse
import contextlib
import gc
import importlib.util
import json
import os
import sys

from lenet_keras.quiet import native_stderr_hidden

DEFAULT_OUT = "saved_models"
# Commands that write into --out. Each takes the folder's lock before TensorFlow loads (seconds), so a
# second process aimed at a busy folder stops at once; the pipeline functions take it again (re-entrant).
WRITES_OUT = ("train", "evaluate", "export")
# Commands that need TensorFlow, which only the [train] extra installs; the base install runs `predict` alone.
NEEDS_TRAINING = ("train", "evaluate", "export", "benchmark")
INSTALL_TRAINING = 'pip install "lenet-keras[train]"'


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _count(text):
    value = _number(text)
    if value < 0 or value != int(value):
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 0, got {text!r}")
    return int(value)


def _number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _fraction(text):
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 up to (not including) 1, got {value}")
    return value


def _share(text):
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {value}")
    return value


def _alpha(text):
    value = _number(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 100, got {value}")
    return value


@contextlib.contextmanager
def start_up():
    """Import TensorFlow and its company with Python's cycle collector paused, then freeze what they made.

    They bring some 400,000 objects that live as long as the process, and every full collection walks
    them all: collections during these imports took 0.6 s, one during training 0.3 s, and those at
    exit 0.9 s. gc.freeze() takes them out of the collector's sight, as CPython's documentation advises
    for long-lived start-up state; what the command itself creates is still collected.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def cmd_train(args):
    with start_up():
        from lenet_keras.pipeline import train_and_report
        from lenet_keras.train import recipe

    config = recipe(
        variant=args.variant,
        epochs=args.epochs,
        limit=args.limit,
        seed=args.seed,
        out_dir=args.out,
        batch_size=args.batch_size,
        augment=args.augment,
        deterministic=args.deterministic,
        elastic_alpha=args.elastic,
        batch_norm=args.batch_norm,
        label_smoothing=args.label_smoothing,
        use_ema=args.ema,
        dropout=args.dropout,
        patience=args.patience,
        pen=args.pen,
        negatives=args.negatives,
        strike=args.strike,
        lead_in=args.lead_in,
    )
    result = train_and_report(config, data_dir=args.data_dir, strategy=args.strategy, restart=args.restart)
    print(f"test accuracy {result['metrics']['test_accuracy']:.4f}; model written to {result['model_path']}")


def cmd_evaluate(args):
    with start_up():
        from lenet_keras.pipeline import evaluate_and_report

    metrics = evaluate_and_report(os.path.join(args.out, "lenet5.keras"), data_dir=args.data_dir, out_dir=args.out)
    print(f"test accuracy {metrics['test_accuracy']:.4f} ({metrics['test_errors']} errors in {metrics['test_images']})")
    for digit, accuracy in metrics["per_class_accuracy"].items():
        print(f"  digit {digit}: {accuracy:.4f}")


def cmd_export(args):
    with start_up():
        from lenet_keras.pipeline import export_and_check

    report = export_and_check(os.path.join(args.out, "lenet5.keras"), data_dir=args.data_dir, out_dir=args.out)
    print(report["table"])


def cmd_predict(args):
    from lenet_keras.runtime.tflite import BUNDLED_MODEL, TFLiteClassifier

    classifier = TFLiteClassifier(args.model or BUNDLED_MODEL, num_threads=args.threads)
    results = classifier.predict_files(args.images, top=args.top, show_dir=args.show)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        guesses = ", ".join(f"{t['digit']} ({t['probability']:.1%})" for t in r["top"])
        if r["digit"] is not None:
            answer = guesses
        elif r["reason"] == "not a digit":
            answer = f"not a digit  (likeliest: {guesses})"
        else:
            answer = r["reason"]  # no digit found: the candidates of a blank image mean nothing
        shown = f"  (the model saw {r['shown']})" if "shown" in r else ""
        print(f"{r['file']}: {answer}{shown}")


def cmd_benchmark(args):
    if args.versus:
        from lenet_keras.versus import compare

        log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731  progress; JSON on stdout
        print(json.dumps(compare(args.versus, args.bench_dir, args.pairs, args.data_dir, log=log), indent=2))
        return
    with start_up():
        from lenet_keras.benchmark import run_benchmark

    print(json.dumps(run_benchmark(out_dir=args.out, data_dir=args.data_dir, quick=args.quick), indent=2))


class ModelThenImages(argparse.Action):
    """`predict [MODEL.tflite] IMAGE...`: a first argument ending in .tflite is the model, the rest are images."""

    def __call__(self, parser, namespace, values, option_string=None):
        model = values[0] if values[0].lower().endswith(".tflite") else None
        images = values[1:] if model else values
        if not images:
            parser.error("the following arguments are required: IMAGE")
        namespace.model, namespace.images = model, images


def check_training_side(command):
    """Stop a command that needs TensorFlow before it locks or writes anything, when TensorFlow is not installed."""
    if command in NEEDS_TRAINING:
        for name in ("tensorflow", "keras"):
            if importlib.util.find_spec(name) is None:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def make_parser():
    parser = argparse.ArgumentParser(prog="lenet-keras", description="LeNet-5 on MNIST with Keras.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_text, data=True):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        if data:
            p.add_argument("--out", default=DEFAULT_OUT, help="folder for the model and reports (default: %(default)s)")
            p.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX files ($LENET_MNIST_DIR)")
        return p

    p = add("train", cmd_train, "Train LeNet-5, keep the best validation model, evaluate it on the test set.")
    p.add_argument("--variant", choices=("classic", "modern"), default=None, help="default: the recipe's variant")
    p.add_argument("--epochs", type=_positive, default=None)
    p.add_argument("--limit", type=_positive, default=None, help="train on the first N training images")
    p.add_argument("--batch-size", type=_positive, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-augment", dest="augment", action="store_false", default=None)
    p.add_argument("--elastic", type=_alpha, default=None, metavar="ALPHA", help="elastic distortion strength (0: off)")
    p.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=None, help="modern only")
    p.add_argument("--label-smoothing", type=_fraction, default=None, metavar="X")
    p.add_argument("--ema", action=argparse.BooleanOptionalAction, default=None, help="keep an EMA of the weights")
    p.add_argument("--dropout", type=_fraction, default=None, metavar="RATE", help="before the output layer (modern)")
    p.add_argument("--patience", type=_count, default=None, metavar="N", help="early stopping after N epochs (0: off)")
    p.add_argument("--pen", type=_fraction, default=None, metavar="P", help="pen and page variations' chance (0: off)")
    p.add_argument("--negatives", type=_count, default=None, metavar="N", help="non-digits to train on (0: none)")
    p.add_argument(
        "--strike", type=_fraction, default=None, metavar="P", help="chance of a zigzag across a digit (0: off)"
    )
    p.add_argument(
        "--lead-in",
        type=_share,
        default=None,
        metavar="S",
        help="share of the 1s given a continental lead-in (0: none)",
    )
    p.add_argument("--deterministic", action="store_true", help="bitwise-reproducible (TensorFlow op determinism)")
    p.add_argument(
        "--strategy",
        choices=("default", "mirrored"),
        default="default",
        help="mirrored: tf.distribute.MirroredStrategy over every local GPU (default: one device)",
    )
    p.add_argument("--restart", action="store_true", help="discard an unfinished run in OUT and start at epoch 1")

    add("evaluate", cmd_evaluate, "Evaluate OUT/lenet5.keras on the 10,000 test images.")
    add("export", cmd_export, "Export OUT/lenet5.keras to a SavedModel and float32/int8 TFLite, with a parity report.")

    p = sub.add_parser(
        "predict",
        help="Classify image files with an exported .tflite model (no TensorFlow needed).",
        description="Classify image files with an exported .tflite model (no TensorFlow needed). A first argument "
        "ending in .tflite is the model; without one, the int8 model inside the package is used.",
        usage="%(prog)s [MODEL.tflite] IMAGE [IMAGE ...] [--top K] [--json] [--threads N] [--show DIR]",
    )
    p.set_defaults(func=cmd_predict)
    p.add_argument(
        "inputs",
        nargs="+",
        action=ModelThenImages,
        metavar="[MODEL.tflite] IMAGE",
        help="PNG, JPEG, BMP, GIF, TIFF or .npy files, after an optional .tflite model (default model: "
        "lenet5_int8.tflite inside the package, a copy of the release's saved_models/lenet5_int8.tflite)",
    )
    p.add_argument("--top", type=_positive, default=1, metavar="K", help="show the K most likely digits")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--threads", type=_positive, default=1, metavar="N")
    p.add_argument("--show", metavar="DIR", help="write the 28x28 image the model saw for each input, enlarged, to DIR")

    p = add("benchmark", cmd_benchmark, "Measure training throughput, time to 99% and TFLite latency; print JSON.")
    p.add_argument("--quick", action="store_true", help="short version for smoke tests")
    p.add_argument(
        "--versus",
        metavar="PEER_PYTHON",
        help="instead: whole-process runs interleaved with the PyTorch peers, run by this Python (with torch)",
    )
    p.add_argument("--bench-dir", default=None, help="folder of the peer scripts (default: benchmarks/peers)")
    p.add_argument("--pairs", type=_positive, default=3, help="interleaved rounds for --versus (default: 3)")
    return parser


def main(argv=None):
    args = make_parser().parse_args(argv)
    lock = contextlib.nullcontext()
    if args.command in WRITES_OUT:
        from lenet_keras.locks import hold_folder  # fcntl: POSIX only, and `predict` needs no lock

        lock = hold_folder(args.out)
    try:
        check_training_side(args.command)
        with native_stderr_hidden(), lock:
            args.func(args)
    except ModuleNotFoundError as e:
        if args.command not in NEEDS_TRAINING or (e.name or "lenet_keras").startswith("lenet_keras"):
            raise
        print(
            f"lenet-keras {args.command}: error: this command needs the training side and {e.name} is not "
            f"installed; install it with {INSTALL_TRAINING}.",
            file=sys.stderr,
        )
        return 1
    except (ValueError, FileNotFoundError, OSError) as e:
        print(f"lenet-keras {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lenet-keras {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Peer benchmark: the original PyTorch LeNet-5 recipe that lenet-keras replaces.

Same recipe as the original project: 32x32 padded input normalised with the
training mean/std, tanh, average pooling, softmax before CrossEntropyLoss (as
the original did), SGD lr 0.01 momentum 0.9, batch 64. Run it beside the
project's own benchmark in one session, on the same machine, and compare the
ratio, not the absolute seconds.

    python -m venv ~/peer-venv && ~/peer-venv/bin/pip install torch==2.13.0 numpy
    LENET_MNIST_DIR=/path/to/mnist ~/peer-venv/bin/python benchmarks/peers/peer_seed_torch.py --epochs 1

Prints one JSON line: seconds per epoch, test accuracy, images per second.
"""
import argparse, gzip, json, os, time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

DEFAULT_DIR = os.environ.get("LENET_MNIST_DIR")  # the four MNIST IDX files (.gz), or --data-dir


def read_idx(path, header):
    return np.frombuffer(gzip.open(path).read()[header:], np.uint8)


def load(data_dir):
    d = Path(data_dir)
    xtr = read_idx(d / "train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    ytr = read_idx(d / "train-labels-idx1-ubyte.gz", 8)
    xte = read_idx(d / "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    yte = read_idx(d / "t10k-labels-idx1-ubyte.gz", 8)
    return xtr, ytr, xte, yte


def to_tensor(x, mean, std):
    x = torch.from_numpy(x.astype(np.float32) / 255.0)
    x = nn.functional.pad(x, (2, 2, 2, 2))
    return (x - mean) / std


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--data-dir", default=DEFAULT_DIR, required=DEFAULT_DIR is None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    xtr, ytr, xte, yte = load(args.data_dir)
    padded = np.pad(xtr, ((0, 0), (0, 0), (2, 2), (2, 2))).astype(np.float32) / 255.0
    mean, std = float(padded.mean()), float(padded.std())
    xtr, xte = to_tensor(xtr, mean, std), to_tensor(xte, mean, std)
    ytr, yte = torch.from_numpy(ytr.astype(np.int64)), torch.from_numpy(yte.astype(np.int64))
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, 10), nn.Softmax(dim=1),
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    n, bs = len(ytr), 64
    start = time.perf_counter()
    for _ in range(args.epochs):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, bs):
            b = perm[i:i + bs]
            opt.zero_grad()
            loss_fn(model(xtr[b]), ytr[b]).backward()
            opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    print(json.dumps({
        "peer": "pytorch-seed-recipe", "epochs": args.epochs, "threads": torch.get_num_threads(),
        "seconds": round(seconds, 2), "seconds_per_epoch": round(seconds / args.epochs, 2),
        "train_images_per_second": round(n * args.epochs / seconds, 1), "test_accuracy": round(acc, 4),
    }))


if __name__ == "__main__":
    main()

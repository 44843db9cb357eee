#!/usr/bin/env python3
"""Strong peer: what a competent PyTorch user would write for the same job on a CPU.

The same network as lenet-keras's default `modern` LeNet-5 (C1 6@5x5, max pool, C3 16@5x5,
max pool, C5 120@5x5, F6 84, 10 logits; ReLU; 61,706 parameters), 32x32 padded input in
memory as one tensor, AdamW, batch 512, a cosine schedule, and optionally the same kind of
augmentation (one random affine transform per image: rotation, scale, shift, applied to each
batch with affine_grid + grid_sample; --elastic adds Simard et al.'s elastic distortion).
Validation on 5,000 held-out training images after every epoch, as lenet-keras does.

    python -m venv ~/peer-venv && ~/peer-venv/bin/pip install torch==2.13.0 numpy
    LENET_MNIST_DIR=/path/to/mnist ~/peer-venv/bin/python benchmarks/peers/peer_torch_fast.py --epochs 5 --augment

Prints one JSON line: per-epoch seconds, steady-state images per second (median of the
epochs after the first), test accuracy. Compare ratios taken in the same session.
"""
import argparse, gzip, json, math, os, statistics, time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_DIR = os.environ.get("LENET_MNIST_DIR")  # the four MNIST IDX files (.gz), or --data-dir


def read_idx(path, header):
    return np.frombuffer(gzip.open(path).read()[header:], np.uint8)


def to_tensor(x):
    x = torch.from_numpy(np.pad(x, ((0, 0), (2, 2), (2, 2))).astype(np.float32))[:, None]
    return x * (1.275 / 255) - 0.1  # background -0.1, ink 1.175, as LeCun et al. (1998)


def random_affine(x, rotation=7.0, zoom=0.08, shift=2.5):
    n, size = x.shape[0], x.shape[-1]
    angle = (torch.rand(n) * 2 - 1) * math.radians(rotation)
    scale = 1 + (torch.rand(n) * 2 - 1) * zoom
    t = (torch.rand(n, 2) * 2 - 1) * shift * 2 / size
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, t[:, 0]], 1), torch.stack([sin, cos, t[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 0.1, grid, align_corners=False) - 0.1  # zeros outside = background


def elastic(x, alpha=34.0, sigma=4.0):
    """Simard et al. (2003): a random displacement field per image, smoothed by a Gaussian, scaled by alpha."""
    n, _, size, _ = x.shape
    k = int(4 * sigma) | 1
    r = torch.arange(k, dtype=torch.float32) - k // 2
    g = torch.exp(-r ** 2 / (2 * sigma ** 2)); g = g / g.sum()
    field = torch.rand(n * 2, 1, size, size) * 2 - 1
    field = F.conv2d(F.conv2d(field, g.view(1, 1, 1, k), padding=(0, k // 2)), g.view(1, 1, k, 1), padding=(k // 2, 0))
    field = field.view(n, 2, size, size).permute(0, 2, 3, 1) * alpha * 2 / size
    base = F.affine_grid(torch.eye(2, 3).expand(n, 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x + 0.1, base + field, align_corners=False) - 0.1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--augment", action="store_true", help="random affine per image")
    ap.add_argument("--elastic", action="store_true", help="also elastic distortion per image")
    ap.add_argument("--data-dir", default=DEFAULT_DIR, required=DEFAULT_DIR is None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    d = Path(args.data_dir)
    x = to_tensor(read_idx(d / "train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28))
    y = torch.from_numpy(read_idx(d / "train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    xte = to_tensor(read_idx(d / "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28))
    yte = torch.from_numpy(read_idx(d / "t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))
    order = torch.from_numpy(np.random.default_rng(args.seed).permutation(len(y)))
    xval, yval, xtr, ytr = x[order[:5000]], y[order[:5000]], x[order[5000:]], y[order[5000:]]
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 120, 5), nn.ReLU(), nn.Flatten(),
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )
    n, bs = len(ytr), args.batch_size
    steps = args.epochs * math.ceil(n / bs)
    opt = torch.optim.AdamW(model.parameters(), lr=8e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=8e-3, total_steps=steps, pct_start=0.15)
    epochs = []
    start = time.perf_counter()
    for _ in range(args.epochs):
        t = time.perf_counter()
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, bs):
            b = perm[i:i + bs]
            xb = random_affine(xtr[b]) if args.augment else xtr[b]
            xb = elastic(xb) if args.elastic else xb
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xb), ytr[b]).backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            model(xval).argmax(1)
        epochs.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    steady = statistics.median(epochs[1:]) if len(epochs) > 1 else epochs[0]
    print(json.dumps({
        "peer": "pytorch-strong", "augment": args.augment, "elastic": args.elastic, "batch_size": bs, "epochs": args.epochs,
        "threads": torch.get_num_threads(), "seconds": round(total, 2), "epoch_seconds": [round(e, 2) for e in epochs],
        "steady_images_per_second": round(n / steady, 1), "test_accuracy": round(acc, 4),
    }))


if __name__ == "__main__":
    main()

"""What the resize costs in FID: the FD between the two halves of the MNIST (or Fashion-MNIST)
test set and between training and test images, under the compare_gan protocol (TF1
``resize_bilinear``, no antialiasing, no half-pixel centres) and under TF2's antialiased
bilinear resize, with the FID Inception (``lsgan_tf.metrics.fid_inception``).

    python -m experiments.fid_protocols --data ../shared/data/mnist [--train 10000] [--out FILE]

Reads the IDX files as they are distributed (``data_prep.sources.idx``). Features are cached
(``lsgan_tf.metrics.feature_cache``), so an interrupted run resumes, and the compare_gan test
features serve the experiment later. Prints a table and writes it as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

TEST = "t10k-images-idx3-ubyte.gz"
TRAIN = "train-images-idx3-ubyte.gz"


def read_idx_images(path: str, count: int = 0) -> np.ndarray:
    """uint8 [N, 28, 28, 1] of an IDX images file (the first ``count``; 0: all)."""
    from data_prep.sources.idx import parse_header, read_bytes

    data, problem = read_bytes(path)
    if problem:
        raise SystemExit(f"{path}: {problem}")
    _, (n, rows, cols), start = parse_header(data)
    n = min(n, count) if count else n
    return np.frombuffer(data, np.uint8, n * rows * cols, start).reshape(n, rows, cols, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data/mnist")
    parser.add_argument("--train", type=int, default=10000, help="training images compared")
    parser.add_argument("--protocols", default="compare_gan,tf2_antialiased")
    parser.add_argument("--out", default="docs/figures/fid_protocols_{name}.json")
    args = parser.parse_args()
    for name in (TEST, TRAIN):
        if not os.path.isfile(os.path.join(args.data, name)):
            raise SystemExit(f"fid_protocols: {os.path.join(args.data, name)} is missing "
                             "(--data names the folder of the IDX files)")
    from lsgan_tf.metrics.feature_cache import real_features
    from lsgan_tf.metrics.fid_inception import fid_inception_extractor
    from lsgan_tf.metrics.frechet import frechet_distance_features

    test = read_idx_images(os.path.join(args.data, TEST))
    train = read_idx_images(os.path.join(args.data, TRAIN), args.train)
    half = len(test) // 2
    rows = []
    for protocol in args.protocols.split(","):
        extractor = fid_inception_extractor(protocol=protocol)
        start = time.time()
        features = {}
        for label, images in (("test", test), ("train", train)):
            print(f"[fid_protocols] {protocol}: features of {len(images)} {label} images",
                  flush=True)
            features[label] = real_features(extractor, images)
        rows.append({"protocol": protocol,
                     "fd_test_halves": frechet_distance_features(features["test"][:half],
                                                                 features["test"][half:]),
                     "fd_train_test": frechet_distance_features(features["train"],
                                                                features["test"]),
                     "seconds": round(time.time() - start, 1)})
        print(f"[fid_protocols] {rows[-1]}", flush=True)
    name = os.path.basename(os.path.normpath(args.data))
    out = args.out.format(name=name)
    result = {"data": name, "test_images": len(test), "train_images": len(train),
              "halves": [half, len(test) - half], "rows": rows}
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as handle:  # a local report file, not an artifact
        json.dump(result, handle, indent=2)
    print(f"\n{'protocol':<18}{'FD test halves':>16}{'FD train-test':>16}")
    for row in rows:
        print(f"{row['protocol']:<18}{row['fd_test_halves']:>16.3f}{row['fd_train_test']:>16.3f}")
    print(f"\n[fid_protocols] wrote {out}")


if __name__ == "__main__":
    main()

"""The conditional model with the linear label map Phi(y) on handwriting-style Chinese characters.

The data: GB2312 level-1 characters rendered by ``tools/render_gnt`` into CASIA ``.gnt`` files
(several fonts as writers, random affine and elastic distortions per sample), prepared by
``lsgan prep --source=hwdb --charset=gb2312_level1`` and trained by
``lsgan train --preset=hwdb_3740`` (the paper's network and settings; ``num_classes`` follows
``labels.txt``). See ``make hwdb-chars`` in experiments.mk for the whole chain.

This script only looks at a finished run:
  * ``docs/figures/hwdb_grid.png``: one row per class (up to ``--rows``), ``--per_class`` real
    samples (train split) on the left, as many generated ones on the right;
  * ``docs/figures/hwdb_chars.json``: the scores of ``evaluate_generator`` against the eval
    split (a character classifier trained on the train split: label accuracy of the generated
    characters, Frechet distance, KID, precision / recall), with real train records and noise
    as references.

  .venv/bin/python -m experiments.hwdb_chars --data runs/experiments/hwdb_tfrecords \
      --run runs/experiments/hwdb_train
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="prepared folder (lsgan prep output)")
    parser.add_argument("--run", required=True, help="lsgan train output folder")
    parser.add_argument("--rows", type=int, default=20, help="classes shown")
    parser.add_argument("--per_class", type=int, default=6)
    parser.add_argument("--num_samples", type=int, default=2000, help="samples scored")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", default="docs/figures/hwdb_grid.png")
    parser.add_argument("--json", default="docs/figures/hwdb_chars.json")
    parser.add_argument("--no_scores", action="store_true")
    return parser.parse_args(argv)


def real_per_class(images: np.ndarray, labels: np.ndarray, classes, per_class: int) -> np.ndarray:
    """``per_class`` real images of each class (white padding when a class has fewer)."""
    rows = []
    for c in classes:
        found = images[labels == c][:per_class]
        pad = np.full((per_class - len(found),) + images.shape[1:], 255, np.uint8)
        rows.append(np.concatenate([found, pad]) if len(pad) else found)
    return np.stack(rows)


def grid_figure(real: np.ndarray, fake: np.ndarray, path: str) -> str:
    """Rows: classes; left block real, right block generated (uint8 [rows, k, H, W, 1])."""
    from PIL import Image, ImageDraw

    rows, k, h, w = real.shape[:4]
    gap, pad, label_w = 12, 2, 0
    width = label_w + 2 * k * (w + pad) + gap + pad
    height = rows * (h + pad) + pad + 14
    sheet = Image.new("L", (width, height), 160)
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 1), "real", fill=0)
    draw.text((label_w + k * (w + pad) + gap + pad, 1), "generated", fill=0)
    for r in range(rows):
        top = 14 + pad + r * (h + pad)
        for j in range(k):
            sheet.paste(Image.fromarray(real[r, j, :, :, 0]), (label_w + pad + j * (w + pad), top))
            sheet.paste(Image.fromarray(fake[r, j, :, :, 0]),
                        (label_w + k * (w + pad) + gap + pad + j * (w + pad), top))
    sheet = sheet.resize((width * 2, height * 2), Image.NEAREST)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    sheet.save(path)
    return path


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from lsgan_tf import data as data_lib
    from lsgan_tf import example_schema
    from lsgan_tf.export import GeneratorClient

    names = example_schema.read_labels(args.data)
    client = GeneratorClient(os.path.join(args.run, "saved_model"))
    images, labels = data_lib.load_split(args.data, "train")
    classes = np.linspace(0, client.num_classes - 1, min(args.rows, client.num_classes))
    classes = np.unique(classes.round().astype(np.int64))
    real = real_per_class(images, labels, classes, args.per_class)
    wanted = np.repeat(classes, args.per_class)
    fake = client.sample(len(wanted), args.seed, wanted)
    # The generator makes dark-on-white like the data (sigmoid output in [0, 1] -> uint8).
    fake = fake.reshape(len(classes), args.per_class, *fake.shape[1:])
    figure = grid_figure(real, fake, args.figure)
    print(f"[hwdb_chars] grid {figure}: classes " + "".join(names[c] for c in classes))
    result = {"run": args.run, "data": args.data, "num_classes": client.num_classes,
              "train_records": int(len(images)),
              "classes_shown": "".join(names[c] for c in classes)}
    config_path = os.path.join(args.run, "config.json")
    if os.path.exists(config_path):
        with open(config_path) as handle:
            result["config"] = json.load(handle)
    if not args.no_scores:
        from lsgan_tf.metrics.evaluate import evaluate_generator, format_table

        metrics = evaluate_generator(client, args.data, split="eval", extractor="classifier",
                                     num_samples=args.num_samples, seed=args.seed,
                                     reference=True, log=lambda m: print(f"[hwdb_chars] {m}"))
        result.update({"scores": metrics["scores"], "reference": metrics.get("reference"),
                       "extractor": metrics["extractor"], "num_real": metrics["num_real"],
                       "num_samples": metrics["num_samples"]})
        print(format_table(metrics))
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(result, handle, ensure_ascii=False, indent=1)
    print(f"[hwdb_chars] {args.json}")
    return result


if __name__ == "__main__":
    main()

"""experiments.lucic's table from finished runs (mean, std over seeds beside the published numbers)
and experiments.fid_protocols' IDX reader against the bytes it was given."""
import gzip
import json
import os
import struct

import numpy as np
import pytest

from experiments import fid_protocols, lucic


def write_run(args, data, loss, seed, best, last):
    where = lucic.run_dir(args, data, loss, seed)
    os.makedirs(where, exist_ok=True)
    with open(os.path.join(where, "fid.json"), "w") as handle:
        json.dump({"data": data, "loss": loss, "seed": seed, "fid_best": best,
                   "fid_last": last, "train_seconds": 60.0}, handle)


def test_summary_is_mean_and_sample_std_over_seeds(tmp_path):
    args = lucic.parse_args(["--data", "mnist", "--losses", "ls,ns", "--seeds", "3",
                             "--out", str(tmp_path)])
    for seed, (best, last) in enumerate([(8.0, 9.0), (10.0, 12.0), (12.0, 30.0)]):
        write_run(args, "mnist", "ls", seed, best, last)
    write_run(args, "mnist", "ns", 0, 7.0, 7.5)  # one seed so far: no std
    summary = lucic.summarise(args)
    ls, ns = summary["table"]
    assert ls["best"] == pytest.approx([10.0, 2.0]) and ls["seeds"] == 3
    assert ls["last"] == pytest.approx([17.0, np.std([9.0, 12.0, 30.0], ddof=1)])
    assert ls["published"] == (7.8, 0.6) and ns["best"] == [7.0, None]
    table = lucic.format_table(summary)
    assert "| mnist | ls | 3 | 10.0 +- 2.0 | 17.0 +- 11.4 | 7.8 +- 0.6 | 3.0 |" in table
    assert "| mnist | ns | 1 | 7.0 | 7.5 | 6.8 +- 0.5 | 1.0 |" in table
    assert json.loads((tmp_path / "summary.json").read_text())["table"][0]["seeds"] == 3


def test_unknown_data_or_loss_is_refused():
    with pytest.raises(SystemExit):
        lucic.parse_args(["--losses", "wgan"])
    with pytest.raises(SystemExit):
        lucic.parse_args(["--data", "cifar10"])


def test_idx_images_are_read_as_written(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(struct.pack(">IIII", 2051, 5, 28, 28) + pixels.tobytes()))
    images = fid_protocols.read_idx_images(str(path))
    np.testing.assert_array_equal(images[..., 0], pixels)
    np.testing.assert_array_equal(fid_protocols.read_idx_images(str(path), 2)[..., 0],
                                  pixels[:2])

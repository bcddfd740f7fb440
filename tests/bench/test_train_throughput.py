"""bench.train_throughput: the FLOP count against a hand count, and a tiny run's table and JSON."""
import json
import os

import pytest

from bench import train_throughput as bench

TINY = ["--image_size", "32", "--width", "4", "--batch", "4", "--warmup", "1", "--steps", "1",
        "--repeats", "1", "--peak_size", "64"]


def _json_line(text):
    lines = [l for l in text.splitlines() if l.startswith("BENCH_JSON ")]
    assert len(lines) == 1
    return json.loads(lines[0][len("BENCH_JSON "):])


def test_flops_of_a_tiny_net_match_a_hand_count():
    import keras

    g_in = keras.Input((6,))
    x = keras.layers.Dense(2 * 2 * 8, use_bias=False)(g_in)          # 2 * 6 * 32 = 384
    x = keras.layers.Reshape((2, 2, 8))(x)
    x = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")(x)  # 2 * (2*2) * 3*3*8*4
    x = keras.layers.Conv2DTranspose(3, 5, strides=2, padding="same")(x)  # 2 * (4*4) * 5*5*4*3
    generator = keras.Model(g_in, x)
    d_in = keras.Input((8, 8, 3))
    y = keras.layers.Conv2D(4, 3, strides=2, padding="same")(d_in)   # 2 * (4*4) * 3*3*3*4
    y = keras.layers.LeakyReLU(0.2)(y)
    y = keras.layers.Conv2D(8, 5, strides=2, padding="same")(y)      # 2 * (2*2) * 5*5*4*8
    y = keras.layers.Dense(1)(keras.layers.Flatten()(y))             # 2 * 32
    discriminator = keras.Model(d_in, y)

    g_layers = [384, 2 * 4 * 9 * 8 * 4, 2 * 16 * 25 * 4 * 3]
    d_layers = [2 * 16 * 9 * 3 * 4, 2 * 4 * 25 * 4 * 8, 2 * 32]
    assert [l["flops"] for l in bench.layer_flops(generator)] == g_layers
    assert [l["kind"] for l in bench.layer_flops(generator)] == ["dense", "deconv", "deconv"]
    assert [l["flops"] for l in bench.layer_flops(discriminator)] == d_layers
    g, d = sum(g_layers), sum(d_layers)
    d_step = g + 2 * d + 2 * d + 2 * (d - d_layers[0])  # fwd; dW of real and fake; dX but first
    g_step = g + d + d + g + (g - g_layers[0])          # G, D fwd; D dX; G dW; G dX but first
    flops = bench.step_flops(generator, discriminator, batch=5)
    assert flops["d_step"] == 5 * d_step and flops["g_step"] == 5 * g_step
    assert flops["step"] == 5 * (d_step + g_step) == 5 * (4 * g + 8 * d - 2 * d_layers[0]
                                                          - g_layers[0])


def test_peak_key():
    assert bench.peak_key("mixed_bfloat16") == "bfloat16"
    assert bench.peak_key("float16") == "float16"
    assert bench.peak_key("float32") == "float32"


def test_tiny_run_prints_the_rows_with_positive_numbers(capsys):
    rows = "ours-default,ours-float32,keras-fit,eager"
    affinity = os.sched_getaffinity(0)
    out = bench.main(TINY + ["--rows", rows, "--torch_python", "none"])
    assert os.sched_getaffinity(0) == affinity  # the pin is undone
    text = capsys.readouterr().out
    assert _json_line(text) == json.loads(json.dumps(out))
    by_id = {r["id"]: r for r in out["rows"]}
    assert set(by_id) == set(rows.split(","))
    for row in out["rows"]:
        if row["unavailable"]:  # only while train.precision is missing
            assert row["id"] == "ours-float32" and "train.precision" in row["unavailable"]
            continue
        for key in ("ms_per_step", "images_per_sec", "gflops", "utilisation"):
            assert row[key] > 0, (row["id"], key)
        assert row["label"] in text
    assert by_id["ours-default"]["vs_default"] == pytest.approx(1.0)
    assert by_id["eager"]["precision"] == "float32"
    assert out["flops_per_step"]["step"] > 0
    assert all(v > 0 for v in out["peaks_gflops"]["tensorflow"].values())
    assert "| row | precision | ms/step | images/s | GFLOP/s | utilisation |" in text
    assert all(row["cpu_ms_per_step"] > 0 for row in out["rows"] if not row["unavailable"])


@pytest.mark.skipif(not os.path.exists(bench.TORCH_VENV_PYTHON),
                    reason="no runs/torch-venv (make torch-venv)")
def test_tiny_run_with_the_pytorch_rows(capsys):
    out = bench.main(TINY + ["--rows", "torch-float32,torch-bf16"])
    rows = {r["id"]: r for r in out["rows"]}
    assert set(rows) == {"torch-float32", "torch-bf16"}
    for row in rows.values():
        assert row["images_per_sec"] > 0 and row["gflops"] > 0
    assert rows["torch-bf16"]["vs_torch_bf16"] == pytest.approx(1.0)
    assert out["peaks_gflops"]["torch"]["bfloat16"] > 0
    assert "PyTorch autocast" in capsys.readouterr().out

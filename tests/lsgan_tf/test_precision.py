"""train.precision: auto's rule, what computes in 16 bits and what stays float32, loss scaling,
checkpoints shared across precisions, and the first steps' losses close to float32's."""
import io

import numpy as np
import pytest
import tensorflow as tf
from helpers import synthetic_batch, tiny_digits, tiny_sets

from lsgan_tf import config as config_lib
from lsgan_tf import precision
from lsgan_tf.presets import get_preset
from lsgan_tf.training import GanTrainer, train

XEON_FLAGS = ["fpu", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"]


@pytest.mark.parametrize("strategy, gpu, flags, expected", [
    ("tpu", None, [], "bfloat16"),
    ("default", (8, 0), XEON_FLAGS, "float16"),   # a GPU wins over the CPU's flags
    ("mirrored", (7, 0), [], "float16"),
    ("default", (6, 1), XEON_FLAGS, "float32"),   # no tensor cores
    ("default", None, XEON_FLAGS, "bfloat16"),
    ("default", None, ["avx512f", "amx_bf16"], "bfloat16"),
    ("default", None, ["avx512f", "avx2"], "float32"),
])
def test_auto_picks_the_machines_fast_type(strategy, gpu, flags, expected):
    assert precision.choose(strategy, gpu, flags) == expected


def test_explicit_precisions_are_kept_and_auto_reads_this_machine():
    for name in ("float32", "bfloat16", "float16"):
        assert precision.resolve(name) == name
    on_this_cpu = "bfloat16" if set(precision.cpu_flags()) & set(precision.CPU_BF16_FLAGS) \
        else "float32"
    assert precision.resolve("auto") == on_this_cpu


def test_cpu_flags_come_from_the_flags_line(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx512f amx_bf16\nbugs\t: x\n")
    assert list(precision.cpu_flags(str(cpuinfo))) == ["fpu", "avx512f", "amx_bf16"]
    assert list(precision.cpu_flags(str(tmp_path / "missing"))) == []


def test_a_bad_precision_is_a_one_line_refusal():
    with pytest.raises(config_lib.ConfigError, match=r"^train.precision='half': unknown "
                       r"precision; known: auto, float32, bfloat16, float16$"):
        config_lib.validate(config_lib.apply_overrides(get_preset("digits"),
                                                       ["train.precision=half"]))


@pytest.mark.parametrize("model", ["conditional", "dcgan", "mog_mlp"])
def test_bfloat16_computes_in_16_bits_and_keeps_variables_and_outputs_float32(model, tmp_path):
    config = config_lib.apply_overrides(get_preset("digits"),
                                        tiny_sets(model) + ["train.precision=bfloat16"])
    trainer = GanTrainer(config, str(tmp_path))
    assert trainer.precision == "bfloat16"
    for network in (trainer.task.models.generator, trainer.task.models.discriminator):
        computing = {layer.dtype_policy.compute_dtype for layer in network.layers
                     if layer.weights}
        assert "bfloat16" in computing
        assert {w.dtype for w in network.weights} == {"float32"}
    batch = synthetic_batch(config)
    inputs = [batch["z_d"], batch["label"]] if trainer.task.models.conditional else batch["z_d"]
    fake = trainer.task.models.generator(inputs, training=False)
    real = [batch["real"], batch["label"]] if trainer.task.models.conditional else batch["real"]
    assert fake.dtype == tf.float32
    assert trainer.task.models.discriminator(real, training=False).dtype == tf.float32
    metrics = trainer.make_step_fn()(batch)
    assert all(v.dtype == tf.float32 and np.isfinite(float(v)) for v in metrics.values())
    # Keras's global policy is back to float32 for whatever is built next.
    import keras
    assert keras.config.dtype_policy().name == "float32"


def test_float16_scales_the_loss_and_checkpoints_like_float32(tmp_path):
    """A float16 run wraps the optimisers in LossScaleOptimizer; its checkpoint holds the same
    keys as a float32 one (the loss scale is not saved), and either restores the other's."""
    import keras

    keys = {}
    for name in ("float32", "float16"):
        config = tiny_digits(steps=2, **{"train.precision": name})
        result = train(config, str(tmp_path / name), stream=io.StringIO())
        reader = tf.train.load_checkpoint(result.checkpoints)
        keys[name] = set(reader.get_variable_to_shape_map())
    assert keys["float32"] == keys["float16"]
    trainer = GanTrainer(tiny_digits(steps=2, **{"train.precision": "float16"}),
                         str(tmp_path / "float32"))
    assert isinstance(trainer.task.d_opt, keras.optimizers.LossScaleOptimizer)
    assert float(trainer.task.d_opt.scale_loss(tf.constant(1.0))) == \
        float(trainer.task.d_opt.dynamic_scale.numpy()) > 1
    assert trainer.restore() == 2


def test_bfloat16_first_losses_follow_float32s(tmp_path):
    """The same weights and batches: over the first 10 steps every bfloat16 loss is within 5 %
    (relative) of float32's, and the curves move together."""
    curves = {}
    for name in ("float32", "bfloat16"):
        config = tiny_digits(steps=10, **{"train.precision": name})
        trainer = GanTrainer(config, str(tmp_path / name))
        batches = iter(trainer.dataset(0))
        step_fn = trainer.make_step_fn()
        curves[name] = np.array([[float(m["d_loss"]), float(m["g_loss"])] for m in
                                 (step_fn(next(batches)) for _ in range(10))])
    np.testing.assert_allclose(curves["bfloat16"], curves["float32"], rtol=0.05)
    assert np.corrcoef(curves["bfloat16"][:, 0], curves["float32"][:, 0])[0, 1] > 0.9

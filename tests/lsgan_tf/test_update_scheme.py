"""The 2 x 2 update schemes of issue 15 (``train.update`` x ``train.g_noise``) and
``optim.epsilon``: simultaneous gradients against the least-squares formulas by hand, both
applied at once, and every scheme training every model one step."""
import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf import config as config_lib
from lsgan_tf.config import ConfigError
from lsgan_tf.presets import get_preset
from lsgan_tf.registry import MODELS
from lsgan_tf.gan_task import make_optimizer
from lsgan_tf.training import GanTrainer

from helpers import synthetic_batch, tiny_sets

SCHEMES = [("alternating", "fresh"), ("alternating", "shared"), ("simultaneous", "fresh"),
           ("simultaneous", "shared")]


def scheme_config(model, update, g_noise, *sets):
    # float32: the comparisons below are at float32 round-off.
    config = config_lib.apply_overrides(get_preset("digits"), tiny_sets(model) + [
        f"train.update={update}", f"train.g_noise={g_noise}", "train.precision=float32", *sets])
    return config_lib.validate(config)


def by_hand(trainer, batch, z_g):
    """LSGAN's gradients at the current weights, from the paper's formulas with (a, b, c) =
    (0, 1, 1): d = 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z_d))^2]; g = 1/2 E[(D(G(z_g)) - 1)^2]."""
    generator, discriminator = trainer.task.models.generator, trainer.task.models.discriminator
    with tf.GradientTape() as tape:
        d_real = discriminator(batch["real"], training=True)
        d_fake = discriminator(generator(batch["z_d"], training=True), training=True)
        d_loss = 0.5 * tf.reduce_mean((d_real - 1.0) ** 2) + 0.5 * tf.reduce_mean(d_fake ** 2)
    d_grads = tape.gradient(d_loss, discriminator.trainable_variables)
    with tf.GradientTape() as tape:
        d_fake_g = discriminator(generator(z_g, training=True), training=True)
        g_loss = 0.5 * tf.reduce_mean((d_fake_g - 1.0) ** 2)
    return d_grads, tape.gradient(g_loss, generator.trainable_variables)


@pytest.mark.parametrize("g_noise", ["fresh", "shared"])
def test_simultaneous_gradients_are_the_formulas_at_the_same_weights(g_noise, tmp_path):
    config = scheme_config("mog_mlp", "simultaneous", g_noise, "loss.type=ls")
    trainer = GanTrainer(config, str(tmp_path))
    batch = synthetic_batch(config)
    d_grads, g_grads, _ = trainer.task.simultaneous_gradients(batch)
    hand_d, hand_g = by_hand(trainer, batch, batch["z_d" if g_noise == "shared" else "z_g"])
    for got, want in zip(list(d_grads) + list(g_grads), list(hand_d) + list(hand_g)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-7)
    other_z = batch["z_g" if g_noise == "shared" else "z_d"]
    _, other_g = by_hand(trainer, batch, other_z)
    assert not all(np.allclose(a.numpy(), b.numpy()) for a, b in zip(g_grads, other_g))


def test_a_simultaneous_step_applies_both_gradients_taken_before_it(tmp_path):
    """After one step, the weights are those of Adam applying the gradients at the weights
    before it (the G update does not see the new D), and differ from the alternating step."""
    config = scheme_config("mog_mlp", "simultaneous", "shared", "optim.epsilon=1e-8")
    trainer = GanTrainer(config, str(tmp_path))
    batch = synthetic_batch(config)
    variables = (trainer.task.models.discriminator.trainable_variables
                 + trainer.task.models.generator.trainable_variables)
    before = [v.numpy().copy() for v in variables]
    d_grads, g_grads, _ = trainer.task.simultaneous_gradients(batch)
    trainer.make_step_fn()(batch)
    after = [v.numpy().copy() for v in variables]
    for variable, value in zip(variables, before):
        variable.assign(value)
    d_opt = make_optimizer(config.optim, config.optim.lr_d)
    g_opt = make_optimizer(config.optim, config.optim.lr_g)
    assert d_opt.epsilon == 1e-8
    d_opt.apply_gradients(zip(d_grads, trainer.task.models.discriminator.trainable_variables))
    g_opt.apply_gradients(zip(g_grads, trainer.task.models.generator.trainable_variables))
    for got, want in zip(after, variables):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-7)

    alternating = GanTrainer(scheme_config("mog_mlp", "alternating", "shared",
                                           "optim.epsilon=1e-8"), str(tmp_path / "alt"))
    for variable, value in zip(alternating.task.models.discriminator.trainable_variables
                               + alternating.task.models.generator.trainable_variables, before):
        variable.assign(value)
    alternating.make_step_fn()(batch)
    alt_g = [v.numpy() for v in alternating.task.models.generator.trainable_variables]
    g_after = after[len(trainer.task.models.discriminator.trainable_variables):]
    assert not all(np.allclose(a, b, rtol=1e-6) for a, b in zip(alt_g, g_after))


CHEAP = ("mog_mlp", "dcgan", "conditional")


@pytest.mark.parametrize("update, g_noise", SCHEMES)
@pytest.mark.parametrize("model", [pytest.param(m, marks=() if m in CHEAP else pytest.mark.slow)
                                   for m in MODELS.names()])
def test_every_scheme_trains_every_model_one_step(model, update, g_noise, tmp_path):
    try:
        config = scheme_config(model, update, g_noise)
    except ConfigError as error:
        pytest.skip(f"{model}: {error}")
    trainer = GanTrainer(config, str(tmp_path))
    models = trainer.task.models
    before = [w.numpy().copy() for w in models.generator.trainable_weights
              + models.discriminator.trainable_weights]
    metrics = trainer.make_step_fn()(synthetic_batch(config))
    assert all(np.isfinite(float(v)) for v in metrics.values())
    after = models.generator.trainable_weights + models.discriminator.trainable_weights
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, after))


@pytest.mark.parametrize("key, value, message", [
    ("train.update", "together", "alternating, simultaneous"),
    ("train.g_noise", "same", "fresh, shared"),
    ("optim.epsilon", "0", "must be a positive number"),
])
def test_bad_scheme_settings_are_refused(key, value, message):
    with pytest.raises(ConfigError, match=message):
        scheme_config("mog_mlp", "alternating", "fresh", f"{key}={value}")

"""The GAN task: the networks, the losses, the optimisers, the EMA copy of G and the update
scheme, and one step of it on one replica. The loop (``lsgan_tf.training``) owns everything
else (strategy, checkpoints, preemption, logging, samples, export) and knows no GAN maths: a
new GAN variant is a new task, not an edit of the loop.

One step on a replica with its rows of the global batch (``replica_step``):
  D update: minimise L_D(D(x), D(G(z_d))) over D's weights;
  G update: minimise L_G(D(G(z))) over G's weights, z = z_g (``train.g_noise=fresh``) or
  z_d (``shared``);
``train.update=alternating`` takes G's gradient after D's update (a new pass of G and D),
``simultaneous`` takes both at the same weights (with ``shared``, from the D update's own pass).
Both schemes take their losses from one forward pass (``forward``) and one G-loss pass
(``generator_loss``). The losses are divided by the number of replicas and the optimisers sum
the replicas' gradients, so the update equals the single-device update on the global batch.
The networks compute in the resolved ``train.precision`` (``lsgan_tf.precision``); the losses
and the variables are float32.
"""
from __future__ import annotations

from typing import Any, Dict, NamedTuple

import keras
import tensorflow as tf

from lsgan_tf import config as config_lib
from lsgan_tf import precision as precision_lib
from lsgan_tf.losses import GanLoss, get_loss
from lsgan_tf.models import build_models

# What every step reports: L_D and its terms on real and on fake rows, L_G, mean D(x) and
# mean D(G(z_d)).
METRICS = ("d_loss", "d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake")


def make_optimizer(optim, learning_rate: float,
                   precision: str = precision_lib.FLOAT32) -> keras.optimizers.Optimizer:
    """``optim.optimizer`` at ``learning_rate``; for float16, wrapped in Keras' dynamic
    ``LossScaleOptimizer`` (losses pass through ``scale_loss`` before the gradient)."""
    if optim.optimizer == "adam":
        optimizer = keras.optimizers.Adam(learning_rate, beta_1=optim.beta1,
                                          beta_2=optim.beta2, epsilon=optim.epsilon)
    elif optim.optimizer == "rmsprop":
        optimizer = keras.optimizers.RMSprop(learning_rate, epsilon=optim.epsilon)
    else:
        raise ValueError(f"unknown optim.optimizer {optim.optimizer!r}; known: adam, rmsprop")
    if precision == precision_lib.FLOAT16:
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def optimizer_state(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """The optimiser whose variables a checkpoint holds (inside a loss-scale wrapper)."""
    return getattr(optimizer, "inner_optimizer", optimizer)


class Forward(NamedTuple):
    """One forward pass on a replica's rows: G(z_d), D(x) and D(G(z_d)) in float32, and L_D's
    parts on them (``GanLoss``)."""
    fake: Any
    d_real: Any
    d_fake: Any
    losses: GanLoss


class GanTask:
    """G, D, their optimisers, the EMA copy of G (``train.ema_decay`` > 0, else None) and the
    update scheme of ``config``. Built inside the strategy's scope: Keras is seeded with
    ``train.seed`` first, so the same config makes the same initial weights."""

    def __init__(self, config: config_lib.ExperimentConfig, precision: str):
        self.config = config
        self.precision = precision
        keras.utils.set_random_seed(config.train.seed)
        with precision_lib.keras_policy(precision):
            self.models = build_models(config.model)
            self.ema = build_models(config.model).generator if config.train.ema_decay else None
        self.d_opt = make_optimizer(config.optim, config.optim.lr_d, precision)
        self.g_opt = make_optimizer(config.optim, config.optim.lr_g, precision)
        self.d_opt.build(self.models.discriminator.trainable_variables)
        self.g_opt.build(self.models.generator.trainable_variables)
        if self.ema is not None:
            self.ema.set_weights(self.models.generator.get_weights())
        self.loss_fn = get_loss(config.loss)

    def trackables(self) -> Dict[str, Any]:
        """What a checkpoint holds of the task, by key: the networks, the optimisers' own state
        (not a float16 run's loss scale, which starts afresh on resume: checkpoints are the
        same in every precision) and the EMA generator."""
        tracked = dict(generator=self.models.generator,
                       discriminator=self.models.discriminator,
                       d_optimizer=optimizer_state(self.d_opt),
                       g_optimizer=optimizer_state(self.g_opt))
        if self.ema is not None:
            tracked["ema_generator"] = self.ema
        return tracked

    def set_learning_rates(self) -> None:
        """The config's learning rates (a restore brings the checkpoint's back)."""
        self.d_opt.learning_rate.assign(self.config.optim.lr_d)
        self.g_opt.learning_rate.assign(self.config.optim.lr_g)

    @property
    def export_generator(self) -> keras.Model:
        """The generator a run exports: the EMA copy when there is one."""
        return self.ema if self.ema is not None else self.models.generator

    def _inputs(self, samples, labels):
        return [samples, labels] if self.models.conditional else samples

    def _score(self, samples, labels):
        """D's scores in float32, whatever D computes in (a plugin model under a mixed policy
        may end in a 16-bit layer): the losses are float32."""
        scores = self.models.discriminator(self._inputs(samples, labels), training=True)
        return tf.cast(scores, tf.float32)

    def forward(self, batch) -> Forward:
        """G(z_d), D(x), D(G(z_d)) and L_D's parts: the D update's pass, in both schemes."""
        labels = batch["label"]
        fake = self.models.generator(self._inputs(batch["z_d"], labels), training=True)
        d_real = self._score(batch["real"], labels)
        d_fake = self._score(fake, labels)
        return Forward(fake, d_real, d_fake, self.loss_fn(d_real, d_fake))

    def generator_loss(self, batch, d_real, d_fake=None):
        """L_G on ``d_fake`` (D(G(z_d)) of a pass already made) or, when None, on D(G(z)) of a
        new pass with this scheme's G noise (``train.g_noise``). D(x) enters without
        gradient."""
        if d_fake is None:
            noise = batch["z_d"] if self.config.train.g_noise == "shared" else batch["z_g"]
            fake = self.models.generator(self._inputs(noise, batch["label"]), training=True)
            d_fake = self._score(fake, batch["label"])
        return self.loss_fn(tf.stop_gradient(d_real), d_fake).g_loss

    @staticmethod
    def _metrics(d_pass: Forward, g_loss) -> Dict[str, tf.Tensor]:
        losses = d_pass.losses
        return {"d_loss": losses.d_loss, "d_loss_real": losses.d_loss_real,
                "d_loss_fake": losses.d_loss_fake, "g_loss": g_loss,
                "d_real": tf.reduce_mean(d_pass.d_real), "d_fake": tf.reduce_mean(d_pass.d_fake)}

    def simultaneous_gradients(self, batch, num_replicas: int = 1):
        """(D's gradients, G's gradients, metrics), both taken at the current weights: L_D
        from ``forward``; L_G from its D(G(z_d)) (``shared``: the same pass) or a new pass on
        z_g (``fresh``); each scaled by 1 / ``num_replicas``, as the alternating step."""
        generator, discriminator = self.models.generator, self.models.discriminator
        scale = 1.0 / num_replicas
        with tf.GradientTape(persistent=True) as tape:
            d_pass = self.forward(batch)
            shared = self.config.train.g_noise == "shared"
            g_loss = self.generator_loss(batch, d_pass.d_real, d_pass.d_fake if shared else None)
            d_scaled = self.d_opt.scale_loss(d_pass.losses.d_loss * scale)
            g_scaled = self.g_opt.scale_loss(g_loss * scale)
        d_grads = tape.gradient(d_scaled, discriminator.trainable_variables)
        g_grads = tape.gradient(g_scaled, generator.trainable_variables)
        del tape
        return d_grads, g_grads, self._metrics(d_pass, g_loss)

    def replica_step(self, batch, num_replicas: int) -> Dict[str, tf.Tensor]:
        """One D update and one G update on this replica's rows (``train.update``,
        ``train.g_noise``), losses scaled by 1 / ``num_replicas``; returns ``METRICS``."""
        generator, discriminator = self.models.generator, self.models.discriminator
        if self.config.train.update == "simultaneous":
            d_grads, g_grads, metrics = self.simultaneous_gradients(batch, num_replicas)
            self.d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
            self.g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
            return metrics
        scale = 1.0 / num_replicas
        with tf.GradientTape() as tape:
            d_pass = self.forward(batch)
            scaled = self.d_opt.scale_loss(d_pass.losses.d_loss * scale)
        grads = tape.gradient(scaled, discriminator.trainable_variables)
        self.d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))
        with tf.GradientTape() as tape:
            g_loss = self.generator_loss(batch, d_pass.d_real)
            scaled = self.g_opt.scale_loss(g_loss * scale)
        grads = tape.gradient(scaled, generator.trainable_variables)
        self.g_opt.apply_gradients(zip(grads, generator.trainable_variables))
        return self._metrics(d_pass, g_loss)

    def after_step(self) -> None:
        """After every replica's update: the EMA copy of G moves towards G
        (ema = decay ema + (1 - decay) G, over every weight, BatchNorm statistics too)."""
        if self.ema is None:
            return
        decay = self.config.train.ema_decay
        for average, weight in zip(self.ema.weights, self.models.generator.weights):
            average.assign(decay * average + (1.0 - decay) * weight)

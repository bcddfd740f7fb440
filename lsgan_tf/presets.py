"""Named experiments: the paper's settings (docs/PAPER.md section 2) and the embedded default.

Each holds its evaluation too: the extractor, the sample count and the blessing thresholds
(presets without their own use ``EvalConfig``'s image defaults).

Each preset is a registered function returning an ``ExperimentConfig``; ``get_preset(name)``
looks one up (a miss lists the known presets).
"""
from __future__ import annotations

from lsgan_tf.config import (DataConfig, EvalConfig, ExperimentConfig, LossConfig, ModelConfig,
                             NoiseConfig, OptimConfig, TrainConfig)
from lsgan_tf.registry import PRESETS


def get_preset(name: str) -> ExperimentConfig:
    return PRESETS.get(name)()


@PRESETS.register("digits")
def digits() -> ExperimentConfig:
    """Embedded default: the conditional Phi(y) model scaled to scikit-learn's 10-class digits."""
    return ExperimentConfig(
        name="digits",
        data=DataConfig(source="digits"),
        model=ModelConfig(type="conditional", noise=NoiseConfig("uniform", 64), image_size=28,
                          channels=1, num_classes=10, phi_dim=16, g_width=64, d_width=64,
                          d_dense=256),
        loss=LossConfig(type="ls"),
        optim=OptimConfig(optimizer="adam", lr_d=2e-4, lr_g=2e-4, beta1=0.5),
        # 100 steps per call: about 3 s on 2 CPU cores, so a SIGTERM is answered at once.
        train=TrainConfig(batch_size=64, steps=2000, checkpoint_every=500, log_every=100,
                          sample_every=500, steps_per_loop=100),
        eval=EvalConfig(extractor="classifier", num_samples=1000,
                        thresholds=("fd_noise_ratio<=0.2", "precision>=0.5",
                                    "label_accuracy>=0.6")),
    )


@PRESETS.register("hwdb_3740")
def hwdb_3740() -> ExperimentConfig:
    """The paper's conditional model: 3,740 Chinese characters, 28 x 28 x 1, Phi(y) to 256."""
    return ExperimentConfig(
        name="hwdb_3740",
        data=DataConfig(source="tfrecord"),
        model=ModelConfig(type="conditional", noise=NoiseConfig("uniform", 1024), image_size=28,
                          channels=1, num_classes=3740, phi_dim=256, g_width=128, d_width=320,
                          d_dense=1024),
        loss=LossConfig(type="ls"),
        optim=OptimConfig(optimizer="adam", lr_d=2e-4, lr_g=2e-4, beta1=0.5),
        train=TrainConfig(batch_size=64, steps=100000, checkpoint_every=2000, log_every=200,
                          sample_every=2000),
        eval=EvalConfig(extractor="classifier", num_samples=10000,
                        thresholds=("fd_noise_ratio<=0.3", "precision>=0.3")),
    )


@PRESETS.register("lsun_112")
def lsun_112() -> ExperimentConfig:
    """The paper's scene model: 1024-d U(-1, 1) noise to 112 x 112 x 3, Adam 1e-3, beta1 0.5."""
    return ExperimentConfig(
        name="lsun_112",
        data=DataConfig(source="tfrecord"),
        model=ModelConfig(type="lsun_112", noise=NoiseConfig("uniform", 1024), image_size=112,
                          channels=3, num_classes=0, g_width=256, d_width=64),
        loss=LossConfig(type="ls"),
        optim=OptimConfig(optimizer="adam", lr_d=1e-3, lr_g=1e-3, beta1=0.5),
        train=TrainConfig(batch_size=64, steps=200000, checkpoint_every=2000, log_every=200,
                          sample_every=2000),
        eval=EvalConfig(extractor="rotation", num_samples=10000),
    )


@PRESETS.register("dcgan")
def dcgan() -> ExperimentConfig:
    """DCGAN family for 32/64/128-pixel images (``--set model.image_size=32``), BN switches."""
    return ExperimentConfig(
        name="dcgan",
        data=DataConfig(source="tfrecord"),
        model=ModelConfig(type="dcgan", noise=NoiseConfig("uniform", 100), image_size=64,
                          channels=3, num_classes=0, g_width=64, d_width=64),
        loss=LossConfig(type="ls"),
        optim=OptimConfig(optimizer="adam", lr_d=2e-4, lr_g=2e-4, beta1=0.5),
        train=TrainConfig(batch_size=64, steps=50000, checkpoint_every=2000, log_every=200,
                          sample_every=2000),
        eval=EvalConfig(extractor="auto", num_samples=5000),
    )


@PRESETS.register("mog8")
def mog8() -> ExperimentConfig:
    """The paper's 2-D stability experiment: 8 Gaussians on a ring, MLPs of 128 with tanh."""
    return ExperimentConfig(
        name="mog8",
        data=DataConfig(source="mog8", shuffle_buffer=10000),
        model=ModelConfig(type="mog_mlp", noise=NoiseConfig("normal", 256), image_size=0,
                          channels=0, num_classes=0, hidden=128),
        loss=LossConfig(type="ls"),
        optim=OptimConfig(optimizer="adam", lr_d=1e-4, lr_g=1e-3, beta1=0.5),
        # float32: the ring's std is 0.01, finer than bfloat16's steps near 1 (2^-7).
        train=TrainConfig(batch_size=512, steps=35000, checkpoint_every=5000, log_every=1000,
                          sample_every=5000, precision="float32", steps_per_loop=1000),
        eval=EvalConfig(extractor="identity", num_samples=2500,
                        thresholds=("modes_covered>=6", "high_quality_share>=0.5")),
    )


def _compare_gan_28(name: str) -> ExperimentConfig:
    """compare_gan's LSGAN on a 28 x 28 x 1 IDX data set (Lucic et al. 2018): the InfoGAN-style
    networks (``lsgan_tf.models.infogan``, where the sources are listed), z = 64-d U(-1, 1),
    batch 64, Adam lr 2e-4, beta1 0.5 (``params.LSGANHyperParams``' defaults, the paper's
    setting; TF1 Adam's beta2 0.999, epsilon 1e-8), one D step then one G step on the same z
    (``disc_iters`` 1, ``AbstractGAN.run_single_train_step``), 20 epochs of the 60,000 training
    images: 20 x 60,000 / 64 = 18,750 steps (``generate_tasks_lib.RepeatExp``; its
    hyperparameter search ``TuneParams`` counted an epoch as 50,000 images, 15,625 steps)."""
    return ExperimentConfig(
        name=name,
        data=DataConfig(source="tfrecord"),
        model=ModelConfig(type="infogan", noise=NoiseConfig("uniform", 64), image_size=28,
                          channels=1, num_classes=0, g_width=64, d_width=64, d_dense=1024),
        loss=LossConfig(type="ls"),
        optim=OptimConfig(optimizer="adam", lr_d=2e-4, lr_g=2e-4, beta1=0.5, beta2=0.999,
                          epsilon=1e-8),
        train=TrainConfig(batch_size=64, steps=20 * 60000 // 64, checkpoint_every=1250,
                          log_every=250, sample_every=1250, g_noise="shared",
                          precision="float32", steps_per_loop=50),
        # The evaluator: FID as Lucic et al. (fid_inception, compare_gan protocol, 10,000
        # samples against the 10,000 test images). Training keeps the best checkpoint by a
        # cheap classifier FD on 2,000 samples every 1,250 steps (about 2 s each).
        eval=EvalConfig(extractor="fid_inception", num_samples=10000,
                        thresholds=("fd<=40", "precision>=0.3"), every=1250,
                        select="fd", select_samples=2000, select_extractor="auto"),
    )


@PRESETS.register("mnist")
def mnist() -> ExperimentConfig:
    """compare_gan's LSGAN on MNIST (``lsgan prep --source=idx --input=DIR`` with the official
    files: train = the 60,000 training images, eval = the 10,000 test images)."""
    return _compare_gan_28("mnist")


@PRESETS.register("fashion_mnist")
def fashion_mnist() -> ExperimentConfig:
    """compare_gan's LSGAN on Fashion-MNIST: the same networks, optimiser and 20 epochs as
    ``mnist`` (compare_gan treats the two alike), official splits from ``lsgan prep``."""
    return _compare_gan_28("fashion_mnist")

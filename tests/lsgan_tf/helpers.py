"""Small configs shared by the lsgan_tf tests."""
from lsgan_tf import config as config_lib
from lsgan_tf.presets import get_preset


def tiny_digits(steps=4, **overrides):
    """The digits preset with small widths and batch, for fast training tests."""
    sets = [f"train.steps={steps}", "train.batch_size=8", "train.log_every=2",
            "train.sample_every=1000", "train.checkpoint_every=2", "model.g_width=8",
            "model.d_width=8", "model.d_dense=16", "model.phi_dim=4", "model.noise.dim=8"]
    sets += [f"{k}={v}" for k, v in overrides.items()]
    return config_lib.apply_overrides(get_preset("digits"), sets)

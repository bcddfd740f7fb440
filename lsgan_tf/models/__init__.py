"""Generator / discriminator builders, registered by name in ``lsgan_tf.registry.MODELS``.

A builder takes a ``ModelConfig`` and returns ``GanModels``. Generators take ``z`` (and
``label`` int64 [batch] when conditional) and return samples in the model's output range;
discriminators take a sample (and ``label``) and return raw scores [batch, 1] (no sigmoid).
Each registers with the configurations it supports (``ModelSupport``) and imports Keras only
when it builds.
"""
from lsgan_tf.models.common import GanModels, ModelSupport, build_models  # noqa: F401
from lsgan_tf.models import conditional, dcgan, infogan, mlp, scene  # noqa: F401  (registration)

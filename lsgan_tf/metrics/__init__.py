"""Sample-quality metrics for generators, computed without downloads.

Metrics on feature arrays (numpy/scipy only):
  frechet.frechet_distance_features   Frechet distance of fitted Gaussians (FID-style)
  kid.kernel_inception_distance       KID: unbiased MMD^2, cubic polynomial kernel, in subsets
  prdc.prdc                           precision / recall / density / coverage (k-NN manifolds)
  classifier_score.classifier_score   exp(E KL(p(y|x) || p(y))) for a classifier's outputs
  classifier_score.classes_covered    classes given to at least a fifth of their uniform share
  mog.mode_metrics                    modes covered, high-quality share, mode KL (2-D mixtures)
  diversity.diversity_ratio           the samples' per-pixel spread over the data's (on images)
Feature extractors (registry EXTRACTORS): ``lsgan_tf.metrics.extractors``.
Scoring a generator SavedModel: ``lsgan_tf.metrics.evaluate.evaluate_generator``.
"""
from lsgan_tf.metrics.classifier_score import classes_covered, classifier_score, label_accuracy
from lsgan_tf.metrics.frechet import fit_gaussian, frechet_distance, frechet_distance_features
from lsgan_tf.metrics.kid import kernel_inception_distance, mmd2_unbiased
from lsgan_tf.metrics.mog import mode_metrics
from lsgan_tf.metrics.prdc import prdc

__all__ = [
    "classes_covered", "classifier_score", "label_accuracy", "fit_gaussian", "frechet_distance",
    "frechet_distance_features", "kernel_inception_distance", "mmd2_unbiased",
    "mode_metrics", "prdc",
]

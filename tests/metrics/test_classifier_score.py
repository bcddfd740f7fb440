"""Classifier score exp(E KL(p(y|x) || p(y))) on distributions with known answers."""
import math

import numpy as np
import pytest

from lsgan_tf.metrics.classifier_score import classes_covered, classifier_score, label_accuracy


def test_confident_and_balanced_gives_number_of_classes():
    probs = np.eye(10)[np.arange(200) % 10]
    assert classifier_score(probs) == pytest.approx((10.0, 0.0))


def test_same_distribution_everywhere_gives_one():
    assert classifier_score(np.full((50, 4), 0.25))[0] == pytest.approx(1.0)
    assert classifier_score(np.eye(4)[np.zeros(50, int)])[0] == pytest.approx(1.0)


def test_two_class_example():
    # p(y) = (1/2, 1/2); KL of each row = 0.9 log(0.9 / 0.5) + 0.1 log(0.1 / 0.5)
    probs = np.array([[0.9, 0.1], [0.1, 0.9]])
    expected = math.exp(0.9 * math.log(1.8) + 0.1 * math.log(0.2))
    assert classifier_score(probs)[0] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(1.4449, abs=1e-4)


def test_splits_give_mean_and_std():
    confident = np.eye(5)[np.arange(50) % 5]       # score 5
    collapsed = np.eye(5)[np.zeros(50, int)]        # score 1
    mean, std = classifier_score(np.concatenate([confident, collapsed]), num_splits=2)
    assert (mean, std) == pytest.approx((3.0, 2.0))


def test_label_accuracy_and_bad_input():
    probs = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert label_accuracy(probs, [0, 1, 1]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="probability distribution"):
        classifier_score(np.array([[0.5, 0.6]]))


def test_classes_covered_counts_classes_at_a_fifth_of_their_uniform_share():
    # 4 classes, 100 rows: uniform share 25, a fifth of it 5 rows. Argmax counts 60, 30, 5, 5
    # -> all four reach 5; with 60, 36, 4, 0 only two do.
    def rows(counts):
        labels = np.repeat(np.arange(4), counts)
        return np.eye(4)[labels] * 0.7 + 0.075  # each row sums to 1, argmax = its label
    assert classes_covered(rows([60, 30, 5, 5])) == 4
    assert classes_covered(rows([60, 36, 4, 0])) == 2
    assert classes_covered(rows([100, 0, 0, 0])) == 1
    assert classes_covered(rows([60, 36, 4, 0]), min_share=0.16) == 3  # 4 >= 0.16 / 4 * 100
    with pytest.raises(ValueError, match="need probs"):
        classes_covered(np.zeros((0, 4)))

"""Sanity figures: real eval digits scored against real train digits beat noise, blurred
digits and a collapsed generator that repeats one image, under both trained extractors."""
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from lsgan_tf.metrics.evaluate import score_samples


def cases(train_images, n, seed=0):
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(train_images), 2 * n, replace=False)
    real, other = train_images[pick[:n]], train_images[pick[n:]]
    blurred = np.stack([gaussian_filter(im.astype(np.float64), sigma=(1.5, 1.5, 0))
                        for im in other])
    return {
        "real": real,
        "blur": np.clip(np.round(blurred), 0, 255).astype(np.uint8),
        "noise": rng.integers(0, 256, size=real.shape, dtype=np.uint8),
        "collapsed": np.repeat(other[:1], n, axis=0),
    }


def figures(extractor, digits_train, digits_eval):
    eval_images = digits_eval[0]
    real_features = extractor.features(eval_images)
    table = {name: score_samples(extractor, eval_images, fake, real_features=real_features)
             for name, fake in cases(digits_train[0], len(eval_images)).items()}
    print(f"\n{extractor.name}: eval split ({len(eval_images)}) vs")
    for name, scores in table.items():
        print(f"  {name:<10}" + "  ".join(f"{k} {v:.4g}" for k, v in scores.items()))
    return table


def check_ranking(table):
    real = table["real"]
    assert real["precision"] > 0.9 and real["recall"] > 0.9 and real["coverage"] > 0.9
    # blur is mild damage: the small rotation network separates it least (about 2x real's FD,
    # KID 0.01 against 0.04), so its margins are smaller than those of the severe cases
    for bad, fd_factor, kid_margin in (("blur", 1.5, 0.01), ("noise", 3, 0.05),
                                       ("collapsed", 3, 0.05)):
        assert real["fd"] * fd_factor < table[bad]["fd"], bad
        assert real["kid"] + kid_margin < table[bad]["kid"], bad
        assert real["recall"] > table[bad]["recall"] + 0.1, bad
        assert real["coverage"] > table[bad]["coverage"] + 0.05, bad
    # mild damage scores between real data and the severe cases
    for severe in ("noise", "collapsed"):
        assert table["blur"]["fd"] < table[severe]["fd"]
        assert table["blur"]["kid"] < table[severe]["kid"]
        assert table["blur"]["recall"] > table[severe]["recall"] + 0.3
    assert real["precision"] > table["blur"]["precision"]
    assert real["precision"] > table["noise"]["precision"] + 0.5
    assert real["density"] > 10 * table["noise"]["density"]
    # a collapsed generator that repeats a real image is precise but has no diversity
    assert table["collapsed"]["recall"] < 0.05 and table["collapsed"]["coverage"] < 0.05


def test_classifier_features_rank_real_blur_collapsed_noise(classifier, digits_train,
                                                             digits_eval):
    table = figures(classifier, digits_train, digits_eval)
    check_ranking(table)
    assert table["real"]["precision"] > table["blur"]["precision"] + 0.1
    assert table["real"]["classifier_score"] > 8.0  # ten nearly balanced, confident classes
    assert table["real"]["classifier_score"] > table["blur"]["classifier_score"] + 1.0
    assert table["collapsed"]["classifier_score"] == pytest.approx(1.0, abs=1e-6)
    assert table["noise"]["classifier_score"] < 2.0
    assert table["real"]["classes_covered"] == 10 and table["collapsed"]["classes_covered"] == 1


def test_rotation_features_rank_real_first(rotation, digits_train, digits_eval):
    check_ranking(figures(rotation, digits_train, digits_eval))

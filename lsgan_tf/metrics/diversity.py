"""Pixel diversity, a collapse measure that needs no features: how much the samples differ
from each other, against how much the real images do.

For images x_1..x_N (any shape per image, any numeric type), the per-pixel standard deviation
over the set, averaged over the pixels:

    spread(x) = mean_p sqrt( 1/N sum_i (x_ip - mean_i x_ip)^2 )

and ``diversity_ratio(fake, real) = spread(fake) / spread(real)``: 0 when every sample is the
same image (a generator that collapsed to one output, e.g. a blank page), about 1 when the
samples vary as much as the data; it says nothing of whether they look like the data. Both sets
must be on the same scale (e.g. uint8 both).
"""
from __future__ import annotations

import numpy as np


def pixel_spread(images: np.ndarray) -> float:
    """Mean over pixels of the standard deviation over the images (ddof 0) of images [N, ...]."""
    x = np.asarray(images, dtype=np.float64)
    if x.ndim < 2 or len(x) < 2:
        raise ValueError(f"need at least 2 images [N, ...], got shape {x.shape}")
    return float(x.reshape(len(x), -1).std(axis=0).mean())


def diversity_ratio(fake: np.ndarray, real: np.ndarray) -> float:
    """pixel_spread(fake) / pixel_spread(real) (module doc); ``real`` must vary."""
    real_spread = pixel_spread(real)
    if real_spread == 0:
        raise ValueError("the real images are all the same: no spread to compare with")
    return pixel_spread(fake) / real_spread

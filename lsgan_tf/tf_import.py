"""``tensorflow_without_keras()``: TensorFlow for a process that only loads and calls SavedModels.

TensorFlow 2.16's ``import tensorflow`` ends with ``import keras.src.optimizers`` (to register
Keras' optimizers with the SavedModel loader; an ``ImportError`` there is ignored), which loads
all of Keras 3 and, through it, pandas, matplotlib, scikit-learn and IPython where they are
installed: a third of the import's time (6 of 18 CPU seconds here). A generator SavedModel
(``lsgan_tf.export``) loads and runs without any of it.
"""
from __future__ import annotations

import sys


def tensorflow_without_keras():
    """Imports and returns ``tensorflow``, with Keras hidden while TensorFlow initialises.

    Keras stays importable afterwards (``import keras`` loads it then), but ``tensorflow.keras``
    submodule imports (``from tensorflow.keras import layers``) fail in this process. When
    TensorFlow or Keras is already imported this is a plain ``import tensorflow``."""
    if "tensorflow" in sys.modules or "keras" in sys.modules:
        import tensorflow as tf

        return tf
    sys.modules["keras"] = None  # `import keras` raises ImportError, which TensorFlow ignores
    try:
        import tensorflow as tf
    finally:
        del sys.modules["keras"]
    return tf

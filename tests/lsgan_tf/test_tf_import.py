"""``tensorflow_without_keras``: TensorFlow's own ``import keras`` fails while it initialises;
Keras imports normally afterwards. Stand-in ``tensorflow`` and ``keras`` packages, in a fresh
interpreter, record what TensorFlow's ``__init__`` saw (the real one takes seconds)."""
import os
import subprocess
import sys

import pytest

from lsgan_tf import tf_import

FAKE_TENSORFLOW = """
try:
    import keras  # what TensorFlow 2.16's __init__ does, ignoring an ImportError
    SAW_KERAS = True
except ImportError:
    SAW_KERAS = False
"""
CHECK = """
import sys
{before}
from {module} import tensorflow_without_keras
tf = tensorflow_without_keras()
print(tf.SAW_KERAS, "keras" in sys.modules)
import keras
print(keras.__name__)
"""


@pytest.mark.parametrize("before, saw_keras, keras_loaded", [
    ("", False, False),              # hidden while TensorFlow initialises, not loaded after
    ("import keras", True, True),    # Keras already there: a plain import
])
def test_tensorflow_initialises_without_keras(tmp_path, before, saw_keras, keras_loaded):
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text(FAKE_TENSORFLOW)
    (tmp_path / "keras").mkdir()
    (tmp_path / "keras" / "__init__.py").write_text("")
    project = os.path.dirname(os.path.dirname(tf_import.__file__))
    check = CHECK.format(before=before, module=tf_import.__name__)
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True,
        timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), project])})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(saw_keras), str(keras_loaded), "keras"]

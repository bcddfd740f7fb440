"""Test set-up shared by every test package.

TensorFlow's CPU is split into two logical devices before anything initialises TensorFlow, so
that ``MirroredStrategy`` tests can run over two replicas on a CPU-only machine. ``tests/`` is
on ``sys.path`` so that test helpers (``prepared``, ``helpers``) import by name.
"""
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore", category=FutureWarning)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lsgan_tf.strategy import split_cpu  # noqa: E402

split_cpu(2)

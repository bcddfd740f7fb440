"""Test set-up shared by every test package.

TensorFlow's CPU is split into two logical devices before anything initialises TensorFlow, so
that ``MirroredStrategy`` tests can run over two replicas on a CPU-only machine; under
pytest-xdist (``make test``'s ``-n 2``) that happens in each worker, and the controller, which
runs no test, never loads TensorFlow. ``tests/`` is on ``sys.path`` so that test helpers
(``prepared``, ``helpers``) import by name.
"""
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore", category=FutureWarning)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _import_tensorflow_quietly():
    """TensorFlow's import, its C++ start-up lines ("Unable to register cuDNN factory", printed
    at ERROR level before Python could filter them) sent to /dev/null; a failed import still
    raises, with its Python traceback."""
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def pytest_configure(config):
    xdist_controller = (not hasattr(config, "workerinput")
                        and config.pluginmanager.hasplugin("xdist")
                        and config.getoption("numprocesses", None))
    if not xdist_controller:
        _import_tensorflow_quietly()
        from lsgan_tf.strategy import split_cpu

        split_cpu(2)

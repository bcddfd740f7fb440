"""A plugin is one module plus one decorator per slot: a model and a data source registered
from outside the library (through the ``lsgan_tf.plugins`` entry-point group) are validated
by what they state and train with ``lsgan train``, with no library file edited."""
import os
import subprocess
import sys

PLUGIN = '''
"""A third-party plugin: an 8 x 8 unconditional model and a data set of bright squares."""
import numpy as np

from lsgan_tf.models.common import GanModels, ModelSupport
from lsgan_tf.registry import DATA_SOURCES, MODELS
from lsgan_tf.sources import DataSource, DatasetInfo


@MODELS.register("tiny8", supports=ModelSupport(image_sizes=(8,), channels=(1,)))
def build(config):
    import keras

    z = keras.Input((config.noise.dim,))
    x = keras.layers.Dense(64, activation="tanh")(z)
    generator = keras.Model(z, keras.layers.Reshape((8, 8, 1))(x))
    image = keras.Input((8, 8, 1))
    score = keras.layers.Dense(1)(keras.layers.Flatten()(image))
    return GanModels(generator, keras.Model(image, score), "tanh", conditional=False)


@DATA_SOURCES.register("squares")
class Squares(DataSource):
    info = DatasetInfo(image_size=8, channels=1, labeled=False, class_names=())

    def split(self, split, eval_fraction=0.1):
        images = np.zeros((32, 8, 8, 1), np.uint8)
        for i in range(32):
            images[i, i % 4:i % 4 + 4, i % 5:i % 5 + 3] = 255
        return images, np.full(32, -1, np.int64)
'''


def install_plugin(folder):
    """Writes the module and a dist-info whose entry point names it (what pip would write)."""
    (folder / "squares_plugin.py").write_text(PLUGIN)
    dist = folder / "squares_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: squares-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[lsgan_tf.plugins]\nsquares = squares_plugin\n")


def lsgan(folder, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(folder)] + sys.path))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True,
                          text=True, timeout=600, env=env)


PLUGIN_SETTINGS = ["--preset=dcgan", "--set=model.type=tiny8", "--set=data.source=squares",
                   "--set=model.image_size=8", "--set=model.channels=1", "--set=train.batch_size=4",
                   "--set=model.noise.dim=4"]


def test_plugin_model_and_data_source_train_one_step(tmp_path):
    install_plugin(tmp_path)
    out = tmp_path / "run"
    result = lsgan(tmp_path, "train", f"--out={out}", "--steps=1", *PLUGIN_SETTINGS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "step 1/1" in result.stdout
    assert (out / "saved_model" / "saved_model.pb").exists()
    assert (out / "samples" / "final.png").exists()


def test_plugin_states_what_it_builds(tmp_path):
    install_plugin(tmp_path)
    result = lsgan(tmp_path, "train", f"--out={tmp_path / 'run'}", *PLUGIN_SETTINGS,
                   "--set=model.image_size=16")
    assert result.returncode == 2
    assert result.stderr.strip() == "lsgan train: model.image_size=16: the tiny8 model builds 8"
    result = lsgan(tmp_path, "train", f"--out={tmp_path / 'run'}", *PLUGIN_SETTINGS,
                   "--set=model.channels=3")
    assert result.stderr.startswith("lsgan train: model.channels=3: the tiny8 model builds 1 ")

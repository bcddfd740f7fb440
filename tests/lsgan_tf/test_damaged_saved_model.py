"""A damaged SavedModel, or one that is not an exported generator, given to ``lsgan generate
--model`` or ``lsgan evaluate --model`` (issue 24, class 5): one line naming the damaged part,
exit status 2, no traceback, nothing written; before the fix a missing file was exit 1, and a
truncated or bit-flipped file a TensorFlow traceback (``IndexError: Read less bytes than
requested``, ``OpError: not an sstable``, ``OSError: Cannot parse file``), a SavedModel of
another kind an ``AttributeError``. The commands run in this process (``pipeline.cli.main``).
"""
import os
import random
import shutil

import pytest

from helpers import lsgan_in_process, tiny_sets
from lsgan_tf import config as config_lib
from lsgan_tf import saved_model_check
from lsgan_tf.errors import UsageError
from lsgan_tf.presets import get_preset

DATA = "variables/variables.data-00000-of-00001"
INDEX = "variables/variables.index"
PREFIX = " is not a usable generator SavedModel ("


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny conditional generator exported as ``lsgan train`` exports one."""
    from lsgan_tf.export import export_generator
    from lsgan_tf.models import build_models

    config = config_lib.apply_overrides(get_preset("digits"), tiny_sets("conditional"))
    models = build_models(config.model)
    path = str(tmp_path_factory.mktemp("model") / "saved_model")
    return export_generator(models.generator, config, models.output_activation, path)


@pytest.fixture
def lsgan(capsys):
    """``lsgan SUBCOMMAND ARGS`` in this process -> (exit status, stdout, stderr)."""
    return lsgan_in_process(capsys)


def _truncate(path, share):
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data[:int(len(data) * share)])


def _flip(path, share):
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    data[int(len(data) * share)] ^= 0xFF
    with open(path, "wb") as handle:
        handle.write(bytes(data))


def _write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)


def _other_saved_model(path):
    """A SavedModel that is not a generator: one ``serving_default`` signature."""
    import tensorflow as tf

    class Doubler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def double(self, x):
            return {"y": 2.0 * x}

    module = Doubler()
    shutil.rmtree(path)
    tf.saved_model.save(module, path, signatures={"serving_default": module.double})


def _serving_base(path):
    """TF Serving's layout: the model in the version folder ``1/``."""
    shutil.copytree(path, path + ".v1")
    shutil.rmtree(path)
    os.makedirs(path)
    os.rename(path + ".v1", os.path.join(path, "1"))


# damage name -> (what is done to a copy of the model, the words the line must hold)
DAMAGES = {
    "no saved_model.pb": (lambda p: os.remove(f"{p}/saved_model.pb"), "(no saved_model.pb in it)"),
    "empty saved_model.pb": (lambda p: _truncate(f"{p}/saved_model.pb", 0),
                             "(saved_model.pb is empty)"),
    "truncated saved_model.pb": (lambda p: _truncate(f"{p}/saved_model.pb", 0.5),
                                 "(saved_model.pb is damaged: DecodeError"),
    "garbage saved_model.pb": (lambda p: _write(f"{p}/saved_model.pb", b"not a protobuf" * 9),
                               "(saved_model.pb is damaged: DecodeError"),
    "a saved_model.pb without a graph": (lambda p: _write(f"{p}/saved_model.pb", b"\x08\x01"),
                                         "(saved_model.pb holds 0 MetaGraphs"),
    "saved_model.pb is a folder": (lambda p: (os.remove(f"{p}/saved_model.pb"),
                                              os.mkdir(f"{p}/saved_model.pb")),
                                   "(saved_model.pb is a folder, not a file)"),
    "no variables/": (lambda p: shutil.rmtree(f"{p}/variables"), "(no variables/ folder in it)"),
    "no variables.index": (lambda p: os.remove(f"{p}/{INDEX}"), f"({INDEX} is missing)"),
    "truncated variables.index": (lambda p: _truncate(f"{p}/{INDEX}", 0.5),
                                  f"({INDEX} is damaged: "),
    "no variables data": (lambda p: os.remove(f"{p}/{DATA}"), "(variables/variables.data-* is "
                                                              "missing)"),
    "a missing data shard": (lambda p: os.rename(f"{p}/{DATA}",
                                                 f"{p}/variables/variables.data-00001-of-00002"),
                             "(variables/variables.data-00000-of-00002 is missing)"),
    "empty variables data": (lambda p: _truncate(f"{p}/{DATA}", 0), f"({DATA} is empty)"),
    "truncated variables data": (lambda p: _truncate(f"{p}/{DATA}", 0.5),
                                 "(variables/ is damaged: IndexError: Read less bytes"),
    "bit-flipped variables data": (lambda p: _flip(f"{p}/{DATA}", 0.5),
                                   "Checksum does not match"),
    "an empty folder": (lambda p: (shutil.rmtree(p), os.mkdir(p)), "(no saved_model.pb in it)"),
    "a file": (lambda p: (shutil.rmtree(p), _write(p, b"x")), "(a file, not a SavedModel folder)"),
    "nothing": (shutil.rmtree, "(no such folder)"),
    "another SavedModel": (_other_saved_model, "(not a generator exported by lsgan: no "
                                               "'generate' signature; its signatures: "
                                               "serving_default)"),
    "a TF Serving base folder": (_serving_base, "(no saved_model.pb in it, but the versions 1 "
                                                "below it; pass --model="),
}


def damaged_copy(model, tmp_path, damage=None):
    """A copy of ``model`` in ``tmp_path``, damaged as ``DAMAGES[damage]`` says."""
    path = str(tmp_path / "model")
    shutil.copytree(model, path)
    if damage:
        DAMAGES[damage][0](path)
    return path


def assert_one_line(result, name, path, words):
    status, out, err = result
    assert status == 2, err[-3000:]
    assert "Traceback" not in err and "Traceback" not in out
    (line,) = err.strip().splitlines()
    assert line.startswith(f"lsgan {name}: --model={path}{PREFIX}"), line
    assert words in line, line


@pytest.mark.parametrize("damage", sorted(DAMAGES))
@pytest.mark.parametrize("name", ["generate", "evaluate"])
def test_a_damaged_model_is_one_line_and_exit_2(lsgan, model, tmp_path, name, damage):
    path = damaged_copy(model, tmp_path, damage)
    out = tmp_path / "out"
    args = [f"--out={out}"] if name == "evaluate" else [f"--out={out}.png"]
    if name == "evaluate":
        args.append("--data=digits")
    assert_one_line(lsgan(name, f"--model={path}", *args), name, path, DAMAGES[damage][1])
    assert not os.path.exists(out) and not os.path.exists(f"{out}.png")


@pytest.mark.parametrize("seed", range(12))
def test_random_damage_to_saved_model_pb_is_one_line_or_harmless(lsgan, model, tmp_path, seed):
    """A few bytes of saved_model.pb overwritten at random: whatever part they hit, the model
    generates (a byte of a name nothing reads) or the command ends with one line, exit 2."""
    path = damaged_copy(model, tmp_path)
    rng = random.Random(seed)
    with open(f"{path}/saved_model.pb", "rb") as handle:
        data = bytearray(handle.read())
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    _write(f"{path}/saved_model.pb", bytes(data))
    result = lsgan("generate", f"--model={path}", "--n=4", f"--out={tmp_path / 'g.png'}")
    if result[0] == 0:
        assert os.path.getsize(tmp_path / "g.png") > 0
    else:
        assert_one_line(result, "generate", path, "")


def test_an_intact_model_still_generates(lsgan, model, tmp_path):
    status, out, err = lsgan("generate", f"--model={model}", "--n=4", "--label=1",
                             f"--out={tmp_path / 'grid.png'}")
    assert status == 0, err[-3000:]
    assert os.path.getsize(tmp_path / "grid.png") > 0
    client = saved_model_check.load_generator(model)
    assert (client.z_dim, client.num_classes, client.output_kind) == (8, 3, "images")


def test_load_generator_raises_usage_error(model, tmp_path):
    path = damaged_copy(model, tmp_path, "truncated variables data")
    with pytest.raises(UsageError, match=r"^--model=.* is not a usable generator SavedModel "
                                         r"\(variables/ is damaged: IndexError"):
        saved_model_check.load_generator(path)

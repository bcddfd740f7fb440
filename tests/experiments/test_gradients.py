"""experiments.gradients: sigmoid cross-entropy saturates beyond the data, least squares does not."""
import json

from experiments import gradients


def test_gradients_small(tmp_path):
    result = gradients.main(["--d_steps", "300", "--figure", str(tmp_path / "g.png"),
                             "--json", str(tmp_path / "g.json")])
    probes = result["losses"]
    far = "8"
    ns = probes["ns/ns"]["probes"][far]["grad_norm"]
    ls = probes["ls/ls"]["probes"][far]["grad_norm"]
    assert ns < 1e-3 * ls
    assert (tmp_path / "g.png").exists()
    assert json.loads((tmp_path / "g.json").read_text())["losses"].keys() == probes.keys()

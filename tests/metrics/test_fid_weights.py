"""Missing or wrong FID Inception weights are one line saying how to get them."""
import pytest


def test_missing_fid_weights_are_one_line_naming_the_way_to_get_them(tmp_path, monkeypatch):
    from lsgan_tf.config import EvalConfig
    from lsgan_tf.metrics import fid_weights

    monkeypatch.setenv(fid_weights.PATH_ENV, str(tmp_path / "absent.pt"))
    fid_weights.check_config(EvalConfig(extractor="classifier"))  # not needed: no error
    with pytest.raises(fid_weights.WeightsError, match="make fid-weights") as error:
        fid_weights.check_config(EvalConfig(extractor="fid_inception"))
    assert "\n" not in str(error.value) and "absent.pt" in str(error.value)
    (tmp_path / "absent.pt").write_bytes(b"not the weights")
    with pytest.raises(fid_weights.WeightsError, match="is not the FID Inception weights"):
        fid_weights.locate()

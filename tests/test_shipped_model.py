"""The integer model shipped with the package: valid, small, documented, and what ``ecg-alq
predict`` uses when no model is given."""

from __future__ import annotations

import numpy as np

from ecg_alq.intmodel import load, memory
from ecg_alq.intmodel.golden import GoldenModel


def test_shipped_model_is_valid_small_and_documented(frags):
    from ecg_alq.classes import CLASS_NAMES
    from ecg_alq.intmodel.shipped import default_model_path

    model = load(default_model_path())
    assert model.class_names == list(CLASS_NAMES)
    assert memory.count(model).kib <= 13.54
    prov = model.provenance
    assert prov["training"]["protocol"] == "all" and prov["training"]["val_fraction"] == 0.0
    cv = prov["cross_validation"]["window"]
    assert 0.9 < cv["accuracy_mean"] < 1.0 and "protocol" in cv
    assert "record" in prov["cross_validation"]


def test_predict_without_a_model_uses_the_shipped_one(frags, tmp_path, capsys):
    from ecg_alq.cli import main
    from ecg_alq.intmodel.shipped import default_model_path

    x = frags.x[::50]
    np.save(tmp_path / "x.npy", x)
    assert main(["predict", "--input", str(tmp_path / "x.npy"), "--output",
                 str(tmp_path / "y.csv")]) == 0
    assert "default.npz" in capsys.readouterr().out
    rows = (tmp_path / "y.csv").read_text().splitlines()
    ids = [int(r.split(",")[1]) for r in rows[1:]]
    assert ids == GoldenModel(default_model_path()).classify(x).tolist()
    # it was trained on every fragment: it should know them (a smoke check, not an accuracy)
    assert np.mean(np.array(ids) == frags.label[::50] + 1) > 0.9

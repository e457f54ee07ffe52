"""The data pipeline on the real data: fragments, record reading, data root and bad input."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import scipy.io

from ecg_alq.classes import CLASSES
from ecg_alq.data.fragments import check_counts, load_fragments
from ecg_alq.data.mitdb import leads_of, list_records, read_record
from ecg_alq.data.root import ENV_VAR, resolve_data_root
from ecg_alq.data.verify import verify
from ecg_alq.errors import EcgAlqError

DUPLICATE_PAIRS = [  # from the data README: byte-identical files and same window in two leads
    ("01_NSR/115m_3", "01_NSR/115m_4"), ("01_NSR/115m_7", "01_NSR/115m_10"),
    ("01_NSR/228m_1", "01_NSR/228m_5"), ("01_NSR/228m_4", "01_NSR/228m_8"),
    ("02_APB/209m_18", "02_APB/209m_21"), ("02_APB/209m_28", "02_APB/209m_29"),
    ("07_PVC/233m_13", "07_PVC/233m_14"), ("14_LBBBB/109m_35", "14_LBBBB/109m_37"),
    ("15_RBBBB/118m_3", "15_RBBBB/118m_5"), ("14_LBBBB/109m_47", "14_LBBBB/109m_49"),
    ("14_LBBBB/109m_51", "14_LBBBB/109m_50"),
]


def test_all_fragments_load_with_published_counts(frags):
    assert frags.x.shape == (1000, 3600) and frags.x.dtype == np.int16
    assert check_counts(frags) == []
    assert [int((frags.class_id == c.id).sum()) for c in CLASSES] == [c.count for c in CLASSES]
    assert sorted(frags.file[frags.lead == "V1"]) == [
        "14_LBBBB/109m_49.mat", "14_LBBBB/109m_50.mat", "15_RBBBB/118m_9.mat"]
    assert len(set(frags.record.tolist())) == 45


def test_duplicates_are_grouped(frags):
    index = {f.removesuffix(".mat"): i for i, f in enumerate(frags.file)}
    for a, b in DUPLICATE_PAIRS:
        assert frags.window[index[a]] == frags.window[index[b]], (a, b)
    assert len(np.unique(frags.window)) == 989
    sizes = np.bincount(frags.window)
    assert sorted(sizes[sizes > 1].tolist()) == [2] * 11
    # byte-identical files are exactly the same-lead pairs
    for a, b in DUPLICATE_PAIRS[:9]:
        assert np.array_equal(frags.x[index[a]], frags.x[index[b]])


def test_every_fragment_is_its_record_slice(frags, data_root):
    """Fragments and records agree sample for sample: the record reader picks leads by name."""
    cache = {}
    for i in range(len(frags)):
        key = (str(frags.record[i]), str(frags.lead[i]))
        if key not in cache:
            cache[key] = read_record(*key[:1], root=data_root, lead=key[1]).signal
        s = frags.start_sample[i]
        assert np.array_equal(cache[key][s : s + 3600], frags.x[i]), frags.file[i]


def test_record_reader_chooses_mlii_by_name(data_root):
    assert leads_of("114", data_root) == ["V5", "MLII"]
    rec = read_record("114", data_root)
    assert rec.lead == "MLII" and rec.signal.shape == (650000,) and rec.signal.dtype == np.int16
    assert rec.rhythm[0] == "(N" and len(rec.beat_sample) == len(rec.beat_symbol) > 1000
    assert rec.rhythm_at(int(rec.rhythm_sample[0])) == "(N" and rec.rhythm_at(0) == "none"
    assert len(list_records(data_root)) == 48


@pytest.mark.parametrize("name", ["102", "104"])
def test_records_without_mlii_give_a_clear_error(data_root, name):
    with pytest.raises(EcgAlqError, match=f"record {name} has no MLII lead"):
        read_record(name, data_root)


def _mini_root(tmp_path, data_root, records=("100",), fragment_rows=3):
    """A small copy of the data layout to corrupt on purpose."""
    (tmp_path / "mitdb").mkdir()
    for r in records:
        for ext in ("hea", "dat", "atr"):
            shutil.copy(data_root / "mitdb" / f"{r}.{ext}", tmp_path / "mitdb")
    (tmp_path / "plawiak17" / "01_NSR").mkdir(parents=True)
    lines = (data_root / "plawiak17" / "fragments.csv").read_text().splitlines()
    (tmp_path / "plawiak17" / "fragments.csv").write_text("\n".join(lines[: fragment_rows + 1]))
    for line in lines[1 : fragment_rows + 1]:
        f = line.split(",")[2]
        shutil.copy(data_root / "plawiak17" / f, tmp_path / "plawiak17" / f)
    return _seal(tmp_path)


def _seal(root):
    """Write the folder's SHA256SUMS for its files as they are now: the checks below are the
    ones that follow a passing checksum (tests/test_data_integrity.py has the checksums')."""
    from ecg_alq.data.integrity import sha256

    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    (root / "SHA256SUMS").write_text("".join(f"{sha256(p)}  {p.relative_to(root).as_posix()}\n"
                                            for p in files))
    return root


def test_wrong_sample_rate_is_rejected(tmp_path, data_root):
    root = _mini_root(tmp_path, data_root)
    hea = root / "mitdb" / "100.hea"
    hea.write_bytes(hea.read_bytes().replace(b"100 2 360 650000", b"100 2 250 650000"))
    _seal(root)
    with pytest.raises(EcgAlqError, match="sample rate 250 Hz, expected 360 Hz"):
        read_record("100", root)


def test_missing_record_files_are_named(tmp_path, data_root):
    root = _mini_root(tmp_path, data_root)
    (root / "mitdb" / "100.atr").unlink()
    with pytest.raises(EcgAlqError, match=r"atr file of MIT-BIH record 100 is missing"):
        read_record("100", root)
    with pytest.raises(EcgAlqError, match="header of MIT-BIH record 101 is missing"):
        read_record("101", root)


def test_corrupt_fragment_files_are_named(tmp_path, data_root):
    root = _mini_root(tmp_path, data_root)
    first = root / "plawiak17" / "01_NSR" / "100m_0.mat"
    first.write_bytes(first.read_bytes()[:100])
    _seal(root)
    with pytest.raises(EcgAlqError, match="100m_0.mat cannot be read"):
        load_fragments(root)
    scipy.io.savemat(first, {"val": np.zeros((1, 1000), np.int16)}, format="4")
    _seal(root)
    with pytest.raises(EcgAlqError, match=r"shape \(1, 1000\), expected \(1, 3600\)"):
        load_fragments(root)
    scipy.io.savemat(first, {"val": np.full((1, 3600), 4000, np.int16)}, format="4")
    _seal(root)
    with pytest.raises(EcgAlqError, match="outside the 11-bit ADC range"):
        load_fragments(root)
    first.unlink()
    with pytest.raises(EcgAlqError, match="fragment file is missing"):
        load_fragments(root)


def test_fragment_counts_are_checked(tmp_path, data_root):
    frags = load_fragments(_mini_root(tmp_path, data_root))
    problems = check_counts(frags)
    assert "3 fragments, expected 1000" in problems


def test_data_root_resolution(tmp_path, monkeypatch, data_root):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_data_root() == data_root.resolve()  # the default ../shared/data
    assert resolve_data_root(data_root) == data_root.resolve()
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(EcgAlqError) as err:
        resolve_data_root()
    assert "$ECG_ALQ_DATA" in str(err.value) and "nowhere" in str(err.value)
    assert "plawiak17/fragments.csv" in str(err.value)  # it states the expected layout
    # an explicit option wins over the environment
    assert resolve_data_root(data_root) == data_root.resolve()
    with pytest.raises(EcgAlqError, match="--data option"):
        resolve_data_root(tmp_path)


def test_verify_passes_on_the_real_data_and_catches_changes(tmp_path, data_root):
    report, problems = verify(data_root)
    assert problems == [], problems
    listed = sum(1 for line in (data_root / "SHA256SUMS").read_text().splitlines() if line.strip())
    assert any(f"SHA256SUMS: {listed}/{listed} files match" in line for line in report)
    root = _mini_root(tmp_path, data_root)
    shutil.copy(data_root / "SHA256SUMS", root)
    (root / "mitdb" / "SHA256SUMS.txt").write_text("")
    (root / "mitdb" / "RECORDS").write_text("100\n")
    _, problems = verify(root)
    assert any(p.startswith("missing:") for p in problems)
    assert "1 MIT-BIH records, expected 48" in problems


def test_verify_command(capsys, tmp_path):
    from ecg_alq.cli import main

    assert main(["data", "verify"]) == 0
    assert "data OK" in capsys.readouterr().out
    assert main(["data", "verify", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "ECG data not found" in err and "Traceback" not in err

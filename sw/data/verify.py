"""``ecg-alq data verify``: checksums and expected counts of the data folder."""

from __future__ import annotations

from pathlib import Path

from ecg_alq.data.fragments import check_counts, load_fragments
from ecg_alq.data.integrity import sha256
from ecg_alq.data.mitdb import list_records
from ecg_alq.data.root import require, resolve_data_root

EXPECTED_RECORDS = 48
#: the checksum lists (relative to the data root) every data file is verified against
CHECKSUM_LISTS = ("SHA256SUMS", "mitdb/SHA256SUMS.txt")


def check_sums(sums_file: Path) -> tuple[int, list[str]]:
    """Check every ``<sha256>  <path>`` line of a SHA256SUMS file; returns (n checked, problems)."""
    problems, n = [], 0
    for line in sums_file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, _, rel = line.strip().partition(" ")
        rel = rel.lstrip(" *")
        path = sums_file.parent / rel
        n += 1
        if not path.is_file():
            problems.append(f"missing: {path}")
        elif sha256(path) != digest:
            problems.append(f"checksum mismatch: {path}")
    return n, problems


def verify(root: str | Path | None = None) -> tuple[list[str], list[str]]:
    """Return (report lines, problems); the data is good when problems is empty."""
    base = resolve_data_root(root)
    report, problems = [f"data root: {base}"], []
    for sums in CHECKSUM_LISTS:
        n, bad = check_sums(require(base, sums, "checksum list"))
        report.append(f"{sums}: {n - len(bad)}/{n} files match")
        problems += [b for b in bad if b not in problems]  # both lists name the records
    records = list_records(base)
    report.append(f"MIT-BIH records listed: {len(records)} (expected {EXPECTED_RECORDS})")
    if len(records) != EXPECTED_RECORDS:
        problems.append(f"{len(records)} MIT-BIH records, expected {EXPECTED_RECORDS}")
    if not problems:  # a corrupt fragment would only repeat what the checksums said
        frags = load_fragments(base)
        bad = check_counts(frags)
        report.append(f"fragments: {len(frags)} files, {len(set(frags.window.tolist()))} distinct "
                      f"windows, class counts {'as published' if not bad else 'WRONG'}")
        problems += bad
    return report, problems

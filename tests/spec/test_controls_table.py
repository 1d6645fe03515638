"""The README's supported-controls table is generated from the catalog and says what the catalog says."""

from __future__ import annotations

from cis_monitoring.core.catalog import CIS_4_5, CONTROLS
from cis_monitoring.core.catalog.benchmarks import BENCHMARKS
from cis_monitoring.spec.controls_table import EN_DASH, controls_reference, version_ids


def test_the_ids_of_4_5_fold_into_the_three_numberings() -> None:
    assert version_ids(CIS_4_5) == f"3.5 (v1.2) · 4.5 (v1.4{EN_DASH}v5.0) · 5.5 (v6.0{EN_DASH}v7.0)"


def test_each_version_of_each_control_is_in_its_row() -> None:
    table = controls_reference()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(CONTROLS)
    for control in CONTROLS.values():
        (row,) = [r for r in rows if r.startswith(f"| `{control.control_id}`")]
        assert control.title in row and (control.security_hub_id or EN_DASH) in row
        for benchmark in BENCHMARKS:
            requirement = control.requirement(benchmark.key)
            if requirement is not None:
                assert f"{requirement.id} (" in row, (control.control_id, benchmark.key)
    assert sum("(default)" in row for row in rows) == sum(c.default for c in CONTROLS.values())


def test_extra_columns_come_before_sigma() -> None:
    table = controls_reference([("real-time", lambda c: "rt-" + c.control_id)])
    header = next(line for line in table.splitlines() if line.startswith("| catalog"))
    assert header.rstrip(" |").endswith("real-time | Sigma")
    assert "rt-4.5" in table

"""Run examples/loyalty.py and check its report."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "loyalty.py"
N_CUSTOMERS = 4_000


@pytest.fixture(scope="module")
def report() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    return out.getvalue()


def section(report: str, heading: str) -> dict[str, int]:
    """The label -> count lines that follow a heading."""
    lines = report.split(heading, 1)[1].splitlines()[1:]
    found: dict[str, int] = {}
    for line in lines:
        m = re.fullmatch(r"  (\w+)\s+(\d+)\s+[\d.]+%", line)
        if m is None:
            break
        found[m.group(1)] = int(m.group(2))
    return found


def test_report_has_every_section(report: str) -> None:
    for heading in (
        "RFM quintile cut points",
        "RF segments",
        "RFM cube",
        "Loyalty classes",
        "Visit levels",
        "Loyalty ladder",
        "Status with a 180-day churn window",
        "Kotler's level",
        "Health score",
    ):
        assert heading in report
    assert "RF_GRID partitions the 25 cells: True" in report


def test_every_customer_is_counted_once_per_classification(report: str) -> None:
    for heading in (
        "RF segments",
        "RFM cube",
        "Loyalty classes",
        "Visit levels",
        "Loyalty ladder",
        "Status with a 180-day churn window",
    ):
        assert sum(section(report, heading).values()) == N_CUSTOMERS, heading
    # the simulated customers all bought at least once
    assert section(report, "Loyalty classes")["potential"] == 0
    assert sum(section(report, "Health score").values()) == N_CUSTOMERS


def test_rank_method_gives_equal_bins_and_quantile_warns_about_ties(report: str) -> None:
    sizes = re.search(r"per frequency score 1-5: ([\d ]+)", report).group(1).split()
    assert [int(s) for s in sizes] == [N_CUSTOMERS // 5] * 5
    # about half the simulated customers buy once: the frequency quintiles collapse
    assert "note: n_purchases scores collapse" in report


def test_kotler_level_for_the_base(report: str) -> None:
    # 4,000 customers (medium: 101..10,000) at a 22% margin (medium: 10%..30%): accountable
    assert "at a 22% margin: accountable" in report

"""Run examples/satisfaction.py and check its report."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "satisfaction.py"


@pytest.fixture(scope="module")
def report() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    return out.getvalue()


def test_report_has_every_section(report):
    for heading in ("Net Promoter Score", "CSAT and Customer Effort Score", "Service"):
        assert heading in report
    assert "equals the whole year: True" in report


def test_report_figures_are_in_range(report):
    score = float(re.search(r"NPS\s+(-?[\d.]+)\s+\(SE", report).group(1))
    assert -100 <= score <= 100
    for low, high in re.findall(r"\[\s*(-?[\d.]+),\s*(-?[\d.]+)\]", report):
        assert float(low) <= float(high)
    # The simulated CES answers have mean 1 + 6·4/5.5 = 5.36; the estimate's
    # interval should be near it.
    mean = float(re.search(r"CES mean ([\d.]+)", report).group(1))
    assert abs(mean - 5.36) < 0.3
    fcr = float(re.search(r"first-contact resolution ([\d.]+)%", report).group(1))
    # SupportOptions: resolution probability 0.7 per contact.
    assert abs(fcr - 70) < 6

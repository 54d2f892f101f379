"""Run examples/value.py and check its report."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "value.py"


@pytest.fixture(scope="module")
def report() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    return out.getvalue()


def test_report_has_every_section(report):
    for heading in (
        "Realised value",
        "ABC classes",
        "Customer pyramid",
        "Spend tiers",
        "Value matrix",
        "Buyer types",
        "Lifetime value by the margin multiple",
        "Change over time",
        "revenue tree",
        "Products bought by the same customers",
        "Campaign 'spring'",
    ):
        assert heading in report


def test_report_figures(report):
    # ABC classes close at the cutoffs: A holds at most 80%, A and B at most 95%.
    shares = [float(x) for x in re.findall(r"^\s+[ABC]:.* hold\s+([\d.]+)%", report, flags=re.M)]
    assert len(shares) == 3
    assert shares[0] <= 80.0
    assert shares[0] + shares[1] <= 95.0 + 1e-9
    # Curry's pyramid of 3,000 distinct revenues: 1%, 4%, 15%, 80% of the customers.
    counts = [
        int(x)
        for x in re.findall(r"^\s+(?:top|big|medium|small)\s+(\d+) customers", report, flags=re.M)
    ]
    assert counts == [30, 120, 450, 2400]
    # The margin multiple at 80% retention and 10%: 266.7 and 366.7 paid up front.
    assert re.search(r"80%\s+266\.7\s+[\d.]+\s+366\.7", report)
    # The simulated campaign adds purchases: the uplift interval lies above 0.
    low = re.search(r"Newcombe interval \[([+-][\d.]+),", report)
    assert low is not None
    assert float(low.group(1)) > 0

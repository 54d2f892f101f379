"""Run examples/tour.py in a fresh interpreter and check its report against the raw log.

The figures the tour prints come from crmcore's functions; here they are
recomputed from the simulated interaction log with plain numpy (counts,
sorts, bincounts), so a wrong figure in the report, or in the function behind
it, fails the test.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from crmcore import InteractionKind
from crmcore.simulate import SimulatedCustomerBase
from crmcore.table import KIND_CODES
from tests.support import load_script

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tour.py"
HEADINGS = (
    "Interaction table",
    "Per-customer summary",
    "RFM scores (quintiles) and segments",
    "Loyalty classes",
    "Value: ABC classes",
    "Cohort retention",
    "Satisfaction",
    "Forecast: BG/NBD",
)
HAS_SCIPY = importlib.util.find_spec("scipy") is not None


@pytest.fixture(scope="module")
def run() -> subprocess.CompletedProcess[str]:
    # -W error: the script must not warn, as under pytest's filterwarnings=error.
    return subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def report(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def tour() -> ModuleType:
    return load_script(EXAMPLE, "crmcore_example_tour")


@pytest.fixture(scope="module")
def base(tour: ModuleType) -> SimulatedCustomerBase:
    built: SimulatedCustomerBase = tour.build_base()
    return built


def block(report: str, heading: str) -> list[str]:
    """The lines of the section that starts with ``heading`` (after its underline)."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    assert set(lines[start + 1]) == {"-"}
    body = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        body.append(line)
    return body


def number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found is not None, pattern
    return float(found.group(1).replace(",", ""))


def label_counts(lines: list[str]) -> dict[str, int]:
    """``  label   count   share%`` lines."""
    out = {}
    for line in lines:
        m = re.fullmatch(r"  (\w+)\s+(\d+)\s+[\d.]+%", line)
        if m is not None:
            out[m.group(1)] = int(m.group(2))
    return out


def per_customer_spend(base: SimulatedCustomerBase) -> Any:
    table = base.table
    purchase = table.kinds == KIND_CODES[InteractionKind.PURCHASE]
    return np.bincount(
        table.customer_codes[purchase],
        weights=table.amounts[purchase],
        minlength=table.n_customers,
    )


def test_runs_without_error_or_warning(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""


def test_every_section_is_there(report: str) -> None:
    for heading in HEADINGS:
        assert block(report, heading), heading
    assert 50 <= len(report.splitlines()) <= 120


def test_table_counts_match_the_log(report: str, base: SimulatedCustomerBase) -> None:
    table = base.table
    lines = "\n".join(block(report, "Interaction table"))
    assert number(r"(\d+) rows for", lines) == len(table.kinds)
    customers = np.unique(table.customer_ids[table.customer_codes]).size
    assert number(r"rows for (\d+) customers", lines) == customers
    n_purchases = np.count_nonzero(table.kinds == KIND_CODES[InteractionKind.PURCHASE])
    assert number(r"purchase rows\s+(\d+)", lines) == n_purchases


def test_repeat_buyers_count_purchase_days(report: str, base: SimulatedCustomerBase) -> None:
    table = base.table
    purchase = table.kinds == KIND_CODES[InteractionKind.PURCHASE]
    days = table.times[purchase].astype("datetime64[D]").astype(np.int64)
    pairs = np.unique(np.column_stack([table.customer_codes[purchase], days]), axis=0)
    n_days = np.bincount(pairs[:, 0], minlength=table.n_customers)
    expected = 100 * np.count_nonzero(n_days >= 2) / np.count_nonzero(n_days >= 1)
    lines = "\n".join(block(report, "Per-customer summary"))
    assert abs(number(r"repeat buyers\s+([\d.]+)%", lines) - expected) <= 0.051


def test_every_customer_is_classified_once(report: str, base: SimulatedCustomerBase) -> None:
    n = base.table.n_customers
    segments = label_counts(block(report, "RFM scores"))
    assert len(segments) >= 5
    assert sum(segments.values()) == n
    classes = label_counts(block(report, "Loyalty classes"))
    assert set(classes) == {"potential", "new", "old", "loyal"}
    assert sum(classes.values()) == n
    # every simulated customer made a first purchase
    assert classes["potential"] == 0
    abc = [
        int(x) for x in re.findall(r"[ABC]:\s+(\d+) customers", "\n".join(block(report, "Value")))
    ]
    assert len(abc) == 3
    assert sum(abc) == n


def test_concentration_of_spend(report: str, base: SimulatedCustomerBase) -> None:
    spend = np.sort(per_customer_spend(base))  # ascending
    n = spend.size
    assert (n * 20) % 100 == 0  # the top 20% is a whole number of customers
    top20 = 100 * spend[-n // 5 :].sum() / spend.sum()
    ranks = np.arange(1, n + 1)
    gini = float(((2 * ranks - n - 1) * spend).sum() / (n * spend.sum()))
    lines = "\n".join(block(report, "Value"))
    assert abs(number(r"top 20% of customers hold ([\d.]+)%", lines) - top20) <= 0.051
    assert abs(number(r"Gini coefficient of spend: ([\d.]+)", lines) - gini) <= 0.00051


def test_cohort_sizes_are_the_acquisition_months(report: str, base: SimulatedCustomerBase) -> None:
    months, sizes = np.unique(base.first_purchase.astype("datetime64[M]"), return_counts=True)
    printed = {}
    for line in block(report, "Cohort retention")[1:-1]:
        label, size, first, *_ = line.split()
        printed[label] = int(size)
        assert first == "100%"  # everyone buys in the month of acquisition
    assert printed == {str(m): int(s) for m, s in zip(months, sizes, strict=True)}


def test_nps_and_csat_from_the_raw_answers(report: str, base: SimulatedCustomerBase) -> None:
    table = base.table
    assert table.survey_scores is not None
    assert table.survey_scale_max is not None
    survey = table.kinds == KIND_CODES[InteractionKind.SURVEY]
    answers = table.survey_scores[survey & (table.survey_scale_max == 10)]
    expected = 100 * (np.count_nonzero(answers >= 9) - np.count_nonzero(answers <= 6))
    expected /= answers.size
    lines = "\n".join(block(report, "Satisfaction"))
    score = number(r"NPS\s+(-?[\d.]+) points", lines)
    assert abs(score - expected) <= 0.051
    assert number(r"NPS .*, (\d+) answers", lines) == answers.size
    low = number(r"NPS .*\[(-?[\d.]+), ", lines)
    high = number(r"NPS .*, (-?[\d.]+)\]", lines)
    assert low < score < high
    # CSAT: the share of 4s and 5s among the 1-5 answers
    answers = table.survey_scores[survey & (table.survey_scale_max == 5)]
    expected = 100 * np.count_nonzero(answers >= 4) / answers.size
    assert abs(number(r"CSAT\s+([\d.]+) points", lines) - expected) <= 0.051
    assert number(r"CSAT .*, (\d+) answers", lines) == answers.size


@pytest.mark.skipif(not HAS_SCIPY, reason="the forecast section needs scipy")
def test_forecast_tracks_the_simulated_truth(report: str, base: SimulatedCustomerBase) -> None:
    lines = block(report, "Forecast: BG/NBD")
    text = "\n".join(lines)
    assert "skipped" not in text
    truth = base.histories.alive.mean()
    assert abs(number(r"truly alive in the simulation ([\d.]+)", text) - truth) <= 0.00051
    assert abs(number(r"mean P\(alive\) ([\d.]+)", text) - truth) < 0.05
    # each fitted parameter lies within 3 standard errors of the one simulated
    names = ("r", "alpha", "a", "b", "p", "q", "v")
    truths = (*base.purchase_params, *base.spend_params)
    rows = {}
    for line in lines:
        m = re.fullmatch(r"  (\w+)\s+([\d.]+) \(\s*([\d.]+)\)\s+([\d.]+)", line)
        if m is not None:
            rows[m.group(1)] = [float(g) for g in m.groups()[1:]]
    assert list(rows) == list(names)
    for name, true_value in zip(names, truths, strict=True):
        value, se, printed_truth = rows[name]
        assert abs(value - true_value) < 3 * se, name
        assert printed_truth == pytest.approx(true_value, abs=5e-4)
    assert number(r"total ([\d,]+), mean", text) > 0

"""The pure helpers of benchmarks/compare_peers.py: agreement measures and table formatting.

The script itself (environments, workers, timings) is not run here: it is a benchmark.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_peers.py"


@pytest.fixture(scope="module")
def cp() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_peers", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_peers"] = module
    spec.loader.exec_module(module)
    return module


def test_agreement_is_the_largest_relative_difference(cp: ModuleType) -> None:
    # by hand: |1 - 1.01| / 1.01 = 0.00990..., |4 - 4| = 0, |2 - 1| / 2 = 0.5
    assert cp.agreement(np.array([1.0, 4.0, 2.0]), np.array([1.01, 4.0, 1.0])) == 0.5
    assert cp.agreement(np.array([1.0]), np.array([1.01])) == pytest.approx(0.01 / 1.01)


def test_agreement_is_symmetric_and_zero_on_equal_arrays(cp: ModuleType) -> None:
    a, b = np.array([0.3, 1e-5, 7.0]), np.array([0.31, 2e-5, 7.0])
    assert cp.agreement(a, b) == cp.agreement(b, a)
    assert cp.agreement(a, a) == 0.0
    assert cp.agreement(np.array([np.inf]), np.array([np.inf])) == 0.0


def test_agreement_floors_values_near_zero(cp: ModuleType) -> None:
    # both below the floor 1e-12: the difference 1e-20 counts relative to 1e-12
    assert cp.agreement(np.array([1e-20]), np.array([2e-20])) == pytest.approx(1e-8)


def test_agreement_reports_nan_and_refuses_other_shapes(cp: ModuleType) -> None:
    assert np.isnan(cp.agreement(np.array([1.0, np.nan]), np.array([1.0, 1.0])))
    with pytest.raises(ValueError, match="shapes differ"):
        cp.agreement(np.zeros(2), np.zeros(3))


def test_param_agreement_names_the_farthest_estimate(cp: ModuleType) -> None:
    # a: (0.70 - 0.79) / 0.79 = -11.4%; b: (2.1 - 2.4) / 2.4 = -12.5%
    assert cp.param_agreement(("a", "b"), (0.79, 2.4), (0.70, 2.1)) == "b -12%"
    # r: 3.2e-6 relative, below 1%: scientific notation
    assert cp.param_agreement(("r", "s"), (1.0, 2.0), (1.0000032, 2.0)) == "r +3.2e-06"
    assert cp.param_agreement(("r",), (1.0,), (1.0,)) == "r +0.0e+00"


def test_format_seconds_and_ratio(cp: ModuleType) -> None:
    assert cp.format_seconds(None) == "-"
    assert cp.format_seconds(0.0000123) == "12 us"
    assert cp.format_seconds(0.0123) == "12.3 ms"
    assert cp.format_seconds(4.567) == "4.57 s"
    assert cp.format_seconds(123.4) == "123 s"
    assert cp.format_ratio(0.5, 2.25) == "4.5x"
    assert cp.format_ratio(0.01, 2.2) == "220x"
    assert cp.format_ratio(2.0, 1.0) == "0.5x"
    assert cp.format_ratio(None, 1.0) == "-"
    assert cp.format_ratio(1.0, None) == "-"


def test_markdown_table_pads_columns(cp: ModuleType) -> None:
    text = cp.markdown_table(["task", "t"], [["fit", "1 s"], ["P(alive)", "2 ms"]])
    assert text.splitlines() == [
        "| task     | t    |",
        "|----------|------|",
        "| fit      | 1 s  |",
        "| P(alive) | 2 ms |",
    ]


def test_split_agreement_tells_the_customers_without_repeat_purchases_apart(
    cp: ModuleType,
) -> None:
    ref = np.array([0.5, 0.2, 0.4])
    x0 = np.array([True, False, False])
    # only the x = 0 row is off (0.5 vs 0.25: 0.25 / 0.5 = 0.5); the others agree to 1e-6
    other = np.array([0.25, 0.2 * (1 + 1e-6), 0.4])
    assert cp.split_agreement(ref, other, x0) == "5.0e-01 where x = 0, 1.0e-06 where x > 0"
    # differences of one size everywhere: one figure
    other = np.array([0.5 * (1 + 1e-6), 0.2 * (1 + 1e-6), 0.4])
    assert cp.split_agreement(ref, other, x0) == "1.0e-06"
    assert cp.split_agreement(ref, ref, x0) == "0.0e+00"
    # x = 0 rows equal, the others off by 1e-6: not split (only a worse x = 0 part is)
    other = np.array([0.5, 0.2 * (1 + 1e-6), 0.4])
    assert cp.split_agreement(ref, other, x0) == "1.0e-06"

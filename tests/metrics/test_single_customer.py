"""One customer as single values: the per-customer metric functions return a Python str/float.

Reference values: the same customer computed inside an array call (the
array path is tested against hand-worked rules in test_loyalty.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import InputError
from crmcore.metrics.loyalty import (
    band,
    customer_status,
    health_score,
    ladder_stage,
    loyalty_class,
    visit_level,
)
from crmcore.metrics.value import SpendThresholds, spend_tiers

counts = st.integers(min_value=0, max_value=500)
times = st.floats(min_value=0.0, max_value=5000.0)
flags = st.booleans()


def _as(kind: str, x: object) -> object:
    """The same single value as a Python scalar, a numpy scalar or a 0-d array."""
    if kind == "numpy":
        return np.asarray(x)[()]
    if kind == "0d":
        return np.asarray(x)
    return x


KINDS = ["python", "numpy", "0d"]


@pytest.mark.parametrize("kind", KINDS)
@given(n=counts, t=times)
def test_loyalty_class_single_matches_array(kind: str, n: int, t: float) -> None:
    one = loyalty_class(_as(kind, n), _as(kind, t), min_tenure=0)  # type: ignore[call-overload]
    assert type(one) is str
    assert one == loyalty_class([n, 0], [t, 0.0], min_tenure=0)[0]


@pytest.mark.parametrize("kind", KINDS)
@given(n=counts, t=times)
def test_visit_level_single_matches_array(kind: str, n: int, t: float) -> None:
    one = visit_level(_as(kind, n), _as(kind, t))  # type: ignore[call-overload]
    assert type(one) is str
    assert one == visit_level([n, 1], [t, 3.0])[0]


@pytest.mark.parametrize("kind", KINDS)
@given(
    n=counts,
    t=times,
    member=flags,
    promoter=flags,
    refs=st.integers(min_value=0, max_value=5),
    qualified=flags,
)
def test_ladder_stage_single_matches_array(
    kind: str, n: int, t: float, *, member: bool, promoter: bool, refs: int, qualified: bool
) -> None:
    one = ladder_stage(  # type: ignore[call-overload]
        _as(kind, n),
        _as(kind, t),
        member=_as(kind, member),
        promoter=_as(kind, promoter),
        n_referrals=_as(kind, refs),
        qualified=_as(kind, qualified),
        min_tenure=0,
    )
    assert type(one) is str
    many = ladder_stage(
        [n, 0],
        [t, 0.0],
        member=[member, False],
        promoter=[promoter, False],
        n_referrals=[refs, 0],
        qualified=[qualified, False],
        min_tenure=0,
    )
    assert one == many[0]


@pytest.mark.parametrize("kind", KINDS)
@given(n=counts, t=times, targeted=flags, prospect=flags)
def test_customer_status_single_matches_array(
    kind: str, n: int, t: float, targeted: bool, prospect: bool
) -> None:
    one = customer_status(  # type: ignore[call-overload]
        _as(kind, n), _as(kind, t), targeted=_as(kind, targeted), prospects=_as(kind, prospect)
    )
    assert type(one) is str
    many = customer_status([n, 1], [t, 1.0], targeted=[targeted, False], prospects=[prospect, True])
    assert one == many[0]


def test_single_customer_examples() -> None:
    # hand-worked from the rules in the docstrings: 6 occasions, last 20 days ago, first 400
    # days ago -> loyal; 20 visits in 365 days -> 20 per year, premium (>= 12, < 52)
    assert loyalty_class(6, 20.0, 400.0) == "loyal"
    assert loyalty_class(0, math.nan, math.nan) == "potential"
    assert visit_level(20, 365.0) == "premium"
    # loyal (4 occasions over 400 days) and a referrer; no programme data: member rung skipped
    assert ladder_stage(4, 9.0, 400.0, n_referrals=2) == "advocate"
    assert customer_status(1, 500.0) == "lost"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: loyalty_class(3, [1.0, 2.0]), "single values for n_purchases and arrays for time"),
        (lambda: loyalty_class([3], 1.0), "single values for time_since_last and arrays for n_"),
        (lambda: visit_level(3, np.array([1.0])), "n_visits and tenure must all be single"),
        (lambda: ladder_stage(3, 1.0, member=[True]), "arrays for member"),
        (lambda: ladder_stage([3], [1.0], promoter=True), "single values for promoter"),
        (lambda: customer_status(3, 1.0, targeted=[False]), "arrays for targeted"),
        (lambda: customer_status([3], [1.0], prospects=True), "single values for prospects"),
    ],
)
def test_mixed_single_and_array_raises(call: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        call()  # type: ignore[operator]


def test_single_customer_still_validated() -> None:
    with pytest.raises(InputError, match="time_since_last must be a non-negative number"):
        loyalty_class(2, -1.0)


# ------------------------------------------------------------ band, health score, spend tiers

scores = st.floats(min_value=-1e6, max_value=1e6)
EDGES = [40.0, 70.0]
LABELS = ["red", "amber", "green"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("closed", ["left", "right"])
@given(x=scores)
def test_band_single_matches_array(kind: str, closed: str, x: float) -> None:
    one = band(_as(kind, x), EDGES, LABELS, closed=closed)  # type: ignore[call-overload,arg-type]
    assert type(one) is str
    assert one == band([x, 0.0], EDGES, LABELS, closed=closed)[0]  # type: ignore[arg-type]


def test_band_single_examples() -> None:
    # edges read as "at least" with closed="left": 70 is green, 40 amber; right-closed: 40 red
    assert band(70, EDGES, LABELS) == "green"
    assert band(np.array(40.0), EDGES, LABELS, closed="right") == "red"
    with pytest.raises(InputError, match="scores must be finite"):
        band(float("nan"), EDGES, LABELS)


measures = st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=3, max_size=3)


@given(row=measures)
def test_health_score_one_customer_is_a_python_float(row: list[float]) -> None:
    w = [20.0, 15.0, 22.0]
    one = health_score(row, w)
    assert type(one) is float
    many = health_score([row, [50.0, 50.0, 50.0]], w)
    assert one == many[0]  # type: ignore[index]


@pytest.mark.parametrize("kind", KINDS)
@given(spend=st.floats(min_value=0.0, max_value=1e6), freq=st.floats(min_value=0.0, max_value=10.0))
def test_spend_tiers_single_matches_array(kind: str, spend: float, freq: float) -> None:
    th = SpendThresholds(silver_spend=500, silver_frequency=1, vip_spend=2000, vip_frequency=2)
    one = spend_tiers(_as(kind, spend), purchase_frequency=_as(kind, freq), thresholds=th)  # type: ignore[call-overload]
    assert type(one) is str
    many = spend_tiers([spend, 0.0], purchase_frequency=[freq, 0.0], thresholds=th)
    assert one == many[0]


def test_spend_tiers_single_examples() -> None:
    # the rule in the docstring: 600 spend and 1 purchase a month reach silver, not VIP
    th = SpendThresholds(silver_spend=500, silver_frequency=1, vip_spend=2000, vip_frequency=2)
    assert spend_tiers(600.0, purchase_frequency=1, thresholds=th) == "silver"
    with pytest.raises(InputError, match="single values for total_spend and arrays for purchase"):
        spend_tiers(600.0, purchase_frequency=[1.0, 2.0], thresholds=th)
    with pytest.raises(InputError, match="single values for purchase_frequency and arrays for"):
        spend_tiers([600.0], purchase_frequency=1.0, thresholds=th)

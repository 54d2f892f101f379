"""Tests of crmcore.metrics.acquisition: conversion (成交率), sales cycle, CAC and payback.

The definitions follow the practice's chapter on acquisition (客户开发) as the
issue states it: "conversion rate by source and stage (成交率) with Wilson
intervals, the sales cycle (time from first contact to first purchase, as a
survival curve since open leads are censored), acquisition cost per customer
by source from campaign costs, and the payback time of that cost from the
customers' margins or CLV".
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from crmcore import InteractionTable
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics import (
    FUNNEL,
    acquisition_cost,
    clv_cac_ratio,
    conversion_rates,
    leads_from_table,
    payback_time,
    sales_cycle,
    stage_conversion,
    wilson_interval,
)

Z95 = NormalDist().inv_cdf(0.975)


def _days(*values: str) -> np.ndarray:
    return np.array(values, dtype="datetime64[ns]")


def _wilson_formula(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson (1927), written out from the quadratic's roots independently of the code."""
    # Roots in pi of (p - pi)^2 = z^2 pi (1 - pi) / n:
    # (1 + z^2/n) pi^2 - (2p + z^2/n) pi + p^2 = 0.
    p = k / n
    a = 1 + z * z / n
    b = -(2 * p + z * z / n)
    c = p * p
    disc = math.sqrt(max(b * b - 4 * a * c, 0.0))
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


# --------------------------------------------------------------------------- Wilson


@pytest.mark.parametrize(
    ("k", "n", "lower", "upper"),
    [
        # Newcombe (1998), Table II, method 3 (Wilson score interval), 95%.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe(k: int, n: int, lower: float, upper: float) -> None:
    lo, hi = wilson_interval(k, n)
    assert (round(lo, 4), round(hi, 4)) == (lower, upper)


def test_wilson_hand_worked_3_of_10() -> None:
    # p = 0.3, z^2/n = 0.38415: centre 0.49207/1.38415 = 0.35550, half
    # 1.95996 * sqrt(0.021 + 0.0096036) / 1.38415 = 0.24772.
    lo, hi = wilson_interval(3, 10)
    assert lo == pytest.approx(0.35550 - 0.24772, abs=1e-4)
    assert hi == pytest.approx(0.35550 + 0.24772, abs=1e-4)


def test_wilson_edges_zero_and_all_successes() -> None:
    # 0 of n: [0, z^2/(n + z^2)]; n of n: [n/(n + z^2), 1] (the roots of the quadratic).
    z2 = Z95 * Z95
    lo, hi = wilson_interval([0, 8], [8, 8])
    assert lo[0] == 0.0
    assert hi[1] == 1.0
    assert hi[0] == pytest.approx(z2 / (8 + z2), rel=1e-12)
    assert lo[1] == pytest.approx(8 / (8 + z2), rel=1e-12)


@given(st.integers(min_value=1, max_value=10**6), st.data())
def test_wilson_equals_its_formula(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    conf = data.draw(st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99]))
    z = NormalDist().inv_cdf(0.5 + conf / 2)
    lo, hi = wilson_interval(k, n, confidence=conf)
    want_lo, want_hi = _wilson_formula(k, n, z)
    assert lo == pytest.approx(want_lo, abs=1e-9)
    assert hi == pytest.approx(want_hi, abs=1e-9)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


@pytest.mark.parametrize(
    ("k", "n", "exc", "match"),
    [
        (3, 0, InputError, "trials must be positive; got 0"),
        ([1, 2], [3, -1], InputError, r"trials must be positive; .*index 1"),
        (4, 3, InputError, "successes must lie in 0..trials"),
        (-1, 3, InputError, "successes must lie in 0..trials"),
        ([1, 2], [3, 3, 3], InputError, "successes and trials must broadcast"),
        (1.5, 3, InputError, "successes"),
        ("a", 3, InputTypeError, "successes"),
    ],
)
def test_wilson_errors(k: object, n: object, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        wilson_interval(k, n)  # type: ignore[call-overload]


def test_wilson_confidence_error() -> None:
    with pytest.raises(InputError, match="confidence"):
        wilson_interval(1, 2, confidence=1.0)


# --------------------------------------------------------------------------- conversion


def test_conversion_by_source_hand_worked() -> None:
    """成交率 = leads won / leads, per source.

    Web: 2 of 5 leads won (40%); fair: 3 of 3 (100%); referral: 0 of 2.
    """
    sources = ["web"] * 5 + ["fair"] * 3 + ["referral"] * 2
    won = [True, True, False, False, False, True, True, True, False, False]
    r = conversion_rates(won, sources)
    assert r.groups.tolist() == ["fair", "referral", "web"]
    assert r.trials.tolist() == [3, 2, 5]
    assert r.successes.tolist() == [3, 0, 2]
    assert_allclose(r.rate, [1.0, 0.0, 0.4])
    assert r.upper[0] == 1.0
    assert r.lower[1] == 0.0
    lo, hi = _wilson_formula(2, 5, Z95)
    assert_allclose([r.lower[2], r.upper[2]], [lo, hi], rtol=1e-12)
    overall = conversion_rates(won)
    assert overall.groups.tolist() == ["all"]
    assert overall.rate.tolist() == [0.5]


def test_stage_conversion_hand_worked() -> None:
    """Funnel lead → qualified → proposal → won: 10 leads, 6 qualified, 4 proposals, 2 won."""
    stages = ["lead"] * 4 + ["qualified"] * 2 + ["proposal"] * 2 + ["won"] * 2
    r = stage_conversion(stages)
    assert r.groups.tolist() == ["qualified", "proposal", "won"]
    assert r.trials.tolist() == [10, 6, 4]
    assert r.successes.tolist() == [6, 4, 2]
    assert math.prod(r.rate.tolist()) == pytest.approx(2 / 10)


def test_stage_conversion_leaves_out_steps_without_trials() -> None:
    r = stage_conversion(["lead", "lead"])
    assert r.groups.tolist() == ["qualified"]
    assert r.successes.tolist() == [0]


label_lists = st.lists(
    st.tuples(st.booleans(), st.sampled_from(["web", "fair", "referral", "ad"])),
    min_size=1,
    max_size=40,
)


@given(label_lists, st.randoms(use_true_random=False))
def test_conversion_properties(rows: list[tuple[bool, str]], random: object) -> None:
    won = [r[0] for r in rows]
    src = [r[1] for r in rows]
    r = conversion_rates(won, src)
    assert ((r.rate >= 0) & (r.rate <= 1)).all()
    assert (r.lower <= r.rate).all()
    assert (r.rate <= r.upper).all()
    assert ((r.lower >= 0) & (r.upper <= 1)).all()
    assert r.trials.sum() == len(rows)
    assert r.successes.sum() == sum(won)
    shuffled = list(rows)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    s = conversion_rates([x[0] for x in shuffled], [x[1] for x in shuffled])
    assert_array_equal(s.groups, r.groups)
    assert_array_equal(s.trials, r.trials)
    assert_array_equal(s.successes, r.successes)
    assert_allclose(s.lower, r.lower)


@given(label_lists, label_lists)
def test_conversion_counts_of_parts_add_up_to_the_whole(
    a: list[tuple[bool, str]], b: list[tuple[bool, str]]
) -> None:
    whole = conversion_rates([x[0] for x in a + b], [x[1] for x in a + b])
    parts = [conversion_rates([x[0] for x in p], [x[1] for x in p]) for p in (a, b)]
    for i, g in enumerate(whole.groups.tolist()):
        trials = sum(int(p.trials[p.groups == g].sum()) for p in parts)
        successes = sum(int(p.successes[p.groups == g].sum()) for p in parts)
        assert (trials, successes) == (whole.trials[i], whole.successes[i])


@given(st.lists(st.sampled_from(FUNNEL), min_size=1, max_size=40))
def test_stage_steps_multiply_to_the_share_won(stages: list[str]) -> None:
    r = stage_conversion(stages)
    share = stages.count("won") / len(stages)
    if r.groups.size == len(FUNNEL) - 1:
        assert math.prod(r.rate.tolist()) == pytest.approx(share)
    assert (r.successes <= r.trials).all()
    assert ((r.lower <= r.rate) & (r.rate <= r.upper)).all()


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: conversion_rates([True], ["web", "fair"]), InputError, "one label per lead"),
        (lambda: conversion_rates([True, False], ["web", None]), InputError, "missing labels"),
        (lambda: conversion_rates([], None), InputError, "converted"),
        (lambda: conversion_rates([2, 0], None), InputError, "converted"),
        (lambda: conversion_rates([True], [1.5]), InputTypeError, "groups must hold labels"),
        (lambda: stage_conversion(["lead", "lost"]), InputError, "for a lost lead"),
        (lambda: stage_conversion([]), InputError, "stages must not be empty"),
        (lambda: stage_conversion([1, 2]), InputTypeError, "stages must hold stage names"),
    ],
)
def test_conversion_errors(call: object, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        call()  # type: ignore[operator]


# --------------------------------------------------------------------------- leads of a table


def _funnel_table() -> InteractionTable:
    # a: web lead 1 Jan, proposal 20 Jan, buys 10 Feb (won after 40 days).
    # b: fair lead 2 Jan, lost 1 Feb.
    # c: lead without source 5 Jan, won row 15 Jan, buys 1 Feb (won at 15 Jan: 10 days).
    # d: customer who bought on 1 Jan, then a lead row on 3 Jan: not a new lead.
    # e: lead 1 Mar, after observation_end: left out.
    rows = [
        ("a", "2024-01-01", "lead", "web", None),
        ("a", "2024-01-20", "opportunity", None, "proposal"),
        ("a", "2024-02-10", "purchase", None, None),
        ("b", "2024-01-02", "lead", "fair", None),
        ("b", "2024-02-01", "opportunity", None, "lost"),
        ("c", "2024-01-05", "lead", None, None),
        ("c", "2024-01-15", "opportunity", None, "won"),
        ("c", "2024-02-01", "purchase", None, None),
        ("d", "2024-01-01", "purchase", None, None),
        ("d", "2024-01-03", "lead", "web", None),
        ("e", "2024-03-01", "lead", "web", None),
    ]
    return InteractionTable.from_arrays(
        [r[0] for r in rows],
        _days(*[r[1] for r in rows]),
        kinds=[r[2] for r in rows],
        amounts=[10.0 if r[2] == "purchase" else 0.0 for r in rows],
        lead_sources=np.array([r[3] for r in rows], dtype=object),
        opportunity_stages=np.array([r[4] for r in rows], dtype=object),
    )


def test_leads_from_table_hand_worked() -> None:
    leads = leads_from_table(_funnel_table(), observation_end="2024-02-15")
    assert leads.customer_ids.tolist() == ["a", "b", "c"]
    assert leads.sources.tolist() == ["web", "fair", "unknown"]
    assert leads.stage.tolist() == ["won", "lead", "won"]
    assert leads.converted.tolist() == [True, False, True]
    assert leads.lost.tolist() == [False, True, False]
    assert leads.is_open.tolist() == [False, False, False]
    assert leads.first_contact.tolist() == _days("2024-01-01", "2024-01-02", "2024-01-05").tolist()
    assert leads.won_at.astype("datetime64[D]").astype(str).tolist() == [
        "2024-02-10",
        "NaT",
        "2024-01-15",
    ]
    # On 25 Jan a has reached proposal and b is not lost yet: both are open; c is won.
    early = leads_from_table(_funnel_table(), observation_end="2024-01-25")
    assert early.stage.tolist() == ["proposal", "lead", "won"]
    assert early.is_open.tolist() == [True, True, False]


def test_leads_feed_the_sales_cycle() -> None:
    leads = leads_from_table(_funnel_table(), observation_end="2024-02-15")
    cycle = sales_cycle(leads.first_contact, leads.won_at, observation_end=leads.observation_end)
    # a: 40 days (event), b: 44 days (censored, lost), c: 10 days (event).
    assert cycle.durations.tolist() == [40.0, 44.0, 10.0]
    assert cycle.events.tolist() == [True, False, True]
    assert cycle.median_won == 25.0
    # KM: S(10) = 2/3, S(40) = 2/3 * (1 - 1/2) = 1/3: the median is 40.
    assert cycle.median == 40.0


def test_leads_errors() -> None:
    with pytest.raises(InputError, match="no lead row at or before observation_end"):
        leads_from_table(_funnel_table(), observation_end="2023-01-01")
    with pytest.raises(InputTypeError, match="table must be an InteractionTable"):
        leads_from_table("table", observation_end="2024-01-01")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown_source"):
        leads_from_table(_funnel_table(), observation_end="2024-02-01", unknown_source="")


# --------------------------------------------------------------------------- sales cycle


def _brute_km(durations: list[float], events: list[bool]) -> list[tuple[float, float]]:
    """The product-limit estimator written out: at each event time t, S *= 1 - d/n."""
    out = []
    s = 1.0
    for t in sorted({d for d, e in zip(durations, events, strict=True) if e}):
        at_risk = sum(1 for d in durations if d >= t)
        died = sum(1 for d, e in zip(durations, events, strict=True) if e and d == t)
        s *= 1 - died / at_risk
        out.append((t, s))
    return out


def test_sales_cycle_hand_worked() -> None:
    """Open leads are censored at observation_end (the issue: "open leads are censored")."""
    start = _days("2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-21")
    won = np.array(["2024-01-11", "2024-01-21", "NaT", "2024-01-31", "NaT"], dtype="datetime64[ns]")
    c = sales_cycle(start, won, observation_end="2024-02-10")
    assert c.durations.tolist() == [10.0, 20.0, 40.0, 30.0, 20.0]
    assert c.events.tolist() == [True, True, False, True, False]
    # KM: at 10: 5 at risk, 1 event -> 0.8; at 20: 4 at risk (censored 20 still at
    # risk), 1 event -> 0.6; at 30: 2 at risk, 1 event -> 0.3.
    assert_allclose(c.curve.survival, [0.8, 0.6, 0.3])
    assert c.median == 30.0
    assert c.median_won == 20.0
    assert c.share_won == 0.6
    # Restricted mean to 40: 10*1 + 10*0.8 + 10*0.6 + 10*0.3 = 27.
    assert c.restricted_mean.mean == pytest.approx(27.0)
    weeks = sales_cycle(start, won, observation_end="2024-02-10", time_unit="W", horizon=2.0)
    assert weeks.durations[0] == pytest.approx(10 / 7)
    assert weeks.horizon == 2.0


def test_sales_cycle_median_none_when_fewer_than_half_are_won() -> None:
    c = sales_cycle(["2024-01-01"] * 3, ["2024-01-05", None, None], observation_end="2024-02-01")
    assert c.median is None
    assert c.median_won == 4.0
    none_won = sales_cycle(["2024-01-01"], [None], observation_end="2024-02-01")
    assert none_won.median_won is None
    assert none_won.share_won == 0.0


def test_sales_cycle_leaves_out_leads_after_observation_end_and_censors_late_deals() -> None:
    c = sales_cycle(
        ["2024-01-01", "2024-03-01", "2024-01-01"],
        ["2024-02-20", None, "2024-01-03"],
        observation_end="2024-02-01",
    )
    assert c.index.tolist() == [0, 2]
    assert c.durations.tolist() == [31.0, 2.0]
    assert c.events.tolist() == [False, True]


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=60), st.none() | st.integers(0, 60)),
        min_size=1,
        max_size=25,
    ),
    st.randoms(use_true_random=False),
)
def test_sales_cycle_equals_brute_force_product_limit(
    rows: list[tuple[int, int | None]], random: object
) -> None:
    base = np.datetime64("2024-01-01", "ns")
    day = np.timedelta64(1, "D")
    cut = base + 100 * day
    start = np.array([base + s * day for s, _ in rows])
    won = np.array(
        [np.datetime64("NaT", "ns") if w is None else base + (s + w) * day for s, w in rows]
    )
    c = sales_cycle(start, won, observation_end=cut)
    # Leads first contacted on day s, won w days later; a deal after day 100 is not seen.
    events = [w is not None and s + w <= 100 for s, w in rows]
    durations = [float(w) if e else float(100 - s) for (s, w), e in zip(rows, events, strict=True)]
    assert c.durations.tolist() == durations
    brute = _brute_km(durations, events)
    assert c.curve.times.tolist() == [t for t, _ in brute]
    assert_allclose(c.curve.survival, [s for _, s in brute], rtol=1e-12)
    assert 0.0 <= c.share_won <= 1.0
    order = list(range(len(rows)))
    random.shuffle(order)  # type: ignore[attr-defined]
    again = sales_cycle(start[order], won[order], observation_end=cut)
    assert again.median == c.median
    assert again.median_won == c.median_won
    assert again.restricted_mean.mean == pytest.approx(c.restricted_mean.mean)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((["2024-01-05"], ["2024-01-01"]), {}, InputError, "won_at must not be before"),
        ((["2024-01-05"], [None, None]), {}, InputError, "won_at must be 1-dimensional with 1"),
        ((["2024-03-05"], [None]), {}, InputError, "every lead was first contacted after"),
        ((["NaT"], [None]), {}, InputError, "first_contact must not hold missing"),
        ((["2024-01-01"], ["2024-01-03"]), {"time_unit": "M"}, InputError, "time_unit"),
        ((["2024-01-01"], ["2024-01-03"]), {"horizon": -1.0}, InputError, "horizon"),
        ((["2024-01-01"], [None]), {"horizon": 99.0}, InputError, "horizon must not exceed"),
        (([1.5], [None]), {}, InputTypeError, "first_contact"),
        (([], []), {}, InputError, "first_contact"),
    ],
)
def test_sales_cycle_errors(
    args: tuple[object, object], kwargs: dict[str, object], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        sales_cycle(*args, observation_end="2024-02-01", **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- CAC


def test_acquisition_cost_hand_worked() -> None:
    """CAC = campaign cost / customers won from it: a fair costing 900 that won 3 costs 300 each."""
    won = ["web"] * 6 + ["fair"] * 3 + ["referral"]
    cac = acquisition_cost({"fair": 900.0, "web": 300.0}, np.array(won))
    assert cac.sources.tolist() == ["fair", "referral", "web"]
    assert cac.customers.tolist() == [3, 1, 6]
    assert cac.costs.tolist() == [900.0, 0.0, 300.0]
    assert cac.cost_per_customer.tolist() == [300.0, 0.0, 50.0]
    assert (cac.total_cost, cac.total_customers, cac.blended) == (1200.0, 10, 120.0)
    assert cac.cost_of(["web", "fair", "web"]).tolist() == [50.0, 300.0, 50.0]


@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "c"]),
        # subnormal costs would lose digits in cost / customers * customers (a float
        # artefact, not a rule of the function): found under the hunt profile
        st.floats(min_value=0, max_value=1e9, allow_subnormal=False),
        min_size=1,
    ),
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=30),
)
def test_acquisition_cost_blended_is_total_over_total(
    costs: dict[str, float], won: list[str]
) -> None:
    if not set(costs) <= set(won):
        with pytest.raises(InputError, match="won no customer"):
            acquisition_cost(costs, won)
        return
    cac = acquisition_cost(costs, won)
    assert cac.total_customers == len(won)
    assert cac.blended == pytest.approx(sum(costs.values()) / len(won))
    assert_allclose(cac.cost_per_customer * cac.customers, cac.costs, rtol=1e-12)


@pytest.mark.parametrize(
    ("costs", "won", "exc", "match"),
    [
        ({"fair": 900.0, "radio": 50.0}, ["fair"], InputError, "won no customer .*'radio'"),
        ({"fair": -1.0}, ["fair"], InputError, "costs\\['fair'\\]"),
        ({"fair": float("nan")}, ["fair"], InputError, "costs\\['fair'\\]"),
        ({1: 3.0}, ["fair"], InputTypeError, "non-empty str keys"),
        ([("fair", 3.0)], ["fair"], InputTypeError, "costs must be a mapping"),
        ({}, [], InputError, "both empty"),
        ({"fair": 3.0}, ["fair", None], InputError, "missing labels"),
    ],
)
def test_acquisition_cost_errors(
    costs: object, won: object, exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        acquisition_cost(costs, won)  # type: ignore[arg-type]


def test_cost_of_unknown_source() -> None:
    with pytest.raises(InputError, match="sources must name sources of this result"):
        acquisition_cost({"web": 3.0}, ["web"]).cost_of(["fair"])


def test_clv_cac_ratio() -> None:
    assert clv_cac_ratio(300.0, 100.0) == 3.0
    assert clv_cac_ratio([300.0, -50.0], [100.0, 50.0]).tolist() == [3.0, -1.0]
    with pytest.raises(InputError, match="cac must be > 0"):
        clv_cac_ratio(1.0, 0.0)
    with pytest.raises(InputError, match="cac"):
        clv_cac_ratio([1.0], [0.0])
    with pytest.raises(InputError, match="broadcast"):
        clv_cac_ratio([1.0, 2.0], [1.0, 2.0, 3.0])


# --------------------------------------------------------------------------- payback


def _margin_table() -> InteractionTable:
    # c1: margins 6 (day 10), 6 (day 30) -> reaches 10 on day 30.
    # c2: margin 4 (day 20) -> never reaches 10.
    # c3: margin 12 (day 5), refund of margin 5 (day 6), margin 4 (day 40): 12 >= 10 on day 5.
    # c4: margin 3 before acquisition (day 0, ignored), 20 after observation_end (ignored).
    rows = [
        (1, 10, "purchase", 6.0),
        (1, 30, "purchase", 6.0),
        (2, 20, "purchase", 4.0),
        (3, 5, "purchase", 12.0),
        (3, 6, "refund", 5.0),
        (3, 40, "purchase", 4.0),
        (4, 0, "purchase", 3.0),
        (4, 90, "purchase", 20.0),
    ]
    base = np.datetime64("2024-01-01", "ns")
    return InteractionTable.from_arrays(
        [r[0] for r in rows],
        np.array([base + np.timedelta64(r[1], "D") for r in rows]),
        kinds=[r[2] for r in rows],
        amounts=[10.0] * len(rows),
        margins=[r[3] for r in rows],
    )


def test_payback_hand_worked() -> None:
    """Payback: "cumulative margin per customer since acquisition reaching the CAC"."""
    acquired = _days("2024-01-01", "2024-01-01", "2024-01-01", "2024-01-02", "2024-01-01")
    p = payback_time(_margin_table(), [1, 2, 3, 4, 5], acquired, 10.0, observation_end="2024-03-01")
    assert p.paid_back.tolist() == [True, False, True, False, False]
    assert p.durations.tolist() == [30.0, 60.0, 5.0, 59.0, 60.0]
    assert p.margin_to_date.tolist() == [12.0, 4.0, 11.0, 0.0, 0.0]
    assert p.share_paid_back == 0.4
    assert p.median is None  # KM: S(5) = 0.8, S(30) = 0.6: never at or below 1/2
    per_customer = payback_time(
        _margin_table(),
        [2, 1],
        _days("2024-01-01", "2024-01-01"),
        [4.0, 0.0],
        observation_end="2024-03-01",
    )
    assert per_customer.paid_back.tolist() == [True, True]
    assert per_customer.durations.tolist() == [20.0, 0.0]
    assert per_customer.median == 0.0


@given(
    st.lists(
        st.tuples(
            st.integers(1, 4),
            st.integers(0, 50),
            st.sampled_from(["purchase", "refund"]),
            st.integers(-5, 15),
        ),
        min_size=1,
        max_size=20,
    ),
    st.integers(0, 30),
)
def test_payback_equals_brute_force(rows: list[tuple[int, int, str, int]], cac: int) -> None:
    base = np.datetime64("2024-01-01", "ns")
    day = np.timedelta64(1, "D")
    table = InteractionTable.from_arrays(
        [r[0] for r in rows],
        np.array([base + r[1] * day for r in rows]),
        kinds=[r[2] for r in rows],
        amounts=[1.0] * len(rows),
        margins=[float(r[3]) for r in rows],
    )
    ids = [1, 2, 3, 4]
    acq = [0, 3, 10, 0]
    p = payback_time(
        table,
        ids,
        np.array([base + a * day for a in acq]),
        float(cac),
        observation_end=base + 40 * day,
    )
    for i, (cid, a) in enumerate(zip(ids, acq, strict=True)):
        mine = [(t, -m if k == "refund" else m) for c, t, k, m in rows if c == cid and a <= t <= 40]
        total, when = 0, None if cac > 0 else a
        for t in sorted({t for t, _ in mine}):  # rows of one instant count together
            total += sum(m for u, m in mine if u == t)
            if when is None and total >= cac:
                when = t
        assert p.paid_back[i] == (when is not None)
        assert p.durations[i] == (40 - a if when is None else when - a)
        assert p.margin_to_date[i] == total


def test_payback_errors() -> None:
    t = _margin_table()
    acq = _days("2024-01-01", "2024-01-01")
    with pytest.raises(InputError, match="customer_ids must be distinct"):
        payback_time(t, [1, 1], acq, 1.0, observation_end="2024-03-01")
    with pytest.raises(InputError, match="acquired must be given and not after observation_end"):
        payback_time(t, [1, 2], acq, 1.0, observation_end="2023-03-01")
    with pytest.raises(InputError, match="cac"):
        payback_time(t, [1, 2], acq, -1.0, observation_end="2024-03-01")
    with pytest.raises(InputError, match="cac"):
        payback_time(t, [1, 2], acq, [1.0], observation_end="2024-03-01")
    with pytest.raises(InputError, match="customer_ids must not hold missing"):
        payback_time(t, [1.0, np.nan], acq, 1.0, observation_end="2024-03-01")
    with pytest.raises(InputTypeError, match="comparable"):
        payback_time(t, ["a", "b"], acq, 1.0, observation_end="2024-03-01")
    no_margins = InteractionTable.from_arrays([1], _days("2024-01-02"), amounts=[1.0])
    with pytest.raises(InputError, match="table must have margins"):
        payback_time(no_margins, [1], acq[:1], 1.0, observation_end="2024-03-01")
    nan_margin = InteractionTable.from_arrays(
        [1], _days("2024-01-02"), amounts=[1.0], margins=[np.nan]
    )
    with pytest.raises(InputError, match=r"margins must be known .* \(first at table row 0\)"):
        payback_time(nan_margin, [1], acq[:1], 1.0, observation_end="2024-03-01")
    with pytest.raises(InputTypeError, match="table must be an InteractionTable"):
        payback_time(None, [1], acq[:1], 1.0, observation_end="2024-03-01")  # type: ignore[arg-type]

"""Tests of crmcore.metrics.sales: co-purchase counts and campaign uplift."""

from __future__ import annotations

import itertools
from collections import Counter

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore import InteractionTable
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics import campaign_uplift, co_purchase

NS = "datetime64[ns]"
HOUR = np.timedelta64(3_600 * 10**9, "ns")
BASE = np.datetime64("2024-01-01T00:00", "ns")

# ----------------------------------------------------------------------------- co_purchase


def _basket_table():
    t = np.array(
        [
            "2024-01-01T10",
            "2024-01-01T11",
            "2024-01-02",
            "2024-01-02",
            "2024-01-03",
            "2024-01-03",
            "2024-01-03",
            "2024-01-04",
        ],
        dtype=NS,
    )
    return InteractionTable.from_arrays(
        [1, 1, 1, 2, 2, 2, 2, 2],
        t,
        kinds=["purchase"] * 7 + ["visit"],
        amounts=[3, 2, 3, 3, 2, 1, 2, 0],
        products=["bread", "butter", "bread", "bread", "butter", "jam", "butter", "jam"],
        categories=["bakery", "dairy", "bakery", "bakery", "dairy", "spread", "dairy", None],
    )


def test_co_purchase_reference_by_occasion():
    # Hand-worked baskets (customer, day): {bread, butter}, {bread}, {bread}, {butter, jam};
    # butter twice in the last basket counts once; the visit row is not a purchase.
    # bread 3, butter 2, jam 1 of N = 4. Pairs: bread-butter 1 (lift 1*4/(3*2) = 2/3),
    # butter-jam 1 (lift 1*4/(2*1) = 2).
    cp = co_purchase(_basket_table())
    assert cp.n_baskets == 4
    assert cp.items.tolist() == ["bread", "butter", "jam"]
    assert cp.item_baskets.tolist() == [3, 2, 1]
    assert cp.item_a.tolist() == ["butter", "bread"]
    assert cp.item_b.tolist() == ["jam", "butter"]
    assert cp.n_together.tolist() == [1, 1]
    assert_allclose(cp.support, [0.25, 0.25])
    assert_allclose(cp.confidence_a_to_b, [1 / 2, 1 / 3])
    assert_allclose(cp.confidence_b_to_a, [1.0, 1 / 2])
    assert_allclose(cp.lift, [2.0, 2 / 3])
    assert cp.basket == "occasion"


def test_co_purchase_other_basket_definitions():
    t = _basket_table()
    # Orders (same timestamp): bread and butter were bought an hour apart: no longer together;
    # the only pair is butter-jam of 2024-01-03 (N = 5 orders).
    orders = co_purchase(t, basket="order")
    assert orders.n_baskets == 5
    assert list(zip(orders.item_a, orders.item_b, strict=True)) == [("butter", "jam")]
    # Customers: 1 = {bread, butter}, 2 = {bread, butter, jam}: bread-butter in both (lift 1).
    cust = co_purchase(t, basket="customer")
    assert cust.n_baskets == 2
    pairs = dict(zip(zip(cust.item_a, cust.item_b, strict=True), cust.n_together, strict=True))
    assert pairs == {("bread", "butter"): 2, ("bread", "jam"): 1, ("butter", "jam"): 1}
    assert_allclose(cust.lift[0], 1.0)
    # Weekly occasions: 2024-01-01 is a Monday, so each customer has one week basket.
    assert co_purchase(t, period="W").n_baskets == 2
    # By category: bakery-dairy in the first basket, dairy-spread in the last.
    cat = co_purchase(t, by="categories")
    assert sorted(zip(cat.item_a, cat.item_b, strict=True)) == [
        ("bakery", "dairy"),
        ("dairy", "spread"),
    ]
    # min_count filters pairs, not items.
    assert co_purchase(t, basket="customer", min_count=2).n_together.tolist() == [2]


def test_co_purchase_skips_missing_labels():
    t = InteractionTable.from_arrays(
        [1, 1, 1], np.array(["2024-01-01"] * 3, dtype=NS), products=["a", None, "b"]
    )
    cp = co_purchase(t)
    assert cp.items.tolist() == ["a", "b"]
    assert cp.n_together.tolist() == [1]
    nan_labels = InteractionTable.from_arrays(
        [1, 1, 1], np.array(["2024-01-01"] * 3, dtype=NS), products=[1.0, np.nan, 2.0]
    )
    assert co_purchase(nan_labels).items.tolist() == [1.0, 2.0]


def test_co_purchase_many_items_uses_sparse_counting():
    # 5,000 items (25 million possible pairs: the sort-based path). Two baskets of 100 items
    # overlapping in 10: every pair inside the overlap is in both baskets.
    n = 200
    items = np.r_[np.arange(100), np.arange(90, 190) + 4800]
    items[100:110] = np.arange(90, 100)
    table = InteractionTable.from_arrays(
        np.r_[np.zeros(100, int), np.ones(100, int)],
        np.full(n, BASE),
        products=items,
    )
    cp = co_purchase(table)
    assert cp.items.size == 190
    assert cp.n_together.size == 2 * 4950 - 45
    both = cp.n_together == 2
    assert both.sum() == 45
    assert set(cp.item_a[both]) | set(cp.item_b[both]) == set(range(90, 100))


@st.composite
def basket_logs(draw):
    n = draw(st.integers(1, 40))
    cust = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    hours = draw(st.lists(st.integers(0, 24 * 5), min_size=n, max_size=n))
    prods = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e", None]), min_size=n, max_size=n))
    kinds = draw(
        st.lists(st.sampled_from(["purchase", "purchase", "visit"]), min_size=n, max_size=n)
    )
    return cust, hours, prods, kinds


@given(basket_logs(), st.sampled_from(["order", "occasion", "customer"]))
def test_co_purchase_matches_python_sets(log, basket):
    cust, hours, prods, kinds = log
    times = BASE + np.asarray(hours, dtype=np.int64) * HOUR
    table = InteractionTable.from_arrays(cust, times, kinds=kinds, products=np.array(prods, object))
    baskets: dict[tuple[int, int], set[str]] = {}
    for c, h, p, k in zip(cust, hours, prods, kinds, strict=True):
        if k != "purchase" or p is None:
            continue
        key = (c, h) if basket == "order" else (c, h // 24) if basket == "occasion" else (c, 0)
        baskets.setdefault(key, set()).add(p)
    if not baskets:
        with pytest.raises(InputError, match="none labelled"):
            co_purchase(table, basket=basket)
        return
    cp = co_purchase(table, basket=basket)
    n = len(baskets)
    item_count = Counter(p for b in baskets.values() for p in b)
    pair_count = Counter(
        pair for b in baskets.values() for pair in itertools.combinations(sorted(b), 2)
    )
    assert cp.n_baskets == n
    assert dict(zip(cp.items.tolist(), cp.item_baskets.tolist(), strict=True)) == item_count
    got = {(a, b): k for a, b, k in zip(cp.item_a, cp.item_b, cp.n_together, strict=True)}
    assert got == pair_count
    for a, b, k, lift, conf in zip(
        cp.item_a, cp.item_b, cp.n_together, cp.lift, cp.confidence_a_to_b, strict=True
    ):
        assert_allclose(lift, k * n / (item_count[a] * item_count[b]))
        assert_allclose(conf, k / item_count[a])
    # Listed most frequent first.
    assert np.all(np.diff(cp.n_together) <= 0)


@given(basket_logs(), st.randoms(use_true_random=False))
def test_co_purchase_row_order_invariance(log, rnd):
    cust, hours, prods, kinds = log
    times = BASE + np.asarray(hours, dtype=np.int64) * HOUR
    perm = list(range(len(cust)))
    rnd.shuffle(perm)
    products = np.array(prods, object)
    a = InteractionTable.from_arrays(cust, times, kinds=kinds, products=products)
    b = a.select(np.array(perm))
    if not any(p is not None and k == "purchase" for p, k in zip(prods, kinds, strict=True)):
        return
    x, y = co_purchase(a), co_purchase(b)
    assert x.item_a.tolist() == y.item_a.tolist()
    assert x.item_b.tolist() == y.item_b.tolist()
    assert x.n_together.tolist() == y.n_together.tolist()


def test_co_purchase_errors():
    t = _basket_table()
    no_products = InteractionTable.from_arrays([1], np.array(["2024-01-01"], dtype=NS))
    with pytest.raises(InputError, match="table must have a products column"):
        co_purchase(no_products)
    with pytest.raises(InputError, match="basket must be one of 'order', 'occasion', 'customer'"):
        co_purchase(t, basket="week")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="by must be one of 'products', 'categories'"):
        co_purchase(t, by="brands")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="min_count must be >= 1"):
        co_purchase(t, min_count=0)
    with pytest.raises(InputTypeError, match="table must be an InteractionTable"):
        co_purchase([("a", "b")])  # type: ignore[arg-type]
    unlabelled = InteractionTable.from_arrays(
        [1], np.array(["2024-01-01"], dtype=NS), products=[None]
    )
    with pytest.raises(InputError, match="1 purchase rows, none labelled"):
        co_purchase(unlabelled)


# ----------------------------------------------------------------------------- campaign_uplift


def _groups(k_t: int, n_t: int, k_c: int, n_c: int):
    responded = [True] * k_t + [False] * (n_t - k_t) + [True] * k_c + [False] * (n_c - k_c)
    control = [False] * n_t + [True] * n_c
    return responded, control


def _mp_newcombe(k_t, n_t, k_c, n_c, conf=0.95):
    """Newcombe's method 10 from the Wilson closed form, in 30-digit mpmath."""
    with mpmath.workdps(30):
        z = mpmath.sqrt(2) * mpmath.erfinv(mpmath.mpf(conf))

        def wilson(k, n):
            p = mpmath.mpf(k) / n
            c = (2 * n * p + z**2) / (2 * (n + z**2))
            h = z * mpmath.sqrt(z**2 + 4 * n * p * (1 - p)) / (2 * (n + z**2))
            return c - h, c + h

        pt, pc = mpmath.mpf(k_t) / n_t, mpmath.mpf(k_c) / n_c
        lt, ut = wilson(k_t, n_t)
        lc, uc = wilson(k_c, n_c)
        d = pt - pc
        return (
            float(d - mpmath.sqrt((pt - lt) ** 2 + (uc - pc) ** 2)),
            float(d + mpmath.sqrt((ut - pt) ** 2 + (pc - lc) ** 2)),
        )


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Newcombe (1998), Table II, method 10 (hybrid score), examples (a), (b), (d), (e), (f).
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
        ((10, 10, 0, 20), (0.6791, 1.0000)),
    ],
)
def test_newcombe_interval_matches_published_table(counts, expected):
    r = campaign_uplift(*_groups(*counts))
    assert_allclose(r.interval, expected, atol=5e-5)
    assert_allclose(r.interval, _mp_newcombe(*counts), rtol=1e-12, atol=1e-14)


def test_uplift_wald_and_summary_fields():
    # Newcombe (1998), Table II, method 1 (Wald) for example (a): 0.0575 to 0.3425; SE by hand:
    # sqrt(.8 * .2 / 70 + .6 * .4 / 80) = sqrt(0.00528571...) = 0.0727029...
    r = campaign_uplift(*_groups(56, 70, 48, 80), interval="wald")
    assert_allclose(r.interval, (0.0575, 0.3425), atol=5e-5)
    assert_allclose(r.standard_error, np.sqrt(0.8 * 0.2 / 70 + 0.6 * 0.4 / 80), rtol=1e-14)
    assert (r.treated_rate, r.control_rate) == (0.8, 0.6)
    assert_allclose(r.uplift, 0.2, rtol=1e-14)
    assert_allclose(r.relative_uplift, 1 / 3, rtol=1e-14)
    assert_allclose(r.incremental_responders, 14.0, rtol=1e-13)
    assert (r.n_treated, r.n_control, r.responders_treated, r.responders_control) == (
        70,
        80,
        56,
        48,
    )
    assert (r.confidence, r.method) == (0.95, "wald")
    # A control group that never responded has no relative uplift.
    assert campaign_uplift(*_groups(3, 10, 0, 10)).relative_uplift is None
    # 99% interval against mpmath.
    r99 = campaign_uplift(*_groups(56, 70, 48, 80), confidence=0.99)
    assert_allclose(r99.interval, _mp_newcombe(56, 70, 48, 80, 0.99), rtol=1e-12)


counts = st.integers(1, 60).flatmap(
    lambda n_t: st.integers(1, 60).flatmap(
        lambda n_c: st.tuples(st.integers(0, n_t), st.just(n_t), st.integers(0, n_c), st.just(n_c))
    )
)


@given(counts, st.sampled_from(["newcombe", "wald"]))
def test_uplift_interval_properties(c, method):
    k_t, n_t, k_c, n_c = c
    r = campaign_uplift(*_groups(k_t, n_t, k_c, n_c), interval=method)
    lo, hi = r.interval
    assert -1.0 - 1e-12 <= lo <= r.uplift + 1e-12
    assert r.uplift - 1e-12 <= hi <= 1.0 + 1e-12
    # Swapping the groups negates the uplift and mirrors the interval.
    s = campaign_uplift(*_groups(k_c, n_c, k_t, n_t), interval=method)
    assert_allclose(s.uplift, -r.uplift, atol=1e-15)
    assert_allclose(s.interval, (-hi, -lo), atol=1e-12)


@given(counts)
def test_uplift_order_invariance_and_monotone_in_responders(c):
    k_t, n_t, k_c, n_c = c
    resp, ctl = _groups(k_t, n_t, k_c, n_c)
    r = campaign_uplift(resp, ctl)
    flipped = campaign_uplift(resp[::-1], ctl[::-1])
    assert r == flipped
    if k_t < n_t:
        more = campaign_uplift(*_groups(k_t + 1, n_t, k_c, n_c))
        assert more.uplift > r.uplift


def _campaign_table(extra_rows=()):
    day = np.timedelta64(86_400 * 10**9, "ns")
    start = np.datetime64("2024-03-01T09:00", "ns")
    rows = [
        # customer, offset in days, kind, campaign, control
        ("t1", 0, "marketing", "spring", False),
        ("t1", 3, "purchase", None, False),  # responds on day 3
        ("t2", 0, "marketing", "spring", False),
        ("t2", 45, "purchase", None, False),  # too late for a 30-day window
        ("t3", 1, "marketing", "spring", False),
        ("t3", 0, "purchase", None, False),  # before the contact: not a response
        ("t4", 0, "marketing", "spring", False),
        ("t4", 2, "marketing", "spring", False),  # a second contact; the first one counts
        ("t4", 29, "purchase", None, False),
        ("c1", 0, "marketing", "spring", True),
        ("c1", 10, "purchase", None, False),  # control customers buy on their own too
        ("c2", 0, "marketing", "spring", True),
        ("x1", 0, "marketing", "autumn", False),
        ("x1", 1, "purchase", None, False),  # another campaign
        ("n1", 5, "purchase", None, False),  # never contacted
        *extra_rows,
    ]
    return InteractionTable.from_arrays(
        [r[0] for r in rows],
        np.array([start + r[1] * day for r in rows], dtype=NS),
        kinds=[r[2] for r in rows],
        amounts=[10.0 if r[2] == "purchase" else 0.0 for r in rows],
        campaigns=np.array([r[3] for r in rows], dtype=object),
        in_control_group=[r[4] for r in rows],
    )


def test_uplift_from_table_reference():
    # Hand-worked: treated t1..t4, responders t1 and t4 (2 of 4); control c1, c2, responder c1
    # (1 of 2); uplift 0.5 - 0.5 = 0.
    r = campaign_uplift(_campaign_table(), campaign="spring")
    assert (r.n_treated, r.responders_treated, r.n_control, r.responders_control) == (4, 2, 2, 1)
    assert r.uplift == 0.0
    assert_allclose(r.interval, _mp_newcombe(2, 4, 1, 2), rtol=1e-12)
    # A 60-day window also catches t2: 3 of 4.
    assert (
        campaign_uplift(_campaign_table(), campaign="spring", window_days=60).responders_treated
        == 3
    )
    # The autumn campaign has one treated customer and no control group.
    with pytest.raises(InputError, match="must mark at least one control customer"):
        campaign_uplift(_campaign_table(), campaign="autumn")


@pytest.mark.parametrize("window_days", [1e300, 10**30, 200_000.0])
def test_uplift_window_longer_than_the_nanosecond_range(window_days):
    # Any window of more than ~584 years (the whole datetime64[ns] range) catches every
    # purchase after the first contact: t1, t2 and t4 of _campaign_table (t3 bought before).
    r = campaign_uplift(_campaign_table(), campaign="spring", window_days=window_days)
    assert (r.responders_treated, r.responders_control) == (3, 1)


def test_uplift_window_across_the_whole_nanosecond_range():
    # Contact in 1678 and purchase in 2261: 583 years apart, more than int64 nanoseconds
    # hold (~292 years); a 600-year window (219,150 days) includes it, a 500-year one not.
    ns = np.array(["1678-01-01", "2261-01-01", "1678-01-01"], dtype=NS)
    t = InteractionTable.from_arrays(
        ["a", "a", "c"],
        ns,
        kinds=["marketing", "purchase", "marketing"],
        campaigns=np.array(["x", None, "x"], dtype=object),
        in_control_group=[False, False, True],
    )
    assert campaign_uplift(t, window_days=600 * 365.25).responders_treated == 1
    assert campaign_uplift(t, window_days=500 * 365.25).responders_treated == 0


def test_uplift_from_table_errors():
    t = _campaign_table()
    with pytest.raises(InputError, match=r"campaign must be given .* 2 campaigns"):
        campaign_uplift(t)
    with pytest.raises(InputError, match="campaign 'summer' has no marketing rows"):
        campaign_uplift(t, campaign="summer")
    both = _campaign_table([("c2", 1, "marketing", "spring", False)])
    with pytest.raises(
        InputError, match=r"customers must be in one group per campaign; 1 of 6 .*first: 'c2'"
    ):
        campaign_uplift(both, campaign="spring")
    unnamed = InteractionTable.from_arrays(
        [1, 2],
        np.array(["2024-01-01", "2024-01-02"], dtype=NS),
        kinds=["marketing", "purchase"],
        campaigns=np.array([None, None], dtype=object),
        in_control_group=[False, False],
    )
    with pytest.raises(InputError, match="1 marketing rows, none with a campaign label"):
        campaign_uplift(unnamed)
    plain = InteractionTable.from_arrays([1], np.array(["2024-01-01"], dtype=NS))
    with pytest.raises(InputError, match="table must have an in_control_group column"):
        campaign_uplift(plain)
    with pytest.raises(InputError, match=r"window_days must be > 0\.0"):
        campaign_uplift(t, campaign="spring", window_days=0)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (([True, False], [False, False]), {}, InputError, "at least one control customer"),
        (([True, False], [True, True]), {}, InputError, "at least one treated customer"),
        (([True, False], [True]), {}, InputError, "in_control_group must have the same length"),
        (([1, 2], [True, False]), {}, InputError, "data must hold booleans"),
        (([True, False],), {}, InputTypeError, "in_control_group is required"),
        (([True, False], [True, False]), {"confidence": 95}, InputError, "confidence must be <"),
        (
            ([True, False], [True, False]),
            {"interval": "exact"},
            InputError,
            "interval must be one of 'newcombe', 'wald'",
        ),
        (([], []), {}, InputError, "data must not be empty"),
    ],
)
def test_uplift_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        campaign_uplift(*args, **kwargs)


def test_co_purchase_orders_over_years_with_many_customers():
    # Nanosecond order keys spanning 30 years (~9.5e17 ns) times 6 customer codes overflow one
    # int64 key; the slots are then ranked first. Six customers, one order of a and b each,
    # plus a lone order of a by customer 0 one nanosecond later.
    times = np.array(
        ["1995-01-01T10:00:00.000000001"] * 2
        + ["2024-12-31T10:00"] * 10
        + ["1995-01-01T10:00:00.000000002"],
        dtype=NS,
    )
    cust = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 0]
    table = InteractionTable.from_arrays(cust, times, products=["a", "b"] * 6 + ["a"])
    cp = co_purchase(table, basket="order")
    assert cp.n_baskets == 7
    assert cp.n_together.tolist() == [6]
    assert cp.item_baskets.tolist() == [7, 6]

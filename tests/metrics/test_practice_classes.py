"""Classifications as the CRM practice defines them, and movement and worth of classes.

Value tiers VIP / key / ordinary (贵宾型 / 重要型 / 普通型), the ABC tie rule,
the loyal class (长期、重复地), the loyalty ladder climbed rung by rung, the
migration between classes of two snapshots (变动情况), the value share of a
class, and the sales breakdown of the performance analysis. Every expected
value below is worked by hand from the rule in the test's docstring, or
counted by a brute-force Python loop.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import InteractionTable, summarize
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics import (
    LOYALTY_CLASSES,
    MIGRATION_LOST,
    MIGRATION_NEW,
    VALUE_TIERS,
    abc_classes,
    class_value_share,
    ladder_stage,
    loyalty_class,
    pyramid,
    sales_breakdown,
    segment_migration,
    value_tiers,
)
from crmcore.records import Channel, LadderStage
from crmcore.table import PURCHASE_CODE

# --------------------------------------------------------------------------- value tiers


def test_value_tiers_follow_the_practice_wording() -> None:
    """VIP customers are the fewest (数量最少) who bring the most value; key customers the next
    layer; ordinary customers the many, some of them loss-making (甚至会造成企业的亏损).

    Hand-worked: 100 customers with values -5, -1, 1, 2, ..., 98. Default shares 1% / 4%:
    ceil(0.01 * 100) = 1 VIP (value 98), ceil(0.04 * 100) = 4 key (97, 96, 95, 94), the other
    95 ordinary, among them the two loss-makers. Tier sums: 98; 97 + 96 + 95 + 94 = 382;
    (1 + ... + 93) - 5 - 1 = 4371 - 6 = 4365.
    """
    values = np.array([-5.0, -1.0, *range(1, 99)])
    r = value_tiers(values)
    assert r.tier_counts.tolist() == [1, 4, 95]
    assert r.tier_values.tolist() == [98.0, 382.0, 4365.0]
    assert r.labels[values == 98].tolist() == ["vip"]
    assert sorted(values[r.labels == "key"].tolist()) == [94.0, 95.0, 96.0, 97.0]
    assert r.loss_making.tolist() == [True, True] + [False] * 98
    assert r.labels[:2].tolist() == ["ordinary", "ordinary"]
    assert r.ranks[:2].tolist() == [100, 99]
    assert r.customer_shares == (0.01, 0.04)


def test_value_tiers_and_abc_on_the_issue_examples() -> None:
    """The ABC tie rule: ``[400, 300, 200] + [100] * 7`` gives A 3, B 0, C 7, and
    ``[50] * 10 + [5] * 10`` leaves A empty; tiers by rank are never empty.

    ABC by hand, total 1600: cumulative shares 400/1600 = 0.25, 0.4375, 0.5625, then the whole
    tie group of 100s at 1.0 > 0.95 -> C. Second: the ten 50s hold 500/550 = 0.909 > 0.8 -> B.
    Tiers with shares (0.1, 0.2), 10 customers: 1 VIP (400), 2 key (300, 200), 7 ordinary.
    Ties are ranked in input order: of the twenty customers of the second example with
    (0.05, 0.1), the VIP is the first 50 (index 0) and the key customers indices 1 and 2.
    """
    first = [400, 300, 200] + [100] * 7
    assert abc_classes(first).class_counts.tolist() == [3, 0, 7]
    assert value_tiers(first, customer_shares=(0.1, 0.2)).labels.tolist() == (
        ["vip", "key", "key"] + ["ordinary"] * 7
    )
    second = [50] * 10 + [5] * 10
    assert abc_classes(second).class_counts[0] == 0
    t = value_tiers(second, customer_shares=(0.05, 0.1))
    assert t.labels.tolist() == ["vip", "key", "key"] + ["ordinary"] * 17
    # with the default shares, ten customers still give one VIP and one key customer
    assert value_tiers(first).tier_counts.tolist() == [1, 1, 8]


def test_value_tiers_round_the_quota_up_and_the_pyramid_rounds_down() -> None:
    # The two documented rules on 23,570 distinct values (the CDNOW log's customer count):
    # 1% of 23,570 is 235.7; value_tiers fills ceil = 236 VIP seats, the pyramid's top 1%
    # layer holds the customers whose share of customers is at most 1%: floor = 235.
    values = np.arange(23_570, 0, -1, dtype=np.float64)
    tiers = value_tiers(values, customer_shares=(0.01, 0.04))
    layers = pyramid(values, bands=[("top", 0.01), ("big", 0.04), ("rest", 0.95)])
    assert tiers.tier_counts.tolist()[:2] == [236, 943]  # ceil(235.7), ceil(942.8)
    # the pyramid's layers end at floor(235.7) and floor(0.05 * 23,570) = floor(1178.5)
    assert layers.counts.tolist()[:2] == [235, 1178 - 235]
    # the 236th largest value: the last VIP seat, but beyond the pyramid's top 1%
    assert tiers.labels[235] == "vip"
    assert layers.labels[235] == "big"


def test_value_tiers_never_put_a_non_positive_value_in_the_top_tiers() -> None:
    """A customer who brings nothing is not among those bringing the most: 0 and -3 are
    ordinary even when their rank is inside the quota (shares 0.5 / 0.5 of three customers:
    2 VIP ranks, 2 key ranks)."""
    r = value_tiers([0.0, 4.0, -3.0], customer_shares=(0.5, 0.5))
    assert r.labels.tolist() == ["ordinary", "vip", "ordinary"]
    assert r.tier_counts.tolist() == [1, 0, 2]


def test_value_tiers_from_a_summary_keeps_the_ids() -> None:
    ids = ["b", "a", "c", "a"]
    times = np.array(["2024-01-01", "2024-01-02", "2024-01-03", "2024-02-01"], "datetime64[ns]")
    table = InteractionTable.from_arrays(ids, times, amounts=[5.0, 1.0, 9.0, 1.0])
    s = summarize(table, observation_end="2024-03-01")
    r = value_tiers(s, customer_shares=(0.34, 0.0))  # ceil(1.02) = 2 VIP
    assert r.customer_ids is not None
    # a: 2, b: 5, c: 9 -> VIP c and b
    assert dict(zip(r.customer_ids.tolist(), r.labels.tolist(), strict=True)) == {
        "a": "ordinary",
        "b": "vip",
        "c": "vip",
    }


values_st = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=1, max_size=40
)
shares_st = st.tuples(st.floats(0.001, 0.5), st.floats(0.0, 0.5))


@given(values=values_st, shares=shares_st)
def test_value_tiers_are_monotone_in_value(
    values: list[float], shares: tuple[float, float]
) -> None:
    r = value_tiers(values, customer_shares=shares)
    rank = {t: i for i, t in enumerate(VALUE_TIERS)}
    code = np.array([rank[t] for t in r.labels.tolist()])
    x = np.array(values)
    # a strictly larger value never has a worse (larger) tier code
    larger = x[:, None] > x[None, :]
    assert not (larger & (code[:, None] > code[None, :])).any()
    assert r.tier_counts.sum() == x.size
    assert (r.loss_making == (x < 0)).all()
    assert sorted(r.ranks.tolist()) == list(range(1, x.size + 1))


@given(values=values_st, data=st.data())
def test_value_tiers_do_not_depend_on_the_order_of_distinct_values(
    values: list[float], data: st.DataObject
) -> None:
    perm = data.draw(st.permutations(range(len(values))))
    base = value_tiers(values, customer_shares=(0.1, 0.2))
    moved = value_tiers([values[i] for i in perm], customer_shares=(0.1, 0.2))
    assert moved.tier_counts.tolist() == base.tier_counts.tolist()
    if len(set(values)) == len(values):
        assert moved.labels.tolist() == [base.labels[i] for i in perm]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: value_tiers([]), InputError, "values must not be empty"),
        (lambda: value_tiers([1.0, np.nan]), InputError, "values must"),
        (lambda: value_tiers([1.0], customer_shares=(0.6, 0.6)), InputError, "add up to"),
        (lambda: value_tiers([1.0], customer_shares=(0.0, 0.1)), InputError, r"shares\[0\]"),
        (lambda: value_tiers([1.0], customer_shares=(0.1, -0.1)), InputError, r"shares\[1\]"),
        (lambda: value_tiers([1.0], customer_shares=0.1), InputTypeError, "a pair"),  # type: ignore[arg-type]
        (lambda: value_tiers(["x"]), InputTypeError, "values"),
    ],
)
def test_value_tiers_errors(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


# --------------------------------------------------------------------------- value share


def test_loyal_share_of_sales_is_one_call() -> None:
    """忠诚客户通常贡献60%-70%的销售额 (loyal customers usually bring 60-70% of sales).

    Hand-worked: two loyal customers spend 400 + 250 = 650 of a total 1000 -> 0.65; the
    classes follow LOYALTY_CLASSES, 'potential' without customers gets zeros.
    """
    labels = ["loyal", "new", "old", "loyal", "new"]
    spend = [400.0, 100.0, 200.0, 250.0, 50.0]
    r = class_value_share(labels, spend, classes=LOYALTY_CLASSES)
    assert r.share_of("loyal") == pytest.approx(0.65, rel=1e-15)
    assert r.classes.tolist() == list(LOYALTY_CLASSES)
    assert r.n_customers.tolist() == [0, 2, 1, 2]
    assert r.customer_shares.tolist() == [0.0, 0.4, 0.2, 0.4]
    assert r.values.tolist() == [0.0, 150.0, 200.0, 650.0]


def test_value_share_with_a_loss_making_class_and_int_labels() -> None:
    # margins 30, 10, -20 by ABC-like int labels 1, 2, 2; total 20 -> 30/20 = 1.5, -10/20 = -0.5
    r = class_value_share([1, 2, 2], [30.0, 10.0, -20.0])
    assert r.classes.tolist() == ["1", "2"]
    assert r.value_shares.tolist() == [1.5, -0.5]


@given(
    data=st.data(),
    n=st.integers(1, 30),
)
def test_value_shares_sum_to_one_in_any_order(data: st.DataObject, n: int) -> None:
    labels = data.draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n))
    values = data.draw(st.lists(st.floats(0.5, 1e4), min_size=n, max_size=n))
    r = class_value_share(labels, values)
    assert r.value_shares.sum() == pytest.approx(1.0, rel=1e-12)
    assert r.n_customers.sum() == n
    perm = data.draw(st.permutations(range(n)))
    moved = class_value_share([labels[i] for i in perm], [values[i] for i in perm])
    assert moved.n_customers.tolist() == r.n_customers.tolist()
    np.testing.assert_allclose(moved.value_shares, r.value_shares, rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: class_value_share(["a", "b"], [1.0]), InputError, "same length"),
        (lambda: class_value_share(["a", None], [1.0, 2.0]), InputError, "labels must not"),
        (lambda: class_value_share(["a"], [1.0], classes=["b"]), InputError, "not in classes"),
        (lambda: class_value_share(["a"], [1.0], classes=["a", "a"]), InputError, "distinct"),
        (lambda: class_value_share(["a"], [1.0], classes="a"), InputTypeError, "classes"),
        (lambda: class_value_share(["a", "b"], [1.0, -1.0]), InputError, "positive total"),
        (lambda: class_value_share([1.5, 2.5], [1.0, 1.0]), InputTypeError, "labels must hold"),
        (
            lambda: class_value_share(np.array([1, "1"], dtype=object), [1.0, 1.0]),
            InputTypeError,
            "labels must hold mutually comparable",
        ),
        (lambda: class_value_share(["a"], [1.0]).share_of("z"), InputError, "one of the classes"),
    ],
)
def test_value_share_errors(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


# --------------------------------------------------------------------------- migration


def test_segment_migration_hand_case() -> None:
    """The persistency analysis follows the 变动情况 (changes) of the classes between two
    snapshots: who stayed, who moved up or down, who is new and who was lost.

    Before: 1 loyal, 2 old, 3 new, 4 new. After: 1 loyal, 2 loyal, 3 old, 5 new.
    By hand: new -> old (3), new -> lost (4); old -> loyal (2); loyal -> loyal (1);
    (new) -> new (5). Row shares of 'new': 1/2 to old, 1/2 lost.
    """
    m = segment_migration(
        ["loyal", "old", "new", "new"],
        ["loyal", "loyal", "old", "new"],
        customer_ids_before=[1, 2, 3, 4],
        customer_ids_after=[1, 2, 3, 5],
        classes=["new", "old", "loyal"],
    )
    assert m.row_labels.tolist() == ["new", "old", "loyal", MIGRATION_NEW]
    assert m.column_labels.tolist() == ["new", "old", "loyal", MIGRATION_LOST]
    assert m.counts.tolist() == [[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0]]
    assert m.row_shares.tolist()[0] == [0.0, 0.5, 0.0, 0.5]
    assert (m.n_before, m.n_after) == (4, 4)
    cells = m.cell_columns()
    assert len(cells["before"]) == 16
    assert cells["count"].sum() == 5  # five customers in the union


def test_segment_migration_aligned_rows_and_sorted_classes() -> None:
    m = segment_migration(["b", "a", "a"], ["a", "a", "c"])
    assert m.classes.tolist() == ["a", "b", "c"]
    assert m.counts[:3, :3].tolist() == [[1, 0, 1], [1, 0, 0], [0, 0, 0]]
    assert m.counts[3].sum() == 0
    assert m.counts[:, 3].sum() == 0
    assert m.row_shares[2].tolist() == [0.0, 0.0, 0.0, 0.0]  # an empty row holds zeros


def _brute_migration(
    before: dict[int, str], after: dict[int, str], classes: list[str]
) -> list[list[int]]:
    rows = [*classes, "new"]
    cols = [*classes, "lost"]
    counts = [[0] * len(cols) for _ in rows]
    for cid in set(before) | set(after):
        r = rows.index(before.get(cid, "new"))
        c = cols.index(after.get(cid, "lost"))
        counts[r][c] += 1
    return counts


@given(data=st.data())
def test_segment_migration_properties(data: st.DataObject) -> None:
    ids_b = data.draw(st.lists(st.integers(0, 40), unique=True, max_size=25))
    ids_a = data.draw(st.lists(st.integers(0, 40), unique=True, max_size=25))
    lab = st.sampled_from(["x", "y", "z"])
    lab_b = data.draw(st.lists(lab, min_size=len(ids_b), max_size=len(ids_b)))
    lab_a = data.draw(st.lists(lab, min_size=len(ids_a), max_size=len(ids_a)))
    classes = ["x", "y", "z"]
    m = segment_migration(
        lab_b, lab_a, customer_ids_before=ids_b, customer_ids_after=ids_a, classes=classes
    )
    # rows of the earlier snapshot's classes sum to its customers, per class and in all
    assert m.counts[:3].sum() == len(ids_b)
    assert m.counts[:3].sum(axis=1).tolist() == [lab_b.count(c) for c in classes]
    assert m.counts[:, :3].sum() == len(ids_a)
    assert m.counts[3, 3] == 0
    expected = _brute_migration(
        dict(zip(ids_b, lab_b, strict=True)), dict(zip(ids_a, lab_a, strict=True)), classes
    )
    assert m.counts.tolist() == expected
    full = m.counts.sum(axis=1) > 0
    np.testing.assert_allclose(m.row_shares.sum(axis=1)[full], 1.0)
    # order invariance: shuffle each snapshot on its own
    pb = data.draw(st.permutations(range(len(ids_b))))
    pa = data.draw(st.permutations(range(len(ids_a))))
    moved = segment_migration(
        [lab_b[i] for i in pb],
        [lab_a[i] for i in pa],
        customer_ids_before=[ids_b[i] for i in pb],
        customer_ids_after=[ids_a[i] for i in pa],
        classes=classes,
    )
    assert moved.counts.tolist() == m.counts.tolist()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: segment_migration(["a", "b"], ["a"]), InputError, "same length"),
        (
            lambda: segment_migration(["a"], ["a"], customer_ids_before=[1]),
            InputError,
            "given together",
        ),
        (
            lambda: segment_migration(
                ["a", "b"], ["a"], customer_ids_before=[1, 1], customer_ids_after=[1]
            ),
            InputError,
            "customer_ids_before must be distinct",
        ),
        (
            lambda: segment_migration(
                ["a", "b"], ["a"], customer_ids_before=[1], customer_ids_after=[1]
            ),
            InputError,
            "customer_ids_before must have the same length as classes_before",
        ),
        (
            lambda: segment_migration(["a"], ["b"], classes=["a"]),
            InputError,
            "classes_after holds labels that are not in classes",
        ),
        (lambda: segment_migration(["(new)"], ["a"]), InputError, "must not hold the label"),
        (lambda: segment_migration([["a"]], ["a"]), InputError, "classes_before must be 1-dim"),
        (lambda: segment_migration(["a", None], ["a", "b"]), InputError, "missing labels"),
        (
            lambda: segment_migration(
                ["a"], ["a"], customer_ids_before=[1], customer_ids_after=["1"]
            ),
            InputTypeError,
            "customer_ids",
        ),
    ],
)
def test_segment_migration_errors(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


# --------------------------------------------------------------------------- loyalty class


def test_loyal_means_over_a_long_time_and_repeatedly() -> None:
    """Loyal customers buy 长期、重复地 (over a long time, repeatedly): "a customer with 4
    purchases in the last 10 days" is not loyal, whatever the count.

    Hand-worked with the defaults (4 occasions, last within 365 days, first at least 365 days
    ago): (4, 0, 10) -> old; (4, 0, 365) -> loyal; (4, 0, 364) -> old; (3, 0, 900) -> old.
    """
    out = loyalty_class([4, 4, 4, 3], [0.0, 0.0, 0.0, 0.0], [10.0, 365.0, 364.0, 900.0])
    assert out.tolist() == ["old", "loyal", "old", "old"]
    assert loyalty_class(4, 0.0, 10.0) == "old"
    # the tenure default is a year in the time unit: 12 months
    assert loyalty_class([4, 4], [1.0, 1.0], [12.0, 11.0], time_unit="M").tolist() == [
        "loyal",
        "old",
    ]


def test_loyalty_class_tenure_from_a_summary() -> None:
    # a buys on 2023-01-10, 2023-06-01, 2023-11-01, 2024-03-01: tenure 446 days at
    # 2024-03-31 -> loyal; b buys four times in March 2024: tenure 26 days -> old
    ids = ["a"] * 4 + ["b"] * 4
    days = ["2023-01-10", "2023-06-01", "2023-11-01", "2024-03-01"]
    days += ["2024-03-05", "2024-03-10", "2024-03-20", "2024-03-30"]
    table = InteractionTable.from_arrays(ids, np.array(days, "datetime64[ns]"), amounts=[1.0] * 8)
    s = summarize(table, observation_end="2024-03-31")
    assert loyalty_class(s).tolist() == ["loyal", "old"]
    assert loyalty_class(s, min_tenure=20).tolist() == ["loyal", "loyal"]


def test_satisfaction_and_referrals_count_where_given() -> None:
    """Where satisfaction is given, a loyal customer is satisfied or has referred someone;
    referrals alone never demote anyone.

    Four behaviourally loyal customers (6 occasions, last 20 days, first 700 days ago):
    satisfied -> loyal; not satisfied, no referral -> old; not satisfied, 2 referrals -> loyal.
    """
    n, last, first = [6, 6, 6], [20.0] * 3, [700.0] * 3
    sat = [True, False, False]
    refs = [0, 0, 2]
    assert loyalty_class(n, last, first, satisfied=sat).tolist() == ["loyal", "old", "old"]
    assert loyalty_class(n, last, first, satisfied=sat, n_referrals=refs).tolist() == [
        "loyal",
        "old",
        "loyal",
    ]
    assert loyalty_class(n, last, first, n_referrals=refs).tolist() == ["loyal"] * 3


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: loyalty_class([4], [1.0]), InputTypeError, "tenure .* is required with arrays"),
        (lambda: loyalty_class([4], [10.0], [5.0]), InputError, "tenure must be a number >="),
        (lambda: loyalty_class([4], [1.0], [np.nan]), InputError, "tenure must be a number"),
        (lambda: loyalty_class([4, 1], [1.0, 1.0], [9.0]), InputError, "tenure must have"),
        (
            lambda: loyalty_class([4], [1.0], [9.0], min_tenure=-1),
            InputError,
            "min_tenure must be >= 0",
        ),
        (
            lambda: loyalty_class([4], [1.0], [9.0], satisfied=[0.5]),
            InputError,
            "satisfied must hold booleans",
        ),
        (
            lambda: loyalty_class([4], [1.0], [9.0], satisfied=[True, False]),
            InputError,
            "satisfied must have one value per customer",
        ),
        (
            lambda: loyalty_class([4], [1.0], [9.0], n_referrals=[-1]),
            InputError,
            "n_referrals must be non-negative",
        ),
    ],
)
def test_loyalty_class_tenure_errors(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


def test_tenure_is_left_out_with_a_summary() -> None:
    table = InteractionTable.from_arrays(
        [1], np.array(["2024-01-01"], "datetime64[ns]"), amounts=[1.0]
    )
    s = summarize(table, observation_end="2024-02-01")
    with pytest.raises(InputTypeError, match="tenure must be left out"):
        loyalty_class(s, tenure=[1.0])


# --------------------------------------------------------------------------- ladder


def test_ladder_is_climbed_rung_by_rung() -> None:
    """The ladder 预期客户 → 合格预期 → 首次购买 → 重复购买 → 忠诚 → 会员 → 拥护者 is climbed
    rung by rung: "a one-time buyer from three years ago who referred a friend" is not an
    advocate and "a one-time buyer who joined the programme" is not a member; both are
    first-time buyers (one purchase: the repeat rung fails).
    """
    three_years = 3 * 365.0
    stages = ladder_stage(
        [1, 1, 5, 5, 5],
        [three_years, 30.0, 30.0, 30.0, 30.0],
        [three_years, 30.0, 800.0, 800.0, 800.0],
        member=[False, True, False, True, False],
        n_referrals=[1, 0, 1, 0, 0],
        promoter=[False, False, False, False, True],
    )
    assert stages.tolist() == [
        "first_time_buyer",  # referred a friend, one purchase
        "first_time_buyer",  # joined the programme, one purchase
        "loyal",  # loyal referrer who is not a member: the member rung fails
        "member",
        "loyal",  # loyal promoter, not a member
    ]


def test_ladder_without_membership_data_skips_the_member_rung() -> None:
    # 5 occasions over 800 days, a referrer: loyal, and no programme data -> advocate
    assert ladder_stage(5, 30.0, 800.0, n_referrals=1) == "advocate"
    # but a repeat buyer who is not loyal (first purchase 100 days ago) stays a repeat buyer
    assert ladder_stage(5, 30.0, 100.0, n_referrals=1) == "repeat_buyer"


def _rung_conditions(
    n: int,
    since: float,
    tenure: float,
    *,
    member: bool | None,
    promoter: bool,
    refs: int,
    qualified: bool,
) -> list[bool]:
    """The conditions of the rungs 1..6, each on its own (not the ones below), by hand."""
    advocacy = promoter or refs > 0
    return [
        n == 0 and (qualified or bool(member) or advocacy),  # qualified prospect
        n >= 1,  # first-time buyer
        n >= 2,  # repeat buyer
        n >= 4 and since <= 365 and tenure >= 365,  # loyal
        True if member is None else member,  # member (skipped without data)
        advocacy,  # advocate
    ]


@given(data=st.data(), size=st.integers(1, 12), with_member=st.booleans())
def test_ladder_stage_never_above_a_rung_whose_conditions_fail(
    data: st.DataObject, size: int, *, with_member: bool
) -> None:
    def draw(s: st.SearchStrategy[object]) -> list[object]:
        return data.draw(st.lists(s, min_size=size, max_size=size))

    n = draw(st.integers(0, 8))
    since = draw(st.floats(0, 800))
    extra = draw(st.floats(0, 800))
    tenure = [s + e for s, e in zip(since, extra, strict=True)]  # type: ignore[operator]
    member = draw(st.booleans()) if with_member else None
    promoter, qualified = draw(st.booleans()), draw(st.booleans())
    refs = draw(st.integers(0, 3))
    stages = ladder_stage(
        n, since, tenure, member=member, promoter=promoter, n_referrals=refs, qualified=qualified
    )
    order = list(LadderStage)
    for i in range(size):
        cond = _rung_conditions(
            n[i],  # type: ignore[arg-type]
            since[i],  # type: ignore[arg-type]
            tenure[i],
            member=None if member is None else bool(member[i]),
            promoter=bool(promoter[i]),
            refs=refs[i],  # type: ignore[arg-type]
            qualified=bool(qualified[i]),
        )
        level = order.index(LadderStage(stages[i]))
        # the stage never stands above a rung whose own condition fails
        if level == 1:
            assert cond[0]
        for rung in range(2, level + 1):
            skipped = rung == 5 and member is None
            assert skipped or cond[rung - 1], (rung, cond, stages[i])
        # climbing by hand: the highest rung up to which every condition holds
        if n[i] == 0:  # type: ignore[comparison-overlap]
            expected = 1 if cond[0] else 0
        else:
            expected = 1
            for rung in range(2, 7):
                if rung == 5 and member is None:
                    continue
                if not cond[rung - 1]:
                    break
                expected = rung
        assert level == expected


def test_ladder_rung_rule_against_loyalty_class() -> None:
    # the loyal rung is loyalty_class's loyal: the same customers, with no flags
    rng = np.random.default_rng(3)
    n = rng.integers(0, 9, 200)
    since = np.where(n > 0, rng.uniform(0, 700, 200), np.nan)
    tenure = since + rng.uniform(0, 700, 200)
    stage = ladder_stage(n, since, tenure)
    cls = loyalty_class(n, since, tenure)
    assert ((stage == "loyal") == (cls == "loyal")).all()


# --------------------------------------------------------------------------- sales breakdown


def _table() -> InteractionTable:
    rng = np.random.default_rng(7)
    size = 300
    ids = rng.integers(0, 40, size)
    times = np.datetime64("2024-01-01", "ns") + rng.integers(0, 20, size).astype("timedelta64[D]")
    kinds = np.where(rng.random(size) < 0.85, "purchase", "refund")
    amounts = np.round(rng.uniform(1, 100, size), 2)
    margins = np.round(amounts * rng.uniform(-0.2, 0.5, size), 2)
    categories = rng.choice(np.array(["tea", "cups", "pots", ""], dtype=object), size)
    regions = rng.choice(np.array(["north", "south"]), size)
    channels = rng.choice(np.array(["store", "online"]), size)
    return InteractionTable.from_arrays(
        ids,
        times,
        kinds=kinds,
        amounts=amounts,
        margins=margins,
        categories=categories,
        regions=regions,
        channels=channels,
    )


@pytest.mark.parametrize("by", ["category", "region", "channel"])
def test_sales_breakdown_matches_a_brute_force_count(by: str) -> None:
    """The performance analysis (7P): revenue, margin, customers and orders per group, from
    the purchase rows; an order is one customer's purchase rows with one timestamp.
    Reference: a Python loop over the rows."""
    t = _table()
    b = sales_breakdown(t, by)
    column = {"category": t.categories, "region": t.regions, "channel": t.channels}[by]
    assert column is not None
    assert t.margins is not None
    groups: dict[str, dict[str, object]] = {}
    for i in range(t.customer_codes.size):
        if t.kinds[i] != PURCHASE_CODE:
            continue
        raw = column[i]
        label = str(raw)
        if by == "channel":
            label = list(Channel)[int(raw)].value if raw >= 0 else ""
        g = groups.setdefault(label, {"rev": 0.0, "mar": 0.0, "cust": set(), "ord": set(), "n": 0})
        g["rev"] += float(t.amounts[i])  # type: ignore[operator]
        g["mar"] += float(t.margins[i])  # type: ignore[operator]
        g["cust"].add(int(t.customer_codes[i]))  # type: ignore[attr-defined]
        g["ord"].add((int(t.customer_codes[i]), int(t.times[i].view("int64"))))  # type: ignore[attr-defined]
        g["n"] += 1  # type: ignore[operator]
    assert sorted(b.labels.tolist()) == sorted(groups)
    total = sum(g["rev"] for g in groups.values())  # type: ignore[misc]
    for k, label in enumerate(b.labels.tolist()):
        g = groups[label]
        assert b.revenue[k] == pytest.approx(g["rev"], rel=1e-12)
        assert b.margin is not None
        assert b.margin[k] == pytest.approx(g["mar"], rel=1e-9)
        assert b.n_customers[k] == len(g["cust"])  # type: ignore[arg-type]
        assert b.n_purchases[k] == len(g["ord"])  # type: ignore[arg-type]
        assert b.n_items[k] == g["n"]
        assert b.revenue_shares[k] == pytest.approx(g["rev"] / total, rel=1e-12)  # type: ignore[operator]
    assert (np.diff(b.revenue) <= 0).all()  # largest revenue first


def test_sales_breakdown_without_margins_and_errors() -> None:
    t = InteractionTable.from_arrays(
        [1, 2],
        np.array(["2024-01-01", "2024-01-02"], "datetime64[ns]"),
        amounts=[3.0, 1.0],
        products=["p", "q"],
    )
    b = sales_breakdown(t, "product")
    assert b.margin is None
    assert b.margin_rates is None
    assert list(b.group_columns()) == [
        "product",
        "revenue",
        "revenue_shares",
        "n_customers",
        "n_purchases",
        "n_items",
    ]
    with pytest.raises(InputError, match="by must be one of"):
        sales_breakdown(t, "colour")
    with pytest.raises(InputError, match="by='region' needs the table's regions column"):
        sales_breakdown(t, "region")
    with pytest.raises(InputTypeError, match="table must be an InteractionTable"):
        sales_breakdown([1, 2], "product")  # type: ignore[arg-type]


def test_sales_breakdown_order_invariance() -> None:
    t = _table()
    perm = np.random.default_rng(1).permutation(t.customer_codes.size)
    assert t.categories is not None
    assert t.margins is not None
    assert t.regions is not None
    shuffled = InteractionTable.from_arrays(
        t.customer_ids[t.customer_codes][perm],
        t.times[perm],
        kinds=np.array(["purchase", "refund"])[np.where(t.kinds[perm] == PURCHASE_CODE, 0, 1)],
        amounts=t.amounts[perm],
        margins=t.margins[perm],
        categories=t.categories[perm],
        regions=t.regions[perm],
    )
    a, b = sales_breakdown(t, "category"), sales_breakdown(shuffled, "category")
    assert a.labels.tolist() == b.labels.tolist()
    np.testing.assert_allclose(a.revenue, b.revenue, rtol=1e-12)
    assert a.n_purchases.tolist() == b.n_purchases.tolist()


def test_names_of_all_tier_and_migration_labels_are_distinct() -> None:
    labels = [*VALUE_TIERS, MIGRATION_NEW, MIGRATION_LOST]
    assert len(set(labels)) == len(labels)
    assert not set(itertools.chain(VALUE_TIERS)) & set(LOYALTY_CLASSES)


def test_sales_breakdown_counts_orders_by_order_id() -> None:
    """Two orders of one customer placed at the same moment are two orders once the table
    carries order ids; without ids they are one (the rows of one customer and timestamp).
    Hand-worked: customer 1 buys orders A and B at 10:00 (three rows), customer 2 one row."""
    times = np.array(
        ["2024-01-01T10", "2024-01-01T10", "2024-01-01T10", "2024-01-02"], "datetime64[ns]"
    )
    kwargs = {"amounts": [3.0, 2.0, 4.0, 5.0], "regions": ["north"] * 4}
    with_ids = InteractionTable.from_arrays(
        [1, 1, 1, 2], times, order_ids=["A", "B", "B", "C"], **kwargs
    )
    without = InteractionTable.from_arrays([1, 1, 1, 2], times, **kwargs)
    assert sales_breakdown(with_ids, "region").n_purchases.tolist() == [3]
    assert sales_breakdown(without, "region").n_purchases.tolist() == [2]

"""Survey rows labelled by question, and orders identified by an order id."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import InputError, InputTypeError, Interaction, InteractionTable
from crmcore.metrics import ces, co_purchase, csat, nps, revenue_tree

UTC = dt.UTC
DAY = np.datetime64("2024-01-01", "ns")


def _days(*d: int) -> np.ndarray:
    return DAY + np.array(d) * np.timedelta64(1, "D")


def _surveys() -> InteractionTable:
    # Three customers answer a 0-10 recommendation question; two of them also a 1-10
    # satisfaction question (CSAT on ten points) and one a 1-7 effort question.
    return InteractionTable.from_arrays(
        [1, 2, 3, 1, 2, 3],
        _days(0, 1, 2, 3, 4, 5),
        kinds=["survey"] * 6,
        survey_scores=[10, 6, 9, 2, 1, 7],
        survey_scale_min=[0, 0, 0, 1, 1, 1],
        survey_scale_max=[10, 10, 10, 10, 10, 7],
        survey_questions=["nps", "nps", "nps", "csat", "csat", "ces"],
    )


def test_a_ten_point_csat_is_not_read_as_nps() -> None:
    """Answers 2 and 1 to a 1-10 satisfaction question would be two NPS detractors."""
    t = _surveys()
    # NPS by hand from 10, 6, 9: promoters 2, detractors 1 of 3 -> 100 * (2 - 1) / 3.
    r = nps(t)
    assert (r.promoters, r.passives, r.detractors) == (2, 0, 1)
    assert r.score == pytest.approx(100 / 3, rel=1e-15)
    # CSAT on 10 points, top two boxes (9-10): none of 2 and 1.
    c = csat(t, scale=10)
    assert (c.k, c.n) == (0, 2)
    # CES needs two answers; the one 1-7 answer is found, and its count checked.
    with pytest.raises(InputError, match="at least 2 answers for a Student-t interval, got 1"):
        ces(t)
    with pytest.raises(InputError, match="answers to 'ces' must be on the scale 1-5"):
        ces(t, scale=5)


def test_survey_labels_refused_when_missing_or_mixed() -> None:
    unlabelled = InteractionTable.from_arrays(
        [1, 2],
        _days(0, 1),
        kinds=["survey"] * 2,
        survey_scores=[10, 2],
        survey_scale_min=[0, 1],
        survey_scale_max=[10, 10],
    )
    with pytest.raises(InputError, match=r"carry no question label.*1-10 CSAT"):
        nps(unlabelled)
    mixed = InteractionTable.from_arrays(
        [1, 2, 3],
        _days(0, 1, 2),
        kinds=["survey"] * 3,
        survey_scores=[10, 2, 9],
        survey_scale_min=[0, 1, 0],
        survey_scale_max=[10, 10, 10],
        survey_questions=["nps", None, ""],
    )
    with pytest.raises(InputError, match=r"mixes labelled and unlabelled.*2 of 3.*index 1"):
        nps(mixed)
    t = _surveys()
    with pytest.raises(
        InputError,
        match="no answer to the question 'effort'; questions found: 'ces', 'csat', 'nps'",
    ):
        nps(t, question="effort")
    with pytest.raises(InputError, match=r"answers to 'csat' must be on the scale 0-10.*index 3"):
        nps(t, question="csat")
    with pytest.raises(InputError, match="answers to 'csat' must be on the scale 1-5"):
        csat(t)
    with pytest.raises(InputTypeError, match="question must be a str"):
        nps(t, question=3)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="question must not be an empty string"):
        csat(t, question="")
    no_scores = InteractionTable.from_arrays([1], _days(0))
    with pytest.raises(InputError, match="the table has no survey_scores column"):
        nps(no_scores)
    with pytest.raises(InputTypeError, match="survey_questions labels survey answers"):
        InteractionTable.from_arrays([1], _days(0), survey_questions=["nps"])
    with pytest.raises(InputError, match="survey_questions must have 1 values"):
        InteractionTable.from_arrays(
            [1],
            _days(0),
            kinds=["survey"],
            survey_scores=[3],
            survey_scale_min=[0],
            survey_scale_max=[10],
            survey_questions=["nps", "csat"],
        )


def test_question_and_order_from_records_and_select() -> None:
    when = dt.datetime(2024, 1, 1, tzinfo=UTC)
    recs = [
        Interaction(
            customer_id=1, timestamp=when, kind="survey", survey_score=9, survey_question="nps"
        ),
        Interaction(customer_id=1, timestamp=when, kind="purchase", amount=3.0, order_id="o1"),
        Interaction(customer_id=2, timestamp=when, kind="purchase", amount=4.0, order_id=17),
    ]
    t = InteractionTable.from_records(recs)
    assert t.survey_questions is not None
    assert t.order_ids is not None
    assert t.survey_questions.tolist() == ["nps", None, None]
    assert t.order_ids.tolist() == [None, "o1", 17]
    assert nps(t).promoters == 1
    sub = t.select(np.array([2, 0]))
    assert sub.order_ids is not None
    assert sub.order_ids.tolist() == [17, None]
    assert Interaction.from_dict(recs[0].to_dict()) == recs[0]
    assert Interaction.from_dict(recs[2].to_dict()).order_id == 17
    # Tables built without the new columns do not have them.
    plain = InteractionTable.from_records(
        [Interaction(customer_id=1, timestamp=when, kind="purchase", amount=1.0)]
    )
    assert plain.survey_questions is None
    assert plain.order_ids is None
    with pytest.raises(InputError, match="survey_question labels a survey_score"):
        Interaction(customer_id=1, timestamp=when, kind="support", survey_question="nps")
    with pytest.raises(InputError, match="survey_question must not be an empty string"):
        Interaction(
            customer_id=1, timestamp=when, kind="survey", survey_score=3, survey_question=""
        )
    with pytest.raises(InputError, match="order_id must not be an empty string"):
        Interaction(customer_id=1, timestamp=when, kind="purchase", amount=1.0, order_id="")
    with pytest.raises(InputTypeError, match="order_id must be an int, a str or None, got float"):
        Interaction(customer_id=1, timestamp=when, kind="purchase", amount=1.0, order_id=1.5)  # type: ignore[arg-type]


def test_order_codes_hand_worked() -> None:
    # Customer 1 buys at 10:00 two items of order A and, in the same minute, one of order B
    # (one timestamp, two orders); customer 2 reuses the label A (another order); customer 3's
    # rows have no label and fall back to one order per timestamp.
    t = InteractionTable.from_arrays(
        [1, 1, 1, 2, 3, 3, 3],
        _days(0, 0, 0, 0, 1, 1, 2),
        amounts=[1.0] * 7,
        order_ids=["A", "A", "B", "A", None, None, None],
    )
    codes = t.order_codes()
    assert codes.tolist() == [0, 0, 1, 2, 3, 3, 4]
    assert not codes.flags.writeable
    # Without order ids: one order per (customer, timestamp).
    plain = InteractionTable.from_arrays(
        [1, 1, 1, 2, 3, 3, 3], _days(0, 0, 0, 0, 1, 1, 2), amounts=[1.0] * 7
    )
    assert plain.order_codes().tolist() == [0, 0, 0, 1, 2, 2, 3]
    assert InteractionTable.from_arrays([], np.array([], "datetime64[ns]")).order_codes().size == 0


def test_orders_counted_by_order_id() -> None:
    # co_purchase basket="order": bread+butter in order A, jam alone in order B, same time.
    t = InteractionTable.from_arrays(
        [1, 1, 1],
        _days(0, 0, 0),
        amounts=[1.0, 2.0, 3.0],
        products=["bread", "butter", "jam"],
        order_ids=["A", "A", "B"],
    )
    cp = co_purchase(t, basket="order")
    assert cp.n_baskets == 2
    assert list(zip(cp.item_a.tolist(), cp.item_b.tolist(), strict=True)) == [("bread", "butter")]
    plain = InteractionTable.from_arrays(
        [1, 1, 1], _days(0, 0, 0), amounts=[1.0, 2.0, 3.0], products=["bread", "butter", "jam"]
    )
    assert co_purchase(plain, basket="order").n_baskets == 1
    # revenue_tree: January 4 rows in 2 orders of one customer; February 3 rows in 3 orders.
    rows = InteractionTable.from_arrays(
        [1, 1, 1, 1, 1, 2, 2],
        _days(0, 0, 1, 1, 31, 32, 33),
        amounts=[1.0] * 7,
        order_ids=["A", "A", "B", "B", "C", "D", "E"],
    )
    tree = revenue_tree(rows, ("2024-01-01", "2024-02-01"), ("2024-02-01", "2024-03-01"))
    assert (tree.n_orders_1, tree.n_orders_2) == (2, 3)
    assert tree.spend_per_order_1 == 2.0


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.none() | st.integers(0, 2)),
        min_size=1,
        max_size=20,
    ),
    st.randoms(use_true_random=False),
)
def test_order_codes_properties(rows, rnd) -> None:
    """Same order code iff same customer and order id (or, unlabelled, same timestamp)."""
    cust = [r[0] for r in rows]
    t = InteractionTable.from_arrays(
        cust, _days(*[r[1] for r in rows]), order_ids=np.array([r[2] for r in rows], dtype=object)
    )
    codes = t.order_codes()
    key = [(r[0], r[2] is None, r[1] if r[2] is None else r[2]) for r in rows]
    for i in range(len(rows)):
        for j in range(len(rows)):
            assert (codes[i] == codes[j]) == (key[i] == key[j])
    assert sorted(set(codes.tolist())) == list(range(len(set(key))))
    perm = list(range(len(rows)))
    rnd.shuffle(perm)
    shuffled = t.select(np.array(perm)).order_codes()
    assert len(set(shuffled.tolist())) == len(set(codes.tolist()))
    for a in range(len(rows)):
        for b in range(len(rows)):
            assert (shuffled[a] == shuffled[b]) == (codes[perm[a]] == codes[perm[b]])


def test_simulated_surveys_carry_their_question() -> None:
    from crmcore.simulate import SurveyOptions, customer_base

    base = customer_base(
        200,
        start="2024-01-01",
        observation_end="2024-12-31",
        surveys=SurveyOptions(response_rate=0.5, questions=("nps", "csat", "ces")),
        rng=3,
    )
    t = base.table
    assert t.survey_questions is not None
    assert t.survey_scores is not None
    assert t.survey_scale_max is not None
    answered = ~np.isnan(t.survey_scores)
    # Each label sits on the answers of its scale (nps 0-10, csat 1-5, ces 1-7), nowhere else.
    for question, top in (("nps", 10), ("csat", 5), ("ces", 7)):
        rows = t.survey_questions == question
        assert (rows == (answered & (t.survey_scale_max == top))).all()
    assert (t.survey_questions[~answered] == "").all()
    by_scale = t.survey_scores[answered & (t.survey_scale_max == 10)]
    assert nps(t).score == nps(by_scale).score

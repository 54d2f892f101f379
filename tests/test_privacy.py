"""Privacy: personal fields out of every repr, consent by purpose, pseudonymised tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from crmcore import (
    Consent,
    Customer,
    CustomerSource,
    CustomerSummary,
    InputError,
    InputTypeError,
    Interaction,
    InteractionTable,
    PartyKind,
    Relationship,
    SourceClass,
    filter_by_consent,
    pseudonymize_ids,
    records,
    summarize,
)
from crmcore.metrics import historical_value, nps

UTC = dt.UTC
JAN = dt.datetime(2024, 1, 1, tzinfo=UTC)
JUN = dt.datetime(2024, 6, 1, tzinfo=UTC)

# ----------------------------------------------------------------------------- repr

#: The personal fields of each record type, listed here by hand (not read from the code), so
#: that a new personal field without ``repr=False`` and the ``personal`` mark fails the walk.
PERSONAL: dict[str, set[str]] = {
    "Customer": {"name", "email", "phone", "attributes"},
    "Interaction": set(),
    "Relationship": set(),
    "Consent": set(),
}

SENTINEL = "Zq7SecretValue"


def _instances() -> dict[str, Any]:
    return {
        "Customer": Customer(
            id=1,
            name=SENTINEL + "name",
            email=SENTINEL + "email@example.org",
            phone=SENTINEL + "phone",
            attributes={"note": SENTINEL + "attr", SENTINEL + "key": 1},
            acquired=JAN,
        ),
        "Interaction": Interaction(customer_id=1, timestamp=JAN, kind="purchase", amount=1.0),
        "Relationship": Relationship(
            customer_id=1, stage="loyal", level="basic", status="actual", since=JAN
        ),
        "Consent": Consent(customer_id=1, purpose="analytics", given_at=JAN),
    }


def test_every_record_type_is_walked() -> None:
    record_types = {
        name for name in records.__all__ if attrs.has(getattr(records, name, None) or object)
    }
    assert record_types == set(PERSONAL)


@pytest.mark.parametrize("name", sorted(PERSONAL))
def test_repr_shows_no_personal_field(name: str) -> None:
    instance = _instances()[name]
    fields = attrs.fields(type(instance))
    marked = {f.name for f in fields if f.metadata.get("personal")}
    assert marked == PERSONAL[name]
    for text in (repr(instance), str(instance), f"{instance!r}", repr([instance])):
        assert SENTINEL not in text
        for field in PERSONAL[name]:
            assert f"{field}=" not in text
    # The id and the non-personal fields are shown.
    shown = {f.name for f in fields if f.repr}
    assert shown == {f.name for f in fields} - PERSONAL[name]
    assert "id=1" in repr(instance)


@pytest.mark.parametrize("field", sorted(PERSONAL["Customer"]))
def test_each_personal_field_of_customer_alone_stays_hidden(field: str) -> None:
    base = Customer(id="c9", name="x", acquired=JAN)
    value: Any = {"k": SENTINEL} if field == "attributes" else SENTINEL
    c = attrs.evolve(base, **{field: value})
    assert SENTINEL not in repr(c)
    assert SENTINEL not in repr(attrs.evolve(c, source="public"))


# ----------------------------------------------------------------------------- sources


def test_source_classes_are_the_practices_four() -> None:
    """终端 / 中间 / 内部 / 公利: every finer source belongs to exactly one of the four."""
    assert [c.value for c in SourceClass] == ["end", "intermediate", "internal", "public"]
    by_class = {c: {s.value for s in CustomerSource if s.source_class is c} for c in SourceClass}
    assert by_class == {
        SourceClass.END: {"consumer", "business"},
        SourceClass.INTERMEDIATE: {"distributor", "dealer", "reseller", "partner"},
        SourceClass.INTERNAL: {"internal"},
        SourceClass.PUBLIC: {"public"},
    }


def test_party_defaults_and_agrees_with_source() -> None:
    assert Customer(id=1, name="a", acquired=JAN).party is PartyKind.PERSON
    assert Customer(id=1, name="a", source="business", acquired=JAN).party is PartyKind.ORGANISATION
    assert Customer(id=1, name="a", source="dealer", acquired=JAN).party is PartyKind.ORGANISATION
    # A dealer may be a sole trader; staff are persons, a department an organisation.
    assert Customer(id=1, name="a", source="dealer", party="person", acquired=JAN).party == "person"
    assert Customer(id=1, name="a", source="internal", acquired=JAN).party is PartyKind.PERSON
    c = Customer(id=1, name="a", source="partner", acquired=JAN)
    assert Customer.from_dict(c.to_dict()) == c
    with pytest.raises(InputError, match=r"party must agree with source.*'consumer'.*'business'"):
        Customer(id=1, name="a", party="organisation", acquired=JAN)
    with pytest.raises(InputError, match="party must agree with source"):
        Customer(id=1, name="a", source="business", party="person", acquired=JAN)
    with pytest.raises(InputError, match="party must be one of 'person', 'organisation'"):
        Customer(id=1, name="a", party="robot", acquired=JAN)
    with pytest.raises(InputTypeError, match="party must be a member of PartyKind"):
        Customer(id=1, name="a", party=3, acquired=JAN)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- consent


def test_consent_record() -> None:
    c = Consent(customer_id=np.int64(4), purpose="marketing", given_at=JAN, withdrawn_at=JUN)
    assert c.customer_id == 4
    assert isinstance(c.customer_id, int)
    assert c.covers("marketing", JAN)  # given_at included
    assert not c.covers("marketing", JUN)  # withdrawn_at excluded
    assert not c.covers("analytics", JAN + dt.timedelta(days=1))
    assert Consent.from_dict(c.to_dict()) == c
    with pytest.raises(InputError, match="withdrawn_at must not be before given_at"):
        Consent(customer_id=1, purpose="p", given_at=JUN, withdrawn_at=JAN)
    with pytest.raises(InputError, match="given_at must be timezone-aware"):
        Consent(customer_id=1, purpose="p", given_at=dt.datetime(2024, 1, 1))
    with pytest.raises(InputTypeError, match="purpose must be a str"):
        Consent(customer_id=1, purpose=5, given_at=JAN)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="purpose must not be an empty string"):
        Consent(customer_id=1, purpose="", given_at=JAN)
    with pytest.raises(InputTypeError, match="purpose must be a str"):
        c.covers(None, JAN)  # type: ignore[arg-type]


def _table() -> InteractionTable:
    times = np.array(
        ["2024-02-01", "2024-02-02", "2024-02-03", "2024-02-04", "2024-03-01"],
        dtype="datetime64[ns]",
    )
    return InteractionTable.from_arrays(
        [1, 2, 3, 1, 4], times, amounts=[5.0, 6.0, 7.0, 8.0, 9.0], margins=[1.0, 2, 3, 4, 5]
    )


CONSENTS = [
    Consent(customer_id=1, purpose="analytics", given_at=JAN),
    Consent(customer_id=1, purpose="marketing", given_at=JAN),
    Consent(customer_id=2, purpose="analytics", given_at=JAN, withdrawn_at=JUN),
    Consent(customer_id=3, purpose="marketing", given_at=JAN),
    # Consent given again after a withdrawal is a new record.
    Consent(customer_id=3, purpose="analytics", given_at=JAN, withdrawn_at=JUN),
    Consent(customer_id=3, purpose="analytics", given_at=dt.datetime(2024, 9, 1, tzinfo=UTC)),
    Consent(customer_id=99, purpose="analytics", given_at=JAN),  # not in the data
]


@pytest.mark.parametrize(
    "when",
    [
        "2024-03-01",
        dt.date(2024, 3, 1),
        dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        dt.datetime(2024, 3, 1),
        np.datetime64("2024-03-01"),
        np.datetime64("2024-03-01T00:00:00", "s"),
    ],
)
def test_filter_by_consent_hand_worked(when: object) -> None:
    # On 2024-03-01: analytics held by 1, 2 and 3 (first grant); marketing by 1 and 3.
    t = _table()
    kept = filter_by_consent(t, CONSENTS, purposes="analytics", observation_end=when)
    assert kept.customer_ids.tolist() == [1, 2, 3]
    assert kept.amounts.tolist() == [5.0, 6.0, 7.0, 8.0]
    both = filter_by_consent(t, CONSENTS, purposes=["analytics", "marketing"], observation_end=when)
    assert both.customer_ids.tolist() == [1, 3]
    s = summarize(t, observation_end="2024-03-31")
    ks = filter_by_consent(s, CONSENTS, purposes={"marketing"}, observation_end=when)
    assert isinstance(ks, CustomerSummary)
    assert ks.customer_ids.tolist() == [1, 3]
    assert ks.total_spend.tolist() == [13.0, 7.0]


def test_filter_by_consent_over_time() -> None:
    t = _table()

    def kept(when: str) -> list[int]:
        got = filter_by_consent(t, CONSENTS, purposes="analytics", observation_end=when)
        return list(got.customer_ids.tolist())

    assert kept("2023-12-31") == []  # before any consent
    assert kept("2024-01-01") == [1, 2, 3]  # given_at included
    assert kept("2024-06-01") == [1]  # withdrawn_at excluded
    assert kept("2024-09-01") == [1, 3]  # 3 consented again


def test_filter_by_consent_errors() -> None:
    t = _table()
    with pytest.raises(InputError, match="purposes must name at least one purpose"):
        filter_by_consent(t, CONSENTS, purposes=[], observation_end="2024-03-01")
    with pytest.raises(InputError, match=r"purposes must not hold an empty string \(index 1\)"):
        filter_by_consent(t, CONSENTS, purposes=["a", ""], observation_end="2024-03-01")
    with pytest.raises(InputTypeError, match="purposes must hold str; found int 3 at index 0"):
        filter_by_consent(t, CONSENTS, purposes=[3], observation_end="2024-03-01")  # type: ignore[list-item]
    with pytest.raises(InputTypeError, match="purposes must be a str or an iterable"):
        filter_by_consent(t, CONSENTS, purposes=3, observation_end="2024-03-01")  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match="consents must hold Consent objects; found dict"):
        filter_by_consent(t, [{"customer_id": 1}], purposes="a", observation_end="2024-03-01")  # type: ignore[list-item]
    with pytest.raises(
        InputTypeError, match="data must be an InteractionTable or a CustomerSummary"
    ):
        filter_by_consent([1, 2], CONSENTS, purposes="a", observation_end="2024-03-01")  # type: ignore[type-var]
    with pytest.raises(InputError, match="observation_end must be an ISO date"):
        filter_by_consent(t, CONSENTS, purposes="a", observation_end="soon")
    wrong_kind = [Consent(customer_id="1", purpose="analytics", given_at=JAN)]
    with pytest.raises(
        InputTypeError, match="ids of the data's kind \\(int\\); found the str id '1'"
    ):
        filter_by_consent(t, wrong_kind, purposes="analytics", observation_end="2024-03-01")


_purpose = st.sampled_from(["analytics", "marketing", "profiling"])
_consent = st.builds(
    lambda cid, purpose, start, length: Consent(
        customer_id=cid,
        purpose=purpose,
        given_at=JAN + dt.timedelta(days=start),
        withdrawn_at=None if length is None else JAN + dt.timedelta(days=start + length),
    ),
    st.integers(1, 5),
    _purpose,
    st.integers(0, 300),
    st.none() | st.integers(0, 200),
)


@given(
    st.lists(_consent, max_size=20),
    st.sets(_purpose, min_size=1),
    st.sets(_purpose, min_size=1),
    st.integers(0, 400),
    st.randoms(use_true_random=False),
)
def test_filter_by_consent_properties(consents, p, q, day, rnd) -> None:
    """Monotone in purposes (more purposes keep fewer customers); consent order is irrelevant."""
    t = _table()
    when = JAN + dt.timedelta(days=day)

    def kept(purposes: set[str], cs: list[Consent]) -> set[int]:
        got = filter_by_consent(t, cs, purposes=purposes, observation_end=when)
        return set(got.customer_ids.tolist())

    kp, kq, kpq = kept(p, consents), kept(q, consents), kept(p | q, consents)
    assert kpq == kp & kq
    if p <= q:
        assert kq <= kp
    shuffled = list(consents)
    rnd.shuffle(shuffled)
    assert kept(p, shuffled) == kp
    # Brute force over the records with Consent.covers.
    expected = {
        cid
        for cid in (1, 2, 3, 4)
        if all(any(c.customer_id == cid and c.covers(x, when) for c in consents) for x in p)
    }
    assert kp == expected


# ----------------------------------------------------------------------------- pseudonymize


def test_pseudonymize_table_and_summary() -> None:
    t = _table()
    hidden = t.pseudonymize("k1")
    assert len(hidden) == len(t)
    assert hidden.customer_ids.tolist() == sorted(pseudonymize_ids([1, 2, 3, 4], "k1").tolist())
    assert_allclose(hidden.amounts, t.amounts)
    # The same key gives the same pseudonyms; another key others.
    assert (t.pseudonymize(b"k1").row_customer_ids() == hidden.row_customer_ids()).all()
    assert not (t.pseudonymize("k2").row_customer_ids() == hidden.row_customer_ids()).any()
    # The mapping is stored nowhere: no original id and no key in any field.
    for field in attrs.fields(InteractionTable):
        value = getattr(hidden, field.name)
        if isinstance(value, np.ndarray) and value.dtype.kind in "UO":
            assert not set(value.tolist()) & {1, 2, 3, 4, "1", "2", "3", "4", "k1"}
    assert hidden.customer_ids.dtype.kind == "U"
    s = summarize(t, observation_end="2024-03-31")
    hs = s.pseudonymize("k1")
    assert hs.customer_ids.tolist() == hidden.customer_ids.tolist()  # they still join
    # Row i of the hidden summary is the customer whose pseudonym it holds.
    mapping = dict(zip(pseudonymize_ids(s.customer_ids, "k1").tolist(), range(4), strict=True))
    back = [mapping[p] for p in hs.customer_ids.tolist()]
    assert_allclose(hs.total_spend, s.total_spend[back])
    assert hs.first_purchase.tolist() == s.first_purchase[back].tolist()
    with pytest.raises(InputError, match="key must not be empty"):
        t.pseudonymize("")
    with pytest.raises(InputTypeError, match="key must be bytes or str, got NoneType"):
        s.pseudonymize(None)  # type: ignore[arg-type]


_rows = st.lists(
    st.tuples(
        st.integers(0, 6) | st.sampled_from(["a", "b", "ü"]).map(str),
        st.integers(0, 500),
        st.sampled_from(["purchase", "refund", "survey"]),
        st.integers(0, 10),
    ),
    min_size=1,
    max_size=25,
)


@given(_rows, st.binary(min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_pseudonymize_preserves_every_metric(rows, key, rnd) -> None:
    ids = [str(r[0]) for r in rows]
    times = np.datetime64("2024-01-01", "ns") + np.array([r[1] for r in rows]) * 86_400 * 10**9
    kinds = [r[2] for r in rows]
    scores = [float(r[3]) if k == "survey" else np.nan for r, k in zip(rows, kinds, strict=True)]
    t = InteractionTable.from_arrays(
        ids,
        times.astype("datetime64[ns]"),
        kinds=kinds,
        amounts=[float(r[3]) for r in rows],
        margins=[float(r[3]) - 3 for r in rows],
        survey_scores=scores,
        survey_scale_min=[0.0] * len(rows),
        survey_scale_max=[10.0] * len(rows),
        survey_questions=["nps" if k == "survey" else None for k in kinds],
    )
    h = t.pseudonymize(key)
    back = pseudonymize_ids(t.customer_ids, key)
    order = np.argsort(back)  # row j of a hidden per-customer result is customer order[j]
    s, hs = summarize(t, observation_end="2025-06-01"), summarize(h, observation_end="2025-06-01")
    assert hs.customer_ids.tolist() == back[order].tolist()
    for name, col in s.columns().items():
        if name != "customer_ids":
            assert hs.columns()[name].tolist() == col[order].tolist(), name
    assert s.pseudonymize(key).customer_ids.tolist() == hs.customer_ids.tolist()
    for name, col in s.pseudonymize(key).columns().items():
        assert col.tolist() == hs.columns()[name].tolist(), name
    hv, hhv = (historical_value(x, observation_end="2025-06-01") for x in (t, h))
    assert hhv.realised.tolist() == hv.realised[order].tolist()
    if any(k == "survey" for k in kinds):
        assert nps(h).score == nps(t).score
    # Order invariance: permuting the rows changes no pseudonym.
    perm = list(range(len(rows)))
    rnd.shuffle(perm)
    if any(k == "survey" for k in kinds):
        assert nps(t.select(np.array(perm))).score == nps(t).score
    hp = t.select(np.array(perm)).pseudonymize(key)
    assert hp.customer_ids.tolist() == h.customer_ids.tolist()
    assert hp.row_customer_ids().tolist() == h.row_customer_ids()[perm].tolist()

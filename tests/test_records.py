"""Tests of crmcore.records: Customer, Interaction, Relationship, pseudonymisation."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import types
import zoneinfo
from fractions import Fraction
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import records
from crmcore.errors import InputError, InputTypeError
from crmcore.records import (
    Channel,
    Customer,
    CustomerSource,
    CustomerStatus,
    Interaction,
    InteractionKind,
    LadderStage,
    OpportunityStage,
    Relationship,
    RelationshipLevel,
    pseudonymize,
    pseudonymize_ids,
)

UTC = dt.UTC
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
PST = dt.timezone(dt.timedelta(hours=-8))
T0 = dt.datetime(2024, 5, 1, 9, 30, tzinfo=IST)


def purchase(**changes: Any) -> Interaction:
    fields: dict[str, Any] = {
        "customer_id": 1,
        "timestamp": T0,
        "kind": "purchase",
        "amount": 10.0,
    }
    fields.update(changes)
    return Interaction(**fields)


def customer(**changes: Any) -> Customer:
    fields: dict[str, Any] = {
        "id": "c1",
        "name": "Ann Smith",
        "acquired": T0,
        "email": "ann@example.org",
        "phone": "+44 20 7946 0000",
    }
    fields.update(changes)
    return Customer(**fields)


def relationship(**changes: Any) -> Relationship:
    fields: dict[str, Any] = {
        "customer_id": 1,
        "stage": "repeat_buyer",
        "level": "reactive",
        "status": "actual",
        "since": T0,
    }
    fields.update(changes)
    return Relationship(**fields)


def json_round_trip(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(d))
    return out


# --------------------------------------------------------------------------------------
# Hypothesis strategies (local to this module).

ids = st.integers(min_value=-(2**70), max_value=2**70) | st.text(min_size=1, max_size=12)
fixed_zones = st.sampled_from([UTC, IST, PST]) | st.builds(
    dt.timezone,
    st.integers(min_value=-86399, max_value=86399).map(lambda s: dt.timedelta(seconds=s)),
)
aware_times = st.datetimes(
    min_value=dt.datetime(1000, 1, 1),
    max_value=dt.datetime(9000, 12, 31),
    timezones=fixed_zones,
)
finite = st.floats(allow_nan=False, allow_infinity=False)
labels = st.none() | st.text(max_size=8)
json_scalars = st.none() | st.booleans() | st.integers() | finite | st.text(max_size=6)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def customers(draw: st.DrawFn, times: st.SearchStrategy[dt.datetime] = aware_times) -> Customer:
    own = draw(ids)
    return Customer(
        id=own,
        name=draw(st.text(max_size=10)),
        source=draw(st.sampled_from(CustomerSource)),
        acquired=draw(times),
        member_since=draw(st.none() | times),
        referred_by=draw(st.none() | ids.filter(lambda x: x != own)),
        email=draw(labels),
        phone=draw(labels),
        attributes=draw(st.dictionaries(st.text(max_size=5), json_values, max_size=4)),
    )


@st.composite
def interactions(
    draw: st.DrawFn, times: st.SearchStrategy[dt.datetime] = aware_times
) -> Interaction:
    kind = draw(st.sampled_from(InteractionKind))
    if kind is InteractionKind.PURCHASE:
        amount = draw(st.floats(min_value=0.0, allow_nan=False, allow_infinity=False))
    elif kind is InteractionKind.REFUND:
        amount = draw(finite)
    else:
        amount = draw(st.none() | finite)
    bounds = draw(
        st.lists(
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
            min_size=2,
            max_size=2,
            unique=True,
        ).map(sorted)
    )
    low, high = bounds
    score = st.floats(min_value=low, max_value=high)
    return Interaction(
        customer_id=draw(ids),
        timestamp=draw(times),
        kind=kind,
        channel=draw(st.none() | st.sampled_from(Channel)),
        amount=amount,
        margin=draw(st.none() | finite),
        product=draw(labels),
        category=draw(labels),
        region=draw(labels),
        campaign=draw(labels),
        in_control_group=draw(st.booleans()),
        discounted=draw(st.booleans()),
        survey_score=draw(score if kind is InteractionKind.SURVEY else st.none() | score),
        survey_scale=(low, high),
        resolved_at_first_contact=draw(st.none() | st.booleans()),
        response_time=draw(
            st.none() | st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=36500))
        ),
        lead_source=draw(st.none() | st.text(min_size=1, max_size=5))
        if kind in (InteractionKind.LEAD, InteractionKind.OPPORTUNITY)
        else None,
        opportunity_stage=draw(st.sampled_from(OpportunityStage))
        if kind is InteractionKind.OPPORTUNITY
        else None,
    )


@st.composite
def relationships(
    draw: st.DrawFn, times: st.SearchStrategy[dt.datetime] = aware_times
) -> Relationship:
    since = draw(times)
    duration = draw(
        st.none() | st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3650))
    )
    ended = None if duration is None else (since + duration).astimezone(draw(fixed_zones))
    return Relationship(
        customer_id=draw(ids),
        stage=draw(st.sampled_from(LadderStage)),
        level=draw(st.sampled_from(RelationshipLevel)),
        status=draw(st.sampled_from(CustomerStatus)),
        since=since,
        ended=ended,
    )


# --------------------------------------------------------------------------------------
# Module surface.


def test_all_is_sorted_and_complete() -> None:
    assert records.__all__ == sorted(records.__all__)
    for name in records.__all__:
        assert hasattr(records, name)
    assert {
        "Consent",
        "Customer",
        "Interaction",
        "PartyKind",
        "Relationship",
        "SourceClass",
        "pseudonymize",
        "pseudonymize_ids",
    } <= set(records.__all__)


def test_enum_order_is_the_table_code_order() -> None:
    # table.py relies on the declaration order of these members.
    assert [k.value for k in InteractionKind] == [
        "purchase",
        "refund",
        "complaint",
        "support",
        "survey",
        "visit",
        "marketing",
        "lead",
        "opportunity",
    ]
    assert next(iter(Channel)) is Channel.STORE
    assert LadderStage.PROSPECT < LadderStage.ADVOCATE
    assert RelationshipLevel.PROACTIVE > RelationshipLevel.REACTIVE


# --------------------------------------------------------------------------------------
# Customer.


def test_customer_fields_and_defaults() -> None:
    c = Customer(id=np.int64(42), name="Ann", acquired=T0)
    assert c.id == 42
    assert type(c.id) is int
    assert c.source is CustomerSource.CONSUMER
    assert c.member_since is None
    assert c.referred_by is None
    assert c.email is None
    assert c.phone is None
    assert isinstance(c.attributes, types.MappingProxyType)
    assert dict(c.attributes) == {}


def test_customer_accepts_string_source() -> None:
    c = customer(source="reseller", referred_by="c0", member_since=T0 + dt.timedelta(days=3))
    assert c.source is CustomerSource.RESELLER
    assert c.referred_by == "c0"


def test_customer_contact_fields_never_in_repr_or_str() -> None:
    c = customer()
    secret = ("ann@example.org", "+44 20 7946 0000", "7946", "example.org")
    shown = [
        repr(c),
        str(c),
        f"{c}",
        repr([c]),
        repr({"c": c}),
        repr(attrs.evolve(c, name="Ann Jones")),
    ]
    for text in shown:
        for s in secret:
            assert s not in text
        assert "email" not in text
        assert "phone" not in text
        assert "Ann Smith" not in text
        assert "Ann Jones" not in text
    assert "'c1'" in repr(c)
    fields = attrs.fields(Customer)
    assert fields.email.repr is False
    assert fields.phone.repr is False
    # They are still data: available as attributes and exported by to_dict.
    assert c.email == "ann@example.org"
    assert c.to_dict()["phone"] == "+44 20 7946 0000"


def test_customer_contact_fields_not_echoed_in_errors() -> None:
    with pytest.raises(InputTypeError, match="phone must be a str or None, got int") as info:
        customer(phone=4420794600)
    assert "4420794600" not in str(info.value)


def test_customer_attributes_are_a_read_only_copy() -> None:
    source = {"segment": "retail", "tags": ["a", "b"], "address": {"city": "Leeds"}}
    c = customer(attributes=source)
    source["segment"] = "changed"
    source["tags"].append("c")  # type: ignore[attr-defined]
    assert c.attributes["segment"] == "retail"
    assert c.attributes["tags"] == ("a", "b")
    with pytest.raises(TypeError):
        c.attributes["segment"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        c.attributes["address"]["city"] = "York"
    assert c.to_dict()["attributes"] == {
        "segment": "retail",
        "tags": ["a", "b"],
        "address": {"city": "Leeds"},
    }


def test_customer_attributes_normalise_numpy_scalars() -> None:
    c = customer(attributes={"n": np.int64(3), "x": np.float64(0.5), "f": np.bool_(True)})
    assert c.attributes == {"n": 3, "x": 0.5, "f": True}
    assert type(c.attributes["n"]) is int
    assert type(c.attributes["f"]) is bool


def test_customer_is_hashable_despite_attributes() -> None:
    a = customer(attributes={"tags": ["x"]})
    b = customer(attributes={"tags": ["x"]})
    assert a == b
    assert hash(a) == hash(b)
    assert a != customer(attributes={"tags": ["y"]})


def test_customer_is_frozen() -> None:
    c = customer()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        c.name = "Bob"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        c.email = None  # type: ignore[misc]


def test_customer_evolve_validates_again() -> None:
    c = customer()
    assert attrs.evolve(c, source="public").source is CustomerSource.PUBLIC
    with pytest.raises(InputError, match="acquired must be timezone-aware"):
        attrs.evolve(c, acquired=dt.datetime(2024, 1, 1))
    with pytest.raises(InputError, match="referred_by must name another customer"):
        attrs.evolve(c, referred_by="c1")


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"acquired": dt.datetime(2024, 1, 1)}, InputError, "acquired must be timezone-aware"),
        (
            {"member_since": dt.datetime(2024, 1, 1)},
            InputError,
            "member_since must be timezone-aware",
        ),
        ({"acquired": dt.date(2024, 1, 1)}, InputTypeError, "acquired must be a timezone-aware"),
        ({"acquired": "2024-01-01"}, InputTypeError, "acquired must be a timezone-aware"),
        ({"id": ""}, InputError, "id must be a customer id, not an empty string"),
        ({"id": 1.0}, InputTypeError, r"id must be a customer id \(an int or a str\)"),
        ({"id": True}, InputTypeError, r"id must be a customer id"),
        ({"id": None}, InputTypeError, r"id must be a customer id"),
        ({"referred_by": 2.5}, InputTypeError, "referred_by must be a customer id"),
        ({"referred_by": "c1"}, InputError, "referred_by must name another customer"),
        ({"name": None}, InputTypeError, "name must be a str"),
        ({"email": b"x@y"}, InputTypeError, "email must be a str or None"),
        ({"source": "shop"}, InputError, "source must be one of 'consumer'"),
        ({"source": 1}, InputTypeError, "source must be a member of CustomerSource"),
        ({"attributes": [("a", 1)]}, InputTypeError, "attributes must be a mapping"),
        ({"attributes": {"x": math.nan}}, InputError, r"attributes\['x'\] must be a finite"),
        (
            {"attributes": {"x": [1, math.inf]}},
            InputError,
            r"attributes\['x'\]\[1\] must be a finite",
        ),
        ({"attributes": {1: "a"}}, InputTypeError, "attributes must have str keys"),
        ({"attributes": {"s": {1, 2}}}, InputTypeError, r"attributes\['s'\] must hold JSON-able"),
    ],
)
def test_customer_rejects(changes: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        customer(**changes)


# --------------------------------------------------------------------------------------
# Interaction.


def test_interaction_fields_and_defaults() -> None:
    i = purchase()
    assert i.kind is InteractionKind.PURCHASE
    assert i.amount == 10.0
    assert i.channel is None
    assert i.margin is None
    assert (i.product, i.category, i.region, i.campaign) == (None, None, None, None)
    assert i.in_control_group is False
    assert i.discounted is False
    assert i.survey_score is None
    assert i.survey_scale == (0.0, 10.0)
    assert i.resolved_at_first_contact is None
    assert i.response_time is None


def test_interaction_normalises_numbers_and_strings() -> None:
    i = Interaction(
        customer_id=np.uint16(5),
        timestamp=T0,
        kind="survey",
        channel="mobile_app",
        amount=np.float32(2.5),
        margin=Fraction(1, 4),
        survey_score=np.int64(4),
        survey_scale=[1, 5],
        in_control_group=np.bool_(True),
        discounted=np.True_,
        resolved_at_first_contact=np.False_,
    )
    assert type(i.customer_id) is int
    assert i.customer_id == 5
    assert i.kind is InteractionKind.SURVEY
    assert i.channel is Channel.MOBILE_APP
    assert type(i.amount) is float
    assert i.amount == 2.5
    assert i.margin == 0.25
    assert type(i.survey_score) is float
    assert i.survey_scale == (1.0, 5.0)
    assert all(type(x) is float for x in i.survey_scale)
    assert i.in_control_group is True
    assert i.discounted is True
    assert i.resolved_at_first_contact is False


def test_interaction_survey_scale_bounds_are_inclusive() -> None:
    for score in (1, 5):
        i = Interaction(
            customer_id=1, timestamp=T0, kind="survey", survey_score=score, survey_scale=(1, 5)
        )
        assert i.survey_score == score


def test_interaction_score_on_other_kinds_is_allowed() -> None:
    i = Interaction(customer_id=1, timestamp=T0, kind="support", survey_score=6)
    assert i.survey_score == 6.0


def test_interaction_refund_sign_is_free_and_margin_may_be_negative() -> None:
    assert purchase(kind="refund", amount=-3.0).amount == -3.0
    assert purchase(kind="refund", amount=3.0).amount == 3.0
    assert purchase(margin=-2.0).margin == -2.0
    assert purchase(amount=0.0).amount == 0.0


def test_interaction_other_kinds_need_no_amount() -> None:
    for kind in ("complaint", "support", "visit", "marketing"):
        assert purchase(kind=kind, amount=None).amount is None


def test_interaction_is_frozen_and_hashable() -> None:
    i = purchase(response_time=dt.timedelta(minutes=3))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        i.amount = 5.0  # type: ignore[misc]
    assert hash(i) == hash(purchase(response_time=dt.timedelta(minutes=3)))
    assert len({i, purchase(response_time=dt.timedelta(minutes=3))}) == 1


def test_interaction_evolve_validates_again() -> None:
    i = purchase()
    assert attrs.evolve(i, amount=3).amount == 3.0
    with pytest.raises(InputError, match="amount of a purchase must be non-negative"):
        attrs.evolve(i, amount=-1.0)
    with pytest.raises(InputError, match="timestamp must be timezone-aware"):
        attrs.evolve(i, timestamp=dt.datetime(2024, 1, 1))
    survey = Interaction(customer_id=1, timestamp=T0, kind="survey", survey_score=7)
    with pytest.raises(InputError, match="survey_score must lie inside survey_scale"):
        attrs.evolve(survey, survey_scale=(1, 5))
    with pytest.raises(InputError, match="survey_score is required"):
        attrs.evolve(survey, survey_score=None)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"timestamp": dt.datetime(2024, 5, 1)}, InputError, "timestamp must be timezone-aware"),
        ({"timestamp": dt.date(2024, 5, 1)}, InputTypeError, "timestamp must be a timezone-aware"),
        (
            {"timestamp": np.datetime64("2024-05-01")},
            InputTypeError,
            "timestamp must be a timezone-aware",
        ),
        ({"customer_id": ""}, InputError, "customer_id must be a customer id, not an empty"),
        ({"customer_id": 1.5}, InputTypeError, "customer_id must be a customer id"),
        ({"customer_id": False}, InputTypeError, "customer_id must be a customer id"),
        ({"customer_id": ("a", 1)}, InputTypeError, "customer_id must be a customer id"),
        ({"kind": "gift"}, InputError, "kind must be one of 'purchase', 'refund'"),
        ({"kind": 0}, InputTypeError, "kind must be a member of InteractionKind"),
        ({"channel": "fax"}, InputError, "channel must be one of 'store'"),
        ({"channel": 2}, InputTypeError, "channel must be a member of Channel"),
        ({"amount": math.nan}, InputError, "amount must be finite, got nan"),
        ({"amount": math.inf}, InputError, "amount must be finite, got inf"),
        ({"amount": "10"}, InputTypeError, "amount must be a real number"),
        ({"amount": True}, InputTypeError, "amount must be a real number"),
        ({"amount": -0.01}, InputError, "amount of a purchase must be non-negative"),
        ({"amount": None}, InputError, "amount is required for an interaction of kind 'purchase'"),
        (
            {"kind": "refund", "amount": None},
            InputError,
            "amount is required for an interaction of kind 'refund'",
        ),
        ({"margin": -math.inf}, InputError, "margin must be finite, got -inf"),
        ({"product": 12}, InputTypeError, "product must be a str or None"),
        ({"category": 1.0}, InputTypeError, "category must be a str or None"),
        ({"region": b"north"}, InputTypeError, "region must be a str or None"),
        ({"campaign": ["spring"]}, InputTypeError, "campaign must be a str or None"),
        ({"in_control_group": 1}, InputTypeError, "in_control_group must be a bool"),
        ({"discounted": None}, InputTypeError, "discounted must be a bool"),
        (
            {"resolved_at_first_contact": "yes"},
            InputTypeError,
            "resolved_at_first_contact must be a bool",
        ),
        (
            {"kind": "survey", "amount": None},
            InputError,
            "survey_score is required for an interaction of kind 'survey'",
        ),
        ({"survey_score": 10.5}, InputError, r"survey_score must lie inside survey_scale"),
        ({"survey_score": -1}, InputError, r"survey_score must lie inside survey_scale"),
        ({"survey_score": math.nan}, InputError, "survey_score must be finite"),
        ({"survey_scale": (5, 5)}, InputError, "survey_scale must have low < high"),
        ({"survey_scale": (5, 1)}, InputError, "survey_scale must have low < high"),
        ({"survey_scale": (0, math.inf)}, InputError, "survey_scale must hold finite bounds"),
        ({"survey_scale": (0, 5, 10)}, InputTypeError, r"survey_scale must be a pair"),
        ({"survey_scale": ("0", "10")}, InputTypeError, r"survey_scale must be a pair"),
        ({"survey_scale": 10}, InputTypeError, r"survey_scale must be a pair"),
        (
            {"response_time": dt.timedelta(seconds=-1)},
            InputError,
            "response_time must not be negative",
        ),
        ({"response_time": 30.0}, InputTypeError, "response_time must be a datetime.timedelta"),
    ],
)
def test_interaction_rejects(changes: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        purchase(**changes)


def test_interaction_accepts_zoneinfo_timestamps() -> None:
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    i = purchase(timestamp=dt.datetime(2024, 7, 1, 12, tzinfo=berlin))
    assert i.timestamp.utcoffset() == dt.timedelta(hours=2)


# --------------------------------------------------------------------------------------
# Relationship.


def test_relationship_fields() -> None:
    r = relationship(ended=T0)  # ended == since is allowed
    assert r.stage is LadderStage.REPEAT_BUYER
    assert r.level is RelationshipLevel.REACTIVE
    assert r.status is CustomerStatus.ACTUAL
    assert r.ended == r.since
    assert relationship(stage=LadderStage.ADVOCATE).stage > r.stage


def test_relationship_ended_compares_instants_across_zones() -> None:
    # 09:30+05:30 is 04:00Z; 20:30-08:00 the day before is 04:30Z: later, so valid.
    later = dt.datetime(2024, 4, 30, 20, 30, tzinfo=PST)
    assert relationship(ended=later).ended == later
    earlier = dt.datetime(2024, 4, 30, 19, 30, tzinfo=PST)  # 03:30Z
    with pytest.raises(InputError, match="ended must not be before since"):
        relationship(ended=earlier)


def test_relationship_is_frozen_and_evolves() -> None:
    r = relationship()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        r.status = CustomerStatus.LOST  # type: ignore[misc]
    assert attrs.evolve(r, status="lost").status is CustomerStatus.LOST
    with pytest.raises(InputError, match="status must be one of"):
        attrs.evolve(r, status="gone")


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"since": dt.datetime(2024, 1, 1)}, InputError, "since must be timezone-aware"),
        ({"ended": dt.datetime(2025, 1, 1)}, InputError, "ended must be timezone-aware"),
        ({"since": None}, InputTypeError, "since must be a timezone-aware datetime"),
        (
            {"ended": T0 - dt.timedelta(microseconds=1)},
            InputError,
            "ended must not be before since",
        ),
        ({"stage": "vip"}, InputError, "stage must be one of 'prospect'"),
        ({"stage": 3}, InputTypeError, "stage must be a member of LadderStage"),
        ({"level": "close"}, InputError, "level must be one of 'basic'"),
        ({"level": RelationshipLevel}, InputTypeError, "level must be a member of"),
        (  # a LadderStage is a str valued 'loyal', which is not a CustomerStatus value
            {"status": LadderStage.LOYAL},
            InputError,
            "status must be one of 'non_customer', .*; got <LadderStage.LOYAL: 'loyal'>",
        ),
        ({"customer_id": None}, InputTypeError, "customer_id must be a customer id"),
    ],
)
def test_relationship_rejects(changes: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        relationship(**changes)


# --------------------------------------------------------------------------------------
# to_dict / from_dict.


def test_interaction_to_dict_by_hand() -> None:
    i = Interaction(
        customer_id="c9",
        timestamp=dt.datetime(2024, 5, 1, 9, 30, 0, 250, tzinfo=IST),
        kind=InteractionKind.SURVEY,
        channel=Channel.EMAIL,
        survey_score=4,
        survey_scale=(1, 5),
        resolved_at_first_contact=True,
        response_time=dt.timedelta(hours=1, microseconds=5),
        campaign="spring",
    )
    expected = {
        "customer_id": "c9",
        "timestamp": "2024-05-01T09:30:00.000250+05:30",
        "kind": "survey",
        "channel": "email",
        "amount": None,
        "margin": None,
        "product": None,
        "category": None,
        "region": None,
        "campaign": "spring",
        "order_id": None,
        "in_control_group": False,
        "discounted": False,
        "survey_score": 4.0,
        "survey_scale": [1.0, 5.0],
        "survey_question": None,
        "resolved_at_first_contact": True,
        "response_time": 3600.000005,
        "lead_source": None,
        "opportunity_stage": None,
    }
    assert i.to_dict() == expected
    assert json_round_trip(i.to_dict()) == expected
    assert Interaction.from_dict(expected) == i


def test_customer_to_dict_by_hand() -> None:
    c = customer(
        source="public",
        member_since=dt.datetime(2024, 6, 1, tzinfo=UTC),
        referred_by=3,
        attributes={"tags": ("a",), "size": 12},
    )
    assert c.to_dict() == {
        "id": "c1",
        "name": "Ann Smith",
        "source": "public",
        "party": "organisation",
        "acquired": "2024-05-01T09:30:00+05:30",
        "member_since": "2024-06-01T00:00:00+00:00",
        "referred_by": 3,
        "email": "ann@example.org",
        "phone": "+44 20 7946 0000",
        "attributes": {"tags": ["a"], "size": 12},
    }


def test_relationship_to_dict_by_hand() -> None:
    r = relationship(ended=dt.datetime(2025, 1, 1, tzinfo=PST))
    assert r.to_dict() == {
        "customer_id": 1,
        "stage": "repeat_buyer",
        "level": "reactive",
        "status": "actual",
        "since": "2024-05-01T09:30:00+05:30",
        "ended": "2025-01-01T00:00:00-08:00",
    }


def test_from_dict_fills_defaults_and_accepts_z_suffix() -> None:
    i = Interaction.from_dict(
        {"customer_id": 1, "timestamp": "2024-05-01T04:00:00Z", "kind": "visit"}
    )
    assert i == Interaction(
        customer_id=1, timestamp=dt.datetime(2024, 5, 1, 4, tzinfo=UTC), kind="visit"
    )
    assert i.timestamp == T0  # the same instant as 09:30+05:30
    c = Customer.from_dict({"id": 5, "name": "X", "acquired": "2024-01-01T00:00+00:00"})
    assert c.source is CustomerSource.CONSUMER
    assert c.attributes == {}


def test_from_dict_accepts_python_objects_too() -> None:
    i = Interaction.from_dict(
        {"customer_id": 1, "timestamp": T0, "kind": "support", "response_time": dt.timedelta(1)}
    )
    assert i.response_time == dt.timedelta(days=1)
    assert i.timestamp is T0


def test_from_dict_does_not_mutate_its_argument() -> None:
    d = purchase(response_time=dt.timedelta(seconds=2)).to_dict()
    before = json.dumps(d)
    Interaction.from_dict(d)
    assert json.dumps(d) == before


@pytest.mark.parametrize(
    ("cls", "d", "error", "match"),
    [
        (Interaction, [("customer_id", 1)], InputTypeError, "d must be a mapping"),
        (Customer, None, InputTypeError, "d must be a mapping"),
        (
            Interaction,
            {"customer_id": 1, "timestamp": "2024-05-01T04:00Z", "kind": "visit", "price": 1},
            InputError,
            "d has 1 unknown key.*first: 'price'",
        ),
        (
            Interaction,
            {"customer_id": 1, "kind": "visit"},
            InputError,
            "d lacks the required key.*'timestamp' for Interaction",
        ),
        (
            Relationship,
            {"customer_id": 1},
            InputError,
            "d lacks the required key.*'stage', 'level', 'status', 'since'",
        ),
        (
            Interaction,
            {"customer_id": 1, "timestamp": "yesterday", "kind": "visit"},
            InputError,
            "timestamp must be an ISO 8601 datetime",
        ),
        (
            Interaction,
            {"customer_id": 1, "timestamp": "2024-05-01T04:00:00", "kind": "visit"},
            InputError,
            "timestamp must be timezone-aware",
        ),
        (
            Interaction,
            {
                "customer_id": 1,
                "timestamp": "2024-05-01T04:00Z",
                "kind": "visit",
                "response_time": math.nan,
            },
            InputError,
            "response_time must be a finite number of seconds",
        ),
        (
            Interaction,
            {
                "customer_id": 1,
                "timestamp": "2024-05-01T04:00Z",
                "kind": "visit",
                "response_time": 1e300,
            },
            InputError,
            "response_time is too large",
        ),
        (
            Interaction,
            {
                "customer_id": 1,
                "timestamp": "2024-05-01T04:00Z",
                "kind": "visit",
                "response_time": "60",
            },
            InputTypeError,
            "response_time must be a datetime.timedelta",
        ),
        (
            Customer,
            {"id": 1, "name": "X", "acquired": "2024-01-01T00:00Z", "member_since": "2024-13-01"},
            InputError,
            "member_since must be an ISO 8601 datetime",
        ),
        (
            Relationship,
            {
                "customer_id": 1,
                "stage": "loyal",
                "level": "basic",
                "status": "actual",
                "since": "2024-01-02T00:00Z",
                "ended": "2024-01-01T00:00Z",
            },
            InputError,
            "ended must not be before since",
        ),
    ],
)
def test_from_dict_rejects(cls: type[Any], d: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        cls.from_dict(d)


@given(customers())
def test_customer_json_round_trip(c: Customer) -> None:
    d = c.to_dict()
    back = Customer.from_dict(json_round_trip(d))
    assert back == c
    assert back.to_dict() == d


@given(interactions())
def test_interaction_json_round_trip(i: Interaction) -> None:
    d = i.to_dict()
    back = Interaction.from_dict(json_round_trip(d))
    assert back == i
    assert back.to_dict() == d
    assert back.timestamp.utcoffset() == i.timestamp.utcoffset()


@given(relationships())
def test_relationship_json_round_trip(r: Relationship) -> None:
    d = r.to_dict()
    back = Relationship.from_dict(json_round_trip(d))
    assert back == r
    assert back.to_dict() == d


@given(
    st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.timezones(),
    )
)
def test_named_zones_round_trip_to_the_same_instant(when: dt.datetime) -> None:
    # A named zone comes back as its fixed offset at that instant; inside a DST fold
    # Python never finds datetimes of different zones equal (PEP 495), so compare
    # the exported dicts and the UTC instants.
    i = Interaction(customer_id=1, timestamp=when, kind="visit")
    back = Interaction.from_dict(json_round_trip(i.to_dict()))
    assert back.to_dict() == i.to_dict()
    assert back.timestamp.astimezone(UTC) == when.astimezone(UTC)


def test_sub_second_offsets_are_written_in_utc() -> None:
    # Python 3.11 parses "+00:00:00.000001" as UTC, so such (synthetic) offsets are
    # exported as the same instant in UTC: 2000-01-01T00:00 at +1 µs is 1 µs before
    # midnight UTC.
    zone = dt.timezone(dt.timedelta(microseconds=1))
    i = purchase(timestamp=dt.datetime(2000, 1, 1, tzinfo=zone))
    assert i.to_dict()["timestamp"] == "1999-12-31T23:59:59.999999+00:00"
    assert Interaction.from_dict(i.to_dict()) == i


@given(st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=50_000)))
def test_response_time_survives_json_to_the_microsecond(duration: dt.timedelta) -> None:
    i = Interaction(customer_id=1, timestamp=T0, kind="support", response_time=duration)
    assert Interaction.from_dict(json_round_trip(i.to_dict())).response_time == duration


# --------------------------------------------------------------------------------------
# pseudonymize.

# RFC 4231 (2005), "Identifiers and Test Vectors for HMAC-SHA-224, -256, -384, and -512",
# section 4: HMAC-SHA-256 outputs for test cases 1, 2 and 6.
RFC4231 = [
    (
        b"\x0b" * 20,
        "Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ),
    (
        b"Jefe",
        "what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        b"\xaa" * 131,
        "Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
]


@pytest.mark.parametrize(("key", "data", "expected"), RFC4231)
def test_pseudonymize_matches_rfc4231(key: bytes, data: str, expected: str) -> None:
    assert pseudonymize(data, key) == expected
    assert pseudonymize_ids([data], key).tolist() == [expected]


def test_pseudonymize_str_key_is_utf8_bytes() -> None:
    assert pseudonymize("what do ya want for nothing?", "Jefe") == RFC4231[1][2]
    assert pseudonymize(7, "clé") == pseudonymize(7, "clé".encode())
    assert pseudonymize(7, bytearray(b"k")) == pseudonymize(7, b"k")


def test_pseudonymize_int_and_its_text_map_alike() -> None:
    expected = hmac.new(b"k", b"123", hashlib.sha256).hexdigest()
    assert pseudonymize(123, "k") == expected
    assert pseudonymize("123", "k") == expected
    assert pseudonymize(np.int64(123), "k") == expected
    assert pseudonymize(-5, "k") == hmac.new(b"k", b"-5", hashlib.sha256).hexdigest()
    # A non-ASCII id is hashed as its UTF-8 bytes.
    assert pseudonymize("Zoë", "k") == hmac.new(b"k", b"Zo\xc3\xab", hashlib.sha256).hexdigest()


@given(ids, st.binary(min_size=1, max_size=80))
def test_pseudonymize_is_hmac_sha256_of_the_text(customer_id: int | str, key: bytes) -> None:
    p = pseudonymize(customer_id, key)
    assert p == hmac.new(key, str(customer_id).encode("utf-8"), hashlib.sha256).hexdigest()
    assert len(p) == 64
    assert set(p) <= set("0123456789abcdef")
    assert pseudonymize(customer_id, key) == p  # stable


@given(ids, st.binary(min_size=1, max_size=40), st.binary(min_size=1, max_size=40))
def test_pseudonymize_depends_on_the_key(customer_id: int | str, k1: bytes, k2: bytes) -> None:
    # HMAC pads keys shorter than the block with zeros, so k and k + b"\0" are the same key.
    if k1.rstrip(b"\0") != k2.rstrip(b"\0"):
        assert pseudonymize(customer_id, k1) != pseudonymize(customer_id, k2)


@given(ids, ids)
def test_pseudonymize_separates_ids(a: int | str, b: int | str) -> None:
    assert (pseudonymize(a, "k") == pseudonymize(b, "k")) == (str(a) == str(b))


@pytest.mark.parametrize(
    ("customer_id", "key", "error", "match"),
    [
        (1, "", InputError, "key must not be empty"),
        (1, b"", InputError, "key must not be empty"),
        (1, 12345, InputTypeError, "key must be bytes or str, got int"),
        (1, None, InputTypeError, "key must be bytes or str"),
        (1, "\ud800", InputError, "key must be encodable as UTF-8"),
        (1.0, "k", InputTypeError, "customer_id must be an int or a str, got float"),
        (True, "k", InputTypeError, "customer_id must be an int or a str, got bool"),
        (None, "k", InputTypeError, "customer_id must be an int or a str"),
        (b"1", "k", InputTypeError, "customer_id must be an int or a str, got bytes"),
        ("", "k", InputError, "customer_id must not be an empty string"),
        ("\udc80", "k", InputError, "customer_id must be encodable as UTF-8"),
    ],
)
def test_pseudonymize_rejects(
    customer_id: Any, key: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match) as info:
        pseudonymize(customer_id, key)
    assert "12345" not in str(info.value)  # the key is never shown


def test_pseudonymize_ids_by_hand() -> None:
    out = pseudonymize_ids(np.array([3, 1, 3]), b"Jefe")
    assert out.dtype == np.dtype("<U64")
    assert out.shape == (3,)
    h3 = hmac.new(b"Jefe", b"3", hashlib.sha256).hexdigest()
    h1 = hmac.new(b"Jefe", b"1", hashlib.sha256).hexdigest()
    assert out.tolist() == [h3, h1, h3]


def test_pseudonymize_ids_accepts_columns() -> None:
    key = "k"
    expected = [pseudonymize(x, key) for x in ("a", "b", "a")]
    assert pseudonymize_ids(pd.Series(["a", "b", "a"]), key).tolist() == expected
    assert pseudonymize_ids(np.array(["a", "b", "a"]), key).tolist() == expected
    assert pseudonymize_ids(("a", "b", "a"), key).tolist() == expected
    ints = [pseudonymize(x, key) for x in (2**63 + 1, 0)]
    assert pseudonymize_ids(np.array([2**63 + 1, 0], dtype=np.uint64), key).tolist() == ints
    mixed = np.array([1, "1", np.int32(1)], dtype=object)
    assert len(set(pseudonymize_ids(mixed, key).tolist())) == 1
    empty = pseudonymize_ids([], key)
    assert empty.shape == (0,)
    assert empty.dtype == np.dtype("<U64")


def test_pseudonymize_ids_keeps_trailing_nul_of_python_strings() -> None:
    assert pseudonymize_ids(["a\x00"], "k").tolist() == [pseudonymize("a\x00", "k")]


def test_pseudonymize_ids_does_not_mutate_input() -> None:
    ids_in = np.array([5, 6])
    pseudonymize_ids(ids_in, "k")
    assert ids_in.tolist() == [5, 6]


@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=20))
def test_pseudonymize_ids_matches_scalar_for_int_arrays(values: list[int]) -> None:
    out = pseudonymize_ids(np.array(values, dtype=np.int64), "key")
    assert out.tolist() == [pseudonymize(x, "key") for x in values]


@given(st.lists(ids, max_size=20))
def test_pseudonymize_ids_matches_scalar_for_lists(values: list[int | str]) -> None:
    out = pseudonymize_ids(np.array(values, dtype=object), "key")
    assert out.tolist() == [pseudonymize(x, "key") for x in values]
    texts = [str(x) for x in values]
    assert pseudonymize_ids(texts, "key").tolist() == [pseudonymize(t, "key") for t in texts]


@pytest.mark.parametrize(
    ("values", "key", "error", "match"),
    [
        ([1.0, 2.0], "k", InputTypeError, "ids must hold integers or strings, got dtype float64"),
        ([True, False], "k", InputTypeError, "ids must hold integers or strings, got dtype bool"),
        (np.array([b"a"]), "k", InputTypeError, "ids must hold integers or strings, got dtype"),
        (
            np.array([1, 2.5], dtype=object),
            "k",
            InputTypeError,
            "ids must hold integers or strings; found float 2.5 at index 1",
        ),
        (
            np.array(["a", True], dtype=object),
            "k",
            InputTypeError,
            "found bool True at index 1",
        ),
        (
            np.array(["a", None, None], dtype=object),
            "k",
            InputError,
            r"ids must not hold missing ids; 2 of 3 values break this \(first at index 1",
        ),
        (["a", ""], "k", InputError, r"ids must not hold empty strings; 1 of 2 .*index 1"),
        ([[1, 2]], "k", InputError, r"ids must be 1-dimensional, got shape \(1, 2\)"),
        (5, "k", InputError, "ids must be 1-dimensional, got shape"),
        ("abc", "k", InputTypeError, "for a single id use pseudonymize"),
        ([1], "", InputError, "key must not be empty"),
        ([1], 3.0, InputTypeError, "key must be bytes or str"),
    ],
)
def test_pseudonymize_ids_rejects(
    values: Any, key: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        pseudonymize_ids(values, key)


def test_pseudonymize_ids_refuses_ragged_lists() -> None:
    # Leaked numpy's "inhomogeneous shape" ValueError before; ragged is a shape problem.
    with pytest.raises(InputError, match="ids must be a flat sequence"):
        pseudonymize_ids([[1, 2], [3]], "secret")  # type: ignore[list-item]

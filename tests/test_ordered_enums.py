"""LadderStage and RelationshipLevel against the str arrays of the category results."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from crmcore import LadderStage, RelationshipLevel
from crmcore.errors import InputTypeError
from crmcore.metrics.loyalty import ladder_stage


@pytest.mark.parametrize("cls", [LadderStage, RelationshipLevel])
def test_members_equal_their_values_in_str_arrays(cls):
    values = np.array([m.value for m in cls])
    for i, member in enumerate(cls):
        expected = np.arange(len(cls)) == i  # each value equals its own member only
        np.testing.assert_array_equal(values == member, expected)
        np.testing.assert_array_equal(member == values, expected)
        np.testing.assert_array_equal(values != member, ~expected)
        assert member == member.value
        assert hash(member) == hash(member.value)
        assert {member.value: i}[member] == i


def test_ladder_stage_result_compares_with_a_stage():
    # n_purchases 0, 1, 3 and a loyal member (6 purchases, last 5 days ago, first 800 days
    # ago): prospect, first-time buyer, repeat buyer (not loyal: no recent purchase), member
    # (Raphel's ladder, climbed rung by rung)
    stage = ladder_stage(
        [0, 1, 3, 6], [0.0, 1.0, 900.0, 5.0], [0.0, 1.0, 900.0, 800.0], member=[0, 0, 0, 1]
    )
    np.testing.assert_array_equal(stage == LadderStage.MEMBER, [False, False, False, True])


@pytest.mark.parametrize("cls", [LadderStage, RelationshipLevel])
def test_order_follows_the_rungs_not_the_alphabet(cls):
    members = list(cls)
    # declaration order is the rung order; it differs from the alphabetical order
    shuffled = [members[i] for i in np.random.default_rng(1).permutation(len(members))]
    assert sorted(shuffled) == members
    assert sorted(m.value for m in members) != [m.value for m in members]
    assert all(
        lo < hi and hi > lo and lo <= hi and hi >= lo for lo, hi in itertools.pairwise(members)
    )


@pytest.mark.parametrize(
    "compare",
    [
        lambda: LadderStage.MEMBER < "zzz",
        lambda: "aaa" < LadderStage.MEMBER,  # noqa: SIM300
        lambda: LadderStage.MEMBER >= "member",
        lambda: LadderStage.MEMBER < RelationshipLevel.BASIC,
        lambda: np.array(["loyal"]) < LadderStage.MEMBER,
        lambda: LadderStage.MEMBER > np.array(["loyal"]),  # noqa: SIM300
        lambda: np.maximum(np.array(["loyal"]), LadderStage.MEMBER),
    ],
)
def test_order_against_strings_fails_loudly(compare):
    with pytest.raises(InputTypeError, match="order of LadderStage is that of its rungs"):
        compare()


def test_object_arrays_of_members_compare_in_rung_order():
    # rungs: prospect < ... < loyal < member < advocate (declaration order, Raphel's ladder)
    stages = np.array([LadderStage(s) for s in ["member", "loyal", "prospect"]], dtype=object)
    np.testing.assert_array_equal(stages >= LadderStage.LOYAL, [True, True, False])
    np.testing.assert_array_equal(LadderStage.LOYAL < stages, [True, False, False])  # noqa: SIM300

"""Lead and opportunity rows: the records, the table columns and their codes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from crmcore import Interaction, InteractionKind, InteractionTable, OpportunityStage
from crmcore.errors import InputError, InputTypeError
from crmcore.table import KIND_CODES

WHEN = dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC)
DAYS = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[D]")


def test_new_kinds_are_appended_so_old_codes_keep_their_meaning() -> None:
    # Codes stored before leads existed: purchase 0 ... marketing 6.
    assert [KIND_CODES[InteractionKind(k)] for k in ("purchase", "marketing")] == [0, 6]
    assert KIND_CODES[InteractionKind.LEAD] == 7
    assert KIND_CODES[InteractionKind.OPPORTUNITY] == 8


def test_lead_and_opportunity_records() -> None:
    lead = Interaction(customer_id="p1", timestamp=WHEN, kind="lead", lead_source="referral")
    opp = Interaction(
        customer_id="p1", timestamp=WHEN, kind="opportunity", opportunity_stage="proposal"
    )
    assert lead.lead_source == "referral"
    assert opp.opportunity_stage is OpportunityStage.PROPOSAL
    assert Interaction.from_dict(opp.to_dict()) == opp
    assert opp.to_dict()["opportunity_stage"] == "proposal"


@pytest.mark.parametrize(
    ("fields", "exc", "match"),
    [
        ({"kind": "opportunity"}, InputError, "opportunity_stage is required"),
        (
            {"kind": "lead", "opportunity_stage": "won"},
            InputError,
            "opportunity_stage belongs to 'opportunity' rows",
        ),
        ({"kind": "opportunity", "opportunity_stage": "signed"}, InputError, "must be one of"),
        ({"kind": "lead", "lead_source": ""}, InputError, "lead_source must not be an empty"),
        ({"kind": "lead", "lead_source": 3}, InputTypeError, "lead_source must be a str"),
        (
            {"kind": "purchase", "amount": 1.0, "lead_source": "web"},
            InputError,
            "lead_source belongs to 'lead' and 'opportunity' rows",
        ),
    ],
)
def test_record_rules(fields: dict[str, object], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        Interaction(customer_id=1, timestamp=WHEN, **fields)  # type: ignore[arg-type]


def test_table_columns_from_arrays() -> None:
    t = InteractionTable.from_arrays(
        [1, 1, 2],
        DAYS,
        kinds=["lead", "opportunity", "lead"],
        lead_sources=["web", None, "fair"],
        opportunity_stages=[None, OpportunityStage.WON, ""],
    )
    assert t.opportunity_stages is not None
    assert t.lead_sources is not None
    assert t.opportunity_stages.tolist() == [-1, 2, -1]
    assert t.lead_sources.tolist() == ["web", None, "fair"]
    # Codes are accepted too, and select keeps the columns row by row.
    coded = InteractionTable.from_arrays(
        [1, 1, 2], DAYS, kinds=[7, 8, 8], opportunity_stages=[-1, 0, 3]
    )
    sub = coded.select(np.array([2, 1]))
    assert sub.opportunity_stages is not None
    assert sub.opportunity_stages.tolist() == [3, 0]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (
            {"kinds": ["lead", "purchase", "lead"], "opportunity_stages": [None, "won", None]},
            InputError,
            r"opportunity_stages must be missing .* \(at index 1: opportunity_stages=.won.\)",
        ),
        (
            {"kinds": ["opportunity"] * 3, "opportunity_stages": ["won", "signed", None]},
            InputError,
            "opportunity_stages has an unknown value 'signed'",
        ),
        (
            {"kinds": ["opportunity"] * 3, "opportunity_stages": [0, 9, -1]},
            InputError,
            "opportunity_stages codes must lie in 0..3",
        ),
        (
            {"kinds": ["opportunity"] * 3, "opportunity_stages": [0.5, 1.0, 2.0]},
            InputTypeError,
            "opportunity_stages must hold strings",
        ),
        (
            {"kinds": ["opportunity"] * 3, "opportunity_stages": ["won", None]},
            InputError,
            "opportunity_stages must be 1-dimensional with 3 values",
        ),
        ({"lead_sources": ["web"]}, InputError, "lead_sources must have 3 values"),
    ],
)
def test_table_rules(kwargs: dict[str, object], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        InteractionTable.from_arrays([1, 2, 3], DAYS, **kwargs)  # type: ignore[arg-type]

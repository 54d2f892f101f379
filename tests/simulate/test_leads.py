"""Leads in the simulated customer base (LeadOptions): funnel rows, truth, separate stream."""

from __future__ import annotations

import numpy as np
import pytest

from crmcore import InteractionKind
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics import conversion_rates, leads_from_table, sales_cycle
from crmcore.simulate import CatalogOptions, LeadOptions, RefundOptions, customer_base
from crmcore.table import KIND_CODES

KW = {"start": "2024-01-01", "observation_end": "2025-06-30"}


def test_leads_leave_every_other_row_unchanged() -> None:
    # The leads draw from their own stream: the rest of the base is that of the same
    # seed without leads (and so the stored reference stays valid).
    opts = {"catalog": CatalogOptions(), "refunds": RefundOptions(), "rng": 5}
    plain = customer_base(300, **KW, **opts)  # type: ignore[arg-type]
    with_leads = customer_base(300, leads=LeadOptions(), **KW, **opts)  # type: ignore[arg-type]
    new = (with_leads.table.kinds == KIND_CODES[InteractionKind.LEAD]) | (
        with_leads.table.kinds == KIND_CODES[InteractionKind.OPPORTUNITY]
    )
    old = np.flatnonzero(~new)
    assert old.size == len(plain.table)
    assert np.array_equal(with_leads.table.times[old], plain.table.times)
    assert np.array_equal(with_leads.table.amounts[old], plain.table.amounts)
    assert np.array_equal(with_leads.table.row_customer_ids()[old], plain.table.row_customer_ids())
    assert with_leads.table.products is not None
    assert plain.table.products is not None
    assert np.array_equal(with_leads.table.products[old], plain.table.products)
    assert np.array_equal(with_leads.histories.frequency, plain.histories.frequency)
    assert plain.lead_source is None
    assert plain.n_prospects == 0


def test_every_customer_was_a_lead_before_its_first_purchase() -> None:
    base = customer_base(500, leads=LeadOptions(), rng=3, **KW)  # type: ignore[arg-type]
    leads = leads_from_table(base.table, observation_end=base.observation_end)
    customers = leads.customer_ids <= 500
    assert customers.sum() == 500
    assert leads.converted[customers].all()
    assert (leads.first_contact[customers] <= base.first_purchase).all()
    assert np.array_equal(leads.won_at[customers], base.first_purchase)
    assert np.array_equal(leads.sources[customers], base.lead_source)
    # Prospects never buy; they have the ids after the customers'.
    assert (~leads.converted[~customers]).all()
    assert (~customers).sum() == base.n_prospects
    assert base.table.n_customers == 500 + base.n_prospects


def test_conversion_by_source_recovers_the_truth() -> None:
    opts = LeadOptions(
        sources=("web", "fair"), source_shares=(0.5, 0.5), conversion=(0.2, 0.6), cycle_days=10.0
    )
    base = customer_base(6_000, leads=opts, rng=11, **KW)  # type: ignore[arg-type]
    leads = leads_from_table(base.table, observation_end=base.observation_end)
    rates = conversion_rates(leads.converted, leads.sources, confidence=0.999)
    assert rates.groups.tolist() == ["fair", "web"]
    assert rates.lower[0] < 0.6 < rates.upper[0]
    assert rates.lower[1] < 0.2 < rates.upper[1]
    # The cycle of the won leads: gamma with mean 10 days (whole seconds, truncated).
    cycle = sales_cycle(leads.first_contact, leads.won_at, observation_end=base.observation_end)
    won = cycle.durations[cycle.events]
    assert abs(won.mean() - 10.0) < 4 * 10.0 / np.sqrt(2.0 * won.size)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"sources": ()}, InputError, "LeadOptions.sources must be one or more"),
        (
            {"sources": ("a", "a"), "conversion": (0.1, 0.1), "source_shares": None},
            InputError,
            "distinct",
        ),
        ({"conversion": (0.1, 0.2)}, InputError, "one rate per source"),
        ({"conversion": (0.1, 0.2, 0.3, 1.5)}, InputError, r"conversion\[3\] must be <= 1.0"),
        ({"cycle_days": 0.0}, InputError, "LeadOptions.cycle_days"),
        ({"cycle_shape": -1.0}, InputError, "LeadOptions.cycle_shape"),
        ({"lost_share": 2.0}, InputError, "LeadOptions.lost_share"),
        ({"proposal_share": -0.1}, InputError, "LeadOptions.proposal_share"),
        (
            {"source_shares": (1.0, 0.0)},
            InputError,
            "LeadOptions.source_shares must have one share",
        ),
        ({"sources": "web"}, InputTypeError, "LeadOptions.sources must be a sequence"),
    ],
)
def test_lead_option_errors(kwargs: dict[str, object], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        LeadOptions(**kwargs)  # type: ignore[arg-type]


def test_leads_must_be_lead_options() -> None:
    with pytest.raises(InputTypeError, match="leads must be a LeadOptions"):
        customer_base(5, leads={"sources": ("web",)}, rng=1, **KW)  # type: ignore[arg-type]

"""Loyalty report on a simulated customer base: RFM, segments, classes, ladder, health.

A fixed-seed base of 4,000 customers buys for two years (BG/NBD purchases with
the CDNOW estimates, Gamma-Gamma spend) and answers NPS questions. The report
scores recency, frequency and monetary value into quintiles, names the RFM
segments, classifies the customers (loyalty class, visit level, ladder stage,
status), reads Kotler's grid for the base, and bands a weighted health score.
A random tenth of the customers are programme members.

Run it with ``python examples/loyalty.py``.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np

from crmcore import InteractionKind, summarize
from crmcore.metrics import (
    RF_GRID,
    RFM_CUBE,
    band,
    customer_status,
    health_score,
    ladder_stage,
    loyalty_class,
    recommended_level,
    rfm_scores,
    rfm_segments,
    validate_segment_rules,
    visit_level,
)
from crmcore.simulate import SurveyOptions, customer_base
from crmcore.table import KIND_CODES

SEED = 7
N_CUSTOMERS = 4_000
OBSERVATION_END = "2025-12-31"


def counts(labels: object, order: list[str] | None = None) -> str:
    """One line per label: count and share, in the given order or by size."""
    values = [str(x) for x in np.asarray(labels).reshape(-1)]
    tally = Counter(values)
    keys = order if order is not None else [k for k, _ in tally.most_common()]
    total = len(values)
    return "\n".join(
        f"  {k:<22}{tally.get(k, 0):>6}  {100 * tally.get(k, 0) / total:5.1f}%" for k in keys
    )


def main() -> None:
    rng = np.random.default_rng(SEED)
    base = customer_base(
        N_CUSTOMERS,
        start="2024-01-01",
        observation_end=OBSERVATION_END,
        acquisition_days=180.0,
        surveys=SurveyOptions(response_rate=0.3, questions=("nps",)),
        rng=SEED,
    )
    table = base.table
    summary = summarize(table, observation_end=OBSERVATION_END, period="D", time_unit="D")
    n = summary.n_customers
    print(f"Customer base: {n} customers, {int(summary.n_purchases.sum())} purchase days")

    # --- RFM quintiles -------------------------------------------------------------
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = rfm_scores(summary)
    print("\nRFM quintile cut points (value axis; recency = days since the last purchase)")
    for dim in ("time_since_last", "n_purchases", "total_spend"):
        edges = getattr(scores.edges, dim)
        print(f"  {dim:<15} " + "  ".join(f"{e:9.2f}" for e in edges))
    for w in caught:
        print(f"  note: {w.message}")
    rank = rfm_scores(summary, method="rank")
    f_sizes = np.bincount(rank.f, minlength=6)[1:]
    print("  rank method, customers per frequency score 1-5: " + " ".join(map(str, f_sizes)))

    # --- segments ------------------------------------------------------------------
    print(f"\nRF_GRID partitions the 25 cells: {validate_segment_rules(RF_GRID).is_partition}")
    print("RF segments")
    print(counts(rfm_segments(scores)))
    print("RFM cube (high = score 4-5)")
    print(counts(rfm_segments(scores, rules=RFM_CUBE)))

    # --- classes -------------------------------------------------------------------
    print("\nLoyalty classes (loyal: 4+ purchase days, the last within a year)")
    print(counts(loyalty_class(summary), ["potential", "new", "old", "loyal"]))
    print("Visit levels (purchase days per year of tenure)")
    levels = ["passer_by", "customer", "regular", "premium", "devotee"]
    print(counts(visit_level(summary), levels))

    nps_rows = (table.kinds == KIND_CODES[InteractionKind.SURVEY]) & (table.survey_scale_max == 10)
    assert table.survey_scores is not None
    promoter_rows = nps_rows & (np.nan_to_num(table.survey_scores, nan=-1.0) >= 9)
    promoter = np.bincount(table.customer_codes[promoter_rows], minlength=n) > 0
    member = rng.random(n) < 0.10
    stages = ladder_stage(summary, member=member, promoter=promoter)
    print(f"Loyalty ladder ({int(member.sum())} members, {int(promoter.sum())} promoters)")
    print(counts(stages.tolist(), None))
    status = customer_status(summary, active_within=180)
    print("Status with a 180-day churn window")
    print(counts(status.tolist(), None))

    # --- relationship level and health -------------------------------------------------
    level = recommended_level(n, 0.22)
    print(f"\nKotler's level for {n} customers at a 22% margin: {level.value}")
    # each score 1..5 as a 0-100 measure; customers without purchase have no RFM scores
    measures = np.column_stack([(s - 1) * 25.0 for s in (scores.r, scores.f, scores.m)])
    health = health_score(measures[summary.has_purchase], [20, 15, 22])
    print(
        f"Health score (weights R 20, F 15, M 22): mean {health.mean():.1f}, "
        f"median {np.median(health):.1f}"
    )
    print(counts(band(health, [40, 70], ["red", "amber", "green"]), ["red", "amber", "green"]))


if __name__ == "__main__":
    main()

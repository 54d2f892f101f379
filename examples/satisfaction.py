"""Satisfaction and service report on a simulated customer base.

A fixed-seed customer base answers NPS (0-10), CSAT (1-5) and CES (1-7)
questions after purchases and contacts support. The report shows the scores
with their intervals, the NPS of each quarter pooled back into the year with
``NpsResult.combine``, a test of the change between the halves of the year,
and the service figures (first-contact resolution, response times,
complaints). The latent satisfaction of the simulation is Beta(4, 1.5), so the
expected CES answer is known: 1 + 6 * 4/5.5 = 5.36.

Run it with ``python examples/satisfaction.py``.
"""

from __future__ import annotations

import numpy as np

from crmcore import InteractionKind
from crmcore.metrics import (
    NpsResult,
    ces,
    complaint_rate,
    csat,
    first_contact_resolution_rate,
    nps,
    nps_difference,
    response_time_stats,
)
from crmcore.simulate import SupportOptions, SurveyOptions, customer_base
from crmcore.table import KIND_CODES

SEED = 2024


def main() -> None:
    base = customer_base(
        3_000,
        start="2024-01-01",
        observation_end="2024-12-31",
        acquisition_days=90.0,
        surveys=SurveyOptions(response_rate=0.6, satisfaction=(4.0, 1.5)),
        support=SupportOptions(contact_rate=0.15),
        rng=SEED,
    )
    table = base.table
    survey = table.kinds == KIND_CODES[InteractionKind.SURVEY]
    assert table.survey_scores is not None
    assert table.survey_scale_max is not None
    scale_max = table.survey_scale_max
    answers = table.survey_scores

    def question(top: int) -> np.ndarray:
        return survey & (scale_max == top)

    is_nps, is_csat, is_ces = question(10), question(5), question(7)
    print(f"Customers: {table.n_customers}, interactions: {len(table)}")
    print()

    print("Net Promoter Score (points, 95% intervals)")
    overall = nps(answers[is_nps])
    adjusted = nps(answers[is_nps], interval="adjusted_wald")
    boot = nps(answers[is_nps], interval="bootstrap", rng=SEED, n_resamples=2_000)
    print(
        f"  {overall.n} answers: {overall.promoters} promoters, {overall.passives} passives, "
        f"{overall.detractors} detractors"
    )
    print(f"  NPS {overall.score:6.1f}  (SE {overall.standard_error:.2f})")
    for label, result in (("Wald", overall), ("adjusted Wald", adjusted), ("bootstrap", boot)):
        low, high = result.interval
        print(f"  {label:<14} [{low:6.1f}, {high:6.1f}]")

    quarters = table.times.astype("datetime64[M]").astype(np.int64) % 12 // 3
    parts = []
    print("  by quarter:")
    for q in range(4):
        part = nps(answers[is_nps & (quarters == q)])
        parts.append(part)
        print(f"    Q{q + 1}  NPS {part.score:6.1f}  n={part.n}")
    pooled = NpsResult.combine(parts)
    print(f"  quarters pooled: NPS {pooled.score:.1f} (equals the whole year: {pooled == overall})")
    first_half = nps(answers[is_nps & (quarters < 2)])
    second_half = nps(answers[is_nps & (quarters >= 2)])
    change = nps_difference(second_half, first_half)
    print(
        f"  second half minus first half: {change.difference:+.1f} points "
        f"(SE {change.standard_error:.1f}, p = {change.p_value:.3f})"
    )
    print()

    print("CSAT and Customer Effort Score")
    satisfied = csat(answers[is_csat])
    low, high = satisfied.interval
    print(f"  CSAT {satisfied.score:5.1f} points  [{low:.1f}, {high:.1f}]  n={satisfied.n}")
    effort = ces(answers[is_ces])
    low, high = effort.interval
    print(
        f"  CES mean {effort.mean:.2f} of 7  [{low:.2f}, {high:.2f}]  "
        f"agreeing {100 * effort.share_agreeing:.1f}%  (expected mean 5.36)"
    )
    print()

    print("Service")
    fcr = first_contact_resolution_rate(table)
    low, high = fcr.interval
    print(
        f"  first-contact resolution {100 * fcr.rate:.1f}%  [{100 * low:.1f}, {100 * high:.1f}]"
        f"  of {fcr.n} contacts"
    )
    times = response_time_stats(table, time_unit="h")
    print(
        f"  response time: median {times.median:.1f} h, p90 {times.p90:.1f} h, "
        f"mean {times.mean:.1f} h"
    )
    complaints = complaint_rate(table)
    print(
        f"  complaints: {complaints.n_complaints}, {complaints.per_customer:.3f} per customer, "
        f"{complaints.per_1000_transactions:.1f} per 1,000 purchases"
    )


if __name__ == "__main__":
    main()

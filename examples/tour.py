"""A tour of crmcore on one simulated customer base: from the interaction log to CLV.

A fixed-seed base of 3,000 customers is acquired over the first half of 2024 and
observed until June 2025 (BG/NBD purchases with the CDNOW estimates, Gamma-Gamma
spend, NPS and CSAT answers). The report shows the interaction table and the
per-customer summary, RFM segments and loyalty classes, ABC classes with the top-20%
share and Gini, monthly cohort retention, NPS and CSAT and, when scipy is installed
(``pip install crmcore[models]``), a BG/NBD and Gamma-Gamma fit with P(alive) and a
52-week lifetime value. Run it with ``python examples/tour.py``.
"""

from __future__ import annotations

import importlib.util
import textwrap
import warnings
from collections import Counter

import attrs
import numpy as np

import crmcore
from crmcore import CustomerSummary, DataQualityWarning, InteractionKind, summarize
from crmcore.metrics import (
    LOYALTY_CLASSES,
    abc_classes,
    cohort_matrix,
    csat,
    gini,
    loyalty_class,
    nps,
    pareto_share,
    repeat_purchase_rate,
    rfm_scores,
    rfm_segments,
)
from crmcore.simulate import SimulatedCustomerBase, SurveyOptions, customer_base

SEED = 11
N_CUSTOMERS = 3_000
START = "2024-01-01"
OBSERVATION_END = "2025-06-30"
#: 10% a year, per week.
WEEKLY_RATE = 1.10 ** (1 / 52) - 1


def section(title: str) -> None:
    print()
    print(title)
    print("-" * len(title))


def tally(labels: object, order: tuple[str, ...] | list[str] | None = None) -> None:
    """Print one line per label: count and share of the customers."""
    values = [str(x) for x in np.asarray(labels).reshape(-1)]
    counts = Counter(values)
    keys = list(order) if order is not None else [k for k, _ in counts.most_common()]
    for key in keys:
        n = counts.get(key, 0)
        print(f"  {key:<20} {n:6d}  {100 * n / len(values):5.1f}%")


def build_base() -> SimulatedCustomerBase:
    """The simulated base every section reads."""
    return customer_base(
        N_CUSTOMERS,
        start=START,
        observation_end=OBSERVATION_END,
        acquisition_days=182.0,
        surveys=SurveyOptions(response_rate=0.4, questions=("nps", "csat")),
        rng=SEED,
    )


def show_table_and_summary(base: SimulatedCustomerBase, summary: CustomerSummary) -> None:
    table = base.table
    section("Interaction table")
    print(f"  {len(table)} rows for {table.n_customers} customers")
    for kind in (InteractionKind.PURCHASE, InteractionKind.SURVEY):
        print(f"  {kind.value + ' rows':<20} {int(table.kind_mask(kind).sum()):6d}")
    first, last = table.times.min(), table.times.max()
    print(f"  from {str(first)[:10]} to {str(last)[:10]}")

    section("Per-customer summary (purchase days, times in weeks)")
    print(f"  customers              {summary.n_customers}")
    print(f"  repeat buyers          {100 * repeat_purchase_rate(summary):.1f}%")
    print(f"  mean frequency         {summary.frequency.mean():.2f} repeat purchases")
    print(f"  mean recency           {summary.recency.mean():.1f} weeks")
    print(f"  mean T                 {summary.T.mean():.1f} weeks")
    repeat = summary.frequency > 0
    print(
        f"  mean spend             {summary.monetary_value[repeat].mean():.2f} per repeat purchase"
    )
    print("  the first five customers:")
    print("      id  frequency  recency      T  mean spend")
    for i in range(5):
        print(
            f"  {summary.customer_ids[i]:6d}  {summary.frequency[i]:9d}  {summary.recency[i]:7.1f}"
            f"  {summary.T[i]:5.1f}  {summary.monetary_value[i]:10.2f}"
        )


def show_loyalty(summary: CustomerSummary) -> None:
    section("RFM scores (quintiles) and segments")
    # Half the customers buy once, so the frequency quintiles collapse: crmcore says so
    # with a DataQualityWarning, which we show as a note (any other warning stays an error).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        warnings.simplefilter("always", DataQualityWarning)
        scores = rfm_scores(summary)
    for w in caught:
        print(
            textwrap.fill(
                f"note: {w.message}", width=90, initial_indent="  ", subsequent_indent="    "
            )
        )
    tally(rfm_segments(scores))

    section("Loyalty classes (loyal: 4+ purchase days, the last within 52 weeks)")
    tally(loyalty_class(summary), LOYALTY_CLASSES)


def show_value(summary: CustomerSummary) -> None:
    section("Value: ABC classes by total spend")
    spend = summary.total_spend
    abc = abc_classes(spend)
    for label, count, share in zip("ABC", abc.class_counts, abc.class_shares, strict=True):
        print(f"  {label}: {count:5d} customers hold {100 * share:5.1f}% of the spend")
    print(f"  top 20% of customers hold {100 * pareto_share(spend, top=0.2):.1f}% of the spend")
    print(f"  Gini coefficient of spend: {gini(spend):.3f}")


def show_cohorts(base: SimulatedCustomerBase) -> None:
    section("Cohort retention (share buying in month k after acquisition)")
    matrix = cohort_matrix(base.table, observation_end=OBSERVATION_END, period="M")
    months = 7
    print("  cohort    size " + "".join(f"{k:>6d}" for k in range(months)))
    for cohort, size, rates in zip(matrix.cohorts, matrix.sizes, matrix.rates, strict=True):
        cells = "".join(f"{100 * r:5.0f}%" for r in rates[:months])
        print(f"  {str(cohort)[:7]}  {size:5d} {cells}")
    means = "".join(f"{100 * r:5.0f}%" for r in matrix.column_means[:months])
    print(f"  all      {int(matrix.sizes.sum()):5d} {means}")


def show_satisfaction(base: SimulatedCustomerBase) -> None:
    section("Satisfaction")
    table = base.table
    assert table.survey_scores is not None
    assert table.survey_scale_max is not None
    survey = table.kind_mask(InteractionKind.SURVEY)
    answers = table.survey_scores
    promoter = nps(answers[survey & (table.survey_scale_max == 10)])
    satisfied = csat(answers[survey & (table.survey_scale_max == 5)])
    for name, result in (("NPS", promoter), ("CSAT", satisfied)):
        low, high = result.interval
        print(
            f"  {name:<4} {result.score:5.1f} points, 95% interval [{low:.1f}, {high:.1f}],"
            f" {result.n} answers"
        )
        if result is promoter:
            print(
                f"       {promoter.promoters} promoters, {promoter.passives} passives,"
                f" {promoter.detractors} detractors"
            )


def show_forecast(base: SimulatedCustomerBase, summary: CustomerSummary) -> None:
    section("Forecast: BG/NBD purchases (weeks) and Gamma-Gamma spend")
    if importlib.util.find_spec("scipy") is None:
        print("  skipped: the models need scipy (pip install crmcore[models])")
        return
    from crmcore.models import bgnbd, clv, gamma_gamma

    purchases = bgnbd.fit(summary)
    spend = gamma_gamma.fit(summary)
    print(f"  {'':<9} {'fitted':>9} {'(SE)':>8} {'simulated':>12}")
    fits = ((purchases, base.purchase_params), (spend, base.spend_params))
    for fit, truth in fits:
        for field, true_value in zip(attrs.fields(type(fit.params)), truth, strict=True):
            value = getattr(fit.params, field.name)
            se = getattr(fit.standard_errors, field.name)
            print(f"  {field.name:<9} {value:9.3f} ({se:6.3f}) {true_value:12.3f}")
    alive = purchases.probability_alive(summary)
    print(
        f"  mean P(alive) {alive.mean():.3f}; truly alive in the simulation"
        f" {base.histories.alive.mean():.3f}"
    )
    print(f"  P(alive) < 0.5 for {int((alive < 0.5).sum())} of {alive.size} customers")
    value = clv.customer_lifetime_value(
        purchases, spend, summary, horizon=52, step=4, discount_rate=WEEKLY_RATE, margin=0.3
    )
    v = value.clv
    print("  52-week CLV (30% margin, 10% a year):")
    print(f"    total {v.sum():,.0f}, mean {v.mean():.2f}, median {np.median(v):.2f}")
    print(f"    expected purchases {value.expected_purchases.sum():,.0f}")
    print(f"    top 10% of customers: {100 * pareto_share(v, top=0.1):.1f}% of the CLV")


def main() -> None:
    print(f"crmcore {crmcore.__version__}: a tour on {N_CUSTOMERS} simulated customers")
    print(f"acquired from {START} for 26 weeks, observed until {OBSERVATION_END}")
    base = build_base()
    summary = summarize(base.table, observation_end=OBSERVATION_END, period="D", time_unit="W")
    show_table_and_summary(base, summary)
    show_loyalty(summary)
    show_value(summary)
    show_cohorts(base)
    show_satisfaction(base)
    show_forecast(base, summary)


if __name__ == "__main__":
    main()

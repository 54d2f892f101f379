"""Persistency (7P): how loyalty holds up over time.

On the shared simulated base (see ``_base.py``) this prints the monthly cohort
retention matrix (share of each acquisition month's customers buying again 1,
2, 3, 6, 9, 12 and 18 months later), the repeat-purchase rate, a Kaplan-Meier
curve of the time from acquisition to lapse (a customer lapses 180 days after
their last purchase; customers not lapsed by the end of 2024 are censored),
the loyalty classes at the end of observation with their share of sales
(crmcore.metrics.class_value_share: the practice expects loyal customers to
bring 60-70%), and how the classes moved from the end of 2023 to the end of
2024 (crmcore.metrics.segment_migration).

Run it with ``python examples/seven_p/persistency.py``.
"""

from __future__ import annotations

import numpy as np
from _base import AS_OF, load, section, share_table

from crmcore import summarize
from crmcore.metrics import (
    LOYALTY_CLASSES,
    class_value_share,
    cohort_matrix,
    kaplan_meier,
    loyalty_class,
    repeat_purchase_rate,
    restricted_mean_survival,
    segment_migration,
    tenure_from_dates,
)

LAPSE_DAYS = 180
OFFSETS = (1, 2, 3, 6, 9, 12, 18)


def main() -> None:
    table = load().table
    summary = summarize(table, observation_end=AS_OF, period="D", time_unit="D")
    print(f"Persistency: {summary.n_customers} customers acquired in 2023, observed to {AS_OF}")

    section("Cohort retention: % of the cohort buying k months after the first purchase")
    cohorts = cohort_matrix(table, observation_end=AS_OF, period="M")
    print("  cohort    size" + "".join(f"{f'+{k}':>7}" for k in OFFSETS))
    for month, size, rates in zip(cohorts.cohorts, cohorts.sizes, cohorts.rates, strict=True):
        cells = "".join(f"{100 * rates[k]:7.1f}".replace("nan", "  -") for k in OFFSETS)
        print(f"  {month.astype('datetime64[M]')}  {size:5d}{cells}")
    means = cohorts.column_means
    print("  all         " + "".join(f"{100 * means[k]:7.1f}" for k in OFFSETS))

    section("Repeat purchase")
    rate = repeat_purchase_rate(summary)
    print(f"  repeat-purchase rate (2+ purchase days): {100 * rate:.1f}% of the buyers")
    print(f"  mean purchase days per customer: {summary.n_purchases.mean():.2f}")

    section(f"Time to lapse (Kaplan-Meier; lapsed = no purchase for {LAPSE_DAYS} days)")
    lapse = summary.last_purchase + np.timedelta64(LAPSE_DAYS, "D")
    tenure = tenure_from_dates(summary.first_purchase, lapse, observation_end=AS_OF, time_unit="D")
    curve = kaplan_meier(tenure.durations, tenure.events)
    print(f"  {int(tenure.events.sum())} lapsed, {int((~tenure.events).sum())} censored")
    print("   days   not lapsed   95% interval   followed longer")
    for day in (180, 270, 365, 450, 540, 630):
        k = np.searchsorted(curve.times, day, side="right") - 1
        low, high = curve.interval[k] if k >= 0 else (1.0, 1.0)
        followed = int(np.count_nonzero(tenure.durations > day))
        print(
            f"  {day:5d}   {100 * curve.survival_at([day])[0]:9.1f}%   "
            f"{100 * low:5.1f}-{100 * high:5.1f}%   {followed:15d}"
        )
    print(f"  (at {LAPSE_DAYS} days the one-time buyers lapse: the curve drops to the repeat rate)")
    horizon = 630.0
    rmst = restricted_mean_survival(curve, horizon)
    print(
        f"  mean time to lapse, counted up to {horizon:.0f} days: {rmst.mean:.0f} days "
        f"(SE {rmst.standard_error:.1f})"
    )

    section(
        "Loyalty classes (loyal: 4+ purchase days, the last within a year, the first a year ago)"
    )
    classes = loyalty_class(summary)
    worth = class_value_share(classes, summary.total_spend, classes=LOYALTY_CLASSES)
    share_table(
        list(LOYALTY_CLASSES), worth.n_customers, header="class", unit="customers", keep_order=True
    )
    print(
        f"  loyal customers bring {worth.share_of('loyal'):.1%} of all sales to date "
        "(the practice expects 60-70%)"
    )

    section("Class migration, end of 2023 -> end of 2024 (customers)")
    year_one = summarize(table, observation_end="2023-12-31T23:59:59", period="D", time_unit="D")
    moves = segment_migration(
        loyalty_class(year_one),
        classes,
        customer_ids_before=year_one.customer_ids,
        customer_ids_after=summary.customer_ids,
        classes=LOYALTY_CLASSES,
    )
    print("  2023 \\ 2024 " + "".join(f"{label:>11}" for label in moves.column_labels))
    for label, counts in zip(moves.row_labels, moves.counts, strict=True):
        if counts.sum():
            print(f"  {label:<12}" + "".join(f"{c:11d}" for c in counts))
    print("  (nobody is loyal at the end of 2023: every customer started that year)")


if __name__ == "__main__":
    main()

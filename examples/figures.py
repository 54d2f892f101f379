"""Draw the figures of the documentation from one simulated customer base.

A fixed-seed base of 5,000 customers, acquired in the first half of 2024, buys
until 2025-06-29 (BG/NBD purchases with the CDNOW estimates, Gamma-Gamma
spend) and answers an NPS question after some purchases. From it the script
draws, as PNG files:

- ``lorenz.png``: Lorenz curve of spend with the 80/20 point and the Gini (full
  CDNOW log, see below);
- ``rfm_grid.png``: the 5 x 5 recency x frequency grid coloured by segment (full
  CDNOW log);
- ``cohort_heatmap.png``: monthly cohort retention;
- ``p_alive.png``: BG/NBD probability of being alive over frequency x recency
  (CDNOW fit, see below);
- ``holdout.png``: actual vs expected holdout purchases by calibration frequency
  (CDNOW);
- ``tracking.png``: weekly repeat purchases, actual vs expected;
- ``parameters.png``: the BG/NBD estimates with 95% intervals from the asymptotic
  normal on the log scale, and the true values of the simulation;
- ``calibration.png``: mean expected vs actual holdout purchases by decile of the
  forecast (``clv.holdout_accuracy``; CDNOW);
- ``coefficients.png``: the covariate coefficients of a BG/NBD fit with 95%
  intervals and the true values, on the 20,000 simulated customers of
  ``docs/explanation/covariates.md``;
- ``kaplan_meier.png``: time to lapse (180 days without a purchase);
- ``nps_over_time.png``: NPS by month with 95% intervals;
- ``retention_models.png``: sBG vs BdW survival curves fitted on years 0-7 of
  the regular and high-end segments of Fader & Hardie (2007), with the actual
  survivors of years 0-12 (published data, not the simulated base).

On the simulated base, the BG/NBD model is fitted on 52 calibration weeks
(2024-01-01 to 2024-12-29) and checked on the 26 weeks after them (tracking and
parameters). Both periods end on a Sunday, so every reporting week of the
tracking plot is complete. The figures of the tutorial (P(alive), holdout,
calibration) come from the BG/NBD fit to the CDNOW sample shipped in
``crmcore.datasets`` (39 calibration weeks, 39 holdout weeks), as in the
tutorial; the Lorenz curve and the RFM grid from the full CDNOW log (23,570
customers) at its end, 1998-06-30, as in the how-tos.

Run it with ``python examples/figures.py [FOLDER]``; the default folder is
``docs/_static/figures`` of the repository. It needs the extra
``crmcore[examples]`` (scipy, matplotlib).
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import dates as mdates
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from crmcore import CustomerSummary, InteractionKind, InteractionTable, datasets, summarize
from crmcore.metrics import (
    RF_GRID,
    cohort_matrix,
    gini,
    kaplan_meier,
    lorenz_curve,
    nps,
    pareto_share,
    rfm_scores,
    rfm_segments,
    tenure_from_dates,
)
from crmcore.models import bdw, bgnbd, clv, sbg
from crmcore.models.bgnbd import BgNbdParams
from crmcore.simulate import SimulatedCustomerBase, SurveyOptions, bgnbd_histories, customer_base
from crmcore.table import KIND_CODES

SEED = 7
N_CUSTOMERS = 5_000
START = "2024-01-01"  # a Monday
CALIBRATION_END = "2024-12-29"  # a Sunday: 52 calibration weeks
OBSERVATION_END = "2025-06-29"  # a Sunday: 26 holdout weeks
LAPSE_DAYS = 180
#: Frequency cut points of the RFM grid, in purchase days: 1 | 2 | 3-4 | 5-7 | 8+.
#: Half of the customers bought once, so quintile cut points would coincide.
FREQUENCY_EDGES = (1.0, 2.0, 4.0, 7.0)
P_ALIVE_T = 39.0  # weeks: the CDNOW calibration period

# Fader & Hardie (2007), "How to project customer retention": customers of 1,000 still
# active at the start of years 0-12, shipped in crmcore.datasets; the models see years 0-7.
SEGMENTS = {
    "high end": datasets.retention_survivors("high_end"),
    "regular": datasets.retention_survivors("regular"),
}
CALIBRATION_YEARS = 7

DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / "docs" / "_static" / "figures"
FIGSIZE = (7.0, 4.5)  # inches
DPI = 150
STYLE = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
ACTUAL, EXPECTED, BAND = "#1f5a96", "#d9661f", "#9ecae1"


def new_figure() -> Figure:
    """A figure of the common size, drawn by the Agg canvas (no pyplot state)."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def percent_axis(axis: matplotlib.axis.Axis) -> None:
    axis.set_major_formatter(ticker.PercentFormatter(xmax=1.0, decimals=0))


def text_colour(rgba: tuple[float, float, float, float]) -> str:
    """Black or white, whichever reads better on a cell of this colour."""
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"


# --------------------------------------------------------------------------- figures


def lorenz_figure(summary: CustomerSummary) -> Figure:
    curve = lorenz_curve(summary)
    top20 = pareto_share(summary, top=0.2)
    g = gini(summary)
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="equality")
    ax.fill_between(
        curve.population_share,
        curve.value_share,
        curve.population_share,
        color=BAND,
        alpha=0.5,
        linewidth=0,
        label=f"area × 2 = Gini = {g:.2f}",
    )
    ax.plot(curve.population_share, curve.value_share, color=ACTUAL, linewidth=2, label="Lorenz")
    x, y = 0.8, 1.0 - top20
    ax.plot([x, x, 0], [0, y, y], color="black", linestyle=":", linewidth=1)
    ax.plot([x], [y], "o", color=EXPECTED, markersize=7, zorder=3)
    ax.annotate(
        f"top 20% of customers hold {100 * top20:.0f}% of spend\n(bottom 80% hold {100 * y:.0f}%)",
        xy=(x, y),
        xytext=(0.06, 0.62),
        arrowprops={"arrowstyle": "->", "color": "black"},
    )
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal")
    percent_axis(ax.xaxis)
    percent_axis(ax.yaxis)
    ax.set_xlabel("customers, from least to most spend (% of customers)")
    ax.set_ylabel("cumulative spend (% of total)")
    ax.set_title(f"Lorenz curve of spend, {summary.n_customers:,} customers")
    ax.legend(loc="upper left")
    return fig


def value_ranges(edges: np.ndarray, unit: str = "", *, low: int | None = None) -> list[str]:
    """Labels of the right-closed value bins of whole numbers cut at ``edges``.

    ``low`` is the smallest possible value, if known.
    """
    cuts = np.floor(edges).astype(int)
    bounds = [(low, int(cuts[0]))] + [(int(a) + 1, int(b)) for a, b in itertools.pairwise(cuts)]
    labels = []
    for lo, hi in bounds:
        if lo is None:
            labels.append(f"≤{hi}")
        else:
            labels.append(str(lo) if lo == hi else f"{lo}–{hi}")
    labels.append(f"{cuts[-1] + 1}+")
    return [f"{s} {unit}".strip() for s in labels]


def rfm_grid_figure(summary: CustomerSummary) -> Figure:
    buyers = summary.has_purchase
    # Recency and monetary value by quintiles (what the quantile method computes),
    # frequency by fixed purchase counts.
    quintiles = [0.2, 0.4, 0.6, 0.8]
    edges = (
        np.quantile(summary.time_since_last[buyers], quintiles),
        np.asarray(FREQUENCY_EDGES),
        np.quantile(summary.total_spend[buyers], quintiles),
    )
    scores = rfm_scores(summary, method=edges)
    scored = scores.r > 0
    cell = (scores.f[scored] - 1) * 5 + scores.r[scored] - 1
    counts = np.bincount(cell, minlength=25).reshape(5, 5)  # rows: F score, columns: R score
    # the segment of every cell, from the rules themselves
    f_cell, r_cell = np.meshgrid(np.arange(1, 6), np.arange(1, 6), indexing="ij")
    cell_segments = rfm_segments(r=r_cell.ravel(), f=f_cell.ravel(), rules=RF_GRID).reshape(5, 5)
    names = list(RF_GRID)
    codes = np.vectorize(names.index)(cell_segments)
    palette = matplotlib.colormaps["tab20"].colors[1::2]  # the ten light shades
    cmap = ListedColormap(palette[: len(names)])
    norm = BoundaryNorm(np.arange(len(names) + 1) - 0.5, cmap.N)

    fig = new_figure()
    ax = fig.add_subplot()
    ax.imshow(codes, cmap=cmap, norm=norm, origin="lower", extent=(0.5, 5.5, 0.5, 5.5))
    for f in range(5):
        for r in range(5):
            ax.text(r + 1, f + 1, f"{counts[f, r]:,}", ha="center", va="center", fontsize=10)
    for k in np.arange(1.5, 5.5):
        ax.axhline(k, color="white", linewidth=1.5)
        ax.axvline(k, color="white", linewidth=1.5)
    # recency: score 5 holds the shortest times since the last purchase
    r_ranges = value_ranges(edges[0], "d")[::-1]
    f_ranges = value_ranges(edges[1], low=1)  # buyers have at least one purchase day
    ax.set_xticks(range(1, 6), [f"{k}\n{s}" for k, s in zip(range(1, 6), r_ranges, strict=True)])
    ax.set_yticks(range(1, 6), [f"{k}: {s}" for k, s in zip(range(1, 6), f_ranges, strict=True)])
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("R score: days since the last purchase (quintiles)")
    ax.set_ylabel("F score: purchase days")
    ax.set_title(f"RF grid: customers per cell, {int(scored.sum()):,} buyers")
    handles = [
        Patch(facecolor=palette[i], label=name.replace("_", " ")) for i, name in enumerate(names)
    ]
    ax.legend(
        handles=handles,
        title="segment",
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        frameon=False,
    )
    return fig


def cohort_figure(table: InteractionTable) -> Figure:
    matrix = cohort_matrix(table, observation_end=OBSERVATION_END, period="M")
    rates = matrix.rates
    later = rates[:, 1:]
    top = float(np.nanmax(later))
    cmap = matplotlib.colormaps["Blues"]
    fig = new_figure()
    ax = fig.add_subplot()
    image = ax.imshow(rates, cmap=cmap, vmin=0.0, vmax=top, aspect="auto")  # NaN: blank
    for i, j in zip(*np.nonzero(matrix.observable), strict=True):
        value = rates[i, j]
        colour = text_colour(cmap(min(value / top, 1.0)))
        ax.text(j, i, f"{100 * value:.0f}%", ha="center", va="center", fontsize=7, color=colour)
    months = matrix.cohorts.astype("datetime64[M]").astype(str)
    ax.set_yticks(
        range(months.size),
        [f"{m}\nn = {n:,}" for m, n in zip(months, matrix.sizes, strict=True)],
    )
    ax.set_xticks(matrix.offsets)
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("months since acquisition")
    ax.set_ylabel("acquisition month (cohort size)")
    ax.set_title("Cohort retention: % of each cohort buying in the month")
    bar = fig.colorbar(image, ax=ax, extend="max", shrink=0.9, pad=0.02, fraction=0.04)
    bar.set_label("customers buying (% of cohort)")
    bar.ax.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1.0, decimals=0))
    return fig


def p_alive_figure(fit: bgnbd.BgNbdFit) -> Figure:
    frequency = np.arange(1, 21)
    recency = np.linspace(0.0, P_ALIVE_T, 105)
    x, tx = np.meshgrid(frequency, recency, indexing="ij")
    alive = fit.probability_alive(x.ravel(), tx.ravel(), np.full(x.size, P_ALIVE_T))
    alive = alive.reshape(x.shape)
    fig = new_figure()
    ax = fig.add_subplot()
    mesh = ax.pcolormesh(
        recency, frequency, alive, cmap="viridis", vmin=0, vmax=1, shading="nearest"
    )
    lines = ax.contour(recency, frequency, alive, levels=[0.25, 0.5, 0.75], colors="white")
    ax.clabel(lines, fmt=lambda v: f"{v:.2f}", fontsize=8)
    ax.set_xlabel(f"recency t_x: weeks from first to last purchase (T = {P_ALIVE_T:.0f} weeks)")
    ax.set_ylabel("frequency x: repeat purchases")
    ax.set_title("BG/NBD probability that a customer is still active (CDNOW fit)")
    ax.set_yticks([1, 5, 10, 15, 20])
    bar = fig.colorbar(mesh, ax=ax, pad=0.02)
    bar.set_label("P(alive)")
    return fig


def holdout_figure(fit: bgnbd.BgNbdFit, calibration: CustomerSummary) -> Figure:
    hc = clv.holdout_comparison(fit, calibration)
    labels = [str(k) for k in hc.frequency]
    labels[-1] += "+"
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot(hc.frequency, hc.actual, "o-", color=ACTUAL, label="actual")
    ax.plot(hc.frequency, hc.expected, "s--", color=EXPECTED, label="expected (BG/NBD)")
    ax.set_xticks(
        hc.frequency, [f"{s}\nn={n:,}" for s, n in zip(labels, hc.n_customers, strict=True)]
    )
    weeks = float(np.max(calibration.T))
    ax.set_xlabel(f"repeat purchases in the {weeks:.0f} calibration weeks (customers per group)")
    ax.set_ylabel(f"purchases per customer\nin the {hc.duration_holdout:.0f}-week holdout")
    ax.set_title(
        f"Holdout check: {hc.actual_total:,.0f} purchases, {hc.expected_total:,.0f} expected"
    )
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left")
    return fig


def tracking_figure(fit: bgnbd.BgNbdFit, table: InteractionTable) -> Figure:
    tr = clv.tracking(fit, table, observation_end=OBSERVATION_END, period="D", time_unit="W")
    weeks = tr.period_start.astype("datetime64[D]")
    # the calibration ends with the week that starts on its Monday
    cut = np.datetime64(CALIBRATION_END, "D") + np.timedelta64(1, "D")
    fig = new_figure()
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(weeks, tr.actual_incremental, color=ACTUAL, label="actual")
    top.plot(weeks, tr.expected_incremental, color=EXPECTED, linestyle="--", label="expected")
    bottom.plot(weeks, tr.actual_cumulative, color=ACTUAL, label="actual")
    bottom.plot(weeks, tr.expected_cumulative, color=EXPECTED, linestyle="--", label="expected")
    for ax in (top, bottom):
        ax.axvline(cut, color="grey", linestyle=":", linewidth=1.2)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        ax.yaxis.set_major_formatter(ticker.StrMethodFormatter("{x:,.0f}"))
    top.text(cut, 4, "end of calibration ", va="bottom", ha="right", fontsize=9, color="dimgrey")
    top.set_ylabel("repeat purchases\nper week")
    bottom.set_ylabel("cumulative\nrepeat purchases")
    bottom.legend(loc="lower right")
    locator = mdates.MonthLocator(bymonth=(1, 4, 7, 10))
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    bottom.set_xlabel("week of purchase (calendar time)")
    fig.suptitle(f"Repeat purchases of {tr.n_customers:,} customers, actual vs BG/NBD")
    return fig


def lapse_dates(table: InteractionTable) -> tuple[np.ndarray, np.ndarray]:
    """First purchase day and lapse day (NaT while active) of each buying customer.

    A customer lapses ``LAPSE_DAYS`` days after the first purchase that is
    followed by that many days without a purchase.
    """
    buys = table.kinds == KIND_CODES[InteractionKind.PURCHASE]
    codes = table.customer_codes[buys]
    day = table.times[buys].astype("datetime64[D]").astype(np.int64)
    order = np.lexsort((day, codes))
    codes, day = codes[order], day[order]
    new_customer = np.r_[True, codes[1:] != codes[:-1]]
    last = np.r_[new_customer[1:], True]
    end = np.datetime64(OBSERVATION_END, "D").astype(np.int64)
    next_day = np.r_[day[1:], end]
    # a silence starts after this purchase: no purchase in the next LAPSE_DAYS days
    silence = np.where(last, end - day >= LAPSE_DAYS, next_day - day > LAPSE_DAYS)
    rows = np.flatnonzero(silence)
    customers, first_row = np.unique(codes[rows], return_index=True)
    since = day[new_customer]
    ended = np.full(since.size, np.datetime64("NaT"), dtype="datetime64[D]")
    position = np.searchsorted(codes[new_customer], customers)
    ended[position] = (day[rows[first_row]] + LAPSE_DAYS).astype("datetime64[D]")
    return since.astype("datetime64[D]"), ended


def kaplan_meier_figure(table: InteractionTable) -> Figure:
    since, ended = lapse_dates(table)
    tenure = tenure_from_dates(since, ended, observation_end=OBSERVATION_END, time_unit="D")
    curve = kaplan_meier(tenure.durations, tenure.events)
    t = np.r_[0.0, curve.times, curve.max_duration]
    s = np.r_[1.0, curve.survival, curve.survival[-1]]
    low = np.r_[1.0, curve.interval[:, 0], curve.interval[-1, 0]]
    high = np.r_[1.0, curve.interval[:, 1], curve.interval[-1, 1]]
    fig = new_figure()
    ax = fig.add_subplot()
    ax.fill_between(
        t, low, high, step="post", color=BAND, alpha=0.7, linewidth=0, label="95% interval"
    )
    ax.step(t, s, where="post", color=ACTUAL, linewidth=2, label="Kaplan–Meier estimate")
    at_first = 1.0 - float(curve.survival_at([LAPSE_DAYS])[0])
    ax.annotate(
        f"{100 * at_first:.0f}% lapse at the earliest possible day:\n"
        f"no second purchase within {LAPSE_DAYS} days",
        xy=(LAPSE_DAYS, 0.68),
        xytext=(LAPSE_DAYS + 40, 0.68),
        va="center",
        arrowprops={"arrowstyle": "->", "color": "black"},
    )
    ax.set(xlim=(0, curve.max_duration), ylim=(0, 1.02))
    percent_axis(ax.yaxis)
    ax.grid(alpha=0.3)
    ax.set_xlabel("days since the first purchase")
    ax.set_ylabel("customers not yet lapsed (%)")
    n_events = int(tenure.events.sum())
    ax.set_title(
        f"Time to lapse ({LAPSE_DAYS} days without a purchase): {n_events:,} of {curve.n:,} lapsed"
    )
    ax.legend(loc="upper right")
    return fig


def nps_figure(table: InteractionTable) -> Figure:
    assert table.survey_scores is not None
    assert table.survey_scale_max is not None
    answers = (table.kinds == KIND_CODES[InteractionKind.SURVEY]) & (table.survey_scale_max == 10)
    scores = table.survey_scores[answers]
    month = table.times[answers].astype("datetime64[M]")
    months = np.unique(month)
    results = [nps(scores[month == m]) for m in months]
    overall = nps(scores)
    score = np.array([r.score for r in results])
    interval = np.array([r.interval for r in results])
    counts = np.array([r.n for r in results])
    centre = months.astype("datetime64[D]") + np.timedelta64(14, "D")
    fig = new_figure()
    ax = fig.add_subplot()
    ax.axhline(
        overall.score,
        color="grey",
        linestyle="--",
        linewidth=1,
        label=f"all {overall.n:,} answers: NPS {overall.score:.1f}",
    )
    ax.errorbar(
        centre,
        score,
        yerr=np.abs(interval.T - score),
        fmt="o",
        color=ACTUAL,
        ecolor=ACTUAL,
        capsize=3,
        label="monthly NPS, 95% interval",
    )
    locator = mdates.MonthLocator(bymonth=(1, 4, 7, 10))
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    low, high = float(interval.min()), float(interval.max())
    ax.set_ylim(low - 0.22 * (high - low), high + 0.05 * (high - low))  # room for the legend
    ax.grid(axis="y", alpha=0.3)
    ax.set_xlabel("month of the answer")
    ax.set_ylabel("NPS (points, −100 to 100)")
    ax.set_title(f"Net Promoter Score by month ({counts.min():,}–{counts.max():,} answers a month)")
    ax.legend(loc="lower left", ncols=2)
    return fig


def retention_models_figure() -> Figure:
    fig = new_figure()
    ax = fig.add_subplot()
    years = np.arange(len(SEGMENTS["regular"]))
    grid = np.arange(0, years[-1] + 1)
    for name, alive in SEGMENTS.items():
        counts = np.asarray(alive, dtype=float)
        calibration = counts[: CALIBRATION_YEARS + 1]
        s_fit, b_fit = sbg.fit(calibration), bdw.fit(calibration)
        ax.plot(years, counts / counts[0], "o", color="black", markersize=4, zorder=3)
        ax.plot(grid, s_fit.survival(grid), "--", color=ACTUAL, linewidth=1.6)
        ax.plot(grid, b_fit.survival(grid), "-", color=EXPECTED, linewidth=1.6)
        ax.annotate(
            f"{name}: BdW c = {b_fit.params.c:.2f}",
            xy=(10.0, b_fit.survival(10)),
            xytext=(0, 22),
            textcoords="offset points",
            ha="center",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
        )
    ax.axvline(CALIBRATION_YEARS + 0.5, color="grey", linestyle=":", linewidth=1)
    ax.text(CALIBRATION_YEARS + 0.6, 0.95, "projection", color="grey", va="top")
    ax.plot([], [], "o", color="black", markersize=4, label="actual")
    ax.plot([], [], "--", color=ACTUAL, label="sBG (Fader & Hardie 2007)")
    ax.plot([], [], "-", color=EXPECTED, label="BdW (Fader et al. 2018)")
    ax.set(xlim=(0, years[-1] + 0.3), ylim=(0, 1.02))
    percent_axis(ax.yaxis)
    ax.grid(alpha=0.3)
    ax.set_xlabel("year")
    ax.set_ylabel("customers still active (%)")
    ax.set_title(f"Survival fitted on years 0-{CALIBRATION_YEARS}, projected to year {years[-1]}")
    ax.legend(loc="lower left")
    return fig


# --------------------------------------------------------------------------- main


#: The BG/NBD parameters the simulated base buys with (the CDNOW estimates).
TRUE_PARAMS = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def parameters_figure(fit: bgnbd.BgNbdFit) -> Figure:
    draws = fit.sample_params(4000, rng=SEED)
    low, high = np.quantile(draws.values, [0.025, 0.975], axis=0)
    estimate = fit.params.as_array()
    truth = TRUE_PARAMS.as_array()
    rows = np.arange(estimate.size)[::-1]
    fig = new_figure()
    ax = fig.add_subplot()
    ax.errorbar(
        np.ones(estimate.size),
        rows,
        xerr=[1 - low / estimate, high / estimate - 1],
        fmt="o",
        color=EXPECTED,
        capsize=4,
        label="estimate with 95% interval",
    )
    ax.plot(truth / estimate, rows, "x", color=ACTUAL, markersize=9, label="true value")
    ax.set_yticks(
        rows,
        [
            f"{name} = {e:.3g}\n[{lo:.3g}, {hi:.3g}]"
            for name, e, lo, hi in zip(draws.names, estimate, low, high, strict=True)
        ],
    )
    ax.axvline(1.0, color="grey", linewidth=0.8)
    ax.set_xlabel("value relative to the estimate")
    ax.set_title(f"BG/NBD estimates on {fit.n_customers:,.0f} customers, 95% intervals")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left")
    return fig


def two_three_five(value: float, _position: int) -> str:
    """Label a minor tick of a log axis when it is 2, 3 or 5 times a power of ten."""
    leading = value / 10.0 ** np.floor(np.log10(value))
    return f"{value:g}" if round(leading) in (2, 3, 5) else ""


def calibration_figure(fit: bgnbd.BgNbdFit, calibration: CustomerSummary) -> Figure:
    acc = clv.holdout_accuracy(fit, calibration)
    fig = new_figure()
    ax = fig.add_subplot()
    values = np.concatenate([acc.expected, acc.actual])
    low, high = 0.8 * float(values.min()), 1.25 * float(values.max())
    ax.plot([low, high], [low, high], color="grey", linewidth=0.8, label="perfect forecast")
    ax.plot(acc.expected, acc.actual, "o-", color=ACTUAL, label="decile of the forecast")
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):  # plain numbers, not powers of ten
        axis.set_major_formatter(ticker.StrMethodFormatter("{x:g}"))
        axis.set_minor_formatter(ticker.FuncFormatter(two_three_five))
    ax.set_xlabel(f"mean expected purchases in the {acc.duration_holdout:.0f}-week holdout")
    ax.set_ylabel("mean actual purchases")
    ax.set_title(
        f"Calibration by decile: MAE {acc.mae:.2f}, bias {acc.bias:+.3f}, Brier {acc.brier:.3f}"
    )
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left")
    return fig


#: Covariate effects of the coefficient figure (those of docs/explanation/covariates.md).
TRUE_COEFFICIENTS = {"purchase:age": 0.2, "purchase:vip": 0.7, "dropout:vip": 1.0}


def coefficients_figure() -> Figure:
    rng = np.random.default_rng(1)
    age = rng.normal(size=20_000)  # standardised
    vip = (rng.random(20_000) < 0.3).astype(float)
    h = bgnbd_histories(
        *TRUE_PARAMS.as_array(),
        T=52.0,
        rng=2,
        purchase_covariates=np.column_stack([age, vip]),
        purchase_coefficients=[0.2, 0.7],
        dropout_covariates=vip,
        dropout_coefficients=[1.0],
    )
    fit = bgnbd.fit(
        h.frequency,
        h.recency,
        h.T,
        purchase_covariates={"age": age, "vip": vip},
        dropout_covariates={"vip": vip},
    )
    estimate = np.r_[fit.purchase_coefficients, fit.dropout_coefficients]
    error = np.r_[fit.purchase_standard_errors, fit.dropout_standard_errors]
    names = fit.covariance_names[4:]  # after the four log base parameters
    truth = np.array([TRUE_COEFFICIENTS[name] for name in names])
    rows = np.arange(estimate.size)[::-1]
    fig = new_figure()
    ax = fig.add_subplot()
    ax.errorbar(
        estimate,
        rows,
        xerr=1.96 * error,
        fmt="o",
        color=EXPECTED,
        capsize=4,
        label="estimate with 95% interval",
    )
    ax.plot(truth, rows, "x", color=ACTUAL, markersize=9, label="true value")
    ax.set_yticks(
        rows,
        [
            f"{name}\n{e:.3f} ± {1.96 * se:.3f}"
            for name, e, se in zip(names, estimate, error, strict=True)
        ],
    )
    ax.axvline(0.0, color="grey", linewidth=0.8)
    ax.set_xlabel("coefficient (log scale of the parameter it shifts)")
    ax.set_title(f"BG/NBD covariate coefficients, {h.frequency.size:,} simulated customers")
    ax.set_ylim(-0.5, estimate.size)  # room for the legend above the top row
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper right", ncols=2)
    return fig


def simulate_base() -> SimulatedCustomerBase:
    return customer_base(
        N_CUSTOMERS,
        start=START,
        observation_end=OBSERVATION_END,
        acquisition_days=182.0,
        surveys=SurveyOptions(response_rate=0.3, questions=("nps",)),
        rng=SEED,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=DEFAULT_FOLDER,
        help=f"where the PNG files go (default {DEFAULT_FOLDER})",
    )
    folder: Path = parser.parse_args(argv).folder
    folder.mkdir(parents=True, exist_ok=True)
    matplotlib.use("Agg")
    started = time.perf_counter()

    base = simulate_base()
    table = base.table
    by_day = summarize(
        datasets.cdnow(), observation_end=datasets.CDNOW_OBSERVATION_END, time_unit="D"
    )
    calibration = summarize(
        table,
        observation_end=OBSERVATION_END,
        calibration_end=CALIBRATION_END,
        period="D",
        time_unit="W",
    )
    calibration = calibration.select(calibration.has_purchase)
    fit = bgnbd.fit(calibration)
    cdnow = summarize(
        datasets.cdnow_sample(),
        observation_end=datasets.CDNOW_OBSERVATION_END,
        calibration_end=datasets.CDNOW_CALIBRATION_END,
        period="D",
        time_unit="W",
    )
    cdnow_fit = bgnbd.fit(cdnow)

    figures: dict[str, Callable[[], Figure]] = {
        "lorenz.png": lambda: lorenz_figure(by_day),
        "rfm_grid.png": lambda: rfm_grid_figure(by_day),
        "cohort_heatmap.png": lambda: cohort_figure(table),
        "p_alive.png": lambda: p_alive_figure(cdnow_fit),
        "holdout.png": lambda: holdout_figure(cdnow_fit, cdnow),
        "tracking.png": lambda: tracking_figure(fit, table),
        "parameters.png": lambda: parameters_figure(fit),
        "calibration.png": lambda: calibration_figure(cdnow_fit, cdnow),
        "coefficients.png": coefficients_figure,
        "kaplan_meier.png": lambda: kaplan_meier_figure(table),
        "nps_over_time.png": lambda: nps_figure(table),
        "retention_models.png": retention_models_figure,
    }
    with matplotlib.rc_context(STYLE):
        for name, draw in figures.items():
            path = folder / name
            # no "Software" entry: keeps the matplotlib version string out of the files
            draw().savefig(path, dpi=DPI, metadata={"Software": None})
            print(f"{path}  {path.stat().st_size / 1024:6.1f} KB")
    print(f"{len(figures)} figures in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

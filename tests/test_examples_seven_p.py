"""Run the seven 7P scripts of examples/seven_p and check their figures.

Every script runs in its own interpreter (``python -W error``, so a warning
fails it). Each report is then checked against figures computed here directly
from the same simulated base, in plain Python or numpy, without the crmcore
function the script used.
"""

from __future__ import annotations

import ast
import datetime as dt
import itertools
import math
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from crmcore import InteractionKind
from crmcore.table import KIND_CODES
from tests.support import load_script

SEVEN_P = Path(__file__).resolve().parents[1] / "examples" / "seven_p"
SCRIPTS = (
    "profiling",
    "persistency",
    "profitability",
    "performance",
    "prospecting",
    "product",
    "promotion",
)
PURCHASE = KIND_CODES[InteractionKind.PURCHASE]
MARKETING = KIND_CODES[InteractionKind.MARKETING]
REFUND = KIND_CODES[InteractionKind.REFUND]
NUMBER = r"[-+]?[\d,]*\.?\d+"


@pytest.fixture(scope="module")
def reports() -> dict[str, subprocess.CompletedProcess[str]]:
    """Run all scripts at once (they are independent), each as ``python <script>``."""
    running = {
        name: subprocess.Popen(
            [sys.executable, "-W", "error", str(SEVEN_P / f"{name}.py")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=SEVEN_P.parents[1],
        )
        for name in SCRIPTS
    }
    done = {}
    for name, proc in running.items():
        out, err = proc.communicate(timeout=120)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


@pytest.fixture(scope="module")
def shared() -> ModuleType:
    return load_script(SEVEN_P / "_base.py", "seven_p_base")


@pytest.fixture(scope="module")
def base(shared: ModuleType) -> Any:
    return shared.load()


def block(report: str, heading: str) -> list[str]:
    """The lines of the section whose heading starts with ``heading`` (up to a blank line)."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    body = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        body.append(line)
    return body


def number(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def row(lines: list[str], label: str) -> list[float]:
    """The numbers on the line whose first word is ``label``."""
    line = next(x for x in lines if x.split() and x.split()[0] == label)
    return [number(x) for x in re.findall(NUMBER + "%?", line.split(None, 1)[1])]


def purchase_rows(base: Any) -> tuple[np.ndarray, np.ndarray]:
    table = base.table
    buy = table.kinds == PURCHASE
    return np.flatnonzero(buy), table.row_customer_ids()


def orders(base: Any) -> dict[tuple[int, np.datetime64], set[str]]:
    """Per (customer id, timestamp), the products of the purchase rows: one order each."""
    rows, ids = purchase_rows(base)
    products: dict[tuple[int, np.datetime64], set[str]] = defaultdict(set)
    for i in rows:
        products[(int(ids[i]), base.table.times[i])].add(str(base.table.products[i]))
    return products


def purchase_days(base: Any) -> dict[int, set[dt.date]]:
    """Per customer id, the set of calendar days with a purchase."""
    rows, ids = purchase_rows(base)
    days: dict[int, set[dt.date]] = defaultdict(set)
    for i in rows:
        days[int(ids[i])].add(base.table.times[i].astype("datetime64[D]").item())
    return days


# --------------------------------------------------------------------------- all scripts


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_runs_cleanly(reports, name):
    result = reports[name]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert 15 <= len(lines) <= 60
    assert lines[0].lower().startswith(name)


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_has_docstring_and_main(name):
    source = (SEVEN_P / f"{name}.py").read_text()
    assert source.startswith('"""')
    assert f"python examples/seven_p/{name}.py" in source
    assert 'if __name__ == "__main__":\n    main()' in source


# --------------------------------------------------------------------------- profiling


def test_profiling_counts(reports, base, shared):
    out = reports["profiling"].stdout
    n = len({int(i) for i in base.table.row_customer_ids()})
    assert out.startswith(f"Profiling: {n} customers")
    # Customer sources: the simulator's per-customer draw, near the shares asked for.
    sources = block(out, "Customer source")
    drawn = Counter(base.source.tolist())
    assert sum(drawn.values()) == n
    for source, share in shared.SOURCE_SHARES.items():
        count, percent = row(sources, source.value)
        assert count == drawn[source.value]
        assert percent == pytest.approx(100 * count / n, abs=0.051)
        assert count / n == pytest.approx(share, abs=4.5 * math.sqrt(share * (1 - share) / n))
    # Regions: the simulator's own per-customer attribute, not the table rows the script reads.
    region = block(out, "Region")
    for name, count in Counter(base.region.tolist()).items():
        assert row(region, name)[0] == count
    # Acquisition month of each customer, from the simulator's acquisition times.
    printed = {m: int(c) for m, c in re.findall(r"(\d{4}-\d{2}):\s+(\d+)", out)}
    acquired = Counter(str(t.astype("datetime64[M]")) for t in base.first_purchase)
    assert printed == dict(acquired)
    # Median total spend per customer.
    rows, ids = purchase_rows(base)
    spend: dict[int, float] = defaultdict(float)
    for i in rows:
        spend[int(ids[i])] += float(base.table.amounts[i])
    quantiles = block(out, "Total spend per customer")
    median = number(quantiles[1].split()[2])
    assert median == pytest.approx(float(np.median(list(spend.values()))), abs=0.006)
    segments = block(out, "RFM segments")
    assert sum(int(number(line.split()[1])) for line in segments[1:] if "%" in line) == n


# --------------------------------------------------------------------------- persistency


def test_persistency_figures(reports, base):
    out = reports["persistency"].stdout
    days = purchase_days(base)
    repeat = sum(len(d) >= 2 for d in days.values()) / len(days)
    assert f"{100 * repeat:.1f}% of the buyers" in out
    # One-time buyers lapse exactly 180 days after their first purchase, so the
    # Kaplan-Meier curve at 180 days is the repeat-purchase rate.
    km = block(out, "Time to lapse")
    assert row(km, "180")[0] == pytest.approx(100 * repeat, abs=0.051)
    cohorts = block(out, "Cohort retention")
    january = [d for d in days.values() if min(d) < dt.date(2023, 2, 1)]
    assert row(cohorts, "2023-01")[0] == len(january)
    back_in_feb = sum(any(x.year == 2023 and x.month == 2 for x in d) for d in january)
    assert row(cohorts, "2023-01")[1] == pytest.approx(100 * back_in_feb / len(january), abs=0.051)
    # Loyal: 4+ purchase days, the last within 365 days of the end of observation, the
    # first at least 365 days before it.
    end = dt.date(2024, 12, 31)
    loyal = sum(
        len(d) >= 4 and (end - max(d)).days <= 365 and (end - min(d)).days >= 365
        for d in days.values()
    )
    assert row(block(out, "Loyalty classes"), "loyal")[0] == loyal
    # The loyal customers' share of all sales, by summing their purchases.
    spend: dict[int, float] = defaultdict(float)
    rows, ids = purchase_rows(base)
    for i in rows:
        spend[int(ids[i])] += float(base.table.amounts[i])
    loyal_ids = {
        c
        for c, d in days.items()
        if len(d) >= 4 and (end - max(d)).days <= 365 and (end - min(d)).days >= 365
    }
    share = sum(v for c, v in spend.items() if c in loyal_ids) / sum(spend.values())
    assert f"loyal customers bring {100 * share:.1f}% of all sales" in out
    # Migration: the rows of the end-2023 classes sum to the customers who had bought by then.
    moves = block(out, "Class migration")
    bought_2023 = sum(min(d) <= dt.date(2023, 12, 31) for d in days.values())
    assert sum(sum(row(moves, name)) for name in ("new", "old")) == bought_2023


# --------------------------------------------------------------------------- profitability


def test_profitability_figures(reports, base):
    out = reports["profitability"].stdout
    table = base.table
    # Net margin: purchases add their margin, refunds take back theirs (with its sign), support
    # rows carry their cost as a negative margin.
    net: dict[int, float] = defaultdict(float)
    revenue = refunded = 0.0
    n_refunds = 0
    for cid, kind, amount, margin in zip(
        table.row_customer_ids(), table.kinds, table.amounts, table.margins, strict=True
    ):
        net[int(cid)] += 0.0
        if kind == REFUND:
            net[int(cid)] -= float(margin)
            refunded += float(amount)
            n_refunds += 1
        elif not math.isnan(margin):
            net[int(cid)] += float(margin)
        if kind == PURCHASE:
            revenue += float(amount)
    assert n_refunds > 0
    totals = block(out, "Totals")
    assert row(totals, "revenue")[0] == pytest.approx(revenue, abs=0.006)
    refunds = row(totals, "refunds")
    assert refunds[0] == n_refunds
    assert refunds[-1] == pytest.approx(-refunded, abs=0.006)
    assert totals[2].split()[-1] == f"{revenue - refunded:,.2f}"
    assert row(totals, "net")[0] == pytest.approx(sum(net.values()), abs=0.006)
    # Customers losing at least a cent (a full refund of everything nets 0 up to round-off).
    losing = [v for v in net.values() if v < -0.005]
    first = block(out, "Customers who cost money")[0]
    assert first.split()[0] == str(len(losing))
    assert f"lose {-sum(losing):,.2f}" in first
    # The top 20% of customers by margin (losses as 0) and their share.
    earned = sorted((max(v, 0.0) for v in net.values()), reverse=True)
    top = sum(earned[: len(earned) // 5]) / sum(earned)
    assert f"top 20% of customers earn {100 * top:.1f}%" in out


# --------------------------------------------------------------------------- performance


def test_performance_figures(reports, base):
    out = reports["performance"].stdout
    table = base.table
    rows, _ = purchase_rows(base)
    total = math.fsum(float(table.amounts[i]) for i in rows)
    assert f"total revenue {total:,.2f}" in out
    by_region: dict[str, float] = defaultdict(float)
    by_month: dict[str, float] = defaultdict(float)
    for i in rows:
        by_region[str(table.regions[i])] += float(table.amounts[i])
        by_month[str(table.times[i].astype("datetime64[M]"))] += float(table.amounts[i])
    regions = block(out, "By region")
    for name, value in by_region.items():
        assert row(regions, name)[0] == pytest.approx(value, abs=0.006)
    # Customers and orders per region, counted from the rows (an order: one customer's
    # purchase rows with one timestamp).
    _, ids = purchase_rows(base)
    buyers: dict[str, set[int]] = defaultdict(set)
    region_orders: dict[str, set[tuple[int, Any]]] = defaultdict(set)
    for i in rows:
        buyers[str(table.regions[i])].add(int(ids[i]))
        region_orders[str(table.regions[i])].add((int(ids[i]), table.times[i]))
    for name in by_region:
        figures = row(regions, name)
        assert figures[2:4] == [len(buyers[name]), len(region_orders[name])]
    monthly = block(out, "Monthly revenue")
    for month in ("2024-01", "2024-06", "2024-12"):
        current, mom, yoy = row(monthly, month)
        year, m = int(month[:4]), int(month[5:])
        before = f"{year}-{m - 1:02d}" if m > 1 else f"{year - 1}-12"
        assert current == pytest.approx(by_month[month], abs=0.006)
        expected_mom = 100 * (by_month[month] / by_month[before] - 1)
        expected_yoy = 100 * (by_month[month] / by_month[f"{year - 1}-{m:02d}"] - 1)
        assert mom == pytest.approx(expected_mom, abs=0.051)
        assert yoy == pytest.approx(expected_yoy, abs=0.051)


# --------------------------------------------------------------------------- prospecting


def test_prospecting_probability_alive(reports, base):
    out = reports["prospecting"].stdout
    params = dict(re.findall(r"^\s+(r|alpha|a|b) = ([\d.]+)", out, flags=re.M))
    r, alpha, a, b = (float(params[k]) for k in ("r", "alpha", "a", "b"))
    # Histories in weeks from the purchase days, and P(alive) by the closed form of Fader,
    # Hardie & Lee (2008): 1 / (1 + [x > 0] a/(b + x - 1) ((alpha + T)/(alpha + t_x))^(r + x)).
    end = dt.date(2024, 12, 31)
    expected = 0.0
    for d in purchase_days(base).values():
        x = len(d) - 1
        t_x = (max(d) - min(d)).days / 7
        T = (end - min(d)).days / 7
        odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
        expected += 1.0 / (1.0 + odds)
    printed = re.search(r"customers alive now:\s+expected\s+([\d.]+)", out)
    assert printed is not None
    assert float(printed.group(1)) == pytest.approx(expected, rel=1e-4)
    truth = re.search(r"truth: (\d+) alive", out)
    assert truth is not None
    assert int(truth.group(1)) == int(np.count_nonzero(base.histories.alive))


def test_prospecting_backtest_actuals(reports, base):
    out = reports["prospecting"].stdout
    cut = dt.date(2024, 9, 30)
    days = purchase_days(base).values()
    # Customers first seen in the holdout quarter are not in the calibration sample.
    holdout = [sum(x > cut for x in d) for d in days if min(d) <= cut]
    assert re.search(rf"purchases: expected\s+[\d.]+, actual\s+{sum(holdout)}\b", out)
    assert re.search(rf"buyers:\s+expected\s+[\d.]+, actual\s+{sum(h > 0 for h in holdout)}\b", out)


def test_prospecting_leads_by_source_by_brute_force(reports, shared):
    """成交率 per lead source = customers won / leads, and CAC = the source's cost / customers."""
    out = reports["prospecting"].stdout
    table = shared.load_with_leads().table
    lead = KIND_CODES[InteractionKind.LEAD]
    ids = table.row_customer_ids()
    first: dict[int, tuple[np.datetime64, str]] = {}
    for i in np.flatnonzero(table.kinds == lead):
        cid, when = int(ids[i]), table.times[i]
        if cid not in first or when < first[cid][0]:
            first[cid] = (when, str(table.lead_sources[i]))
    buyers = {int(ids[i]) for i in np.flatnonzero(table.kinds == PURCHASE)}
    leads = Counter(src for _, src in first.values())
    won = Counter(src for cid, (_, src) in first.items() if cid in buyers)
    source = (SEVEN_P / "prospecting.py").read_text()
    costs = ast.literal_eval(re.search(r"^LEAD_COSTS = (\{.*\})$", source, re.M).group(1))
    lines = block(out, "Acquisition by lead source")
    for source, n in leads.items():
        numbers = row(lines, source)
        assert numbers[:2] == [n, won[source]]
        assert numbers[2] == pytest.approx(100 * won[source] / n, abs=0.05)
        assert numbers[-1] == pytest.approx(costs.get(source, 0.0) / won[source], abs=0.005)
    assert f"({sum(costs.values()):,.0f} / {sum(won.values())})" in out


def test_load_with_leads_keeps_the_customers_rows(shared):
    plain, with_leads = shared.load().table, shared.load_with_leads().table
    kept = with_leads.kinds < KIND_CODES[InteractionKind.LEAD]
    assert np.array_equal(with_leads.times[kept], plain.times)
    assert np.array_equal(with_leads.amounts[kept], plain.amounts)
    assert np.array_equal(with_leads.row_customer_ids()[kept], plain.row_customer_ids())


# --------------------------------------------------------------------------- product


def test_product_top_pair_by_brute_force(reports, base):
    out = reports["product"].stdout
    rows, ids = purchase_rows(base)
    bought: dict[int, set[str]] = defaultdict(set)
    for i in rows:
        bought[int(ids[i])].add(str(base.table.products[i]))
    pairs = Counter(p for s in bought.values() for p in itertools.combinations(sorted(s), 2))
    (best_a, best_b), n_ab = max(pairs.items(), key=lambda kv: kv[1])
    first = block(out, "Most frequent pairs")[1].split()
    assert (first[0], first[2]) == (best_a, best_b)
    assert int(first[3]) == n_ab
    n = len(bought)
    n_a = sum(best_a in s for s in bought.values())
    n_b = sum(best_b in s for s in bought.values())
    assert float(first[-1]) == pytest.approx(n_ab * n / (n_a * n_b), abs=0.0051)
    assert float(first[5]) == pytest.approx(n_ab / n_a, abs=0.00051)


def test_product_pairs_in_one_order_by_brute_force(reports, base):
    out = reports["product"].stdout
    baskets = orders(base)
    assert f"{len(baskets)} orders of " in out.splitlines()[1]
    pairs = Counter(p for s in baskets.values() for p in itertools.combinations(sorted(s), 2))
    most = max(pairs.values())
    first = block(out, "Most frequent pairs in one order")[1].split()
    pair = (first[0], first[2])
    # Ties in the count are possible: check the printed pair has the largest count.
    assert pairs[pair] == most
    assert int(first[3]) == most
    n_a = sum(pair[0] in s for s in baskets.values())
    n_b = sum(pair[1] in s for s in baskets.values())
    assert float(first[4]) == pytest.approx(most / len(baskets), abs=0.00051)
    assert float(first[-1]) == pytest.approx(most * len(baskets) / (n_a * n_b), abs=0.0051)
    # Category loyalty: two products of one category share an order more often than chance.
    median = re.findall(r"within a category ([\d.]+), of the \d+ across categories ([\d.]+)", out)
    within, across = (float(x) for x in median[1])
    assert within > 1 > across


# --------------------------------------------------------------------------- promotion


def test_promotion_response_by_brute_force(reports, base, shared):
    out = reports["promotion"].stdout
    table = base.table
    ids = table.row_customer_ids()
    response = block(out, "Response")
    for c in shared.CAMPAIGNS:
        contact = {
            int(ids[i]): (table.times[i], bool(table.in_control_group[i]))
            for i in np.flatnonzero((table.kinds == MARKETING) & (table.campaigns == c.name))
        }
        window = np.timedelta64(round(c.response_days * 86_400), "s")
        responded = {
            int(ids[i])
            for i in np.flatnonzero(table.kinds == PURCHASE)
            if int(ids[i]) in contact
            and contact[int(ids[i])][0] <= table.times[i] < contact[int(ids[i])][0] + window
        }
        control = {k for k, (_, flag) in contact.items() if flag}
        treated = set(contact) - control
        # campaign, sent, window, treated, control, bought (treated), bought (control), ...
        fields = next(line.split() for line in response if line.split()[0] == c.name)
        n_treated, n_control = int(fields[3]), int(fields[4])
        rate_t, rate_c = number(fields[5]), number(fields[6])
        assert (n_treated, n_control) == (len(treated), len(control))
        assert rate_t == pytest.approx(100 * len(responded & treated) / len(treated), abs=0.051)
        assert rate_c == pytest.approx(100 * len(responded & control) / len(control), abs=0.051)

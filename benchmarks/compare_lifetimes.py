"""Side-by-side comparison of crmcore with the ``lifetimes`` package.

Run with ``python benchmarks/compare_lifetimes.py [--customers N]
[--pareto-customers M] [--repeat K] [--lifetimes-python PATH]``.

Both libraries get the same simulated histories (weekly time unit; recency
and T rounded down to whole days, as :mod:`benchmarks.bench_models` does):

* BG/NBD and Gamma-Gamma: ``N`` customers drawn from the BG/NBD model with
  the CDNOW estimates (r, alpha, a, b) = (0.243, 4.414, 0.793, 2.426) and
  Gamma-Gamma spend with (p, q, v) = (6.25, 3.74, 15.44);
* Pareto/NBD: the first ``M`` customers of a second draw, from the Pareto/NBD
  model with the CDNOW estimates (0.55, 10.58, 0.61, 11.67) (lifetimes'
  Pareto/NBD fit takes about 5 minutes per million customers, hence the
  smaller default).

crmcore runs in this process. lifetimes is not a dependency of crmcore and is
never imported here: it runs in a subprocess with another interpreter, reading
the histories from ``.npy`` files and writing its timings, estimates and
predictions back. That interpreter lives in a virtual environment this script
builds itself on its first run, in ``benchmarks/.peer-envs/lifetimes-0.11.3/``
(ignored by git), with lifetimes and every package it needs pinned in
:data:`compare_peers.LIFETIMES_REQUIREMENTS` (the same environment
``compare_peers.py`` uses); later runs reuse it, and a change of the pins
rebuilds it. Building needs the package index (about 100 MB of wheels) and a
Python for which the pinned wheels exist (3.11 or 3.12; the environment is
made with the interpreter running this script). ``--lifetimes-python PATH``
uses another interpreter that has lifetimes instead.
Every timing is the best of ``--repeat`` runs (wall clock); each library's
predictions use its own estimates. lifetimes is called with its defaults
(``penalizer_coef=0``, its own optimiser settings).

The CLV settings follow lifetimes' ``customer_lifetime_value``, which
forecasts ``time`` months in monthly steps of 4.345 weeks (``freq="W"``) and
discounts month k by ``(1 + monthly rate)^-k``: 12 months at 1% a month. The
crmcore run uses the same steps (horizon 12 * 4.345 weeks, step 4.345 weeks)
and the equivalent weekly rate ``1.01^(1/4.345) - 1``, so the two compute the
same quantity.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from _timing import best_of
from compare_peers import LIFETIMES_REQUIREMENTS, PEER_ENVS, PeerUnavailableError, build_env

from crmcore import CustomerSummary
from crmcore.models import bgnbd, clv, gamma_gamma, pareto_nbd
from crmcore.simulate import bgnbd_histories, gamma_gamma_spend, pareto_nbd_histories

BG = (0.243, 4.414, 0.793, 2.426)  # CDNOW estimates (Fader, Hardie & Lee 2005)
GG = (6.25, 3.74, 15.44)
PNBD = (0.55, 10.58, 0.61, 11.67)
HORIZON_T = 52.0  # weeks, for the conditional expected purchases
CLV_MONTHS = 12
WEEKS_PER_MONTH = 4.345  # lifetimes' factor for freq="W"
MONTHLY_RATE = 0.01
WEEKLY_RATE = (1.0 + MONTHLY_RATE) ** (1.0 / WEEKS_PER_MONTH) - 1.0

BG_NAMES = ("r", "alpha", "a", "b")
PNBD_NAMES = ("r", "alpha", "s", "beta")
GG_NAMES = ("p", "q", "v")

# The lifetimes side, run by the other interpreter. argv: data dir, repeat.
LIFETIMES_WORKER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path

    import numpy as np
    import pandas as pd
    import lifetimes
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

    d = Path(sys.argv[1])
    repeat = int(sys.argv[2])
    times = {}

    def timed(key, func):
        best, out = float("inf"), None
        for _ in range(repeat):
            start = time.perf_counter()
            out = func()
            best = min(best, time.perf_counter() - start)
        times[key] = best
        return out

    idx = pd.RangeIndex(len(np.load(d / "x.npy")))
    x = pd.Series(np.load(d / "x.npy"), index=idx)
    tx = pd.Series(np.load(d / "tx.npy"), index=idx)
    T = pd.Series(np.load(d / "T.npy"), index=idx)
    m = pd.Series(np.load(d / "m.npy"), index=idx)
    buyers = x > 0
    pidx = pd.RangeIndex(len(np.load(d / "px.npy")))
    px = pd.Series(np.load(d / "px.npy"), index=pidx)
    ptx = pd.Series(np.load(d / "ptx.npy"), index=pidx)
    pT = pd.Series(np.load(d / "pT.npy"), index=pidx)
    meta = json.loads((d / "meta.json").read_text())

    bg = timed("bg_fit", lambda: BetaGeoFitter().fit(x, tx, T))
    pn = timed("pnbd_fit", lambda: ParetoNBDFitter().fit(px, ptx, pT))
    gg = timed("gg_fit", lambda: GammaGammaFitter().fit(x[buyers], m[buyers]))
    alive = timed("bg_alive", lambda: bg.conditional_probability_alive(x, tx, T))
    cond = timed(
        "bg_cond",
        lambda: bg.conditional_expected_number_of_purchases_up_to_time(meta["t"], x, tx, T),
    )
    p_alive = timed("pnbd_alive", lambda: pn.conditional_probability_alive(px, ptx, pT))
    p_cond = timed(
        "pnbd_cond",
        lambda: pn.conditional_expected_number_of_purchases_up_to_time(meta["t"], px, ptx, pT),
    )
    value = timed(
        "clv",
        lambda: gg.customer_lifetime_value(
            bg, x, tx, T, m, time=meta["months"], discount_rate=meta["monthly_rate"], freq="W"
        ),
    )
    np.save(d / "lt_bg_alive.npy", np.asarray(alive, dtype=float))
    np.save(d / "lt_bg_cond.npy", np.asarray(cond, dtype=float))
    np.save(d / "lt_pnbd_alive.npy", np.asarray(p_alive, dtype=float))
    np.save(d / "lt_pnbd_cond.npy", np.asarray(p_cond, dtype=float))
    np.save(d / "lt_clv.npy", np.asarray(value, dtype=float))
    out = {
        "version": lifetimes.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "times": times,
        "bg": [float(bg.params_[k]) for k in ("r", "alpha", "a", "b")],
        "pnbd": [float(pn.params_[k]) for k in ("r", "alpha", "s", "beta")],
        "gg": [float(gg.params_[k]) for k in ("p", "q", "v")],
        "bg_nll": float(bg._negative_log_likelihood_),
        "pnbd_nll": float(pn._negative_log_likelihood_),
    }
    (d / "lt_results.json").write_text(json.dumps(out))
    """
)


def daily(sim: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Round recency and T (weeks) down to whole days, as real logs give."""
    big_t = np.floor(sim.T * 7) / 7
    tx = np.minimum(np.floor(sim.recency * 7) / 7, big_t)
    return np.asarray(sim.frequency), tx, big_t


def simulate(n: int, n_pareto: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2024)
    T = rng.integers(1, 78 * 7, n) / 7  # first purchases spread over 78 weeks
    x, tx, big_t = daily(bgnbd_histories(*BG, T=T, rng=1))
    spend = gamma_gamma_spend(*GG, frequency=x, rng=3)
    m = np.where(x > 0, spend.monetary_value, 0.0)
    rng = np.random.default_rng(2025)
    pT = rng.integers(1, 78 * 7, n_pareto) / 7
    px, ptx, p_big_t = daily(pareto_nbd_histories(*PNBD, T=pT, rng=4))
    return {"x": x, "tx": tx, "T": big_t, "m": m, "px": px, "ptx": ptx, "pT": p_big_t}


def run_crmcore(data: dict[str, np.ndarray], repeat: int) -> dict[str, Any]:
    x, tx, big_t, m = data["x"], data["tx"], data["T"], data["m"]
    px, ptx, p_big_t = data["px"], data["ptx"], data["pT"]
    times: dict[str, float] = {}
    f, times["bg_fit"] = best_of(lambda: bgnbd.fit(x, tx, big_t), repeat)
    pf, times["pnbd_fit"] = best_of(lambda: pareto_nbd.fit(px, ptx, p_big_t), repeat)
    buyers = x > 0
    g, times["gg_fit"] = best_of(lambda: gamma_gamma.fit(x[buyers], m[buyers]), repeat)
    p, pp = f.params, pf.params
    alive, times["bg_alive"] = best_of(lambda: bgnbd.probability_alive(p, x, tx, big_t), repeat)
    cond, times["bg_cond"] = best_of(
        lambda: bgnbd.conditional_expected_purchases(p, HORIZON_T, x, tx, big_t), repeat
    )
    p_alive, times["pnbd_alive"] = best_of(
        lambda: pareto_nbd.probability_alive(pp, px, ptx, p_big_t), repeat
    )
    p_cond, times["pnbd_cond"] = best_of(
        lambda: pareto_nbd.conditional_expected_purchases(pp, HORIZON_T, px, ptx, p_big_t),
        repeat,
    )
    summary = CustomerSummary.from_arrays(x, tx, big_t, monetary_value=m, time_unit="W")
    value, times["clv"] = best_of(
        lambda: clv.customer_lifetime_value(
            f,
            g,
            summary,
            horizon=CLV_MONTHS * WEEKS_PER_MONTH,
            step=WEEKS_PER_MONTH,
            discount_rate=WEEKLY_RATE,
        ),
        repeat,
    )
    return {
        "times": times,
        "bg": list(p.as_array()),
        "pnbd": list(pp.as_array()),
        "gg": list(g.params.as_array()),
        "bg_ll": f.log_likelihood,
        "pnbd_ll": pf.log_likelihood,
        "bg_fit": f,
        "pnbd_fit": pf,
        "gg_fit": g,
        "bg_alive": np.asarray(alive),
        "bg_cond": np.asarray(cond),
        "pnbd_alive": np.asarray(p_alive),
        "pnbd_cond": np.asarray(p_cond),
        "clv": np.asarray(value.clv),
    }


def peer_python(envs: Path = PEER_ENVS) -> Path:
    """Return the interpreter of the pinned lifetimes environment, building it on first use.

    The environment is ``envs/lifetimes-0.11.3``, the one ``compare_peers.py`` builds and uses
    (see :func:`compare_peers.build_env`). Without the package index: a message and exit 2.
    """
    try:
        return build_env(envs, "lifetimes-0.11.3", LIFETIMES_REQUIREMENTS)
    except PeerUnavailableError as exc:
        print(f"{exc}\n\nRun again with the package index reachable.", file=sys.stderr)
        raise SystemExit(2) from None


def run_lifetimes(
    python: str, data: dict[str, np.ndarray], repeat: int, workdir: Path
) -> dict[str, Any] | None:
    if not Path(python).exists():
        print(f"lifetimes not available: no interpreter at {python}\n")
        return None
    for key, arr in data.items():
        np.save(workdir / f"{key}.npy", arr)
    meta = {"t": HORIZON_T, "months": CLV_MONTHS, "monthly_rate": MONTHLY_RATE}
    (workdir / "meta.json").write_text(json.dumps(meta))
    script = workdir / "lifetimes_worker.py"
    script.write_text(LIFETIMES_WORKER)
    proc = subprocess.run(
        [python, str(script), str(workdir), str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        print(f"lifetimes not available: the worker failed with\n{tail}\n")
        return None
    out: dict[str, Any] = json.loads((workdir / "lt_results.json").read_text())
    for key in ("bg_alive", "bg_cond", "pnbd_alive", "pnbd_cond", "clv"):
        out[key] = np.load(workdir / f"lt_{key}.npy")
    return out


ROWS = (
    ("bg_fit", "BG/NBD fit"),
    ("pnbd_fit", "Pareto/NBD fit"),
    ("gg_fit", "Gamma-Gamma fit (repeat buyers)"),
    ("bg_alive", "BG/NBD P(alive), all customers"),
    ("bg_cond", "BG/NBD E[purchases in 52 weeks | history]"),
    ("pnbd_alive", "Pareto/NBD P(alive)"),
    ("pnbd_cond", "Pareto/NBD E[purchases in 52 weeks | history]"),
    ("clv", "CLV (BG/NBD + GG, 12 x 4.345 weeks, 1%/month)"),
)


def print_times(cr: dict[str, Any], lt: dict[str, Any] | None, n: int, n_p: int) -> None:
    sizes = {"pnbd_fit": n_p, "pnbd_alive": n_p, "pnbd_cond": n_p}
    print(f"{'task':<48s} {'customers':>10s} {'crmcore':>10s} {'lifetimes':>10s} {'speed-up':>9s}")
    for key, label in ROWS:
        c = cr["times"][key]
        size = f"{sizes.get(key, n):,}"
        if lt is None:
            print(f"{label:<48s} {size:>10s} {c:9.3f}s {'-':>10s} {'-':>9s}")
        else:
            t = lt["times"][key]
            print(f"{label:<48s} {size:>10s} {c:9.3f}s {t:9.3f}s {t / c:8.1f}x")
    print()


def print_params(
    title: str, names: tuple[str, ...], true: tuple[float, ...], cr: list[float], lt: Any
) -> None:
    print(title)
    print(f"  {'':6s} {'true':>10s} {'crmcore':>12s} {'lifetimes':>12s} {'rel. diff':>10s}")
    for i, name in enumerate(names):
        if lt is None:
            print(f"  {name:6s} {true[i]:10.4f} {cr[i]:12.6f}")
        else:
            rel = abs(cr[i] - lt[i]) / abs(cr[i])
            print(f"  {name:6s} {true[i]:10.4f} {cr[i]:12.6f} {lt[i]:12.6f} {rel:10.2e}")


def print_diff(label: str, a: np.ndarray, b: np.ndarray) -> None:
    diff = np.abs(a - b)
    scale = np.maximum(np.abs(a), 1e-12)
    i = int(np.argmax(diff))
    print(
        f"  {label:<44s} max abs {diff.max():.2e}  max rel {np.max(diff / scale):.2e}"
        f"  (worst row {i}: {a[i]:.6g} vs {b[i]:.6g})"
    )


def compare(data: dict[str, np.ndarray], cr: dict[str, Any], lt: dict[str, Any] | None) -> None:
    lt_bg = lt["bg"] if lt else None
    lt_pn = lt["pnbd"] if lt else None
    lt_gg = lt["gg"] if lt else None
    print_params("BG/NBD estimates", BG_NAMES, BG, cr["bg"], lt_bg)
    print_params("Pareto/NBD estimates", PNBD_NAMES, PNBD, cr["pnbd"], lt_pn)
    print_params("Gamma-Gamma estimates", GG_NAMES, GG, cr["gg"], lt_gg)
    print()
    if lt is None:
        return
    # log-likelihood of each library's estimates, both evaluated by crmcore
    x, tx, big_t = data["x"], data["tx"], data["T"]
    px, ptx, p_big_t = data["px"], data["ptx"], data["pT"]
    lt_bgp = bgnbd.BgNbdParams(**dict(zip(BG_NAMES, lt_bg, strict=True)))
    lt_pnp = pareto_nbd.ParetoNbdParams(**dict(zip(PNBD_NAMES, lt_pn, strict=True)))
    print("log-likelihood at each library's estimates (evaluated by crmcore)")
    ll_c = bgnbd.log_likelihood(cr["bg_fit"].params, x, tx, big_t)
    ll_l = bgnbd.log_likelihood(lt_bgp, x, tx, big_t)
    print(f"  BG/NBD     crmcore {ll_c:.4f}  lifetimes {ll_l:.4f}  difference {ll_c - ll_l:.3g}")
    ll_c = pareto_nbd.log_likelihood(cr["pnbd_fit"].params, px, ptx, p_big_t)
    ll_l = pareto_nbd.log_likelihood(lt_pnp, px, ptx, p_big_t)
    print(f"  Pareto/NBD crmcore {ll_c:.4f}  lifetimes {ll_l:.4f}  difference {ll_c - ll_l:.3g}")
    print()
    print("predictions, each library with its own estimates")
    print_diff("BG/NBD P(alive)", cr["bg_alive"], lt["bg_alive"])
    print_diff("BG/NBD E[purchases in 52 weeks]", cr["bg_cond"], lt["bg_cond"])
    print_diff("Pareto/NBD P(alive)", cr["pnbd_alive"], lt["pnbd_alive"])
    print_diff("Pareto/NBD E[purchases in 52 weeks]", cr["pnbd_cond"], lt["pnbd_cond"])
    print_diff("CLV", cr["clv"], lt["clv"])
    print("predictions, crmcore evaluated at lifetimes' estimates (formulas only)")
    alive = bgnbd.probability_alive(lt_bgp, x, tx, big_t)
    cond = bgnbd.conditional_expected_purchases(lt_bgp, HORIZON_T, x, tx, big_t)
    print_diff("BG/NBD P(alive)", alive, lt["bg_alive"])
    print_diff("BG/NBD E[purchases in 52 weeks]", cond, lt["bg_cond"])
    alive = pareto_nbd.probability_alive(lt_pnp, px, ptx, p_big_t)
    cond = pareto_nbd.conditional_expected_purchases(lt_pnp, HORIZON_T, px, ptx, p_big_t)
    print_diff("Pareto/NBD P(alive)", alive, lt["pnbd_alive"])
    print_diff("Pareto/NBD E[purchases in 52 weeks]", cond, lt["pnbd_cond"])
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--pareto-customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs per timing (best is kept)")
    parser.add_argument(
        "--lifetimes-python",
        default=None,
        help="an interpreter with lifetimes installed (default: build and use the pinned "
        "environment in benchmarks/.peer-envs/)",
    )
    args = parser.parse_args()
    python = args.lifetimes_python or str(peer_python())
    n, n_p = args.customers, args.pareto_customers
    data = simulate(n, n_p)
    print(
        f"BG/NBD data: {n:,} customers, {int((data['x'] > 0).sum()):,} repeat buyers; "
        f"Pareto/NBD data: {n_p:,} customers; weeks, times rounded to days; "
        f"best of {args.repeat}\n"
    )
    cr = run_crmcore(data, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        lt = run_lifetimes(python, data, args.repeat, Path(tmp))
    if lt is not None:
        print(f"lifetimes {lt['version']} (numpy {lt['numpy']}, pandas {lt['pandas']})\n")
    print_times(cr, lt, n, n_p)
    compare(data, cr, lt)
    print(
        f"CLV settings: lifetimes time={CLV_MONTHS}, freq='W', discount_rate={MONTHLY_RATE} "
        f"(monthly steps of {WEEKS_PER_MONTH} weeks); crmcore horizon="
        f"{CLV_MONTHS * WEEKS_PER_MONTH:.2f}, step={WEEKS_PER_MONTH}, "
        f"discount_rate={WEEKLY_RATE:.6f} a week (discrete)."
    )


if __name__ == "__main__":
    sys.exit(main())

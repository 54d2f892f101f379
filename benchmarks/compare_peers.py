"""Side-by-side timing of crmcore, lifetimes and pymc-marketing on the same files.

Run with ``python benchmarks/compare_peers.py [--quick] [--customers N] [--repeat K]
[--fit-repeat F] [--skip lifetimes|pymc-marketing] [--datasets sim,cdnow] [--clock wall|cpu]
[--envs-dir DIR] [--data-dir DIR [--report | --rerun-crmcore]]``.

What it does:

1. Builds (first run only) one virtual environment per peer in the cache folder
   ``benchmarks/.peer-envs/`` (ignored by git; ``--envs-dir`` for another place): lifetimes
   0.11.3 with every dependency pinned (:data:`LIFETIMES_REQUIREMENTS`) and pymc-marketing
   pinned to the version this script was last measured with (:data:`PYMC_MARKETING_VERSION`,
   the newest the package index served then; its dependencies are whatever pip resolves and
   are recorded in ``freeze.txt`` of the environment). The environments are made with the
   interpreter running this script (3.11 or 3.12). Without the package index the build stops
   with a message and exit code 2; ``--skip`` leaves a peer out.
2. Simulates the inputs once with :mod:`crmcore.simulate` from fixed seeds and writes them as
   ``.npy`` files: ``sim``, ``--customers`` continuous histories (weeks, nothing rounded, so no
   two histories tie) drawn from BG/NBD with the CDNOW estimates, a second draw from
   Pareto/NBD with the CDNOW estimates, and Gamma-Gamma spend of the BG/NBD repeat buyers; and
   ``cdnow``, the published CDNOW calibration summary (2,357 customers,
   :func:`crmcore.datasets.cdnow_sample_summary`) written in the same format.
3. Runs each library in its own process (crmcore with this interpreter, each peer with its
   environment's) on those files. A worker loads the files outside the timings, then times
   every task as the best of ``--repeat`` calls (fits: ``--fit-repeat``): BG/NBD and
   Pareto/NBD fit, P(alive), conditional expected purchases in 39 weeks and P(at least one
   purchase in 39 weeks) where the library has it; Gamma-Gamma fit (repeat buyers) and
   expected spend. pymc-marketing fits by MAP (its fastest); its first fit in a fresh process,
   which includes compiling the model, is timed on its own and the warm figure is the best of
   the later fits. It runs twice: with flat priors on every parameter (maximum likelihood, the
   same estimates as crmcore and lifetimes) and with its default priors, which pull the
   estimates (on CDNOW, BG/NBD a and b move by about -11% and -14%).
4. Prints one Markdown table: task, data, crmcore time, peer, peer time, ratio (peer time /
   crmcore time) and agreement: for a fit the largest relative difference of an estimate from
   crmcore's (signed, with the parameter's name), for a prediction the largest relative
   difference over all customers of the peer's prediction (with its own estimates) from
   crmcore's. ``--clock cpu`` times process CPU time instead of wall time (steadier on a
   loaded machine; a library that computes on several threads is then charged for all).

``--data-dir DIR`` keeps the inputs and every library's results. With a kept run,
``--report`` prints its table again without running anything, and ``--rerun-crmcore`` times
crmcore again (the code checked out now) and reuses the peers' kept results: the peers'
code does not change between two crmcore commits, and their runs take most of the time.

Only the standard library and numpy are imported at the top: the same file is the worker
that runs under each peer's interpreter (``--worker``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

BG = (0.243, 4.414, 0.793, 2.426)  # CDNOW estimates, Fader, Hardie & Lee (2005)
PNBD = (0.55, 10.58, 0.61, 11.67)  # CDNOW estimates, Fader, Hardie & Lee (2005)
GG = (6.25, 3.74, 15.44)  # CDNOW estimates, Fader, Hardie & Lee (2005, "RFM and CLV")
HORIZON = 39.0  # weeks, for the conditional predictions
NAMES = {"bg": ("r", "alpha", "a", "b"), "pn": ("r", "alpha", "s", "beta"), "gg": ("p", "q", "v")}

# lifetimes 0.11.3 (its last release) and the versions of everything it imports.
LIFETIMES_REQUIREMENTS = (
    "lifetimes==0.11.3",
    "numpy==1.26.4",
    "scipy==1.11.4",
    "pandas==2.1.4",
    "autograd==1.7.0",
    "dill==0.3.8",
    "python-dateutil==2.9.0.post0",
    "pytz==2024.1",
    "tzdata==2024.1",
    "six==1.16.0",
)
# The newest pymc-marketing the package index served when the figures of benchmarks/README.md
# were measured; pip resolves its dependencies, recorded in the environment's freeze.txt.
PYMC_MARKETING_VERSION = "0.19.2"
PEER_ENVS = Path(__file__).resolve().parent / ".peer-envs"

# (key, label, model) of every task, in table order
TASKS = (
    ("bg_fit", "BG/NBD fit", "bg"),
    ("bg_alive", "BG/NBD P(alive)", "bg"),
    ("bg_cond", "BG/NBD E[purchases in 39 weeks]", "bg"),
    ("bg_p1", "BG/NBD P(a purchase in 39 weeks)", "bg"),
    ("pn_fit", "Pareto/NBD fit", "pn"),
    ("pn_alive", "Pareto/NBD P(alive)", "pn"),
    ("pn_cond", "Pareto/NBD E[purchases in 39 weeks]", "pn"),
    ("pn_p1", "Pareto/NBD P(a purchase in 39 weeks)", "pn"),
    ("gg_fit", "Gamma-Gamma fit", "gg"),
    ("gg_spend", "Gamma-Gamma expected spend", "gg"),
)


class PeerUnavailableError(Exception):
    """A peer's environment cannot be built (no package index, no wheel for this Python)."""


# --------------------------------------------------------------------------- pure helpers


def agreement(reference: np.ndarray, other: np.ndarray, floor: float = 1e-12) -> float:
    """Largest relative difference ``|a - b| / max(|a|, |b|, floor)`` over all entries.

    ``floor`` keeps values that are both (almost) zero from counting as a large relative
    difference. NaN anywhere gives NaN; arrays of different shapes raise ValueError.
    """
    a = np.asarray(reference, dtype=float)
    b = np.asarray(other, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    if np.isnan(a).any() or np.isnan(b).any():
        return float("nan")
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    with np.errstate(invalid="ignore"):
        rel = np.where(a == b, 0.0, np.abs(a - b) / scale)
    return float(np.max(rel))


def split_agreement(reference: np.ndarray, other: np.ndarray, no_repeat: np.ndarray) -> str:
    """:func:`agreement` as text, split by x = 0 or x > 0 when x = 0 is over 100x worse.

    A peer whose formula goes wrong only for customers without repeat purchases is then
    told apart from one whose estimates differ (differences under 1e-6 are not split).
    """
    whole = agreement(reference, other)
    if no_repeat.any() and (~no_repeat).any():
        zero = agreement(reference[no_repeat], other[no_repeat])
        rest = agreement(reference[~no_repeat], other[~no_repeat])
        if zero > 100 * rest and zero > 1e-6:
            return f"{zero:.1e} where x = 0, {rest:.1e} where x > 0"
    return f"{whole:.1e}"


def param_agreement(
    names: Sequence[str], reference: Sequence[float], other: Sequence[float]
) -> str:
    """Describe the estimate farthest from the reference: ``"b -14%"`` or ``"r +3.2e-06"``."""
    worst, text = -1.0, "equal"
    for name, a, b in zip(names, reference, other, strict=True):
        rel = (b - a) / abs(a) if a != 0 else (0.0 if b == 0 else float("inf"))
        if abs(rel) > worst:
            worst = abs(rel)
            text = f"{name} {rel:+.0%}" if abs(rel) >= 0.01 else f"{name} {rel:+.1e}"
    return text


def format_seconds(seconds: float | None) -> str:
    """``0.0123`` -> ``"12.3 ms"``, ``4.56`` -> ``"4.56 s"``, ``None`` -> ``"-"``."""
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def format_ratio(crmcore: float | None, peer: float | None) -> str:
    """Peer time over crmcore time, ``"4.5x"``; ``"-"`` when either is missing."""
    if crmcore is None or peer is None or crmcore <= 0:
        return "-"
    ratio = peer / crmcore
    return f"{ratio:.2g}x" if ratio < 10 else f"{ratio:.0f}x"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table whose columns are padded to line up in a terminal too."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


# --------------------------------------------------------------------------- environments


def build_env(envs: Path, name: str, requirements: Sequence[str]) -> Path:
    """Return the interpreter of the environment ``envs/name``, building it on first use.

    ``requirements.txt`` in the environment records the requirements it was built with and is
    written last, so a build that was interrupted or made with other pins is made again.
    Raises PeerUnavailableError with pip's last words when pip cannot install them.
    """
    env = envs / name
    python = env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    pins = "\n".join(requirements) + "\n"
    record = env / "requirements.txt"
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    if python.exists() and record.exists() and record.read_text() == pins:
        if not (env / "freeze.txt").exists():
            freeze = subprocess.run([*pip, "freeze"], capture_output=True, text=True, check=True)
            (env / "freeze.txt").write_text(freeze.stdout)
        return python
    if env.exists():
        shutil.rmtree(env)
    print(f"building {env} (first run only; needs the package index) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    wanted = env / "requirements.in"
    wanted.write_text(pins)
    for step in (["install", "--quiet", "-r", str(wanted)], ["check"]):
        proc = subprocess.run([*pip, *step], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            said = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
            said = [ln for ln in said if "is ignored: it is neither" not in ln]
            shutil.rmtree(env, ignore_errors=True)  # no half-built environment left behind
            raise PeerUnavailableError(
                f"could not build {env}: pip {step[0]} failed (is the package index "
                "reachable?). pip said:\n  " + "\n  ".join(said[-4:])
            )
    freeze = subprocess.run([*pip, "freeze"], capture_output=True, text=True, check=True)
    (env / "freeze.txt").write_text(freeze.stdout)
    record.write_text(pins)
    return python


def peer_envs(envs: Path, peers: Sequence[str], pymc_version: str) -> dict[str, Path]:
    """Build or reuse the environment of every peer; name the peers and exit 2 on failure."""
    wanted = {
        "lifetimes": ("lifetimes-0.11.3", LIFETIMES_REQUIREMENTS),
        "pymc-marketing": (
            f"pymc-marketing-{pymc_version}",
            (f"pymc-marketing=={pymc_version}",),
        ),
    }
    out = {}
    for peer in peers:
        name, reqs = wanted[peer]
        try:
            out[peer] = build_env(envs, name, reqs)
        except PeerUnavailableError as exc:
            print(
                f"\n{exc}\n\nRun again with the package index reachable, or leave the peer out "
                f"with --skip {peer}.",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
    return out


# --------------------------------------------------------------------------- inputs


def write_inputs(folder: Path, n: int, datasets: Sequence[str]) -> dict[str, int]:
    """Simulate (or copy) each data set once and write it as .npy files; return sizes."""
    from crmcore.datasets import cdnow_sample_summary
    from crmcore.simulate import bgnbd_histories, gamma_gamma_spend, pareto_nbd_histories

    sizes = {}
    for name in datasets:
        d = folder / name
        d.mkdir(parents=True, exist_ok=True)
        if name == "sim":
            rng = np.random.default_rng(2024)
            T = rng.uniform(1.0, 78.0, n)  # first purchases spread over 78 weeks, continuous
            bg = bgnbd_histories(*BG, T=T, rng=1)
            pn = pareto_nbd_histories(*PNBD, T=rng.uniform(1.0, 78.0, n), rng=4)
            cols = {
                "bg_x": bg.frequency,
                "bg_tx": bg.recency,
                "bg_T": bg.T,
                "pn_x": pn.frequency,
                "pn_tx": pn.recency,
                "pn_T": pn.T,
            }
            buyers = np.asarray(bg.frequency) > 0
            spend = gamma_gamma_spend(*GG, frequency=np.asarray(bg.frequency)[buyers], rng=3)
            cols["gg_x"] = np.asarray(bg.frequency)[buyers]
            cols["gg_m"] = spend.monetary_value
        elif name == "cdnow":
            s = cdnow_sample_summary()
            buyers = s.frequency > 0
            cols = {
                "bg_x": s.frequency,
                "bg_tx": s.recency,
                "bg_T": s.T,
                "pn_x": s.frequency,
                "pn_tx": s.recency,
                "pn_T": s.T,
                "gg_x": s.frequency[buyers],
                "gg_m": s.monetary_value[buyers],
            }
        else:
            raise SystemExit(f"unknown data set {name!r} (choose from sim, cdnow)")
        for key, values in cols.items():
            arr = np.asarray(values)
            np.save(d / f"{key}.npy", arr.astype(np.int64 if key.endswith("_x") else float))
        sizes[name] = len(cols["bg_x"])
    return sizes


# --------------------------------------------------------------------------- workers


def _clock(kind: str) -> Callable[[], float]:
    return time.process_time if kind == "cpu" else time.perf_counter


def _best(call: Callable[[], Any], repeat: int, clock: Callable[[], float]) -> tuple[Any, float]:
    best, out = float("inf"), None
    for _ in range(max(repeat, 1)):
        start = clock()
        out = call()
        best = min(best, clock() - start)
    return out, best


def _load(d: Path) -> dict[str, np.ndarray]:
    return {p.stem: np.load(p) for p in sorted(d.glob("*.npy"))}


class CrmcoreSide:
    """crmcore: arrays in, arrays out."""

    version = ""

    def __init__(self, data: dict[str, np.ndarray], variant: str) -> None:
        import crmcore
        from crmcore.models import bgnbd, gamma_gamma, pareto_nbd

        self.version = crmcore.__version__
        self.m = {"bg": bgnbd, "pn": pareto_nbd, "gg": gamma_gamma}
        self.d = data
        self.fits: dict[str, Any] = {}

    def hist(self, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.d[f"{model}_x"], self.d[f"{model}_tx"], self.d[f"{model}_T"]

    def fit(self, model: str) -> Any:
        if model == "gg":
            return self.m["gg"].fit(self.d["gg_x"], self.d["gg_m"])
        return self.m[model].fit(*self.hist(model))

    def params(self, model: str, fit: Any) -> list[float]:
        return [float(v) for v in fit.params.as_array()]

    def predict(self, task: str) -> Callable[[], Any]:
        model, what = task.split("_")
        mod, p = self.m[model], self.fits[model].params
        if model == "gg":
            return lambda: mod.conditional_expected_spend(p, self.d["gg_x"], self.d["gg_m"])
        h = self.hist(model)
        calls = {
            "alive": lambda: mod.probability_alive(p, *h),
            "cond": lambda: mod.conditional_expected_purchases(p, HORIZON, *h),
            "p1": lambda: mod.conditional_purchase_probability(p, HORIZON, *h),
        }
        return calls[what]


class LifetimesSide:
    """lifetimes: pandas Series in, its fitters' methods."""

    def __init__(self, data: dict[str, np.ndarray], variant: str) -> None:
        import lifetimes
        import pandas as pd

        self.version = lifetimes.__version__
        self.lt = lifetimes
        self.s = {k: pd.Series(v) for k, v in data.items()}
        self.fits: dict[str, Any] = {}

    def hist(self, model: str) -> tuple[Any, Any, Any]:
        return self.s[f"{model}_x"], self.s[f"{model}_tx"], self.s[f"{model}_T"]

    def fit(self, model: str) -> Any:
        if model == "gg":
            return self.lt.GammaGammaFitter().fit(self.s["gg_x"], self.s["gg_m"])
        cls = self.lt.BetaGeoFitter if model == "bg" else self.lt.ParetoNBDFitter
        return cls().fit(*self.hist(model))

    def params(self, model: str, fit: Any) -> list[float]:
        return [float(fit.params_[k]) for k in NAMES[model]]

    def predict(self, task: str) -> Callable[[], Any] | None:
        model, what = task.split("_")
        f = self.fits[model]
        if model == "gg":
            return lambda: f.conditional_expected_average_profit(self.s["gg_x"], self.s["gg_m"])
        h = self.hist(model)
        if what == "alive":
            return lambda: f.conditional_probability_alive(*h)
        if what == "cond":
            return lambda: f.conditional_expected_number_of_purchases_up_to_time(HORIZON, *h)
        if model == "pn":  # P(no purchase in (T, T + t]) given the history
            return lambda: 1.0 - f.conditional_probability_of_n_purchases_up_to_time(0, HORIZON, *h)
        return None  # lifetimes' BG/NBD has no conditional P(X > 0)


class PymcSide:
    """pymc-marketing: data frames in, MAP fits, xarray out (one chain, one draw)."""

    def __init__(self, data: dict[str, np.ndarray], variant: str) -> None:
        import pandas as pd
        import pymc_marketing
        from pymc_marketing import clv

        self.version = pymc_marketing.__version__
        self.clv = clv
        self.variant = variant
        self.frames = {}
        for model in ("bg", "pn"):
            x = data[f"{model}_x"]
            self.frames[model] = pd.DataFrame(
                {
                    "customer_id": np.arange(len(x)),
                    "frequency": x,
                    "recency": data[f"{model}_tx"],
                    "T": data[f"{model}_T"],
                }
            )
        self.frames["gg"] = pd.DataFrame(
            {
                "customer_id": np.arange(len(data["gg_x"])),
                "frequency": data["gg_x"],
                "monetary_value": data["gg_m"],
            }
        )
        self.fits: dict[str, Any] = {}

    def config(self, model: str) -> dict[str, Any] | None:
        if self.variant != "flat-priors":
            return None
        try:
            from pymc_extras.prior import Prior
        except ImportError:  # older releases kept the class in pymc_marketing
            from pymc_marketing.prior import Prior  # type: ignore[no-redef]
        return {name: Prior("HalfFlat") for name in NAMES[model]}

    def fit(self, model: str) -> Any:
        cls = {
            "bg": self.clv.BetaGeoModel,
            "pn": self.clv.ParetoNBDModel,
            "gg": self.clv.GammaGammaModel,
        }[model]
        m = cls(model_config=self.config(model))
        m.fit(data=self.frames[model], method="map", progressbar=False)
        return m

    def params(self, model: str, fit: Any) -> list[float]:
        post = fit.idata.posterior
        return [float(post[k].values.ravel()[0]) for k in NAMES[model]]

    def predict(self, task: str) -> Callable[[], Any] | None:
        model, what = task.split("_")
        m, df = self.fits[model], self.frames[model]
        if model == "gg":
            return lambda: m.expected_customer_spend(data=df)
        if what == "alive":
            return lambda: m.expected_probability_alive(data=df)
        if what == "cond":
            return lambda: m.expected_purchases(data=df, future_t=HORIZON)
        if model == "bg":
            return lambda: 1.0 - m.expected_probability_no_purchase(t=HORIZON, data=df)
        return lambda: (
            1.0 - m.expected_purchase_probability(data=df, n_purchases=0, future_t=HORIZON)
        )


SIDES = {"crmcore": CrmcoreSide, "lifetimes": LifetimesSide, "pymc-marketing": PymcSide}


def as_vector(out: Any) -> np.ndarray:
    """A prediction as one float per customer (xarray results have one chain and one draw)."""
    values = np.asarray(getattr(out, "values", out), dtype=float)
    return values.reshape(-1) if values.ndim <= 1 else values.reshape(-1, values.shape[-1])[0]


def worker(lib: str, variant: str, data_dir: Path, out_dir: Path, opts: dict[str, Any]) -> None:
    """Run every task of one library on one data set; write results.json and .npy files."""
    clock = _clock(opts["clock"])
    side = SIDES[lib](_load(data_dir), variant)
    times: dict[str, float] = {}
    cold: dict[str, float] = {}
    params: dict[str, list[float]] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    for model in ("bg", "pn", "gg"):
        if f"{model}_fit" not in opts["tasks"]:
            continue
        start = clock()
        fit = side.fit(model)
        cold[f"{model}_fit"] = clock() - start
        warm_calls = opts["fit_repeat"] - 1
        if lib == "pymc-marketing":  # the warm figure: later fits only, at least one
            fit, times[f"{model}_fit"] = _best(
                lambda m=model: side.fit(m), max(warm_calls, 1), clock
            )
        elif warm_calls > 0:
            fit, warm = _best(lambda m=model: side.fit(m), warm_calls, clock)
            times[f"{model}_fit"] = min(warm, cold[f"{model}_fit"])
        else:
            times[f"{model}_fit"] = cold[f"{model}_fit"]
        side.fits[model] = fit
        params[model] = side.params(model, fit)
        if variant == "default-priors":
            continue  # predictions do not depend on the priors: timed with the flat ones
        for task, _, m in TASKS:
            if m != model or task.endswith("_fit") or task not in opts["tasks"]:
                continue
            call = side.predict(task)
            if call is None:
                continue
            out, times[task] = _best(call, opts["repeat"], clock)
            np.save(out_dir / f"{task}.npy", as_vector(out))
    result = {"version": side.version, "times": times, "cold": cold, "params": params}
    (out_dir / "results.json").write_text(json.dumps(result))


def run_worker(
    python: Path,
    lib: str,
    variant: str,
    data_dir: Path,
    *,
    out_dir: Path,
    opts: dict[str, Any],
    reuse: bool = False,
) -> dict[str, Any] | None:
    """Run one library's worker (or, with ``reuse``, read back its results); None on failure."""
    if reuse:
        found = out_dir / "results.json"
        if not found.exists():
            return None
        kept: dict[str, Any] = json.loads(found.read_text())
        kept["dir"] = str(out_dir)
        return kept
    cmd = [
        str(python),
        str(Path(__file__).resolve()),
        "--worker",
        lib,
        variant,
        str(data_dir),
        str(out_dir),
        json.dumps(opts),
    ]
    env = dict(os.environ)
    if lib != "crmcore":
        env.pop("PYTHONPATH", None)  # the peers' interpreters must not see crmcore's packages
    label = f"{lib}" + (f" ({variant})" if variant else "")
    print(f"  {data_dir.name}: {label} ...", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        tail = "\n    ".join(proc.stderr.strip().splitlines()[-6:])
        print(f"  {label} failed on {data_dir.name}:\n    {tail}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads((out_dir / "results.json").read_text())
    result["dir"] = str(out_dir)
    return result


# --------------------------------------------------------------------------- report


def loglik_gap(model: str, data_dir: Path, ref: Sequence[float], other: Sequence[float]) -> float:
    """Log-likelihood (crmcore's) at the peer's estimates minus that at crmcore's."""
    from crmcore.models import bgnbd, gamma_gamma, pareto_nbd

    d = _load(data_dir)
    mod, cls = {
        "bg": (bgnbd, bgnbd.BgNbdParams),
        "pn": (pareto_nbd, pareto_nbd.ParetoNbdParams),
        "gg": (gamma_gamma, gamma_gamma.GammaGammaParams),
    }[model]
    cols = (
        (d["gg_x"], d["gg_m"])
        if model == "gg"
        else tuple(d[f"{model}_{k}"] for k in ("x", "tx", "T"))
    )
    at = [
        mod.log_likelihood(cls(**dict(zip(NAMES[model], p, strict=True))), *cols)
        for p in (ref, other)
    ]
    return float(at[1] - at[0])


def peer_rows(
    dataset: str,
    size: int,
    ref: dict[str, Any],
    peer: dict[str, Any],
    peer_label: str,
    *,
    data_dir: Path,
) -> list[list[str]]:
    """Table rows comparing one peer run with crmcore's run on one data set."""
    rows = []
    data = f"{dataset} {size:,}"
    for task, label, model in TASKS:
        if task not in peer["times"] or task not in ref["times"]:
            continue
        c, t = ref["times"][task], peer["times"][task]
        if task.endswith("_fit"):
            agree = param_agreement(NAMES[model], ref["params"][model], peer["params"][model])
            gap = loglik_gap(model, data_dir, ref["params"][model], peer["params"][model])
            agree += f"; log-lik. {gap:+.2g}"
        else:
            a = np.load(Path(ref["dir"]) / f"{task}.npy")
            b = np.load(Path(peer["dir"]) / f"{task}.npy")
            agree = split_agreement(a, b, np.load(data_dir / f"{model}_x.npy") == 0)
        rows.append(
            [
                label,
                data,
                format_seconds(c),
                peer_label,
                format_seconds(t),
                format_ratio(c, t),
                agree,
            ]
        )
        if task.endswith("_fit") and peer.get("show_cold"):
            cold = peer["cold"][task]
            rows.append(
                [
                    f"{label}, first in a process",
                    data,
                    format_seconds(ref["cold"][task]),
                    peer_label,
                    format_seconds(cold),
                    format_ratio(ref["cold"][task], cold),
                    "(compiles the model)",
                ]
            )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="simulated (1M)")
    parser.add_argument("--repeat", type=int, default=3, help="calls per prediction timing (3)")
    parser.add_argument("--fit-repeat", type=int, default=2, help="fits per fit timing (2)")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["lifetimes", "pymc-marketing"],
        help="leave a peer out",
    )
    parser.add_argument("--datasets", default="sim,cdnow", help="sim, cdnow or both")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 20,000 customers, one call per timing"
    )
    parser.add_argument("--envs-dir", type=Path, default=PEER_ENVS)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="write the inputs and results here and keep them",
    )
    parser.add_argument("--pymc-marketing-version", default=PYMC_MARKETING_VERSION)
    parser.add_argument(
        "--report",
        action="store_true",
        help="run nothing: print the table of the run kept in --data-dir",
    )
    parser.add_argument(
        "--rerun-crmcore",
        action="store_true",
        help="time crmcore again on the run kept in --data-dir; reuse the peers' results",
    )
    args = parser.parse_args(argv)
    if (args.report or args.rerun_crmcore) and args.data_dir is None:
        parser.error("--report and --rerun-crmcore need --data-dir, a run made with --data-dir")
    if args.report and args.rerun_crmcore:
        parser.error("--report and --rerun-crmcore exclude each other")
    if args.quick:
        args.customers, args.repeat, args.fit_repeat = min(args.customers, 20_000), 1, 1
    datasets = [s.strip() for s in args.datasets.split(",") if s.strip()]
    peers = [p for p in ("lifetimes", "pymc-marketing") if p not in args.skip]
    opts = {
        "repeat": args.repeat,
        "fit_repeat": args.fit_repeat,
        "clock": args.clock,
        "tasks": [t for t, _, _ in TASKS],
    }
    kept = args.report or args.rerun_crmcore
    if kept:
        pythons = {p: Path(sys.executable) for p in peers}  # not run: results are read back
        opts = json.loads((args.data_dir / "options.json").read_text())
    else:
        pythons = peer_envs(args.envs_dir, peers, args.pymc_marketing_version)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_dir or Path(tmp)
        if kept:
            sizes = {ds: len(np.load(root / "inputs" / ds / "bg_x.npy")) for ds in datasets}
        else:
            sizes = write_inputs(root / "inputs", args.customers, datasets)
            (root / "options.json").write_text(json.dumps(opts))
            print(f"inputs written to {root / 'inputs'}; timing ({args.clock} clock):", flush=True)
        rows: list[list[str]] = []
        versions = []
        for ds in datasets:
            data_dir = root / "inputs" / ds
            ref = run_worker(
                Path(sys.executable),
                "crmcore",
                "",
                data_dir,
                out_dir=root / "results" / ds / "crmcore",
                opts=opts,
                reuse=args.report,
            )
            if ref is None:
                return 1
            runs = []
            if "lifetimes" in pythons:
                runs.append(("lifetimes", "", pythons["lifetimes"]))
            if "pymc-marketing" in pythons:
                runs.append(("pymc-marketing", "flat-priors", pythons["pymc-marketing"]))
                runs.append(("pymc-marketing", "default-priors", pythons["pymc-marketing"]))
            for lib, variant, python in runs:
                out_dir = root / "results" / ds / f"{lib}-{variant}".rstrip("-")
                res = run_worker(
                    python, lib, variant, data_dir, out_dir=out_dir, opts=opts, reuse=kept
                )
                if res is None:
                    continue
                label = f"{lib} {res['version']}"
                if lib == "pymc-marketing":
                    label += f" MAP, {variant.replace('-', ' ')}"
                    res["show_cold"] = True
                versions.append(f"{lib} {res['version']}")
                rows += peer_rows(ds, sizes[ds], ref, res, label, data_dir=data_dir)
            if not runs:  # no peer: crmcore's times alone
                for task, label, _ in TASKS:
                    rows.append(
                        [
                            label,
                            f"{ds} {sizes[ds]:,}",
                            format_seconds(ref["times"].get(task)),
                            "-",
                            "-",
                            "-",
                            "-",
                        ]
                    )
            versions.append(f"crmcore {ref['version']}")
    header = ["task", "data", "crmcore", "peer", "peer time", "ratio", "agreement"]
    print()
    print(markdown_table(header, rows))
    print(
        f"\nbest of {opts['repeat']} calls per prediction and {opts['fit_repeat']} fits per fit "
        f"({opts['clock']} clock); ratio = peer time / crmcore time; agreement: fits, the "
        "estimate farthest from crmcore's (relative, signed); predictions, the largest "
        "relative difference over all customers, each library with its own estimates; "
        "log-lik.: crmcore's log-likelihood at the peer's estimates minus at its own. "
        f"{', '.join(sorted(set(versions)))}; Python {sys.version.split()[0]}."
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, lib, variant, data_dir, out_dir, opts = sys.argv
        worker(lib, variant, Path(data_dir), Path(out_dir), json.loads(opts))
    else:
        sys.exit(main())

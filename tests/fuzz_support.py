"""Machinery of the public-API fuzz test (``tests/test_fuzz_api.py``).

Four parts:

1. **Discovery** (:func:`discover`): every public callable, found from the ``__all__``
   lists of the public modules (``crmcore``, ``crmcore.metrics``, ``crmcore.simulate``,
   ``crmcore.summary``, ``crmcore.table`` and every ``crmcore.models.<module>``), plus the
   constructors of public *input* classes and the public methods (with arguments) of every
   public class. Exceptions, warnings and enums are left out (their constructors are the
   standard library's). A class is an *output* class, whose constructor is not fuzzed, when
   its name is the return annotation of some public function or method of another class
   (``NpsResult``, ``CustomerSummary``, ``BgNbdFit``, ...): users get those from crmcore,
   they do not build them. New public names are picked up with no edit here.

2. **Baselines** (:func:`baseline`): a valid call per callable, built from the parameter
   names (``inspect.signature``) looked up in, in order, :data:`OVERRIDES` (per callable),
   :data:`MODULE_POOL` (per module: ``frequency`` means different data to BG/BB and to
   BG/NBD), :data:`POOL` (by name) and finally the parameter's default. A parameter that
   none of them covers is reported by ``test_every_public_callable_has_a_baseline``. The
   data come from one small simulated customer base with a fixed seed (:class:`World`).

3. **Bad values** (:func:`bad_values`): what to put in one argument, chosen from the
   *kind* of the baseline value (float, int, date, numeric / boolean / date / label array,
   choice string, mapping, sequence of records, crmcore object): NaN, +-inf, negative,
   empty, 2-d, ragged, mismatched length, object dtype, strings, objects, None, 1e300,
   1e-300, 10**18, NaT, tz-aware datetimes, out-of-range ISO dates, pandas nullable
   ``Int64``/``boolean`` with NA, polars Series. Values that may well be *valid* input (a
   negative number, 1e300, 1e-300, 10**18, a tz-aware datetime, a polars Series of valid
   values) are flagged ``maybe_valid``: for them a ``ConvergenceError`` is accepted too.

4. **Classification** (:func:`run_case`). Accepted outcomes:

   * the call raises a :class:`crmcore.errors.CrmError` that is also a ``ValueError`` or
     ``TypeError`` and whose message names the argument (as a word);
   * the call returns a result whose floats (walked through attrs classes, tuples, lists,
     dicts and numpy arrays) are all finite, except fields that are already non-finite in
     the baseline result (where crmcore documents NaN/inf on purpose), and whose
     probabilities (callables named ``*probability*``/``*survival*``) lie in [0, 1].

   Anything else is a finding: ``raw-exception`` (a numpy/scipy/builtin exception),
   ``convergence-error`` (a ``ConvergenceError`` for a value that is certainly invalid:
   validation should have caught it), ``message`` (a crmcore error not naming the
   argument), ``warning`` (any warning except crmcore's own ``DataQualityWarning`` and
   ``ConvergenceWarning``, which are deliberate, documented signals), ``non-finite`` /
   ``out-of-range`` (a NaN, inf or impossible probability returned) and ``hang`` (more
   than :data:`TIMEOUT` seconds, enforced with ``SIGALRM``). ``memory`` (a
   ``MemoryError``, under an address-space limit of the current size plus
   :data:`MEMORY_BUDGET`) is a raw exception too, kept apart because it means an
   unchecked size.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import importlib
import inspect
import math
import os
import pkgutil
import re
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import attrs
import numpy as np
import pytest

import crmcore
import crmcore.models
from crmcore.errors import ConvergenceError, CrmError, CrmWarning
from crmcore.models import uncertainty

TIMEOUT = 5.0
"""CPU seconds one call may take before it counts as a hang."""

MEMORY_BUDGET = 2 * 1024**3
"""Bytes of address space one call may add before allocations fail (Linux only)."""

ALLOWED_WARNINGS: tuple[type[Warning], ...] = (CrmWarning,)
"""crmcore's own warnings (DataQualityWarning, ConvergenceWarning) are deliberate signals."""

CONSTRUCTOR_NOT_PUBLIC = {
    "table.InteractionTable": "documented: build it with from_arrays or from_records",
}
"""Classes whose documented entry points are their alternative constructors (fuzzed)."""

PUBLIC_MODULES = (
    "crmcore",
    "crmcore.datasets",
    "crmcore.metrics",
    "crmcore.simulate",
    "crmcore.summary",
    "crmcore.table",
)


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class Target:
    """One public callable: ``name`` is its test id, ``owner`` the class of a method."""

    name: str
    func: Callable[..., Any]
    owner: type | None = None
    method: str | None = None  # attribute name on owner; None for a function or constructor
    bound: bool = False  # a plain method: needs an instance of owner (a receiver)

    @property
    def group(self) -> str:
        """The module the callable lives in, without the ``crmcore.`` prefix."""
        parts = self.name.split(".")
        n = 2 if parts[0] in ("metrics", "models") else 1
        return ".".join(parts[:n])

    @property
    def parameters(self) -> list[inspect.Parameter]:
        sig = inspect.signature(self.func)
        params = list(sig.parameters.values())
        if self.bound and params and params[0].name == "self":
            params = params[1:]
        return [
            p
            for p in params
            if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        ]


def public_modules() -> list[Any]:
    """The modules whose ``__all__`` is the public API (models found by walking the package)."""
    names = list(PUBLIC_MODULES)
    names += [
        f"crmcore.models.{info.name}"
        for info in pkgutil.iter_modules(crmcore.models.__path__)
        if not info.name.startswith("_")
    ]
    return [importlib.import_module(n) for n in names]


def _short(module: str) -> str:
    return module.removeprefix("crmcore.").removeprefix("crmcore")


def _public_home(module: str) -> str:
    """The public module a name is documented under: its group (see :attr:`Target.group`).

    ``crmcore.metrics.loyalty.health.band`` is ``metrics.loyalty.band`` and
    ``crmcore.simulate.base.customer_base`` is ``simulate.customer_base``: packages
    re-export their submodules' names, and splitting a module must not rename test ids.
    """
    parts = _short(module).split(".")
    n = 2 if parts[0] in ("metrics", "models") else 1
    return ".".join(parts[:n])


def _is_protocol(cls: type) -> bool:
    """A ``typing.Protocol`` class: a static interface, neither constructed nor called."""
    return bool(getattr(cls, "_is_protocol", False))


def _public_objects() -> dict[int, tuple[str, Any]]:
    found: dict[int, tuple[str, Any]] = {}
    for mod in public_modules():
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if not callable(obj) or id(obj) in found:
                continue
            if inspect.isclass(obj) and (
                issubclass(obj, (BaseException, enum.Enum))
                or not obj.__module__.startswith("crmcore")
                or _is_protocol(obj)
            ):
                continue
            home = obj.__module__ if not re.search(r"\._", obj.__module__) else mod.__name__
            found[id(obj)] = (f"{_public_home(home)}.{obj.__qualname__}".lstrip("."), obj)
    return found


def _methods(cls: type) -> Iterator[tuple[str, Any, bool]]:
    for attr, raw in vars(cls).items():
        if attr.startswith("_"):
            continue
        if isinstance(raw, (classmethod, staticmethod)):
            yield attr, getattr(cls, attr), False
        elif inspect.isfunction(raw):
            yield attr, raw, True


def _return_annotation(func: Any) -> str:
    try:
        ann = inspect.signature(func).return_annotation
    except (TypeError, ValueError):
        return ""
    return ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))


@functools.cache
def discover() -> dict[str, Target]:
    """Every public callable to fuzz, by test id (sorted)."""
    objects = _public_objects()
    # Who returns what: a class returned by someone else's callable is an output class.
    returned: set[str] = set()
    for _, obj in objects.values():
        if inspect.isclass(obj):
            for _, meth, _ in _methods(obj):
                ann = _return_annotation(meth)
                returned.update(w for w in re.findall(r"\w+", ann) if w != obj.__name__)
        else:
            returned.update(re.findall(r"\w+", _return_annotation(obj)))
    targets: dict[str, Target] = {}
    for name, obj in objects.values():
        if not inspect.isclass(obj):
            targets[name] = Target(name, obj)
            continue
        if obj.__name__ not in returned and name not in CONSTRUCTOR_NOT_PUBLIC:
            targets[name] = Target(name, obj, owner=obj)
        for attr, meth, bound in _methods(obj):
            t = Target(f"{name}.{attr}", meth, owner=obj, method=attr, bound=bound)
            if t.parameters:
                targets[t.name] = t
    return dict(sorted(targets.items()))


# --------------------------------------------------------------------------- baselines


class World:
    """The valid data every baseline is built from: one small simulated base, fixed seed."""

    START = "2024-01-01"
    END = "2024-12-31"

    @functools.cached_property
    def base(self) -> Any:
        from crmcore import simulate as sim

        return sim.customer_base(
            40,
            start=self.START,
            observation_end=self.END,
            catalog=sim.CatalogOptions(),
            surveys=sim.SurveyOptions(),
            support=sim.SupportOptions(),
            campaigns=[sim.CampaignOptions(name="spring", send_day=60.0)],
            refunds=sim.RefundOptions(),
            rng=7,
        )

    @property
    def table(self) -> Any:
        return self.base.table

    @functools.cached_property
    def summary(self) -> Any:
        return crmcore.summarize(self.table, observation_end=self.END, time_unit="W")

    @functools.cached_property
    def time_varying(self) -> tuple[Any, Any]:
        """A small Pareto/NBD log with time-varying covariates and its daily summary."""
        from crmcore.simulate import pareto_nbd_time_varying

        sim = pareto_nbd_time_varying(
            1.0,
            1.0,
            1.0,
            4.0,
            n_customers=40,
            n_periods=10,
            start=self.START,
            rng=3,
            purchase_coefficients=[0.5],
            dropout_coefficients=[-0.3],
            future_periods=4,
        )
        summary = crmcore.summarize(
            sim.table, observation_end=sim.observation_end, period="D", time_unit="W"
        )
        return sim, summary

    @functools.cached_property
    def time_varying_fit(self) -> Any:
        """A time-varying covariate fit at fixed parameters (no optimisation)."""
        from crmcore.models.pareto_nbd import ParetoNbdParams, ParetoNbdTimeVaryingFit

        params = ParetoNbdParams(r=0.8, alpha=5.0, s=0.7, beta=12.0)
        return ParetoNbdTimeVaryingFit(
            params=params,
            standard_errors=params,
            purchase_coefficients=[0.5],
            purchase_standard_errors=[0.1],
            purchase_names=("z0",),
            dropout_coefficients=[-0.3],
            dropout_standard_errors=[0.1],
            dropout_names=("w0",),
            covariance=np.eye(6) * 0.01,
            log_likelihood=-100.0,
            n_customers=40.0,
            converged=True,
            n_iterations=5,
            time_unit="W",
            period="W",
        )

    @functools.cached_property
    def calibration(self) -> Any:
        return crmcore.summarize(
            self.table, observation_end=self.END, calibration_end="2024-09-30", time_unit="W"
        )

    @functools.cached_property
    def discrete(self) -> Any:
        return crmcore.summarize_discrete(self.table, start=self.START, period="M", n_periods=12)

    @functools.cached_property
    def histories(self) -> dict[str, np.ndarray]:
        """A small purchase history (BG/NBD, 30 customers) for the continuous-time models."""
        from crmcore import simulate as sim

        h = sim.bgnbd_histories(0.5, 4.0, 0.6, 2.5, T=39.0, n_customers=30, rng=3)
        return {"frequency": h.frequency, "recency": h.recency, "T": h.T}

    @functools.cached_property
    def cnbd_histories(self) -> dict[str, np.ndarray]:
        from crmcore import simulate as sim

        h = sim.bgcnbd_histories(2.0, 8.0, 0.8, 2.5, 2, T=39.0, n_customers=300, rng=3)
        return {"frequency": h.frequency, "recency": h.recency, "T": h.T, "litt": h.litt}

    @functools.cached_property
    def mcnbd_histories(self) -> dict[str, np.ndarray]:
        from crmcore import simulate as sim

        h = sim.mbgcnbd_histories(2.0, 8.0, 0.8, 2.5, 2, T=39.0, n_customers=300, rng=3)
        return {"frequency": h.frequency, "recency": h.recency, "T": h.T, "litt": h.litt}

    @functools.cached_property
    def ggomnbd_histories(self) -> dict[str, np.ndarray]:
        """GGompertz/NBD histories that identify its five parameters (3,000 customers, 52 weeks)."""
        rng = np.random.default_rng(1)
        lam, eta = rng.gamma(0.8, 1 / 8.0, 3000), rng.gamma(0.5, 1 / 2.0, 3000)
        end = np.minimum(np.log1p(rng.exponential(size=3000) / eta) / 0.1, 52.0)
        x = rng.poisson(lam * end)
        tx = end * rng.beta(np.maximum(x, 1), 1.0) * (x > 0)
        return {"frequency": x, "recency": tx, "T": np.full(3000, 52.0)}

    @functools.cached_property
    def discrete_histories(self) -> dict[str, np.ndarray]:
        from crmcore import simulate as sim

        h = sim.bgbb_histories(1.2, 0.75, 0.66, 2.8, n_periods=6, n_customers=30, rng=3)
        n = np.full(h.frequency.shape, h.n_periods)
        return {"frequency": h.frequency, "recency": h.recency, "n_periods": n}

    @functools.cached_property
    def spend(self) -> dict[str, np.ndarray]:
        from crmcore import simulate as sim

        freq = np.arange(1, 31) % 5 + 1
        s = sim.gamma_gamma_spend(6.25, 3.74, 15.44, frequency=freq, rng=3)
        return {"frequency": s.frequency, "monetary_value": s.monetary_value}

    ALIVE = np.array([1000, 869, 743, 653, 593, 551, 517, 491])  # Fader & Hardie (2007), "regular"

    @functools.cached_property
    def fits(self) -> dict[str, Any]:
        from crmcore.models import (
            bdw,
            bgbb,
            bgcnbd,
            bgnbd,
            gamma_gamma,
            ggomnbd,
            mbgcnbd,
            mbgnbd,
            pareto_nbd,
            sbg,
        )

        h = self.histories
        c = self.cnbd_histories
        mc = self.mcnbd_histories
        g = self.ggomnbd_histories
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CrmWarning)
            return {
                "bgnbd": bgnbd.fit(h["frequency"], h["recency"], h["T"]),
                "mbgnbd": mbgnbd.fit(h["frequency"], h["recency"], h["T"]),
                "bgcnbd": bgcnbd.fit(c["frequency"], c["recency"], c["T"], litt=c["litt"], k=2),
                "mbgcnbd": mbgcnbd.fit(
                    mc["frequency"], mc["recency"], mc["T"], litt=mc["litt"], k=2
                ),
                "pareto_nbd": pareto_nbd.fit(h["frequency"], h["recency"], h["T"]),
                "ggomnbd": ggomnbd.fit(g["frequency"], g["recency"], g["T"], time_unit="W"),
                "bgbb": bgbb.fit(**self.discrete_histories),
                "gamma_gamma": gamma_gamma.fit(**self.spend),
                "sbg": sbg.fit(self.ALIVE),
                "bdw": bdw.fit(self.ALIVE),
            }

    @functools.cached_property
    def covariate_fits(self) -> dict[str, Any]:
        """Covariate fits built from the plain fits' parameters (one covariate each)."""
        from crmcore.models import _covariates as cov

        out = {}
        for name, module in (
            ("BgNbdCovariateFit", "bgnbd"),
            ("MbgNbdCovariateFit", "mbgnbd"),
            ("ParetoNbdCovariateFit", "pareto_nbd"),
        ):
            plain = self.fits[module]
            out[name] = getattr(cov, name)(
                params=plain.params,
                standard_errors=plain.standard_errors,
                purchase_coefficients=np.array([0.3]),
                purchase_standard_errors=np.array([0.1]),
                purchase_names=("z",),
                dropout_coefficients=np.array([-0.2]),
                dropout_standard_errors=np.array([0.1]),
                dropout_names=("w",),
                covariance=np.eye(6),
                log_likelihood=-100.0,
                n_customers=30.0,
                converged=True,
                n_iterations=1,
                time_unit="W",
            )
        from crmcore.models import _spend_covariates as spc

        plain = self.fits["gamma_gamma"]
        out["GammaGammaCovariateFit"] = spc.GammaGammaCovariateFit(
            params=plain.params,
            standard_errors=plain.standard_errors,
            spend_coefficients=np.array([0.3]),
            spend_standard_errors=np.array([0.1]),
            spend_names=("z",),
            covariance=np.eye(4),
            log_likelihood=-100.0,
            n_customers=30.0,
            converged=True,
            n_iterations=1,
        )
        from crmcore.models import _cohort_covariates as coh

        base = self.fits["sbg"]
        out["SbgCovariateFit"] = coh.SbgCovariateFit(
            params=base.params,
            standard_errors=base.standard_errors,
            alpha_coefficients=np.array([0.3]),
            alpha_standard_errors=np.array([0.1]),
            beta_coefficients=np.array([-0.2]),
            beta_standard_errors=np.array([0.1]),
            covariate_names=("z",),
            covariance=np.eye(4),
            log_likelihood=-100.0,
            n_customers=2000.0,
            converged=True,
            n_iterations=1,
        )
        return out

    @functools.cached_property
    def survival_curve(self) -> Any:
        from crmcore.metrics import kaplan_meier

        return kaplan_meier([1, 2, 2, 3, 4, 4, 5, 6], [1, 1, 0, 1, 0, 1, 1, 0])

    def customers(self) -> list[Any]:
        from crmcore.records import Customer

        day = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        return [
            Customer(id=1, name="Ann", acquired=day, member_since=day),
            Customer(id=2, name="Ben", acquired=day, referred_by=1),
            Customer(id=3, name="Cy", acquired=day + dt.timedelta(days=90), referred_by=1),
        ]

    def relationships(self) -> list[Any]:
        from crmcore.records import Relationship

        utc = dt.UTC
        return [
            Relationship(
                customer_id="a",
                stage="loyal",
                level="basic",
                status="lost",
                since=dt.datetime(2023, 1, 1, tzinfo=utc),
                ended=dt.datetime(2023, 1, 31, tzinfo=utc),
            ),
            Relationship(
                customer_id="b",
                stage="member",
                level="basic",
                status="actual",
                since=dt.datetime(2023, 1, 1, tzinfo=utc),
            ),
        ]


def _consents(self: World) -> list[Any]:
    from crmcore.records import Consent

    utc = dt.UTC
    ids = self.table.customer_ids[:6].tolist()
    return [
        Consent(
            customer_id=cid,
            purpose="analytics" if i % 3 else "marketing",
            given_at=dt.datetime(2024, 1, 1, tzinfo=utc),
            withdrawn_at=dt.datetime(2024, 8, 1, tzinfo=utc) if i % 2 else None,
        )
        for i, cid in enumerate(ids)
    ]


World.consents = _consents  # type: ignore[attr-defined]


@functools.cache
def world() -> World:
    return World()


W = World  # short alias for the tables below
Factory = Callable[[World], Any]

VALUES = np.array([120.0, 30.0, 5.0, 0.0, 60.0, 250.0, 12.0, 8.0, 40.0, 3.0])
NPS_SCORES = np.array([10, 9, 9, 8, 7, 10, 3, 6, 9, 0, 10, 8])

# Valid value by parameter name, for every public callable (the default level).
POOL: dict[str, Factory] = {
    "table": lambda w: w.table,
    "new_table": lambda w: crmcore.InteractionTable.from_arrays(
        [1, 999], np.array(["2025-01-03", "2025-01-05"], dtype="datetime64[ns]"), amounts=[4.0, 9.0]
    ),
    "summary": lambda w: w.summary,
    "calibration": lambda w: w.calibration,
    "observation_end": lambda w: w.END,
    "start": lambda w: w.START,
    "values": lambda w: VALUES.copy(),
    "scores": lambda w: NPS_SCORES.copy(),
    "rng": lambda w: 1,
    "time_since_last": lambda w: w.summary.time_since_last.copy(),
    "n_purchases": lambda w: w.summary.n_purchases.copy(),
    "total_spend": lambda w: w.summary.total_spend.copy(),
    "recency": lambda w: w.summary.recency.copy(),
    "frequency": lambda w: w.summary.frequency.copy(),
    "monetary": lambda w: w.summary.monetary_value.copy(),
    "n_visits": lambda w: w.summary.n_purchases.copy(),
    "customer_ids": lambda w: w.summary.customer_ids.copy(),
    "period_1": lambda w: "2024-05",
    "period_2": lambda w: "2024-06",
    "customers": lambda w: w.customers(),
    "relationships": lambda w: w.relationships(),
    "curve": lambda w: w.survival_curve,
    "horizon": lambda w: 3.0,
    "confidence": lambda w: 0.95,
    "key": lambda w: "secret",
    "ids": lambda w: np.array([2, 1, 2]),
    "rows": lambda w: np.arange(3),
    "n_customers": lambda w: 20,
    "n_periods": lambda w: 6,
    "T": lambda w: 39.0,
    "n_draws": lambda w: 20,
}


def _arrays(source: str) -> dict[str, Factory]:
    return {
        k: (lambda w, k=k: getattr(w, source)[k].copy())
        for k in ("frequency", "recency", "T", "n_periods", "monetary_value")
    }


_CONTINUOUS: dict[str, Factory] = {
    **{k: v for k, v in _arrays("histories").items() if k in ("frequency", "recency", "T")},
    # covariates of the 30 histories (the covariate fits' predictions; the fits leave them out)
    "purchase_covariates": lambda w: np.linspace(-1.0, 1.0, 30),
    "dropout_covariates": lambda w: {"w": np.linspace(1.0, -1.0, 30)},
    "t": lambda w: 10.0,
    "n": lambda w: np.array([0, 1, 2]),
    "weights": lambda w: np.ones(30),
}


def _cnbd(source: str) -> dict[str, Factory]:
    return {
        **{
            k: (lambda w, k=k: getattr(w, source)[k].copy())
            for k in ("frequency", "recency", "T", "litt")
        },
        "t": lambda w: 10.0,
        "n": lambda w: np.array([0, 1, 2]),
        "weights": lambda w: np.ones(300),
        "k": lambda w: 2,
    }


def _model_pool(module: str, **extra: Factory) -> dict[str, Factory]:
    return {"params": lambda w: w.fits[module].params, "fit": lambda w: w.fits[module], **extra}


# Valid value by parameter name inside one module (overrides POOL).
MODULE_POOL: dict[str, dict[str, Factory]] = {
    "models.bgnbd": _model_pool("bgnbd", **_CONTINUOUS),
    "models.mbgnbd": _model_pool("mbgnbd", **_CONTINUOUS),
    "models.pareto_nbd": _model_pool("pareto_nbd", **_CONTINUOUS),
    "models.bgcnbd": _model_pool("bgcnbd", **_cnbd("cnbd_histories")),
    "models.mbgcnbd": _model_pool("mbgcnbd", **_cnbd("mcnbd_histories")),
    "models.ggomnbd": _model_pool(
        "ggomnbd",
        **{
            k: (lambda w, k=k: w.ggomnbd_histories[k].copy()) for k in ("frequency", "recency", "T")
        },
        t=lambda w: 10.0,
        n=lambda w: np.array([0, 1, 2]),
        weights=lambda w: np.ones(3000),
        discount_rate=lambda w: 0.01,
    ),
    "models.bgbb": _model_pool(
        "bgbb",
        **{
            k: v
            for k, v in _arrays("discrete_histories").items()
            if k in ("frequency", "recency", "n_periods")
        },
        n_future=lambda w: 5,
        k=lambda w: np.array([0, 1, 2]),
        weights=lambda w: np.ones(30),
    ),
    "models.gamma_gamma": _model_pool(
        "gamma_gamma",
        frequency=lambda w: w.spend["frequency"].copy(),
        monetary_value=lambda w: w.spend["monetary_value"].copy(),
        weights=lambda w: np.ones(30),
        # covariates of the 30 spends (the covariate fit's predictions; the fit leaves them out)
        spend_covariates=lambda w: np.linspace(-1.0, 1.0, 30),
    ),
    "models.sbg": _model_pool(
        "sbg",
        alive=lambda w: W.ALIVE.copy(),
        # one covariate row per cohort (the covariate fit's predictions; the fit leaves them out)
        cohort_covariates=lambda w: np.array([0.0, 1.0, -0.5]),
        t=lambda w: np.array([1, 2, 5]),
        n_renewals=lambda w: np.array([1, 2, 5]),
        discount_rate=lambda w: 0.1,
    ),
    "datasets": {"segment": lambda w: "regular"},
    "models.bdw": _model_pool(
        "bdw",
        alive=lambda w: W.ALIVE.copy(),
        t=lambda w: np.array([1, 2, 5]),
        n_renewals=lambda w: np.array([1, 2, 5]),
        discount_rate=lambda w: 0.1,
    ),
    "models.selection": {
        "restricted": lambda w: w.fits["sbg"],
        "full": lambda w: w.fits["bdw"],
        "statistic": lambda w: 3.84,
        "df": lambda w: 1,
        "p_value": lambda w: 0.05,
        "nesting": lambda w: "c = 1",
    },
    "models.clv": {
        "purchase_fit": lambda w: w.fits["bgnbd"],
        "spend_fit": lambda w: w.fits["gamma_gamma"],
        "fit": lambda w: w.fits["bgnbd"],
        "summary": lambda w: w.summary,
        "calibration": lambda w: w.calibration,
        "horizon": lambda w: 52.0,
        "step": lambda w: 4.0,
        "discount_rate": lambda w: 0.01,
    },
    "models.uncertainty": {
        "fit": lambda w: w.fits["bgnbd"],
        "purchase_fit": lambda w: w.fits["bgnbd"],
        "spend_fit": lambda w: w.fits["gamma_gamma"],
        "quantity": lambda w: "probability_alive",
        "horizon": lambda w: 52.0,
        "step": lambda w: 4.0,
        "discount_rate": lambda w: 0.01,
        "n_boot": lambda w: 2,
        "interval": lambda w: uncertainty.prediction_interval(
            w.fits["bgnbd"], "probability_alive", w.summary, n_draws=20, rng=0
        ),
        "actual": lambda w: np.ones(len(w.summary)),
        "index": lambda w: 0,
    },
    "simulate": {
        "r": lambda w: 0.5,
        "alpha": lambda w: 4.0,
        "a": lambda w: 0.6,
        "b": lambda w: 2.5,
        "s": lambda w: 0.6,
        "beta": lambda w: 2.0,
        "gamma": lambda w: 0.66,
        "delta": lambda w: 2.8,
        "p": lambda w: 6.25,
        "q": lambda w: 3.74,
        "v": lambda w: 15.44,
        "k": lambda w: 2,
        "frequency": lambda w: np.array([1, 2, 3, 1]),
        "observation_end": lambda w: "2024-06-30",
        "name": lambda w: "spring",
        "send_day": lambda w: 60.0,
    },
    "metrics.retention": {
        "start": lambda w: np.array([100, 120]),
        "end": lambda w: np.array([90, 110]),
        "new": lambda w: np.array([10, 20]),
        "durations": lambda w: np.array([1.0, 2, 2, 3, 4, 4, 5, 6]),
        "events": lambda w: np.array([1, 1, 0, 1, 0, 1, 1, 0]),
        "since": lambda w: np.array(
            ["2023-01-01", "2023-06-01", "2024-02-01"], dtype="datetime64[D]"
        ),
        "ended": lambda w: np.array(["2023-03-02", "2024-03-01", "NaT"], dtype="datetime64[D]"),
        "start_revenue": lambda w: np.array([100.0, 50.0, 80.0]),
        "end_revenue": lambda w: np.array([110.0, 0.0, 60.0]),
        "t": lambda w: np.array([0.5, 2.0, 5.0]),
        "churn_rate": lambda w: 0.2,
        "years": lambda w: 5,
        "margin": lambda w: 100.0,
    },
}


def _lead_table() -> Any:
    days = np.array(
        ["2024-01-01", "2024-01-02", "2024-01-20", "2024-02-01", "2024-02-10", "2024-03-01"],
        dtype="datetime64[ns]",
    )
    return crmcore.InteractionTable.from_arrays(
        ["a", "b", "a", "b", "a", "c"],
        days,
        kinds=["lead", "lead", "opportunity", "opportunity", "purchase", "lead"],
        amounts=[0.0, 0.0, 0.0, 0.0, 30.0, 0.0],
        lead_sources=np.array(["web", "fair", None, None, None, "web"], dtype=object),
        opportunity_stages=np.array([None, None, "proposal", "lost", None, None], dtype=object),
    )


MODULE_POOL["metrics.acquisition"] = {
    "successes": lambda w: np.array([3, 0, 5]),
    "trials": lambda w: np.array([10, 5, 5]),
    "converted": lambda w: np.array([True, False, True, True]),
    "groups": lambda w: np.array(["web", "web", "fair", "fair"]),
    "stages": lambda w: np.array(["lead", "qualified", "won", "proposal"]),
    "first_contact": lambda w: np.array(
        ["2024-01-01", "2024-01-05", "2024-02-01"], dtype="datetime64[ns]"
    ),
    "won_at": lambda w: np.array(["2024-01-20", "NaT", "2024-02-03"], dtype="datetime64[ns]"),
    "costs": lambda w: {"web": 100.0, "fair": 40.0},
    "customer_sources": lambda w: np.array(["web", "fair", "web"]),
    "sources": lambda w: np.array(["web", "fair"]),
    "clv": lambda w: np.array([300.0, 50.0]),
    "cac": lambda w: np.array([100.0, 80.0]),
    "customer_ids": lambda w: w.base.customer_ids.copy(),
    "acquired": lambda w: w.base.first_purchase.copy(),
}


# Valid value per callable (overrides MODULE_POOL and POOL), for parameters whose meaning is
# particular to the callable. Keyed by the test id.
OVERRIDES: dict[str, dict[str, Factory]] = {
    "metrics.acquisition.leads_from_table": {"table": lambda w: _lead_table()},
    "metrics.acquisition.payback_time": {"cac": lambda w: 20.0},
    "metrics.satisfaction.ces": {"scores": lambda w: np.array([7, 6, 5, 2, 7, 4, 6])},
    "metrics.satisfaction.csat": {"scores": lambda w: np.array([5, 4, 4, 2, 5, 1, 3])},
    "metrics.satisfaction.csat_from_counts": {"k": lambda w: 30, "n": lambda w: 40},
    "metrics.satisfaction.nps_from_counts": {
        "promoters": lambda w: 50,
        "passives": lambda w: 30,
        "detractors": lambda w: 20,
    },
    "metrics.satisfaction.nps_difference": {
        "a": lambda w: NPS_SCORES.copy(),
        "b": lambda w: NPS_SCORES[::-1].copy(),
    },
    "metrics.satisfaction.acsi": {
        "item_means": lambda w: np.array([7.5, 8.0, 6.5]),
        "weights": lambda w: np.array([0.5, 0.3, 0.2]),
    },
    "metrics.satisfaction.complaint_rate": {
        "complaints": lambda w: 12,
        "n_customers": lambda w: 400,
        "n_transactions": lambda w: 3000,
    },
    "metrics.satisfaction.first_contact_resolution_rate": {
        "resolved": lambda w: np.array([True, True, False, True]),
    },
    "metrics.satisfaction.response_time_stats": {
        "response_times": lambda w: np.array([30, 45, 60, 90, 240], dtype="timedelta64[m]"),
    },
    "metrics.loyalty.band": {
        "scores": lambda w: np.array([12.0, 40.0, 69.9, 70.0]),
        "edges": lambda w: [40, 70],
        "labels": lambda w: ["red", "amber", "green"],
    },
    "metrics.loyalty.health_score": {
        "measures": lambda w: np.array([47.0, 59.0, 21.0]),
        "weights": lambda w: np.array([20.0, 15.0, 22.0]),
    },
    "metrics.loyalty.referral_counts": {
        "customer_ids": lambda w: ["a", "b", "c"],
        "referred_by": lambda w: [None, "a", "a", "c", "zz"],
    },
    "metrics.loyalty.ladder_inputs": {"customer_ids": lambda w: [1, 2, 3]},
    "metrics.loyalty.recommended_level": {
        "n_customers": lambda w: np.array([1e6, 5000.0, 20.0]),
        "margin": lambda w: np.array([0.05, 0.2, 0.05]),
    },
    "metrics.loyalty.validate_segment_rules": {
        "rules": lambda w: importlib.import_module("crmcore.metrics").RF_GRID,
    },
    "metrics.loyalty.rfm_segments": {
        "scores": lambda w: None,
        "r": lambda w: np.array([5, 3, 1, 4]),
        "f": lambda w: np.array([4, 4, 2, 1]),
        "m": lambda w: np.array([3, 2, 1, 5]),
    },
    "metrics.value.spend_tiers": {
        "total_spend": lambda w: np.array([2500.0, 2500.0, 600.0, 100.0]),
        "purchase_frequency": lambda w: np.array([3.0, 0.5, 1.0, 4.0]),
        "thresholds": lambda w: importlib.import_module("crmcore.metrics").SpendThresholds(
            silver_spend=500, silver_frequency=1, vip_spend=2000, vip_frequency=2
        ),
    },
    "metrics.value.SpendThresholds": {
        "silver_spend": lambda w: 500.0,
        "silver_frequency": lambda w: 1.0,
        "vip_spend": lambda w: 2000.0,
        "vip_frequency": lambda w: 2.0,
    },
    "metrics.loyalty.RfmEdges": {
        "time_since_last": lambda w: np.array([10.0, 20.0]),
        "n_purchases": lambda w: np.array([1.0, 3.0]),
        "total_spend": lambda w: np.array([20.0, 50.0]),
    },
    "metrics.value.value_matrix": {
        "current_value": lambda w: np.array([10.0, 50, 20, 70]),
        "potential_value": lambda w: np.array([90.0, 5, 40, 80]),
    },
    "metrics.value.clv_margin_multiple": {
        "margin": lambda w: 100.0,
        "retention": lambda w: 0.8,
        "discount_rate": lambda w: 0.1,
        "horizon": lambda w: 10,
    },
    "metrics.value.historical_value": {"rate": lambda w: 0.1},
    "metrics.value.buyer_type": {
        "launch_dates": lambda w: {w.table.products[0]: "2024-01-01"},
    },
    "metrics.sales.campaign_uplift": {
        "data": lambda w: np.array([True] * 56 + [False] * 14 + [True] * 48 + [False] * 32),
        "in_control_group": lambda w: np.array([False] * 70 + [True] * 80),
    },
    "metrics.retention.repeat_purchase_rate": {"purchases": lambda w: w.summary.n_purchases.copy()},
    "metrics.loyalty.customer_status": {"observation_end": lambda w: None},
    "metrics.loyalty.ladder_stage": {
        "observation_end": lambda w: None,
        "tenure": lambda w: w.summary.T.copy(),
    },
    "metrics.loyalty.visit_level": {
        "observation_end": lambda w: None,
        "tenure": lambda w: w.summary.T.copy(),
    },
    "metrics.loyalty.loyalty_class": {
        "observation_end": lambda w: None,
        "tenure": lambda w: w.summary.T.copy(),
    },
    "metrics.value.class_value_share": {
        "labels": lambda w: np.array(["vip", "key", "ordinary", "key", "ordinary"] * 2),
    },
    "metrics.value.ClassValueShare.share_of": {"label": lambda w: "key"},
    "metrics.change.segment_migration": {
        "classes_before": lambda w: np.array(["loyal", "old", "new", "new"]),
        "classes_after": lambda w: np.array(["loyal", "loyal", "old", "new"]),
        "customer_ids_before": lambda w: np.array([1, 2, 3, 4]),
        "customer_ids_after": lambda w: np.array([1, 2, 3, 5]),
    },
    "metrics.sales.sales_breakdown": {"by": lambda w: "category"},
    # The array form (the summary form is a thin wrapper): every array gets array bad values.
    "metrics.loyalty.rfm_scores": {"summary": lambda w: None, "observation_end": lambda w: None},
    "models.bgbb.purchase_probability": {"n_periods": lambda w: 6},
    "models.bgbb.BgBbFit.purchase_probability": {"n_periods": lambda w: 6},
    "metrics.change.period_change": {"values": lambda w: np.array([10.0, 12.0, 9.0, 15.0])},
    "metrics.satisfaction.CesResult.combine": {
        "parts": lambda w: [importlib.import_module("crmcore.metrics").ces([7, 6, 2])] * 2,
    },
    "metrics.satisfaction.NpsResult.combine": {
        "parts": lambda w: [importlib.import_module("crmcore.metrics").nps(NPS_SCORES)] * 2,
    },
    "metrics.satisfaction.ProportionResult.combine": {
        "parts": lambda w: [importlib.import_module("crmcore.metrics").csat([5, 4, 1])] * 2,
    },
    "metrics.satisfaction.RateResult.combine": {
        "parts": lambda w: (
            [
                importlib.import_module("crmcore.metrics").first_contact_resolution_rate(
                    [True, False]
                )
            ]
            * 2
        ),
    },
    "metrics.satisfaction.ComplaintRate.combine": {
        "parts": lambda w: (
            [
                importlib.import_module("crmcore.metrics").complaint_rate(
                    3, n_customers=10, n_transactions=40
                )
            ]
            * 2
        ),
    },
    "metrics.retention.CohortMatrix.combine": {
        "parts": lambda w: [
            importlib.import_module("crmcore.metrics").cohort_matrix(w.table, observation_end=w.END)
        ],
    },
    "summary.CompressedHistories.combine": {
        "parts": lambda w: [crmcore.compress(**w.histories)] * 2,
    },
    "summary.compress": {
        k: (lambda w, k=k: w.histories[k].copy()) for k in ("frequency", "recency", "T")
    },
    "summary.CustomerSummary.from_arrays": {
        **{k: (lambda w, k=k: w.histories[k].copy()) for k in ("frequency", "recency", "T")},
        "total_spend": lambda w: None,
        "customer_ids": lambda w: None,
    },
    "summary.CustomerSummary.concat": {
        "summaries": lambda w: [w.summary.select(np.arange(5)), w.summary.select(np.arange(5, 9))],
    },
    "summary.summarize_discrete": {"n_periods": lambda w: 12, "period": lambda w: "M"},
    "summary.period_index": {
        "times": lambda w: np.array(["2024-01-03", "2024-02-11"], dtype="datetime64[ns]"),
        "period": lambda w: "M",
    },
    "table.InteractionTable.from_arrays": {
        "customer_ids": lambda w: np.array(["a", "a", "b"]),
        "times": lambda w: np.array(
            ["2022-06-01", "2024-03-01", "2024-05-01"], dtype="datetime64[ns]"
        ),
        "amounts": lambda w: np.array([100.0, 50.0, 80.0]),
        "margins": lambda w: np.array([20.0, 10.0, 16.0]),
    },
    "table.InteractionTable.from_records": {
        "records": lambda w: [
            importlib.import_module("crmcore.records").Interaction(
                customer_id=1,
                timestamp=dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
                kind="purchase",
                amount=5.0,
            )
        ],
    },
    "table.InteractionTable.kind_mask": {"kind": lambda w: "purchase"},
    "table.factorize_ids": {"ids": lambda w: np.array(["b", "a", "b"])},
    "records.pseudonymize": {"customer_id": lambda w: 2},
    "records.Customer": {
        "id": lambda w: 1,
        "name": lambda w: "Ann",
        "acquired": lambda w: dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    },
    "records.Customer.from_dict": {"d": lambda w: w.customers()[1].to_dict()},
    "records.Interaction": {
        "customer_id": lambda w: 1,
        "timestamp": lambda w: dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
        "kind": lambda w: "purchase",
        "amount": lambda w: 5.0,
    },
    "records.Interaction.from_dict": {
        "d": lambda w: (
            importlib.import_module("crmcore.records")
            .Interaction(
                customer_id=1,
                timestamp=dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
                kind="purchase",
                amount=5.0,
            )
            .to_dict()
        ),
    },
    "records.Relationship": {
        "customer_id": lambda w: "a",
        "stage": lambda w: "loyal",
        "level": lambda w: "basic",
        "status": lambda w: "actual",
        "since": lambda w: dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
    },
    "records.Relationship.from_dict": {"d": lambda w: w.relationships()[0].to_dict()},
    "records.Consent": {
        "customer_id": lambda w: 1,
        "purpose": lambda w: "analytics",
        "given_at": lambda w: dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    },
    "records.Consent.from_dict": {"d": lambda w: w.consents()[0].to_dict()},
    "records.Consent.covers": {
        "purpose": lambda w: "analytics",
        "when": lambda w: dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
    },
    "privacy.filter_by_consent": {
        "data": lambda w: w.table,
        "consents": lambda w: w.consents(),
        "purposes": lambda w: "analytics",
    },
    "simulate.customer_base": {"n_customers": lambda w: 10},
    "simulate.bgbb_histories": {"alpha": lambda w: 1.2, "beta": lambda w: 0.75},
    "simulate.sbg_cohort": {"alpha": lambda w: 1.0, "beta": lambda w: 2.0},
    "metrics.retention.SurvivalCurve.survival_at": {"t": lambda w: np.array([0.5, 2.0, 5.0])},
    "models.clv.tracking": {"table": lambda w: w.table},
    "models.clv.predict": {"t": lambda w: 26.0},
    "models.bgbb.BgBbFit.predict": {"summary": lambda w: w.discrete, "n_future": lambda w: 5},
    # the module's discount_rate (for DERT) is CLV's optional one in predict
    "models.ggomnbd.GGompertzNbdFit.predict": {"discount_rate": lambda w: None},
}
for _module, _cls in (
    ("bgnbd", "BgNbdCovariateFit"),
    ("mbgnbd", "MbgNbdCovariateFit"),
    ("pareto_nbd", "ParetoNbdCovariateFit"),
):
    # the plain fits' baseline has no covariates (30 customers do not identify them)
    OVERRIDES[f"models.{_module}.fit"] = {
        "purchase_covariates": lambda w: None,
        "dropout_covariates": lambda w: None,
    }
    OVERRIDES[f"models.{_module}.{_cls}.predict"] = {
        "summary": lambda w: crmcore.CustomerSummary.from_arrays(
            w.histories["frequency"], w.histories["recency"], w.histories["T"], time_unit="W"
        ),
        "t": lambda w: 10.0,
    }
# the plain fits' baselines have no covariates
OVERRIDES["models.gamma_gamma.fit"] = {"spend_covariates": lambda w: None}
OVERRIDES["models.sbg.fit"] = {"cohort_covariates": lambda w: None}
for _model, _names in {
    "bgnbd": ("r", "alpha", "a", "b"),
    "mbgnbd": ("r", "alpha", "a", "b"),
    "bgcnbd": ("r", "alpha", "a", "b"),
    "mbgcnbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
    "ggomnbd": ("r", "alpha", "b", "s", "beta"),
    "bgbb": ("alpha", "beta", "gamma", "delta"),
    "gamma_gamma": ("p", "q", "v"),
    "sbg": ("alpha", "beta"),
    "bdw": ("alpha", "beta", "c"),
}.items():
    _cls = {
        "bgnbd": "BgNbd",
        "mbgnbd": "MbgNbd",
        "bgcnbd": "BgCnbd",
        "mbgcnbd": "MbgCnbd",
        "pareto_nbd": "ParetoNbd",
        "ggomnbd": "GGompertzNbd",
        "bgbb": "BgBb",
        "gamma_gamma": "GammaGamma",
        "sbg": "Sbg",
        "bdw": "Bdw",
    }[_model]
    OVERRIDES[f"models.{_model}.{_cls}Params"] = {
        n: (lambda w, m=_model, n=n: float(getattr(w.fits[m].params, n))) for n in _names
    }
    if _model.endswith("cnbd"):
        OVERRIDES[f"models.{_model}.{_cls}Params"]["k"] = lambda w: 2

# P(alive) at T + t, the conditional PMF and DERT of the purchase models: one count for
# every customer, a discount rate (per time unit; per opportunity for BG/BB)
for _model, _cls in {
    "bgnbd": "BgNbd",
    "mbgnbd": "MbgNbd",
    "pareto_nbd": "ParetoNbd",
    "bgbb": "BgBb",
    "bgcnbd": "BgCnbd",
    "mbgcnbd": "MbgCnbd",
}.items():
    _count = "k" if _model == "bgbb" else "n"
    for _owner in (f"models.{_model}", f"models.{_model}.{_cls}Fit"):
        OVERRIDES[f"{_owner}.conditional_purchase_count_probability"] = {_count: lambda w: 1}
        OVERRIDES[f"{_owner}.discounted_expected_residual_purchases"] = {
            "discount_rate": lambda w: 0.01
        }
for _owner in ("models.ggomnbd", "models.ggomnbd.GGompertzNbdFit"):
    OVERRIDES[f"{_owner}.conditional_purchase_count_probability"] = {"n": lambda w: 1}
OVERRIDES["models.clv.new_customer_value"] = {"expected_spend": lambda w: 30.0}
OVERRIDES["models.uncertainty.purchase_count_interval"] = {"t": lambda w: 20.0}

_TV: dict[str, Factory] = {
    "summary": lambda w: w.time_varying[1],
    "table": lambda w: w.time_varying[0].table,
    "covariates": lambda w: w.time_varying[0].covariates,
}
OVERRIDES["models.pareto_nbd.fit_time_varying"] = {
    **_TV,
    "purchase": lambda w: ["z0"],
    "dropout": lambda w: ["w0"],
}
OVERRIDES["models.pareto_nbd.ParetoNbdTimeVaryingFit.log_likelihood_per_customer"] = _TV
OVERRIDES["models.pareto_nbd.ParetoNbdTimeVaryingFit.probability_alive"] = _TV
OVERRIDES["models.pareto_nbd.ParetoNbdTimeVaryingFit.conditional_expected_purchases"] = {
    **_TV,
    "t": lambda w: 2.0,
}
OVERRIDES["models.pareto_nbd.TimeVaryingCovariates.from_long"] = {
    "customer_ids": lambda w: w.time_varying[0].covariates.customer_ids.copy(),
    "period_starts": lambda w: w.time_varying[0].covariates.period_starts.copy(),
    "covariates": lambda w: {"z0": w.time_varying[0].covariates.values[:, 0].copy()},
    "period": lambda w: "W",
}
OVERRIDES["models.pareto_nbd.TimeVaryingCovariates"] = {
    "customer_ids": lambda w: w.time_varying[0].covariates.customer_ids.copy(),
    "period_starts": lambda w: w.time_varying[0].covariates.period_starts.copy(),
    "values": lambda w: w.time_varying[0].covariates.values.copy(),
    "names": lambda w: ("z0", "w0"),
    "period": lambda w: "W",
}
OVERRIDES["simulate.pareto_nbd_time_varying"] = {"n_customers": lambda w: 10}


def receiver(target: Target) -> Any:
    """The instance a plain method is called on."""
    assert target.owner is not None
    w = world()
    cls = target.owner.__name__
    makers: dict[str, Callable[[], Any]] = {
        "CustomerSummary": lambda: w.summary,
        "InteractionTable": lambda: w.table,
        "SurvivalCurve": lambda: w.survival_curve,
        "Consent": lambda: w.consents()[1],  # type: ignore[attr-defined]
        "ClassValueShare": lambda: importlib.import_module("crmcore.metrics").class_value_share(
            ["vip", "key", "ordinary", "key", "ordinary"] * 2, VALUES
        ),
        "AcquisitionCost": lambda: importlib.import_module("crmcore.metrics").acquisition_cost(
            {"web": 100.0, "fair": 40.0}, ["web", "fair", "web"]
        ),
    }
    if cls in makers:
        return makers[cls]()
    if cls.endswith("CovariateFit"):
        return w.covariate_fits[cls]
    if cls == "ParetoNbdTimeVaryingFit":
        return w.time_varying_fit
    if cls == "ParameterDraws":
        return w.fits["bgnbd"].sample_params(3, rng=0)
    if cls.endswith("Fit"):
        module = target.owner.__module__.rsplit(".", 1)[-1]
        return w.fits[module]
    raise LookupError(f"no receiver for {cls}: add one to fuzz_support.receiver")


class MissingBaselineError(LookupError):
    pass


def baseline_factories(target: Target) -> dict[str, Factory | None]:
    """Factory of a valid value per parameter (None: use the parameter's default)."""
    out: dict[str, Factory | None] = {}
    module_pool = MODULE_POOL.get(target.group, {})
    overrides = OVERRIDES.get(target.name, {})
    missing = []
    for p in target.parameters:
        for table in (overrides, module_pool, POOL):
            if p.name in table:
                out[p.name] = table[p.name]
                break
        else:
            if p.default is inspect.Parameter.empty:
                missing.append(p.name)
            else:
                out[p.name] = None
    if missing:
        raise MissingBaselineError(
            f"{target.name}: no valid baseline value for parameter(s) {missing}; add them to "
            "POOL (by name), MODULE_POOL or OVERRIDES in tests/fuzz_support.py"
        )
    return out


def baseline(target: Target) -> dict[str, Any]:
    """Fresh keyword arguments of a valid call (every parameter, defaults spelt out)."""
    w = world()
    params = {p.name: p for p in target.parameters}
    return {
        name: (params[name].default if f is None else f(w))
        for name, f in baseline_factories(target).items()
    }


def bind(target: Target) -> Callable[..., Any]:
    """The callable to call with keyword arguments (positional-only ones passed by position)."""
    func = getattr(receiver(target), target.method or "") if target.bound else target.func
    positional = [p.name for p in target.parameters if p.kind is inspect.Parameter.POSITIONAL_ONLY]
    if not positional:
        return func

    def call(**kwargs: Any) -> Any:
        args = [kwargs.pop(name) for name in positional]
        return func(*args, **kwargs)

    return call


# --------------------------------------------------------------------------- bad values


@dataclass(frozen=True)
class Bad:
    label: str
    make: Callable[[Any], Any]  # baseline value -> bad value (built fresh per call)
    maybe_valid: bool = False
    # The error may name the argument through another parameter (a mismatched length is
    # as much the other array's fault) or through a key of the mapping that holds the value.
    any_parameter: bool = False
    keys: bool = False


def _with_first(arr: Any, value: Any, dtype: Any = float) -> np.ndarray:
    a = np.array(arr, dtype=dtype, copy=True)
    if a.size:
        a.flat[0] = value
    return a


def _pandas_na(arr: Any) -> Any:
    pd = pytest.importorskip("pandas")

    a = np.asarray(arr)
    if a.dtype == bool:
        out = pd.array(a.tolist(), dtype="boolean")
    elif np.issubdtype(a.dtype, np.integer):
        out = pd.array(a.tolist(), dtype="Int64")
    else:
        out = pd.array(a.tolist(), dtype="Float64")
    out[0] = pd.NA
    return out


def _polars(arr: Any) -> Any:
    pl = pytest.importorskip("polars")

    return pl.Series("x", np.asarray(arr))


def _tz_aware_array(arr: Any) -> Any:
    pd = pytest.importorskip("pandas")

    return pd.DatetimeIndex(np.asarray(arr, dtype="datetime64[ns]")).tz_localize("Europe/Berlin")


_GENERIC = [
    Bad("None", lambda v: None),
    Bad("string", lambda v: "abc"),
    Bad("object", lambda v: object()),
]
_SCALAR = [
    Bad("nan", lambda v: math.nan),
    Bad("inf", lambda v: math.inf),
    Bad("-inf", lambda v: -math.inf),
    Bad("negative", lambda v: -1 if isinstance(v, (int, np.integer)) else -1.5, maybe_valid=True),
    Bad("1e300", lambda v: 1e300, maybe_valid=True),
    Bad("1e-300", lambda v: 1e-300, maybe_valid=True),
    Bad("10**18", lambda v: 10**18, maybe_valid=True),
    Bad("empty", lambda v: []),
    Bad("2d", lambda v: [[v, v], [v, v]]),
    Bad("pandas_NA", lambda v: pytest.importorskip("pandas").NA),
]
_NUMERIC_ARRAY = [
    Bad("nan_element", lambda v: _with_first(v, math.nan)),
    Bad("inf_element", lambda v: _with_first(v, math.inf)),
    Bad("-inf_element", lambda v: _with_first(v, -math.inf)),
    Bad("negative_element", lambda v: _with_first(v, -1, np.asarray(v).dtype), maybe_valid=True),
    Bad("1e300_element", lambda v: _with_first(v, 1e300), maybe_valid=True),
    Bad("1e-300_element", lambda v: _with_first(v, 1e-300), maybe_valid=True),
    Bad("10**18_element", lambda v: _with_first(v, 10**18, np.int64), maybe_valid=True),
    Bad("empty", lambda v: np.asarray(v)[:0].copy(), maybe_valid=True),
    Bad("2d", lambda v: np.stack([np.asarray(v), np.asarray(v)])),
    Bad("ragged", lambda v: [[1.0, 2.0], [3.0]]),
    Bad("short", lambda v: np.asarray(v)[:-1].copy(), maybe_valid=True, any_parameter=True),
    Bad("object_dtype", lambda v: np.asarray(v).astype(object), maybe_valid=True),
    Bad("strings", lambda v: np.asarray(v).astype(str)),
    Bad("pandas_NA", _pandas_na),
    Bad("polars", _polars, maybe_valid=True),
    Bad("scalar_nan", lambda v: math.nan),
]
_BOOL_ARRAY = [
    Bad("nan_element", lambda v: _with_first(v, math.nan)),
    Bad("int_2", lambda v: _with_first(v, 2, np.int64)),
    Bad("empty", lambda v: np.asarray(v)[:0].copy(), maybe_valid=True),
    Bad("2d", lambda v: np.stack([np.asarray(v), np.asarray(v)])),
    Bad("short", lambda v: np.asarray(v)[:-1].copy(), maybe_valid=True, any_parameter=True),
    Bad("strings", lambda v: np.asarray(v).astype(str)),
    Bad("pandas_NA", _pandas_na),
    Bad("polars", _polars, maybe_valid=True),
]
_DATE = [
    Bad("NaT", lambda v: np.datetime64("NaT")),
    Bad(
        "tz_aware",
        lambda v: dt.datetime(2024, 6, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        maybe_valid=True,
    ),
    Bad("year_1500", lambda v: "1500-01-01"),
    Bad("year_9999", lambda v: "9999-12-31"),
    Bad("not_a_date", lambda v: "2024-13-45"),
    Bad("nan", lambda v: math.nan),
    Bad("1e300", lambda v: 1e300),
    Bad("pandas_NaT", lambda v: pytest.importorskip("pandas").NaT),
]
_DATE_ARRAY = [
    Bad("NaT_element", lambda v: _with_first(v, np.datetime64("NaT"), np.asarray(v).dtype)),
    Bad("tz_aware", _tz_aware_array, maybe_valid=True),
    Bad("year_1500", lambda v: np.array(["1500-01-01"] * len(v))),
    Bad("strings", lambda v: np.array(["not a date"] * len(v))),
    Bad("floats", lambda v: np.arange(len(v), dtype=float)),
    Bad("empty", lambda v: np.asarray(v)[:0].copy(), maybe_valid=True),
    Bad("2d", lambda v: np.stack([np.asarray(v), np.asarray(v)])),
    Bad("short", lambda v: np.asarray(v)[:-1].copy(), maybe_valid=True, any_parameter=True),
    Bad("polars", _polars, maybe_valid=True),
]
_TIMEDELTA_ARRAY = [
    Bad("NaT_element", lambda v: _with_first(v, np.timedelta64("NaT"), np.asarray(v).dtype)),
    Bad("negative_element", lambda v: -np.asarray(v)),
    Bad("empty", lambda v: np.asarray(v)[:0].copy(), maybe_valid=True),
    Bad("2d", lambda v: np.stack([np.asarray(v), np.asarray(v)])),
    Bad("strings", lambda v: np.asarray(v).astype(str)),
]
_LABEL_ARRAY = [
    Bad("empty", lambda v: np.asarray(v)[:0].copy(), maybe_valid=True),
    Bad("2d", lambda v: np.stack([np.asarray(v), np.asarray(v)])),
    Bad("short", lambda v: np.asarray(v)[:-1].copy(), maybe_valid=True, any_parameter=True),
    Bad("nan_element", lambda v: [math.nan, *list(v)[1:]], maybe_valid=True),
    Bad("None_element", lambda v: [None, *list(v)[1:]], maybe_valid=True),
]
_CHOICE = [
    Bad("bogus", lambda v: "bogus"),
    Bad("empty_string", lambda v: ""),
    Bad("nan", lambda v: math.nan),
    Bad("list", lambda v: [v]),
]
_MAPPING = [
    Bad("empty", lambda v: {}, maybe_valid=True),
    Bad("nan_value", lambda v: dict.fromkeys(v, math.nan), keys=True),
    Bad("list", list),
]
_SEQUENCE = [
    Bad("empty", lambda v: [], maybe_valid=True),
    Bad("object_element", lambda v: [object()]),
    Bad("None_element", lambda v: [None]),
    Bad("nan", lambda v: math.nan),
]
_OBJECT = [
    Bad("nan", lambda v: math.nan),
    Bad("empty_list", lambda v: []),
    Bad("number", lambda v: 1.0),
]


def _selectable_empty(v: Any) -> Any:
    rows = np.zeros(len(v.customer_ids if hasattr(v, "customer_ids") else v.times), dtype=bool)
    if hasattr(v, "customer_codes"):  # an InteractionTable: rows are interactions
        rows = np.zeros(len(v.customer_codes), dtype=bool)
    return v.select(rows)


_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?([T ].*)?$")


_SCALAR_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    ((bool, np.bool_), "bool"),  # before int: bool is an int
    ((int, np.integer), "int"),
    ((float, np.floating), "float"),
    ((dt.date, np.datetime64), "date"),
)
_ARRAY_KINDS = {"M": "date_array", "m": "timedelta_array", "b": "bool_array"}


def _is_number_list(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in value)
    )


def kind_of(value: Any) -> str:
    """The kind of a valid value, which decides the bad values tried in its place."""
    for types, kind in _SCALAR_KINDS:
        if isinstance(value, types):
            return kind
    if isinstance(value, str):
        kind = "date" if _ISO_DATE.match(value) else "choice"
    elif isinstance(value, np.ndarray) or _is_number_list(value):
        dtype = np.asarray(value).dtype
        kind = _ARRAY_KINDS.get(dtype.kind, "array" if dtype.kind in "iuf" else "label_array")
    elif isinstance(value, Mapping):
        kind = "mapping"
    elif isinstance(value, (list, tuple)):
        labels = bool(value) and all(isinstance(x, str) for x in value)
        kind = "label_array" if labels else "sequence"
    else:
        kind = "none" if value is None else "object"
    return kind


_BY_KIND: dict[str, list[Bad]] = {
    "bool": [Bad("nan", lambda v: math.nan), Bad("int_2", lambda v: 2)],
    "int": [*_SCALAR, Bad("fraction", lambda v: 2.5)],
    "float": _SCALAR,
    "date": _DATE,
    "choice": _CHOICE,
    "array": _NUMERIC_ARRAY,
    "bool_array": _BOOL_ARRAY,
    "date_array": _DATE_ARRAY,
    "timedelta_array": _TIMEDELTA_ARRAY,
    "label_array": _LABEL_ARRAY,
    "mapping": _MAPPING,
    "sequence": _SEQUENCE,
    "object": _OBJECT,
    "none": [
        Bad("nan", lambda v: math.nan),
        Bad("negative", lambda v: -1.0, maybe_valid=True),
        Bad("empty_list", lambda v: []),
    ],
}


def bad_values(value: Any) -> list[Bad]:
    """The bad values tried in place of the valid ``value``."""
    kind = kind_of(value)
    out = [*_GENERIC, *_BY_KIND[kind]]
    if kind == "object" and hasattr(value, "select"):
        out.append(Bad("empty_selection", _selectable_empty, maybe_valid=True))
    if kind in ("none", "choice"):
        out = [b for b in out if b.label != "None" or value is not None]
    return out


# --------------------------------------------------------------------------- classification


class FuzzTimeout(BaseException):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise FuzzTimeout after ``seconds`` of CPU time (or 10 times that of wall time).

    CPU time (``ITIMER_PROF``), not wall time, so that a machine loaded by other work does
    not turn a slow call into a "hang"; the wall-clock alarm is a backstop for a call that
    waits without computing. POSIX only (a no-op elsewhere); the signals reach the main
    thread, where pytest runs the test.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def _alarm(signum: int, frame: Any) -> None:
        raise FuzzTimeout

    previous = {sig: signal.signal(sig, _alarm) for sig in (signal.SIGPROF, signal.SIGALRM)}
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, 10 * seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def memory_limit(extra: int) -> Iterator[None]:
    """Cap the address space at its current size plus ``extra`` bytes (Linux; else no-op)."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        yield
        return
    limit = current + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


NONFINITE_BY_DESIGN: dict[str, frozenset[str]] = {
    # NaN marks a value that was not recorded (optional columns of an interaction log).
    "InteractionTable": frozenset(
        {"margins", "survey_scores", "survey_scale_min", "survey_scale_max"}
    ),
    # NaN marks a cohort cell whose period has not begun by ``observation_end`` (documented).
    "CohortMatrix": frozenset({"counts", "rates", "column_means"}),
    # NaN where the customer bought no launched product (documented).
    "BuyerTypes": frozenset({"median_days_after_launch"}),
    # NaN where ``zero_base`` is True (documented).
    "PeriodChange": frozenset({"relative"}),
    # inf for a customer who never drops out (a rate of 0 after underflow; documented).
    "SimulatedHistories": frozenset({"dropout_time"}),
    "SimulatedDiscreteHistories": frozenset({"lifetime"}),
    "SimulatedCohort": frozenset({"lifetime"}),
}
"""Fields of result classes where NaN is part of the documented contract (by class name)."""

INFINITE_BY_DESIGN = frozenset(
    {
        "models.sbg.expected_lifetime",
        "models.sbg.SbgCovariateFit.expected_lifetime",
        "models.bdw.expected_lifetime",
    }
)
"""Callables whose float result may be +inf (the mean lifetime diverges for sBG alpha <= 1,
for BdW c * alpha <= 1)."""


def nonfinite_paths(obj: Any, path: str = "result", _depth: int = 0) -> Iterator[str]:
    """Paths of the non-finite floats in a result (attrs classes, containers, arrays)."""
    if _depth > 6:
        return
    if isinstance(obj, (bool, np.bool_, int, np.integer, str, bytes)) or obj is None:
        return
    if isinstance(obj, (float, np.floating, complex, np.complexfloating)):
        if not np.isfinite(obj):
            yield f"{path}={obj!r}"
        return
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            bad = ~np.isfinite(obj)
            if bad.any():
                i = int(np.flatnonzero(bad.ravel())[0])
                yield f"{path}[{i}]={obj.ravel()[i]!r} ({int(bad.sum())} of {obj.size})"
        return  # object arrays hold labels, where NaN may mark a missing one
    if attrs.has(type(obj)):
        skip = NONFINITE_BY_DESIGN.get(type(obj).__name__, frozenset())
        for a in attrs.fields(type(obj)):
            if a.name in skip:
                continue
            yield from nonfinite_paths(getattr(obj, a.name), f"{path}.{a.name}", _depth + 1)
        return
    if isinstance(obj, Mapping):
        for k, x in list(obj.items())[:50]:
            yield from nonfinite_paths(x, f"{path}[{k!r}]", _depth + 1)
        return
    if isinstance(obj, (list, tuple)):
        for i, x in enumerate(obj[:50]):
            yield from nonfinite_paths(x, f"{path}[{i}]", _depth + 1)


def out_of_range(target: Target, result: Any) -> str | None:
    """A probability outside [0, 1], for callables whose name says they return one."""
    leaf = target.name.rsplit(".", 1)[-1]
    if not re.search(r"probability|survival", leaf):
        return None
    arr = np.asarray(result, dtype=float) if isinstance(result, (float, np.ndarray)) else None
    if arr is None or not arr.size:
        return None
    finite = arr[np.isfinite(arr)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        return f"probability outside [0, 1]: min {finite.min()!r}, max {finite.max()!r}"
    return None


def names_argument(message: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


@dataclass
class Outcome:
    kind: str  # "ok" or a finding kind
    detail: str = ""
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def call_guarded(
    func: Callable[..., Any], kwargs: dict[str, Any]
) -> tuple[Any, BaseException | None, list[warnings.WarningMessage], float]:
    """Call with a time limit, a memory limit and every warning recorded."""
    t0 = time.perf_counter()
    result: Any = None
    error: BaseException | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with memory_limit(MEMORY_BUDGET), time_limit(TIMEOUT):
                result = func(**kwargs)
        except (Exception, FuzzTimeout) as exc:
            error = exc
    return result, error, list(caught), time.perf_counter() - t0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {text[0][:160] if text else ''}"


def accepted_names(
    target: Target, arg: str, bad: Bad | None, kwargs: Mapping[str, Any]
) -> list[str]:
    """Names an error message may use for ``arg``.

    The argument itself; any parameter for a mismatched length; a key of the mapping for a
    bad value inside a mapping; and the value of a ``name`` parameter (``factorize_ids(ids,
    name=...)`` reports under the caller's name on purpose).
    """
    names = [arg]
    if bad is not None and bad.any_parameter:
        names += [p.name for p in target.parameters]
    if bad is not None and bad.keys:
        names += [str(k) for k in baseline(target).get(arg, {})]
    if isinstance(kwargs.get("name"), str):
        names.append(kwargs["name"])
    return names


def _classify_error(error: BaseException, bad: Bad | None, arg: str, names: list[str]) -> Outcome:
    if isinstance(error, FuzzTimeout):
        return Outcome("hang", f"no answer within {TIMEOUT:g} s of CPU time")
    if isinstance(error, MemoryError):
        return Outcome("memory", _first_line(error))
    if isinstance(error, CrmError) and isinstance(error, (ValueError, TypeError)):
        if bad is not None and not any(names_argument(str(error), n) for n in names):
            return Outcome("message", f"does not name {arg!r}: {_first_line(error)}")
        return Outcome("ok", _first_line(error))
    if isinstance(error, ConvergenceError):
        ok = bad is None or bad.maybe_valid
        return Outcome("ok" if ok else "convergence-error", _first_line(error))
    return Outcome("raw-exception", _first_line(error))


def _classify_result(target: Target, result: Any) -> Outcome:
    if target.name in INFINITE_BY_DESIGN and isinstance(result, float) and math.isinf(result):
        return Outcome("ok", "returned inf (documented)")
    if (
        target.name in INFINITE_BY_DESIGN
        and isinstance(result, np.ndarray)
        and result.dtype.kind == "f"
        and not np.isnan(result).any()
        and not np.isneginf(result).any()
    ):
        return Outcome("ok", "returned values that may be inf (documented)")
    bad_paths = list(nonfinite_paths(result))
    if bad_paths:
        return Outcome("non-finite", ", ".join(bad_paths[:3]))
    problem = out_of_range(target, result)
    return Outcome("out-of-range", problem) if problem else Outcome("ok", "returned")


def classify(
    target: Target,
    arg: str,
    bad: Bad | None,
    *,
    result: Any,
    error: BaseException | None,
    caught: list[warnings.WarningMessage],
    names: list[str] | None = None,
) -> Outcome:
    """Sort one call's outcome: "ok" or the kind of finding (see the module docstring)."""
    leaked = list(
        dict.fromkeys(  # distinct, in order of appearance
            f"{w.category.__name__}: {str(w.message)[:120]} "
            f"({os.path.basename(w.filename)}:{w.lineno})"
            for w in caught
            if not issubclass(w.category, ALLOWED_WARNINGS)
        )
    )
    if error is not None:
        outcome = _classify_error(error, bad, arg, names or [arg])
    else:
        outcome = _classify_result(target, result)
    # A leaked warning is the finding unless something worse (hang, raw error) happened.
    if leaked and outcome.kind in ("ok", "message", "non-finite", "out-of-range"):
        more = f" (+{len(leaked) - 3} more)" if len(leaked) > 3 else ""
        outcome = Outcome("warning", "; ".join(leaked[:3]) + more)
    outcome.warnings = leaked
    return outcome


def run_case(target_name: str, arg: str, label: str) -> Outcome:
    """Call ``target`` with its baseline, ``arg`` replaced by the bad value ``label``."""
    target = discover()[target_name]
    kwargs = baseline(target)
    bad = next(b for b in bad_values(kwargs[arg]) if b.label == label)
    kwargs[arg] = bad.make(kwargs[arg])
    names = accepted_names(target, arg, bad, kwargs)
    func = bind(target)
    result, error, caught, seconds = call_guarded(func, kwargs)
    outcome = classify(target, arg, bad, result=result, error=error, caught=caught, names=names)
    outcome.seconds = seconds
    return outcome


def run_baseline(target_name: str) -> Outcome:
    """The valid call: it must return (no error at all), finite and without a warning."""
    target = discover()[target_name]
    result, error, caught, seconds = call_guarded(bind(target), baseline(target))
    if error is not None and not isinstance(error, FuzzTimeout):
        return Outcome("baseline-raises", _first_line(error), seconds)
    outcome = classify(target, "", None, result=result, error=error, caught=caught)
    outcome.seconds = seconds
    return outcome


# --------------------------------------------------------------------------- the cases


def all_cases() -> list[tuple[str, str, str]]:
    """Every (target, argument, bad value) of the full cross product."""
    cases = []
    w = world()
    for name, target in discover().items():
        try:
            factories = baseline_factories(target)
        except MissingBaselineError:
            continue
        params = {p.name: p for p in target.parameters}
        for arg, f in factories.items():
            value = params[arg].default if f is None else f(w)
            cases += [(name, arg, bad.label) for bad in bad_values(value)]
    return cases


def default_cases(per_argument: int) -> list[tuple[str, str, str]]:
    """A bounded, deterministic subset: ``per_argument`` bad values per (callable, argument).

    The values are taken in turn (a rotation keyed by a stable hash of the callable and
    argument), so that across the API every kind of bad value is tried somewhere.
    """
    import zlib

    by_arg: dict[tuple[str, str], list[str]] = {}
    for name, arg, label in all_cases():
        by_arg.setdefault((name, arg), []).append(label)
    out = []
    for (name, arg), labels in by_arg.items():
        start = zlib.crc32(f"{name}:{arg}".encode()) % len(labels)
        rotated = labels[start:] + labels[:start]
        out.extend((name, arg, label) for label in rotated[:per_argument])
    return out

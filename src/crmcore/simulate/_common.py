"""Helpers shared by the simulators: constants, checks and random draws."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal, cast

import numpy as np

from crmcore import _validation as val
from crmcore._typing import BoolArray, FloatArray, IntArray
from crmcore.errors import InputError, InputTypeError
from crmcore.records import Channel, InteractionKind
from crmcore.table import KIND_CODES

PurchaseModel = Literal["bgnbd", "mbgnbd", "pareto_nbd"]
TimeUnit = Literal["h", "D", "W"]

_SECONDS = {"h": 3_600, "D": 86_400, "W": 604_800}
_NS_PER_S = 1_000_000_000
_DAY_S = 86_400
#: Largest expected event count per customer that numpy's Poisson sampler takes
#: comfortably (its hard limit is near 9.2e18).
_MAX_POISSON_MEAN = 1e15
#: Largest number of rows customer_base agrees to write.
_MAX_ROWS = 2_000_000_000
#: Largest ``n_customers`` a simulator accepts (every per-customer array has
#: this length: 0.8 GB per float column at the bound).
_MAX_CUSTOMERS = 100_000_000
#: Largest number of periods (BG/BB opportunities, sBG renewals) a simulator
#: accepts.
_MAX_PERIODS = 1_000_000
#: Longest span in days (100 years) of the calendar of ``customer_base``: from
#: ``start`` to ``observation_end``, and every duration in days of its options.
#: It keeps every time in nanoseconds far from the int64 limit.
_MAX_DAYS = 36_525.0
#: Largest number of products per category of a catalogue.
_MAX_PRODUCTS_PER_CATEGORY = 100_000

_PURCHASE = KIND_CODES[InteractionKind.PURCHASE]
_SURVEY = KIND_CODES[InteractionKind.SURVEY]
_SUPPORT = KIND_CODES[InteractionKind.SUPPORT]
_COMPLAINT = KIND_CODES[InteractionKind.COMPLAINT]
_MARKETING = KIND_CODES[InteractionKind.MARKETING]
_REFUND = KIND_CODES[InteractionKind.REFUND]
_LEAD = KIND_CODES[InteractionKind.LEAD]
_OPPORTUNITY = KIND_CODES[InteractionKind.OPPORTUNITY]
_CHANNEL_CODES = {c: i for i, c in enumerate(Channel)}

#: Answer scales of the survey questions: (low, high).
_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def _check_probability(value: object, name: str) -> float:
    return val.check_float(value, name, low=0.0, high=1.0)


def _check_positive(value: object, name: str) -> float:
    return val.check_float(value, name, low=0.0, low_open=True)


def _check_shares(
    shares: Sequence[float] | None, n: int, name: str, labels_name: str
) -> tuple[float, ...]:
    if shares is None:
        return tuple(1.0 / n for _ in range(n))
    values = tuple(shares)
    if len(values) != n:
        raise InputError(
            f"{name} must have one share per entry of {labels_name} ({n}), got {len(values)}"
        )
    checked = [val.check_float(s, f"{name}[{i}]", low=0.0) for i, s in enumerate(values)]
    total = math.fsum(checked)
    if total <= 0:
        raise InputError(f"{name} must not be all zero")
    return tuple(s / total for s in checked)


def _to_tuple(value: Any) -> Any:
    """Turn a list (or any iterable but a string) into a tuple; leave the rest for validation."""
    if value is None or isinstance(value, str | bytes | tuple) or not isinstance(value, Iterable):
        return value
    return tuple(value)


def _require_tuple(value: object, name: str, *, length: int | None = None) -> None:
    if not isinstance(value, tuple):
        raise InputTypeError(f"{name} must be a sequence, got {type(value).__name__} {value!r}")
    if length is not None and len(value) != length:
        raise InputError(f"{name} must be a pair (a, b) of Beta parameters, got {value!r}")


# --------------------------------------------------------------------------- random helpers


def _uniform_open(rng: np.random.Generator, size: int) -> FloatArray:
    """Uniform draws on (0, 1]."""
    return 1.0 - rng.random(size)


def _geometric_failures(rng: np.random.Generator, prob: FloatArray) -> FloatArray:
    """Failures before the first success of Bernoulli(prob) trials, as floats.

    Inversion: ``floor(log(U) / log(1 - prob))`` with U uniform on (0, 1], so
    that P(failures >= j) = (1 - prob)**j exactly; ``inf`` where prob is 0.
    """
    log_u = np.log(_uniform_open(rng, prob.size))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = log_u / np.log1p(-prob)
    out = np.floor(np.maximum(ratio, 0.0))
    out[prob <= 0.0] = np.inf
    return out


def _log_standard_gamma(rng: np.random.Generator, shape: FloatArray) -> FloatArray:
    """Logarithm of Gamma(shape, 1) draws, finite even for tiny shapes.

    For shape < 1 it uses Gamma(k) = Gamma(k + 1) * U**(1/k) in log space, so
    that draws below the smallest float do not become log(0).
    """
    small = shape < 1.0
    g = rng.standard_gamma(np.where(small, shape + 1.0, shape))
    with np.errstate(divide="ignore"):
        out = np.log(g)
    if small.any():
        out[small] += np.log(_uniform_open(rng, int(small.sum()))) / shape[small]
    return out


def _poisson(rng: np.random.Generator, mean: FloatArray, what: str, span: str = "T") -> IntArray:
    """Poisson counts; ``span`` names the argument whose length of time scales ``mean``."""
    if mean.size and not float(mean.max()) <= _MAX_POISSON_MEAN:
        i = int(np.argmax(~(mean <= _MAX_POISSON_MEAN)))
        raise InputError(
            f"the drawn purchase rates give an expected {what} count of {float(mean[i]):.3g} "
            f"for customer {i}, beyond what can be simulated ({_MAX_POISSON_MEAN:.0e}); check "
            f"the rate parameters (r, alpha) against the length and time unit of {span}"
        )
    return rng.poisson(mean).astype(np.int64)


def _categorical(rng: np.random.Generator, shares: Sequence[float], size: int) -> IntArray:
    cum = np.cumsum(np.asarray(shares, dtype=np.float64))
    idx = np.searchsorted(cum / cum[-1], rng.random(size), side="right")
    return np.minimum(idx, len(shares) - 1).astype(np.int64)


def _child_generators(rng: np.random.Generator, n: int) -> list[np.random.Generator]:
    """Independent streams, so switching an option on leaves the others' draws unchanged."""
    seed = np.random.SeedSequence(int(rng.integers(0, 2**63)))
    return [np.random.default_rng(s) for s in seed.spawn(n)]


def _check_params(values: Sequence[object], names: Sequence[str]) -> tuple[float, ...]:
    return tuple(_check_positive(x, n) for x, n in zip(values, names, strict=True))


def _four(values: tuple[float, ...]) -> tuple[float, float, float, float]:
    a, b, c, d = values
    return a, b, c, d


def _days_to_ns(days: FloatArray) -> IntArray:
    """Whole seconds (truncated) of a duration in days, as nanoseconds."""
    return np.floor(days * _DAY_S).astype(np.int64) * _NS_PER_S


def _iso(t: np.datetime64 | int) -> str:
    """ISO text of a time in nanoseconds since the epoch, also beyond datetime64[ns]."""
    i = int(t.astype(np.int64)) if isinstance(t, np.datetime64) else int(t)
    if not _INT64_MIN < i <= _INT64_MAX:
        return "a time beyond the range of datetime64[ns] (1677-09-22 to 2262-04-11)"
    return str(np.datetime64(i, "ns").astype("datetime64[s]"))


_INT64_MIN = int(np.iinfo(np.int64).min)
_INT64_MAX = int(np.iinfo(np.int64).max)


def _within(times: IntArray, delays: IntArray, end_i: int) -> BoolArray:
    """Tell where ``times + delays <= end_i`` without int64 overflow (``times <= end_i``)."""
    return delays <= end_i - times


def _check_days(value: object, name: str, *, positive: bool = False) -> float:
    """Check a duration in days: non-negative (or positive) and at most ``_MAX_DAYS``."""
    return val.check_float(value, name, low=0.0, low_open=positive, high=_MAX_DAYS)


def _check_amounts(amounts: FloatArray, owner: IntArray) -> None:
    bad = ~np.isfinite(amounts)
    if bad.any():
        raise InputError(
            "the spend parameters give amounts too large to represent; "
            + val.describe_violations(bad, ("customer", owner + 1)).replace("values", "purchases")
            + "; check q and v (amounts scale as v / q)"
        )


def _linear_predictor(
    covariates: object, coefficients: object, kind: str, n: int
) -> FloatArray | None:
    """Return ``Z @ gamma`` per customer for ``{kind}_covariates`` (None when absent).

    ``covariates`` is a (n, k) array or a 1-d array (one covariate);
    ``coefficients`` has k values. Both or neither must be given.
    """
    cov_name, coef_name = f"{kind}_covariates", f"{kind}_coefficients"
    if covariates is None and coefficients is None:
        return None
    if covariates is None or coefficients is None:
        missing = cov_name if covariates is None else coef_name
        raise InputTypeError(f"{missing} is required when {cov_name} or {coef_name} is given")
    ndim = int(np.ndim(cast(Any, covariates)))
    if ndim not in {1, 2}:
        raise InputError(f"{cov_name} must be 2-dimensional (customers x covariates), got {ndim}-d")
    z = val.as_float_array(cast(Any, covariates), cov_name, ndim=ndim)
    z = z.reshape(-1, 1) if ndim == 1 else z
    coef = val.as_float_array(cast(Any, coefficients), coef_name)
    if z.shape[0] != n:
        raise InputError(f"{cov_name} must have one row per customer ({n}); got shape {z.shape}")
    if coef.size != z.shape[1]:
        raise InputError(
            f"{coef_name} must have one value per column of {cov_name} ({z.shape[1]}); "
            f"got {coef.size}"
        )
    with np.errstate(all="ignore"):
        eta = np.einsum("ij,j->i", z, coef)
    if not np.all(np.abs(eta) <= 700.0):
        bad = ~(np.abs(eta) <= 700.0)
        raise InputError(
            f"{cov_name} times {coef_name} must stay within [-700, 700] (exp overflows "
            f"beyond); {val.describe_violations(bad, (f'{cov_name} @ {coef_name}', eta))}"
        )
    return np.asarray(eta, dtype=np.float64)


def _rows_of(*covariates: object) -> int | None:
    """Return the number of rows of the first covariate matrix given (None when none is)."""
    for c in covariates:
        if c is not None:
            return int(np.shape(cast(Any, c))[0]) if np.ndim(cast(Any, c)) >= 1 else None
    return None

"""Time-varying covariates of the Pareto/NBD model (Bachmann, Meierer & Näf, 2021).

The model
---------
Customer i comes alive at its first purchase (time 0) and is observed until T.
Covariates are piecewise constant on a calendar grid of periods (weeks,
months, ...): in period k the customer has purchase covariates ``z_k`` and
dropout covariates ``w_k``. While alive, the customer purchases at rate
``λ_i exp(γ_p·z(t))`` and drops out at hazard ``μ_i exp(γ_d·w(t))``, with
``λ_i ~ Gamma(r, α)`` and ``μ_i ~ Gamma(s, β)`` across customers. With the
cumulative exposures

    A(t) = ∫_0^t exp(γ_p·z(u)) du,   B(t) = ∫_0^t exp(γ_d·w(u)) du

(sums over periods of duration times exp(γ·z)), and x repeat purchases at
times t_1 < ... < t_x, the likelihood of customer i is

    L_i = exp(γ_p·Σ_j z(t_j)) Γ(r+x)/Γ(r) α^r β^s
          [ (α + A(T))^-(r+x) (β + B(T))^-s
            + s ∫_{t_x}^T exp(γ_d·w(τ)) (α + A(τ))^-(r+x) (β + B(τ))^-(s+1) dτ ]

(the first term: alive at T; the second: dropout at τ between the last
purchase and T). With covariates that do not change over time this is the
time-invariant Pareto/NBD likelihood with ``α_i = α exp(-γ_p·z_i)`` and
``β_i = β exp(-γ_d·w_i)``, CLVTools' parameterisation.

Numerics
--------
Everything runs on flat arrays of (customer, period) segments: cumulative
exposures by segmented cumulative sums, the integral by Gauss-Legendre
quadrature on each segment after t_x in the variable ``y = log(1 + ρ u)``
(ρ the faster of the two relative growth rates of α + A and β + B on the
segment), which keeps the singularities of the integrand at imaginary
distance π; a segment over which the integrand falls steeply is split into
up to 64 pieces, each with a fall of at most e^2, and is cut where it has
fallen by e^-40. The gradient in every parameter is analytic (the same
quadrature); no Python loop runs over customers.

References
----------
Bachmann, P., Meierer, M., & Näf, J. (2021). The role of time-varying
contextual factors in latent attrition models for customer base analysis.
Marketing Science, 40(4), 783-809. https://doi.org/10.1287/mksc.2020.1254

Meierer, P., Näf, J., Bachmann, P., & Asenova, E. CLVTools: customer lifetime
value tools (R package), "dynamic covariates". https://www.clvtools.com/
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import attrs
import numpy as np
from scipy import special as sc

from crmcore import _validation as v
from crmcore._periods import period_index, period_start, unit_factor
from crmcore._time_varying import TimeVaryingCovariates, _as_names, _show
from crmcore._typing import DatetimeArray, FloatArray, IntArray
from crmcore.errors import ConvergenceError, InputError, InputTypeError
from crmcore.models import _covariates as cv
from crmcore.models import _inputs as inp
from crmcore.models import _units
from crmcore.summary import CustomerSummary
from crmcore.table import PURCHASE_CODE, InteractionTable

__all__ = ["ParetoNbdTimeVaryingFit", "TimeVaryingCovariates", "fit_time_varying"]

_NS_PER = {"h": 3_600 * 10**9, "D": 86_400 * 10**9, "W": 7 * 86_400 * 10**9}
_MONTHS_PER = {"M": 1, "Y": 12}
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(8)
_MAX_PIECES = 64  # pieces of one segment at most
_PIECE_FALL = 2.0  # largest fall (in log) of the integrand over one piece
_PIECE_Y = 1.0  # longest piece in y = log(1 + rho u)
_CUT = 40.0  # a segment is cut where its integrand has fallen by e^-40


# --------------------------------------------------------------------------- data


class _Layout(NamedTuple):
    """Segments of every fitted customer, on flat arrays."""

    x: FloatArray
    tx: FloatArray
    T: FloatArray
    cust: IntArray  # customer of each segment
    starts: IntArray  # first segment of each customer
    u0: FloatArray  # segment start and end (time since the first purchase)
    u1: FloatArray
    zp: FloatArray  # (segments, kp)
    zd: FloatArray
    sum_zp: FloatArray  # (customers, kp): purchase covariates summed over repeat purchases
    names_p: tuple[str, ...]
    names_d: tuple[str, ...]


def _select(cov: TimeVaryingCovariates, names: object, label: str) -> tuple[str, ...]:
    if names is None:
        return ()
    if isinstance(names, str):
        names = (names,)
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise InputTypeError(f"{label} must be a sequence of covariate names (str); got {names!r}")
    out = tuple(names)
    unknown = [n for n in out if n not in cov.names]
    if unknown:
        raise InputError(
            f"{label} must name covariates of the TimeVaryingCovariates ({', '.join(cov.names)}); "
            f"unknown {unknown}"
        )
    if len(set(out)) != len(out):
        raise InputError(f"{label} must name each covariate once; got {list(out)}")
    return out


def _coords(times: DatetimeArray, origin: DatetimeArray, unit: str) -> FloatArray:
    """Time from ``origin`` to ``times`` in ``unit`` (exact for the calendar family)."""
    if unit in _NS_PER:
        diff = times.view(np.int64) - origin.view(np.int64)
        return np.asarray(diff / _NS_PER[unit], dtype=np.float64)
    months = times.astype("datetime64[M]").view(np.int64) - origin.astype("datetime64[M]").view(
        np.int64
    )
    return np.asarray(months / _MONTHS_PER[unit], dtype=np.float64)


def _end_instant(summary: CustomerSummary) -> np.datetime64:
    end = (
        summary.calibration_end if summary.calibration_end is not None else summary.observation_end
    )
    if end is None:
        raise InputError(
            "summary must come from crmcore.summarize (it needs observation_end and the "
            "purchase dates); got a summary without observation_end"
        )
    return period_start(np.asarray([period_index(end, summary.period)]), summary.period)[0]  # type: ignore[no-any-return]


def _customer_rows(
    cov: TimeVaryingCovariates, ids: np.ndarray[Any, Any]
) -> tuple[IntArray, IntArray, IntArray]:
    """For each id: its first row in ``cov``, its first and last period index (-1 rows: none)."""
    cids = cov.customer_ids
    n_rows = cids.size
    first = np.ones(n_rows, dtype=np.bool_)
    first[1:] = cids[1:] != cids[:-1]
    heads = np.flatnonzero(first)
    uniq = cids[heads]
    try:
        pos = np.searchsorted(uniq, ids)
    except TypeError:
        raise InputTypeError(
            "covariates.customer_ids must be of the kind of the summary's customer ids "
            f"(got {cids.dtype} and {ids.dtype})"
        ) from None
    pos = np.minimum(pos, max(uniq.size - 1, 0))
    found = (uniq.size > 0) & (uniq[pos] == ids) if uniq.size else np.zeros(ids.size, bool)
    found = np.asarray(found, dtype=np.bool_)
    if not found.all():
        i = int(np.flatnonzero(~found)[0])
        raise InputError(
            "covariates must have rows for every customer of the summary with a purchase; "
            f"{int((~found).sum())} of {ids.size} have none (first: customer {_show(ids[i])}); add "
            "their rows from the period of their first purchase to observation_end"
        )
    tails = np.r_[heads[1:], n_rows] - 1
    pidx = period_index(cov.period_starts, cov.period) if n_rows else np.zeros(0, np.int64)
    row0 = heads[pos]
    return row0, pidx[row0], pidx[tails[pos]]


def _check_cover(  # noqa: PLR0917
    need_lo: IntArray,
    need_hi: IntArray,
    have: tuple[IntArray, IntArray],
    ids: np.ndarray[Any, Any],
    period: str,
    what: str,
) -> None:
    lo, hi = have
    bad = (need_lo < lo) | (need_hi > hi)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        k = int(need_lo[i]) if need_lo[i] < lo[i] else int(need_hi[i])
        missing = period_start(np.asarray([k]), period)[0]
        raise InputError(
            f"covariates must cover every period {what}; {int(bad.sum())} of {ids.size} "
            f"customers lack rows (first: customer {_show(ids[i])}, the period starting "
            f"{missing}); "
            "add the missing rows"
        )


def _occasion_sums(  # noqa: PLR0917
    table: InteractionTable,
    summary: CustomerSummary,
    fit_ids: np.ndarray[Any, Any],
    cov: TimeVaryingCovariates,
    rows: tuple[IntArray, IntArray],
    cols: list[int],
) -> tuple[FloatArray, IntArray]:
    """Sum of the purchase covariates over every customer's repeat purchase occasions."""
    n = fit_ids.size
    if not isinstance(table, InteractionTable):
        raise InputTypeError(f"table must be an InteractionTable, got {type(table).__name__}")
    end_idx = int(period_index(_end_instant(summary), summary.period))
    p = period_index(table.times, summary.period)
    keep = (table.kinds == PURCHASE_CODE) & (p <= end_idx)
    codes, p = table.customer_codes[keep], p[keep]
    # table customers -> fitted customers
    tids = table.customer_ids
    order = np.argsort(fit_ids, kind="stable")
    sorted_ids = fit_ids[order]
    try:
        pos = np.searchsorted(sorted_ids, tids)
    except TypeError:
        raise InputTypeError(
            "table's customer ids must be of the kind of the summary's customer ids"
        ) from None
    pos = np.minimum(pos, max(n - 1, 0))
    hit = (sorted_ids[pos] == tids) if n else np.zeros(tids.size, np.bool_)
    target = np.where(hit, order[pos], -1)
    c = target[codes]
    c_ok = c >= 0
    c, p = c[c_ok], p[c_ok]
    key_order = np.lexsort((p, c))
    c, p = c[key_order], p[key_order]
    new = np.ones(c.size, dtype=np.bool_)
    new[1:] = (c[1:] != c[:-1]) | (p[1:] != p[:-1])
    c, p = c[new], p[new]
    repeat = np.zeros(c.size, dtype=np.bool_)
    repeat[1:] = c[1:] == c[:-1]
    c, p = c[repeat], p[repeat]
    count = np.bincount(c, minlength=n)
    k = period_index(period_start(p, summary.period), cov.period)
    row0, first = rows
    out = np.zeros((n, len(cols)))
    if c.size and cols:
        vals = cov.values[row0[c] + (k - first[c])][:, cols]
        for j in range(len(cols)):
            out[:, j] = np.bincount(c, weights=vals[:, j], minlength=n)
    return out, count


def _layout(
    summary: CustomerSummary,
    table: InteractionTable | None,
    cov: TimeVaryingCovariates,
    names: tuple[tuple[str, ...], tuple[str, ...]],
) -> _Layout:
    if not isinstance(summary, CustomerSummary):
        raise InputTypeError(
            f"summary must be a CustomerSummary (crmcore.summarize), got {type(summary).__name__}"
        )
    if not isinstance(cov, TimeVaryingCovariates):
        raise InputTypeError(
            "covariates must be a TimeVaryingCovariates (TimeVaryingCovariates.from_long), got "
            f"{type(cov).__name__}"
        )
    unit = summary.time_unit
    try:
        unit_factor(cov.period, unit)
    except InputError:
        raise InputError(
            f"covariates.period {cov.period!r} and the summary's time_unit {unit!r} must be of "
            "one family (hours, days, weeks; or months, years)"
        ) from None
    end = _end_instant(summary)
    has = np.asarray(summary.has_purchase, dtype=np.bool_)
    if not has.any():
        raise InputError("summary must hold at least one customer with a purchase; got none")
    ids = summary.customer_ids[has]
    x = np.asarray(summary.frequency[has], dtype=np.float64)
    tx = np.asarray(summary.recency[has], dtype=np.float64)
    big_t = np.asarray(summary.T[has], dtype=np.float64)
    birth = summary.first_purchase[has]
    row0, lo, hi = _customer_rows(cov, ids)
    k0 = period_index(birth, cov.period)
    k1 = np.full(ids.size, period_index(end, cov.period))
    _check_cover(k0, k1, (lo, hi), ids, cov.period, "from the first purchase to observation_end")
    m = k1 - k0 + 1
    starts = np.r_[0, np.cumsum(m)[:-1]].astype(np.int64)
    cust = np.repeat(np.arange(ids.size), m)
    kk = k0[cust] + (np.arange(cust.size) - starts[cust])
    b = birth[cust]
    u0 = np.maximum(_coords(period_start(kk, cov.period), b, unit), 0.0)
    u1 = np.minimum(_coords(period_start(kk + 1, cov.period), b, unit), big_t[cust])
    u1 = np.maximum(u1, u0)
    rows = row0[cust] + (kk - lo[cust])
    cp = [cov.names.index(nm) for nm in names[0]]
    cd = [cov.names.index(nm) for nm in names[1]]
    zp = np.ascontiguousarray(cov.values[rows][:, cp])
    zd = np.ascontiguousarray(cov.values[rows][:, cd])
    if table is None:  # predictions: the purchase dates do not enter P(alive) or forecasts
        sums = np.zeros((ids.size, len(cp)))
    else:
        sums, count = _occasion_sums(table, summary, ids, cov, (row0, lo), cp)
        bad = count != x
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                "table must be the interaction table the summary was made from; "
                f"{int(bad.sum())} customers' repeat purchases differ (first: customer "
                f"{_show(ids[i])}, {int(count[i])} in the table, frequency {int(x[i])} in the "
                "summary)"
            )
    return _Layout(x, tx, big_t, cust, starts, u0, u1, zp, zd, sums, names[0], names[1])


# --------------------------------------------------------------------------- likelihood


def _seg_cumsum(vals: FloatArray, starts: IntArray) -> FloatArray:
    """Exclusive cumulative sum of ``vals`` (rows) within each customer's segments.

    The running sum is reset at each customer's first segment by subtracting
    the previous customer's total, so rounding does not grow with the number
    of customers before it.
    """
    if vals.shape[0] == 0:
        return np.array(vals, dtype=np.float64)
    totals = np.add.reduceat(vals, starts, axis=0)
    shifted = np.zeros_like(vals)
    shifted[1:] = vals[:-1]
    shifted[starts[1:]] -= totals[:-1]
    shifted[starts[0]] = 0.0
    out = np.cumsum(shifted, axis=0)
    out[starts] = 0.0
    return np.asarray(out, dtype=np.float64)


_CHUNK = 250_000  # segments of the integral handled at once (bounds the temporaries)


def _chunks(live: IntArray, cust: IntArray) -> list[tuple[int, int]]:
    """Cut the live segments into runs of about ``_CHUNK``, never inside a customer."""
    if live.size == 0:
        return []
    if live.size <= _CHUNK:
        return [(0, live.size)]
    cl = cust[live]
    change = np.flatnonzero(cl[1:] != cl[:-1]) + 1
    targets = np.arange(_CHUNK, live.size, _CHUNK)
    pos = np.searchsorted(change, targets)
    cuts = np.unique(change[pos[pos < change.size]])
    bounds = [0, *cuts.tolist(), live.size]
    return [(x, y) for x, y in itertools.pairwise(bounds) if y > x]


def _dot(mat: FloatArray, coef: FloatArray) -> FloatArray:
    if mat.shape[1] == 0:
        return np.zeros(mat.shape[0])
    return np.asarray(np.einsum("ij,j->i", mat, coef), dtype=np.float64)


class _Terms(NamedTuple):
    loglik: FloatArray
    log_alive: FloatArray
    grad: FloatArray | None  # (customers, params) in u
    a_t: FloatArray  # A(T), B(T) per customer
    b_t: FloatArray


def _terms(u: FloatArray, lay: _Layout, *, want_grad: bool) -> _Terms:
    """Per-customer log-likelihood, log P(alive at T) and gradient in u.

    ``u = (log r, log α, log s, log β, γ_p, γ_d)``.
    """
    kp, kd = len(lay.names_p), len(lay.names_d)
    r, alpha, s, beta = np.exp(u[:4])
    gp, gd = u[4 : 4 + kp], u[4 + kp :]
    n_c = lay.x.size
    cust, starts = lay.cust, lay.starts
    with np.errstate(all="ignore"):
        a = np.exp(_dot(lay.zp, gp))
        b = np.exp(_dot(lay.zd, gd))
    d = lay.u1 - lay.u0
    # exposures: per segment before it (exclusive), per customer in total
    ad, bd = a * d, b * d
    parts = [ad[:, None], bd[:, None]]
    if want_grad:
        parts += [ad[:, None] * lay.zp, bd[:, None] * lay.zd]
    stack = np.concatenate(parts, axis=1)
    before = _seg_cumsum(stack, starts)
    total = np.add.reduceat(stack, starts, axis=0)
    a_t, b_t = total[:, 0], total[:, 1]
    n = r + lay.x
    lat = np.log(alpha + a_t)
    lbt = np.log(beta + b_t)
    log_a1 = -n * lat - s * lbt
    # the integral over (t_x, T]: segments ending after t_x
    tx_c = lay.tx[cust]
    lo = np.maximum(lay.u0, tx_c)
    live = np.flatnonzero(lay.u1 > lo)
    log_i = np.full(n_c, -np.inf)
    gi = np.zeros((n_c, 4 + kp + kd)) if want_grad else None
    for c0, c1 in _chunks(live, cust):  # a few hundred thousand segments at a time
        li, gc = _integral(u, lay, (a, b), before, live[c0:c1], lo, want_grad=want_grad)
        log_i = np.maximum(log_i, li)  # each customer's segments lie in one chunk
        if gi is not None and gc is not None:
            gi += gc
    ls = np.log(s)
    log_si = ls + log_i
    rest = np.logaddexp(log_a1, log_si)
    log_alive = np.minimum(log_a1 - rest, 0.0)
    ll = (
        _dot(lay.sum_zp, gp)
        + sc.gammaln(n)
        - sc.gammaln(r)
        + r * np.log(alpha)
        + s * np.log(beta)
        + rest
    )
    if not want_grad:
        return _Terms(ll, log_alive, None, a_t, b_t)
    assert gi is not None
    share1 = np.exp(log_alive)
    share2 = np.where(np.isfinite(log_i), 1.0 - share1, 0.0)
    g1 = np.zeros((n_c, 4 + kp + kd))
    g1[:, 0] = -r * lat
    g1[:, 1] = -n * alpha / (alpha + a_t)
    g1[:, 2] = -s * lbt
    g1[:, 3] = -s * beta / (beta + b_t)
    g1[:, 4 : 4 + kp] = -(n / (alpha + a_t))[:, None] * total[:, 2 : 2 + kp]
    g1[:, 4 + kp :] = -(s / (beta + b_t))[:, None] * total[:, 2 + kp :]
    gi[:, 2] += 1.0
    g = share1[:, None] * g1 + share2[:, None] * gi
    g[:, 0] += r * (sc.digamma(n) - sc.digamma(r) + np.log(alpha))
    g[:, 1] += r
    g[:, 2] += s * np.log(beta)
    g[:, 3] += s
    g[:, 4 : 4 + kp] += lay.sum_zp
    return _Terms(ll, log_alive, g, a_t, b_t)


def _integral(  # noqa: PLR0917
    u: FloatArray,
    lay: _Layout,
    ab: tuple[FloatArray, FloatArray],
    before: FloatArray,
    live: IntArray,
    lo_all: FloatArray,
    *,
    want_grad: bool,
) -> tuple[FloatArray, FloatArray | None]:
    """Log of ∫_{t_x}^T b(τ) (α+A(τ))^-n (β+B(τ))^-(s+1) dτ per customer, and its gradient."""
    kp, kd = len(lay.names_p), len(lay.names_d)
    r, alpha, s, beta = np.exp(u[:4])
    n_c = lay.x.size
    a, b = ab[0][live], ab[1][live]
    c = lay.cust[live]
    n = r + lay.x[c]
    m = s + 1.0
    lo = lo_all[live]
    length = lay.u1[live] - lo
    from_u0 = lo - lay.u0[live]
    a_lo = before[live, 0] + a * from_u0
    b_lo = before[live, 1] + b * from_u0
    big_p = alpha + a_lo
    big_q = beta + b_lo
    with np.errstate(all="ignore"):
        rho_a = a / big_p
        rho_b = b / big_q
        rho = np.maximum(rho_a, rho_b)
        cut = np.minimum(length, np.minimum(np.expm1(_CUT / n) / rho_a, np.expm1(_CUT / m) / rho_b))
        y_end = np.log1p(rho * cut)
        fall = n * np.log1p(rho_a * cut) + m * np.log1p(rho_b * cut)
        pieces = np.ceil(np.maximum(fall / _PIECE_FALL, y_end / _PIECE_Y))
    pieces = np.clip(np.nan_to_num(pieces, nan=1.0), 1, _MAX_PIECES).astype(np.int64)
    seg = np.repeat(np.arange(live.size), pieces)
    first_piece = np.r_[0, np.cumsum(pieces)[:-1]]
    j = np.arange(seg.size) - first_piece[seg]
    width = y_end[seg] / pieces[seg]
    # nodes: (pieces, K)
    y = width[:, None] * (j[:, None] + 0.5 + 0.5 * _GL_NODES[None, :])
    sg = seg[:, None]
    rr = rho[sg]
    uu = np.expm1(y) / rr
    lpa = np.log1p(rho_a[sg] * uu)  # log(P + a u) - log P
    lqb = np.log1p(rho_b[sg] * uu)
    phi = (
        np.log(0.5 * width[:, None] * _GL_WEIGHTS[None, :])
        + y
        - np.log(rr)
        + np.log(b[sg])
        - n[sg] * (np.log(big_p[sg]) + lpa)
        - m * (np.log(big_q[sg]) + lqb)
    )
    # log of each segment, then of each customer
    cs = c[seg]  # customer of each piece (pieces are in customer order)
    piece_heads = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
    cust_of_head = cs[piece_heads]
    top_piece = phi.max(axis=1)
    top = np.maximum.reduceat(top_piece, piece_heads)
    top_c = np.full(n_c, -np.inf)
    top_c[cust_of_head] = top
    w = np.exp(phi - top_c[cs][:, None])
    tot = np.bincount(cs, weights=w.sum(axis=1), minlength=n_c)
    with np.errstate(divide="ignore"):
        log_i = top_c + np.log(tot)
    if not want_grad:
        return log_i, None
    psi = w / tot[cs][:, None]  # normalised weights of the nodes within each customer
    lp_full = np.log(big_p[sg]) + lpa
    lq_full = np.log(big_q[sg]) + lqb
    inv_p = np.exp(-lp_full)
    inv_q = np.exp(-lq_full)

    def per_seg(vals: FloatArray) -> FloatArray:
        out = np.bincount(seg, weights=(psi * vals).sum(axis=1), minlength=live.size)
        return np.asarray(out, dtype=np.float64)

    s_lp = per_seg(lp_full)
    s_lq = per_seg(lq_full)
    s_ip = per_seg(inv_p)
    s_iq = per_seg(inv_q)
    s_up = per_seg(uu * inv_p)
    s_uq = per_seg(uu * inv_q)
    s_1 = np.bincount(seg, weights=psi.sum(axis=1), minlength=live.size)
    g = np.zeros((live.size, 4 + kp + kd))
    g[:, 0] = -r * s_lp
    g[:, 1] = -n * alpha * s_ip
    g[:, 2] = -s * s_lq
    g[:, 3] = -m * beta * s_iq
    if kp:
        da_lo = before[live, 2 : 2 + kp] + (a * from_u0)[:, None] * lay.zp[live]
        g[:, 4 : 4 + kp] = -n[:, None] * (
            da_lo * s_ip[:, None] + lay.zp[live] * (a * s_up)[:, None]
        )
    if kd:
        db_lo = before[live, 2 + kp :] + (b * from_u0)[:, None] * lay.zd[live]
        g[:, 4 + kp :] = lay.zd[live] * s_1[:, None] - m * (
            db_lo * s_iq[:, None] + lay.zd[live] * (b * s_uq)[:, None]
        )
    out = np.zeros((n_c, g.shape[1]))
    for q in range(g.shape[1]):
        out[:, q] = np.bincount(c, weights=g[:, q], minlength=n_c)
    return log_i, out


# --------------------------------------------------------------------------- fitting


class _Engine:
    """Total log-likelihood and gradient in u, the interface of ``_covariates._run``."""

    def __init__(self, lay: _Layout) -> None:
        self.lay = lay
        self.n_evaluations = 0

    def value_grad(self, u: FloatArray, want_grad: bool = True) -> tuple[float, FloatArray]:
        self.n_evaluations += 1
        t = _terms(u, self.lay, want_grad=want_grad)
        total = float(t.loglik.sum())
        if not want_grad:
            return total, np.zeros(0)
        assert t.grad is not None
        return total, np.asarray(t.grad.sum(axis=0), dtype=np.float64)


def _check_varies(lay: _Layout) -> None:
    """Refuse a covariate with one value over every fitted segment (not identified)."""
    used = lay.u1 > lay.u0
    for mat, names, label in ((lay.zp, lay.names_p, "purchase"), (lay.zd, lay.names_d, "dropout")):
        sub = mat[used]
        if sub.shape[0] == 0:
            continue
        flat = np.all(sub == sub[:1], axis=0)
        if flat.any():
            j = int(np.flatnonzero(flat)[0])
            raise InputError(
                f"{label} covariate {names[j]!r} must vary over the customers' periods; it is "
                f"{sub[0, j]:g} throughout, so its coefficient cannot be told apart from the "
                "base parameters; leave it out"
            )


_SAMPLE = 20_000  # customers of the sample whose fit starts a fit on more than twice as many


def _subset(lay: _Layout, idx: IntArray) -> _Layout:
    """Return the layout of the customers ``idx`` (increasing)."""
    keep = np.zeros(lay.x.size, dtype=np.bool_)
    keep[idx] = True
    seg = keep[lay.cust]
    new_id = np.cumsum(keep) - 1
    cust = new_id[lay.cust[seg]]
    counts = np.bincount(cust, minlength=idx.size)
    starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    return _Layout(
        lay.x[idx],
        lay.tx[idx],
        lay.T[idx],
        cust,
        starts,
        lay.u0[seg],
        lay.u1[seg],
        np.ascontiguousarray(lay.zp[seg]),
        np.ascontiguousarray(lay.zd[seg]),
        lay.sum_zp[idx],
        lay.names_p,
        lay.names_d,
    )


def _labels(lay: _Layout) -> tuple[str, ...]:
    return tuple(f"gamma_purchase[{n}]" for n in lay.names_p) + tuple(
        f"gamma_dropout[{n}]" for n in lay.names_d
    )


def fit_time_varying(
    summary: CustomerSummary,
    table: InteractionTable,
    covariates: TimeVaryingCovariates,
    *,
    purchase: Sequence[str] | str | None = None,
    dropout: Sequence[str] | str | None = None,
    initial: Any = None,
) -> ParetoNbdTimeVaryingFit:
    """Fit the Pareto/NBD model with time-varying covariates by maximum likelihood.

    While alive, customer i purchases at rate ``λ_i exp(γ_p·z(t))`` and
    drops out at hazard ``μ_i exp(γ_d·w(t))``, where ``z(t)``, ``w(t)`` are
    the customer's covariates in the period holding t; λ and μ are gamma
    distributed as in the plain model (Bachmann, Meierer & Näf, 2021; the
    likelihood is in the explanation page on covariates).

    Parameters
    ----------
    summary : CustomerSummary
        From :func:`crmcore.summarize`: frequency, recency, T, first purchase
        and observation end (``calibration_end`` when it has one) of each
        customer, in the summary's ``time_unit``. Customers without a
        purchase are left out.
    table : InteractionTable
        The table the summary was made from: it gives the dates of the
        repeat purchases, at which the purchase covariates enter the
        likelihood.
    covariates : TimeVaryingCovariates
        One row per customer and period (:meth:`TimeVaryingCovariates.from_long`),
        covering every period from the one holding a customer's first
        purchase to the one holding the end of observation. Its period grid
        and the summary's time unit must be of one family (hours, days, weeks;
        or months, years).
    purchase, dropout : str or sequence of str, optional
        Names of the covariates that move the purchase rate and the dropout
        rate (a covariate may be in both). At least one is required.
    initial : ParetoNbdParams, optional
        Starting base parameters (default: the plain Pareto/NBD fit).

    Returns
    -------
    ParetoNbdTimeVaryingFit

    Raises
    ------
    InputError
        On covariates that miss a customer or a period, a covariate that
        never varies, no covariate selected, unknown names, or a table that
        does not match the summary.
    InputTypeError
        On arguments of the wrong type.
    ConvergenceError
        When the likelihood has no interior maximum.

    Notes
    -----
    Time runs as in the summary: a customer comes alive at the start of the
    summary period holding the first purchase, and every purchase occasion
    sits at the start of its summary period. That instant decides the
    covariate period of a purchase; periods are half-open (start included),
    so a purchase exactly on a boundary (say Monday 00:00 with weekly
    periods) takes the values of the period starting there.

    References
    ----------
    Bachmann, P., Meierer, M., & Näf, J. (2021). The role of time-varying
    contextual factors in latent attrition models for customer base
    analysis. Marketing Science, 40(4), 783-809.

    Examples
    --------
    >>> import numpy as np
    >>> from crmcore import summarize
    >>> from crmcore.models import pareto_nbd
    >>> from crmcore.simulate import pareto_nbd_time_varying
    >>> sim = pareto_nbd_time_varying(
    ...     0.8, 5.0, 0.7, 12.0, n_customers=800, n_periods=40, start="2024-01-01",
    ...     purchase_coefficients=[0.8], dropout_coefficients=[-0.5], rng=3)
    >>> s = summarize(sim.table, observation_end=sim.observation_end, period="h", time_unit="W")
    >>> f = pareto_nbd.fit_time_varying(s, sim.table, sim.covariates,
    ...                                 purchase=["z0"], dropout=["w0"])
    >>> se = f.purchase_standard_errors[0]
    >>> f.purchase_names, bool(abs(f.purchase_coefficients[0] - 0.8) < 4 * se)
    (('z0',), True)
    >>> pareto_nbd.fit_time_varying(s, sim.table, sim.covariates)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: purchase and dropout must name at least one covariate; got neither
    """
    from crmcore.models import pareto_nbd as pn

    if not isinstance(covariates, TimeVaryingCovariates):
        raise InputTypeError(
            "covariates must be a TimeVaryingCovariates (TimeVaryingCovariates.from_long), got "
            f"{type(covariates).__name__}"
        )
    names = (_select(covariates, purchase, "purchase"), _select(covariates, dropout, "dropout"))
    if not names[0] and not names[1]:
        raise InputError("purchase and dropout must name at least one covariate; got neither")
    lay = _layout(summary, table, covariates, names)
    _check_varies(lay)
    if initial is not None:
        inp.check_params(initial, pn.ParetoNbdParams, "initial")
        start = initial.as_array()
    else:
        plain = inp.prepare_fit_data(lay.x, lay.tx, lay.T, None)
        start = pn._default_initial(plain)
        with cv._quiet(), contextlib.suppress(ConvergenceError):
            start = pn._fit_compressed(plain, start).estimates
    k = len(names[0]) + len(names[1])
    start_u = np.concatenate([np.log(start), np.zeros(k)])
    labels = ("r", "alpha", "s", "beta", *(f"exp({n})" for n in _labels(lay)))
    if lay.x.size > 2 * _SAMPLE:  # start from the fit of a systematic sample
        idx = np.arange(0, lay.x.size, lay.x.size // _SAMPLE)
        sample = _subset(lay, idx)
        with cv._quiet(), contextlib.suppress(ConvergenceError):
            res, _ = cv._run(
                cast(Any, _Engine(sample)), start_u, labels, "Pareto/NBD", float(idx.size)
            )
            start_u = np.log(res.estimates)
    res, cov_u = cv._run(cast(Any, _Engine(lay)), start_u, labels, "Pareto/NBD", float(lay.x.size))
    kp = len(names[0])
    u = np.log(res.estimates)
    se_u = np.sqrt(np.maximum(np.diag(cov_u), 0.0))
    base = ("r", "alpha", "s", "beta")
    return ParetoNbdTimeVaryingFit(
        params=pn.ParetoNbdParams(**dict(zip(base, res.estimates[:4].tolist(), strict=True))),
        standard_errors=pn.ParetoNbdParams(
            **dict(zip(base, res.standard_errors[:4].tolist(), strict=True))
        ),
        purchase_coefficients=v.readonly(u[4 : 4 + kp].copy()),
        purchase_standard_errors=v.readonly(se_u[4 : 4 + kp].copy()),
        purchase_names=names[0],
        dropout_coefficients=v.readonly(u[4 + kp :].copy()),
        dropout_standard_errors=v.readonly(se_u[4 + kp :].copy()),
        dropout_names=names[1],
        covariance=v.readonly(np.array(cov_u, dtype=np.float64)),
        log_likelihood=float(res.log_likelihood),
        n_customers=float(lay.x.size),
        converged=bool(res.converged),
        n_iterations=int(res.n_iterations),
        time_unit=summary.time_unit,
        period=covariates.period,
    )


# --------------------------------------------------------------------------- results


@attrs.frozen(kw_only=True, eq=False, field_transformer=v.copy_array_fields)
class ParetoNbdTimeVaryingFit:
    """A Pareto/NBD model fitted with time-varying covariates (``pareto_nbd.fit_time_varying``).

    While alive, a customer purchases at rate ``λ exp(γ_p·z(t))`` and drops
    out at hazard ``μ exp(γ_d·w(t))``; a positive purchase coefficient means
    more purchases in periods with a larger covariate, a positive dropout
    coefficient earlier dropout. With covariates constant over time the
    coefficients are those of :class:`ParetoNbdCovariateFit`.

    Attributes
    ----------
    params : ParetoNbdParams
        Base parameters: those of a customer whose covariates are all 0.
    standard_errors : ParetoNbdParams
        Their asymptotic standard errors (delta method from the log scale).
    purchase_coefficients, dropout_coefficients : ndarray
        γ_p and γ_d, one per covariate (empty without covariates of that kind).
    purchase_standard_errors, dropout_standard_errors : ndarray
        Their asymptotic standard errors.
    purchase_names, dropout_names : tuple of str
        The covariates' names.
    covariance : ndarray
        Asymptotic covariance (inverse observed information) of log r,
        log α, log s, log β and the coefficients; ``covariance_names`` names
        the rows.
    log_likelihood : float
        Total log-likelihood at the estimates.
    n_customers : float
        Customers the fit used (those with a purchase).
    converged : bool
        False when the fit came with a ConvergenceWarning.
    n_iterations : int
        Optimiser iterations.
    time_unit : {"h", "D", "W", "M", "Y"} or None
        Time unit of the summary the fit was made on.
    period : {"h", "D", "W", "M", "Y"}
        Period grid of the covariates.

    References
    ----------
    Bachmann, P., Meierer, M., & Näf, J. (2021). The role of time-varying
    contextual factors in latent attrition models for customer base
    analysis. Marketing Science, 40(4), 783-809.
    """

    params: Any
    standard_errors: Any
    purchase_coefficients: FloatArray = attrs.field(converter=v.readonly_copy)
    purchase_standard_errors: FloatArray = attrs.field(converter=v.readonly_copy)
    purchase_names: tuple[str, ...] = attrs.field(converter=_as_names)
    dropout_coefficients: FloatArray = attrs.field(converter=v.readonly_copy)
    dropout_standard_errors: FloatArray = attrs.field(converter=v.readonly_copy)
    dropout_names: tuple[str, ...] = attrs.field(converter=_as_names)
    covariance: FloatArray = attrs.field(converter=v.readonly_copy)
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int
    time_unit: str | None = _units.unit_field()
    period: str = "W"

    @property
    def covariance_names(self) -> tuple[str, ...]:
        """Names of the rows and columns of ``covariance``."""
        return (
            "log_r",
            "log_alpha",
            "log_s",
            "log_beta",
            *(f"purchase:{n}" for n in self.purchase_names),
            *(f"dropout:{n}" for n in self.dropout_names),
        )

    def _u(self) -> FloatArray:
        return np.concatenate(
            [np.log(self.params.as_array()), self.purchase_coefficients, self.dropout_coefficients]
        )

    def _prepare(
        self,
        summary: CustomerSummary,
        table: InteractionTable | None,
        covariates: TimeVaryingCovariates,
    ) -> _Layout:
        if not isinstance(summary, CustomerSummary):
            raise InputTypeError(f"summary must be a CustomerSummary, got {type(summary).__name__}")
        if not isinstance(covariates, TimeVaryingCovariates):
            raise InputTypeError(
                f"covariates must be a TimeVaryingCovariates, got {type(covariates).__name__}"
            )
        if summary.time_unit != self.time_unit:
            raise InputError(
                f"summary must be in the fit's time unit {self.time_unit!r}; got "
                f"{summary.time_unit!r} (summarize again with time_unit={self.time_unit!r})"
            )
        if covariates.period != self.period:
            raise InputError(
                f"covariates must be on the fit's period grid {self.period!r}; got "
                f"{covariates.period!r}"
            )
        has = np.asarray(summary.has_purchase, dtype=np.bool_)
        if not has.all():
            i = int(np.flatnonzero(~has)[0])
            raise InputError(
                "summary must hold only customers with a purchase (the model starts at the "
                f"first purchase); {int((~has).sum())} rows have none (first at row {i}); "
                "use summary.select(summary.has_purchase)"
            )
        for selected in (self.purchase_names, self.dropout_names):
            _select(covariates, selected, "covariates.names")
        names = (self.purchase_names, self.dropout_names)
        if table is None:
            return _layout(summary, None, covariates, names)
        return _layout(summary, table, covariates, names)

    def log_likelihood_per_customer(
        self,
        summary: CustomerSummary,
        table: InteractionTable,
        covariates: TimeVaryingCovariates,
    ) -> FloatArray:
        """Return each customer's log-likelihood at the fitted parameters.

        Parameters
        ----------
        summary, table, covariates
            As in :func:`fit_time_varying`; every summary row must have a
            purchase.

        Returns
        -------
        ndarray
            One value per summary row.

        Raises
        ------
        InputError
            As :func:`fit_time_varying`, on a summary row without a purchase,
            and when the summary's time unit or the covariates' grid are not
            the fit's.
        """
        lay = self._prepare(summary, table, covariates)
        return v.readonly(_terms(self._u(), lay, want_grad=False).loglik)

    def probability_alive(
        self, summary: CustomerSummary, covariates: TimeVaryingCovariates
    ) -> FloatArray:
        """Probability that each customer is alive at the end of observation.

        ``P = A1 / (A1 + s I)`` with the two terms of the likelihood (see
        :func:`fit_time_varying`): alive through T against dropout between
        the last purchase and T.

        Parameters
        ----------
        summary : CustomerSummary
            Customers with a purchase, in the fit's time unit.
        covariates : TimeVaryingCovariates
            Their covariates from the first purchase to observation_end.

        Returns
        -------
        ndarray
            One probability per summary row.

        Raises
        ------
        InputError
            As :meth:`log_likelihood_per_customer`.
        """
        lay = self._prepare(summary, None, covariates)
        return v.readonly(np.exp(_terms(self._u(), lay, want_grad=False).log_alive))

    def conditional_expected_purchases(
        self, t: float, summary: CustomerSummary, covariates: TimeVaryingCovariates
    ) -> FloatArray:
        """Return the expected purchases in (T, T + t] given each history and future covariates.

        Given alive at T, λ and μ have gamma posteriors with shapes r + x and
        s and rates α + A(T) and β + B(T); so

            E = P(alive) (r+x)/(α+A(T)) ∫_T^{T+t} e^{γ_p·z(τ)}
                ((β+B(T)) / (β+B(τ)))^s dτ,

        computed exactly on each period of the horizon.

        Parameters
        ----------
        t : float
            Horizon (>= 0) in the fit's time unit, from observation_end.
        summary : CustomerSummary
            Customers with a purchase, in the fit's time unit.
        covariates : TimeVaryingCovariates
            Rows from each customer's first purchase through the period holding
            observation_end + t: the future values are the covariates'
            planned or assumed path.

        Returns
        -------
        ndarray
            One expectation per summary row.

        Raises
        ------
        InputError
            As :meth:`probability_alive`, on a negative or infinite ``t``, and
            when the covariates stop before the end of the horizon.
        """
        horizon = v.check_float(t, "t", low=0.0)
        if not np.isfinite(horizon):
            raise InputError(f"t must be finite, got {horizon}")
        lay = self._prepare(summary, None, covariates)
        u = self._u()
        terms = _terms(u, lay, want_grad=False)
        alive = np.exp(terms.log_alive)
        kp = len(self.purchase_names)
        r, alpha, s, beta = np.exp(u[:4])
        end = _end_instant(summary)
        unit = summary.time_unit
        has = np.asarray(summary.has_purchase, dtype=np.bool_)
        ids = summary.customer_ids[has]
        k_lo = int(period_index(end, covariates.period))
        if horizon == 0.0:
            return v.readonly(np.zeros(ids.size))
        if unit in _NS_PER:
            stop = end + np.timedelta64(round(horizon * _NS_PER[unit]), "ns")
        else:
            months = horizon * _MONTHS_PER[unit]
            whole = int(np.floor(months))
            stop = (end.astype("datetime64[M]") + np.timedelta64(whole, "M")).astype(end.dtype)
        k_hi = int(period_index(stop, covariates.period))
        ks = np.arange(k_lo, k_hi + 1)
        origin = np.full(ks.size, end)
        c0 = np.clip(_coords(period_start(ks, covariates.period), origin, unit), 0.0, horizon)
        c1 = np.clip(_coords(period_start(ks + 1, covariates.period), origin, unit), 0.0, horizon)
        row0, lo, hi = _customer_rows(covariates, ids)
        _check_cover(
            np.full(ids.size, k_lo),
            np.full(ids.size, k_hi if c1[-1] > c0[-1] else k_hi - 1),
            (lo, hi),
            ids,
            covariates.period,
            "of the forecast horizon (after observation_end)",
        )
        keep = c1 > c0
        ks, c0, c1 = ks[keep], c0[keep], c1[keep]
        rows = row0[:, None] + (ks[None, :] - lo[:, None])
        cp = [covariates.names.index(n) for n in self.purchase_names]
        cd = [covariates.names.index(n) for n in self.dropout_names]
        vals = covariates.values[rows]  # (customers, periods, covariates)
        with np.errstate(all="ignore"):
            a = np.exp(vals[:, :, cp] @ u[4 : 4 + kp]) if cp else np.ones(rows.shape)
            b = np.exp(vals[:, :, cd] @ u[4 + kp :]) if cd else np.ones(rows.shape)
            dur = (c1 - c0)[None, :]
            bd = b * dur
            before = np.cumsum(bd, axis=1) - bd
            g = (beta + terms.b_t)[:, None]
            y0 = np.log1p(before / g)
            y1 = np.log1p((before + bd) / g)
            dy = y1 - y0
            piece = (g / b) * np.exp((1.0 - s) * y0) * dy * sc.exprel((1.0 - s) * dy)
            out = alive * (r + lay.x) / (alpha + terms.a_t) * (a * piece).sum(axis=1)
        return v.readonly(np.asarray(out, dtype=np.float64))

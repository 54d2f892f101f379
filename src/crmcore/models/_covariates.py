"""Time-invariant covariates of the BG/NBD, MBG/NBD and Pareto/NBD models.

Each customer i has a row ``z_i`` of purchase covariates and a row ``w_i``
of dropout covariates (either may be absent). They move the customer's
parameters, in the parameterisation of CLVTools (Meierer et al.) so that
coefficients compare one to one:

* Pareto/NBD: ``α_i = α exp(-γ_p·z_i)``, ``β_i = β exp(-γ_d·w_i)``;
* BG/NBD and MBG/NBD: ``α_i = α exp(-γ_p·z_i)``,
  ``a_i = a exp(γ_d·w_i)``, ``b_i = b exp(γ_d·w_i)``.

``r`` (and ``s``) are shared by all customers. Since the mean purchase rate
is ``r / α_i``, a positive purchase coefficient means *more* purchases;
a positive Pareto/NBD dropout coefficient means a higher mean dropout rate
``s / β_i`` (shorter lifetimes). In BG/NBD and MBG/NBD the dropout
coefficient scales a and b together, which leaves the mean dropout
probability ``a / (a + b)`` unchanged and makes the distribution of p more
concentrated around it as γ_d·w_i grows (CLVTools' choice, followed here).
The likelihood of customer i is that of the plain model at the customer's
parameters, so with all covariates 0 the fit is the plain model's.

The fit runs through the shared driver (:mod:`crmcore.models._mle`), which
optimises log-parameters: the coefficients are passed to it as
``exp(γ)``, so that its log scale is the coefficients themselves. Its
covariance, on that scale (log r, log α, log a, log b, γ_p, γ_d; Pareto/NBD
log r, log α, log s, log β, γ_p, γ_d), is the covariance these fit results
hold.

References
----------
Fader, P. S., & Hardie, B. G. S. (2007). Incorporating time-invariant
covariates into the Pareto/NBD and BG/NBD models.
http://brucehardie.com/notes/019/

Meierer, P., Näf, J., Bachmann, P., & Asenova, E. (2023). CLVTools: customer
lifetime value tools (R package), "Static covariates" in its documentation.
https://www.clvtools.com/
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import attrs
import numpy as np
from scipy import special as sc

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray, IntArray, SeedLike
from crmcore.errors import ConvergenceError, ConvergenceWarning, InputError, InputTypeError
from crmcore.models import _hyp2f1, _mle, _units
from crmcore.models import _inputs as inp
from crmcore.models._draws import ParameterDraws
from crmcore.models._mle import MleResult, maximize_likelihood
from crmcore.summary import CustomerSummary

__all__ = [
    "BgNbdCovariateFit",
    "Covariates",
    "MbgNbdCovariateFit",
    "ParetoNbdCovariateFit",
    "covariate_matrix",
    "fit_bgnbd",
    "fit_mbgnbd",
    "fit_pareto",
]

#: A covariate matrix (customers x k) or a mapping name -> column.
Covariates = ArrayLike | Mapping[str, ArrayLike]

_SAMPLE_ROWS = 50_000  # size of the sample that gives the start, above twice as many customers
_PARETO_SHARE = 0.4  # Pareto/NBD samples fewer (its customers cost ~50 times more)


# --------------------------------------------------------------------------- inputs


def covariate_matrix(value: object, name: str, n_rows: int) -> tuple[FloatArray, tuple[str, ...]]:
    """Return the covariates as a float (n_rows, k) array and their names.

    ``value`` is a 2-d array (one row per customer; names ``z0``, ``z1``,
    ...), a 1-d array (one covariate) or a mapping name -> column.

    Examples
    --------
    >>> m, names = covariate_matrix({"age": [1.0, 2.0], "vip": [0, 1]}, "purchase_covariates", 2)
    >>> m.tolist(), names
    ([[1.0, 0.0], [2.0, 1.0]], ('age', 'vip'))
    >>> covariate_matrix([[1.0], [2.0]], "dropout_covariates", 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: dropout_covariates must have one row per customer (3, as the ...)
    """
    if isinstance(value, Mapping):
        if len(value) == 0:
            raise InputError(f"{name} must name at least one covariate; got an empty mapping")
        names = []
        cols = []
        for key, col in value.items():
            if not isinstance(key, str):
                raise InputTypeError(
                    f"{name} must map covariate names (str) to columns; got key {key!r}"
                )
            arr = v.as_float_array(col, f"{name}[{key!r}]", allow_empty=True)
            if arr.size != n_rows:
                raise InputError(
                    f"{name}[{key!r}] must have one value per customer ({n_rows}, as the "
                    f"histories in frequency or the summary); got {arr.size}"
                )
            names.append(key)
            cols.append(arr)
        return v.readonly(np.stack(cols, axis=1)), tuple(names)
    arr = v.as_ndarray(value, name)  # type: ignore[arg-type]
    if arr.ndim == 1:
        mat = v.as_float_array(arr, name, allow_empty=True).reshape(-1, 1)
    elif arr.ndim == 2:
        if arr.dtype.kind in "biuf":  # name the row and the column of a value that is not finite
            with np.errstate(all="ignore"):
                bad = ~np.isfinite(arr.astype(np.float64))
            if bad.any():
                i, j = (int(q) for q in np.argwhere(bad)[0])
                raise InputError(
                    f"{name} must be finite (no NaN or infinity); {int(bad.sum())} of {bad.size} "
                    f"values break this (first at row {i}, column {j}: {float(arr[i, j])})"
                )
        mat = v.as_float_array(arr, name, ndim=2, allow_empty=True)
    else:
        raise InputError(
            f"{name} must be 2-dimensional (customers x covariates), got shape {arr.shape}"
        )
    if mat.shape[0] != n_rows:
        raise InputError(
            f"{name} must have one row per customer ({n_rows}, as the histories in frequency "
            f"or the summary); got shape {mat.shape}"
        )
    if mat.shape[1] == 0:
        raise InputError(f"{name} must have at least one column; got shape {mat.shape}")
    return v.readonly(np.array(mat, dtype=np.float64)), tuple(f"z{j}" for j in range(mat.shape[1]))


def _matrix_for(
    value: object, name: str, n_rows: int, expected: tuple[str, ...]
) -> FloatArray | None:
    """Covariates of a prediction, checked against the fit's names (None when it has none)."""
    kind = name.split("_", maxsplit=1)[0]
    if not expected:
        if value is not None:
            raise InputError(f"{name} must be left out: the fit has no {kind} covariates")
        return None
    if value is None:
        raise InputError(
            f"{name} is missing: the fit has {len(expected)} {kind} covariates "
            f"({', '.join(expected)}); pass one row per customer"
        )
    mat, names = covariate_matrix(value, name, n_rows)
    if isinstance(value, Mapping):
        if set(names) != set(expected):
            missing = [n for n in expected if n not in names]
            extra = [n for n in names if n not in expected]
            raise InputError(
                f"{name} must name the fit's covariates ({', '.join(expected)}); "
                f"missing {missing}, unknown {extra}"
            )
        mat = mat[:, [names.index(n) for n in expected]]
    elif mat.shape[1] != len(expected):
        raise InputError(
            f"{name} must have {len(expected)} columns ({', '.join(expected)}); "
            f"got shape {mat.shape}"
        )
    return mat


class _Data(NamedTuple):
    x: FloatArray
    tx: FloatArray
    T: FloatArray
    w: FloatArray
    zp: FloatArray  # (n, kp), kp may be 0
    zd: FloatArray
    names_p: tuple[str, ...]
    names_d: tuple[str, ...]


def _fit_data(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
    *,
    weights: ArrayLike | None,
    covariates: tuple[object, object],
) -> _Data:
    """Return validated histories and covariates (customers with purchases, positive weight)."""
    h = inp.histories(frequency, recency, T)
    n = h.x.size
    keep = np.ones(n, dtype=np.bool_)
    if isinstance(frequency, CustomerSummary):
        keep = np.asarray(frequency.has_purchase, dtype=np.bool_)
    w = np.ones(n)
    if weights is not None:
        w = v.as_float_array(weights, "weights", allow_empty=True, nonnegative=True)
        if w.size != n:
            raise InputError(f"weights must have one value per customer ({n}), got {w.size}")
    keep = keep & (w > 0)
    mats = []
    names: list[tuple[str, ...]] = []
    for value, name in zip(covariates, ("purchase_covariates", "dropout_covariates"), strict=True):
        if value is None:
            mats.append(np.zeros((n, 0)))
            names.append(())
        else:
            m, nm = covariate_matrix(value, name, n)
            _check_varies(m[keep], nm, name)
            mats.append(m)
            names.append(nm)
    if not keep.any():
        raise InputError(
            "frequency must describe at least one customer (with positive weight); got none"
        )
    sel = np.flatnonzero(keep) if not keep.all() else slice(None)
    return _Data(
        h.x[sel],
        h.tx[sel],
        h.T[sel],
        w[sel],
        np.ascontiguousarray(mats[0][sel]),
        np.ascontiguousarray(mats[1][sel]),
        names[0],
        names[1],
    )


def _check_varies(mat: FloatArray, names: tuple[str, ...], name: str) -> None:
    """Refuse a covariate that is constant over the fitted customers (not identified)."""
    if mat.shape[0] == 0:
        return
    flat = np.all(mat == mat[:1], axis=0)
    if flat.any():
        j = int(np.flatnonzero(flat)[0])
        raise InputError(
            f"{name} column {names[j]!r} must vary across the customers of the fit; it is "
            f"{mat[0, j]:g} for all {mat.shape[0]}, so its coefficient cannot be told apart "
            "from the base parameters (all zero: it has no effect at all); leave it out"
        )


def _dot_rows(mat: FloatArray, coef: FloatArray) -> FloatArray:
    """``mat @ coef`` for a (n, k) matrix without BLAS (0 for k = 0)."""
    if mat.shape[1] == 0:
        return np.zeros(mat.shape[0])
    return np.asarray(np.einsum("ij,j->i", mat, coef), dtype=np.float64)


def _dot_cols(mat: FloatArray, vec: FloatArray) -> FloatArray:
    """``mat.T @ vec`` without BLAS."""
    return np.asarray(np.einsum("ij,i->j", mat, vec), dtype=np.float64)


# --------------------------------------------------------------------------- BG/NBD numerics
# Customer i: L_i = B(a_i, b_i+x')/B(a_i, b_i) G_i(α_i+T)
#                  + 1{x'>0} B(a_i+1, b_i+x'-1)/B(a_i, b_i) G_i(α_i+t_x),
# G_i(y) = Γ(r+x) α_i^r / (Γ(r) y^(r+x)), x' = x + shift (shift 1: MBG/NBD).


def _bg_log_odds(
    r: float,
    la: FloatArray,
    la_ab: tuple[FloatArray, FloatArray],
    hist: tuple[FloatArray, FloatArray, FloatArray],
    shift: int,
) -> FloatArray:
    """Return log(second term / first term) = log(P(dead) / P(alive)); -inf where x' = 0."""
    x, tx, big_t = hist
    l_a, l_b = la_ab
    xs = x + shift
    with np.errstate(all="ignore"):
        alpha = np.exp(la)
        # log(b_i + x' - 1), exact log b_i at x' = 1 (b_i may be tiny)
        lbm1 = np.where(xs == 1, l_b, np.log(np.exp(l_b) + np.maximum(xs - 1.0, 0.0)))
        d = l_a - lbm1 + (r + x) * np.log1p((big_t - tx) / (alpha + tx))
    return np.asarray(np.where(xs > 0, d, -np.inf), dtype=np.float64)


_SMALL_RISE = 4  # x' up to which Γ(y+x')/Γ(y) is a finite product


_BIG_Y = 1e3  # y from which the differences come from Stirling's series


def _rising(y: Any, xs: FloatArray, want_grad: bool) -> tuple[Any, Any]:
    """Return log Γ(y+x')/Γ(y) and ψ(y+x') - ψ(y) by the special functions.

    For y >= _BIG_Y (a or b scaled up by a covariate) the differences of
    log-gamma and digamma values would cancel to a few digits; there they are
    Stirling's series written as differences:
    ``x' log(y+x') + (y - 1/2) log1p(x'/y) - x' + Δ[1/(12 u) - 1/(360 u^3)]`` and
    ``log1p(x'/y) - Δ[1/(2u) + 1/(12 u^2)]`` + O(y^-5) (Δ: u = y+x' minus u = y).
    """
    y = np.asarray(y, dtype=np.float64) * np.ones(np.shape(xs))
    lg = np.empty(y.shape)
    psi = np.empty(y.shape) if want_grad else None
    big = y >= _BIG_Y
    if big.any():
        yb, nb = y[big], xs[big]
        up = yb + nb
        l1p = np.log1p(nb / yb)
        lg[big] = (
            nb * np.log(up)
            + (yb - 0.5) * l1p
            - nb
            + (1.0 / (12.0 * up) - 1.0 / (12.0 * yb))
            - (1.0 / (360.0 * up**3) - 1.0 / (360.0 * yb**3))
        )
        if psi is not None:
            psi[big] = (
                l1p
                - (1.0 / (2.0 * up) - 1.0 / (2.0 * yb))
                - (1.0 / (12.0 * up**2) - 1.0 / (12.0 * yb**2))
            )
    rest = ~big
    if rest.any():
        yr, nr = y[rest], xs[rest]
        lg[rest] = sc.gammaln(yr + nr) - sc.gammaln(yr)
        if psi is not None:
            psi[rest] = sc.digamma(yr + nr) - sc.digamma(yr)
    return lg, psi


class _BgCustomers:
    """Per-customer BG/NBD (MBG/NBD) log-likelihood and gradient, set up once per data set.

    Called with the per-customer inputs ``v = (log r, log α_i, log a_i,
    log b_i)`` (each a number or one value per customer); returns log L_i and
    d log L_i / dv (shape (4, n)). Terms that depend only on x are computed
    once per distinct x; the dropout terms only for the customers with
    x' = x + shift > 0 (the others' likelihood has one term), and per
    distinct x' when a and b are the same for everybody.
    """

    def __init__(self, x: FloatArray, tx: FloatArray, big_t: FloatArray, shift: int) -> None:
        self.n = x.size
        self.x, self.T = x, big_t
        self.xu, self.xidx = np.unique(x, return_inverse=True)
        self.xidx = self.xidx.reshape(-1)
        xs = x + shift
        self.pos = np.flatnonzero(xs > 0)
        self.all_pos = self.pos.size == self.n
        self.xs = xs[self.pos]
        self.xs_u, self.xs_idx = np.unique(self.xs, return_inverse=True)
        self.xs_idx = self.xs_idx.reshape(-1)
        self.x_pos = x[self.pos]
        self.tx_pos = tx[self.pos]
        self.gap_num = (big_t - tx)[self.pos]
        self.small = np.flatnonzero(self.xs <= _SMALL_RISE)
        self.big = np.flatnonzero(self.xs > _SMALL_RISE)
        xs_small = self.xs[self.small]
        self.small_masks = [(xs_small > j).astype(np.float64) for j in range(1, _SMALL_RISE)]

    def _sub(self, value: Any) -> Any:
        if np.ndim(value) == 0 or self.all_pos:
            return value
        return value[self.pos]

    def __call__(
        self, v: tuple[Any, Any, Any, Any], want_grad: bool
    ) -> tuple[FloatArray, FloatArray]:
        lr, la, l_a, l_b = v
        r = float(np.exp(lr))
        x, pos = self.x, self.pos
        with np.errstate(all="ignore"):
            la = la * np.ones(self.n) if np.ndim(la) == 0 else la
            alpha = np.exp(la)
            l_t = np.log(alpha + self.T)
            ll = (sc.gammaln(r + self.xu) - sc.gammaln(r))[self.xidx] + r * la - (r + x) * l_t
            # dropout terms of the customers with x' > 0
            alpha_p = alpha[pos] if not self.all_pos else alpha
            x_p = self.x_pos
            gap = np.log1p(self.gap_num / (alpha_p + self.tx_pos))
            dropout = self._dropout_terms(self._sub(l_a), self._sub(l_b), want_grad)
            d = dropout[0] + (r + x_p) * gap  # log-odds of the second term
            e = np.exp(-np.abs(d))
            ll[pos] += dropout[1] + np.maximum(d, 0.0) + np.log1p(e)
            if not want_grad:
                return np.asarray(ll, dtype=np.float64), np.zeros((4, 0))
            omega = np.where(d > 0, 1.0, e) / (1.0 + e)  # expit(d)
            grad = np.empty((4, self.n))
            dg = (sc.digamma(r + self.xu) - sc.digamma(r))[self.xidx]
            grad[0] = r * (dg + la - l_t)
            share_t = np.exp(la - l_t)  # α/(α+T)
            grad[1] = r - (r + x) * share_t
            grad[2] = 0.0
            grad[3] = 0.0
            share_tx = alpha_p / (alpha_p + self.tx_pos)
            st_p = share_t[pos] if not self.all_pos else share_t
            grad[0, pos] += r * omega * gap
            grad[1, pos] += omega * (r + x_p) * (st_p - share_tx)
            _, _, g_a, g_b, b_over = dropout
            grad[2, pos] = g_a + omega
            grad[3, pos] = g_b - omega * b_over
        return np.asarray(ll, dtype=np.float64), grad

    def _rising(self, y: FloatArray, xs: FloatArray, want_grad: bool) -> tuple[Any, Any]:
        """Return log Γ(y+x')/Γ(y) and ψ(y+x') - ψ(y) per customer with x' > 0.

        For x' <= _SMALL_RISE they are the log of the finite product
        y (y+1) ... (y+x'-1) and the sum of 1/(y+j): a few multiplications
        instead of four special functions, and exact where the differences of
        log-gamma and digamma values cancel (y huge).
        """
        lg = np.empty(xs.size)
        psi = np.empty(xs.size) if want_grad else None
        small, big = self.small, self.big
        if small.size:
            ys = y[small]
            prod = ys.copy()
            acc = 1.0 / ys if want_grad else None
            for j, mask in enumerate(self.small_masks, start=1):
                term = ys + float(j)
                prod *= 1.0 + mask * (term - 1.0)
                if acc is not None:
                    acc += mask / term
            lg[small] = np.log(prod)
            if psi is not None:
                psi[small] = acc
        if big.size:
            lg_big, psi_big = _rising(y[big], xs[big], want_grad)
            lg[big] = lg_big
            if psi is not None:
                psi[big] = psi_big
        return lg, psi

    def _dropout_terms(self, l_a: Any, l_b: Any, want_grad: bool) -> tuple[Any, ...]:
        """Return (log a - log(b+x'-1), log B(a, b+x') - log B(a, b), and the gradient parts).

        For scalar a, b (no dropout covariates) everything is computed per
        distinct x' and gathered.
        """
        scalar = np.ndim(l_a) == 0 and np.ndim(l_b) == 0
        xs = self.xs_u if scalar else self.xs
        a = np.exp(l_a)
        b = np.exp(l_b)
        ab = a + b
        bm1 = b + (xs - 1.0)  # b exactly at x' = 1
        log_odds0 = l_a - np.where(xs == 1, l_b, np.log(bm1))
        rise = _rising if scalar else self._rising
        lg_b, psi_b = rise(b, xs, want_grad)
        lg_ab, psi_ab = rise(ab, xs, want_grad)
        beta_ratio = lg_b - lg_ab
        if want_grad:
            g_a = -a * psi_ab
            g_b = b * (psi_b - psi_ab)
            b_over = np.where(xs == 1, 1.0, b / bm1)
        else:
            g_a = g_b = b_over = np.zeros(0)
        parts = (log_odds0, beta_ratio, g_a, g_b, b_over)
        if scalar:
            idx = self.xs_idx
            return tuple(np.asarray(q)[idx] if np.size(q) else q for q in parts)
        return parts


def _bg_customer_logs(
    u: FloatArray, data: _Data
) -> tuple[float, FloatArray, tuple[FloatArray, FloatArray]]:
    """(r, log α_i, (log a_i, log b_i)) at the optimiser's point u."""
    kp = data.zp.shape[1]
    r = float(np.exp(u[0]))
    la = u[1] - _dot_rows(data.zp, u[4 : 4 + kp])
    eta_d = _dot_rows(data.zd, u[4 + kp :])
    return r, la, (u[2] + eta_d, u[3] + eta_d)


# --------------------------------------------------------------------------- Pareto/NBD numerics
# L_i = Γ(r+x) α_i^r β_i^s / Γ(r) [A1 + s I],  A1 = (α_i+T)^-(r+x) (β_i+T)^-s,
# I = E(x, t_x) - E(x, T),  E(x, τ) = (p+τ)^-a (q+τ)^-(b-1) H(z) / c  (see _hyp2f1).


class _ParetoTerms(NamedTuple):
    loglik: FloatArray
    log_alive: FloatArray  # log A1 - log(A1 + s I)
    grad: FloatArray | None  # (4, n): d log L_i / d (r, log α_i, s, log β_i)


def _log_e(
    r: float,
    s: float,
    ab: tuple[FloatArray, FloatArray],
    x: FloatArray,
    tau: FloatArray,
    *,
    want_grad: bool,
) -> tuple[FloatArray, FloatArray | None]:
    """Log E(x, τ) per customer (NaN where the engine leaves it to the quadrature).

    Returns the gradient in (r, α_i, s, β_i) too. Customers are grouped by x
    and by which of α_i, β_i is larger, so that each group has one (a, b) for
    :func:`_hyp2f1.log_h_block`.
    """
    alpha, beta = ab
    n = x.size
    first = alpha >= beta
    p = np.where(first, alpha, beta)
    q = np.where(first, beta, alpha)
    a = np.where(first, r + x, s + 1.0)
    b = np.where(first, s + 1.0, r + x)
    z = (p - q) / (p + tau)
    y = (q + tau) / (p + tau)
    hv = np.full((4, n), np.nan)
    key = x * 2.0 + first
    order = np.argsort(key, kind="stable")
    sk = key[order]
    cuts = np.flatnonzero(sk[1:] != sk[:-1]) + 1
    bounds = [0, *cuts.tolist(), n]
    for lo, hi in itertools.pairwise(bounds):
        if hi <= lo:
            continue
        idx = order[lo:hi]
        i0 = int(idx[0])
        buf = np.full((4, hi - lo), np.nan)
        _hyp2f1.log_h_block(float(a[i0]), float(b[i0]), z[idx], y[idx], buf)
        hv[:, idx] = buf
    c = r + s + x
    lpt = np.log(p + tau)
    lqt = np.log(q + tau)
    log_e = -a * lpt - (b - 1.0) * lqt + hv[0] - np.log(c)
    if not want_grad:
        return log_e, None
    inv_c = 1.0 / c
    ipt = 1.0 / (p + tau)
    e_a = hv[1] - lpt - inv_c
    e_b = hv[2] - lqt - inv_c
    e_p = hv[3] * (q + tau) * ipt * ipt - a * ipt
    e_q = -(b - 1.0) / (q + tau) - hv[3] * ipt
    grad = np.where(first, np.stack([e_a, e_p, e_b, e_q]), np.stack([e_b, e_q, e_a, e_p]))
    return log_e, grad


def _x_rank(x: FloatArray) -> IntArray:
    """Rank of each customer's x among the distinct x (the groups of :func:`_pareto_terms`)."""
    return np.asarray(np.unique(x, return_inverse=True)[1].reshape(-1), dtype=np.int64)


def _pareto_terms(
    r: float,
    s: float,
    la: FloatArray,
    lb: FloatArray,
    hist: tuple[FloatArray, FloatArray, FloatArray],
    *,
    want_grad: bool,
    x_rank: IntArray | None = None,
) -> _ParetoTerms:
    """Per-customer Pareto/NBD log-likelihood, log P(alive) and gradient.

    The customers are put in the order of the groups of :func:`_hyp2f1.log_h_block`
    (one (a, b) each: x and whether α_i >= β_i; ``x_rank`` from :func:`_x_rank`
    saves finding the distinct x again), which evaluates H at t_x and at T of a
    group in one call, with its coefficients computed once.
    """
    x, tx, big_t = hist
    n = x.size
    la = np.asarray(la, dtype=np.float64) * np.ones(n)
    lb = np.asarray(lb, dtype=np.float64) * np.ones(n)
    if x_rank is None:
        x_rank = _x_rank(x)
    with np.errstate(all="ignore"):
        first = np.exp(la) >= np.exp(lb)
    n_keys = 2 * (int(x_rank.max()) + 1) if n else 0
    key = 2 * x_rank + first
    # small integer keys sort by radix (linear time)
    key = key.astype(np.int16 if n_keys < 2**15 else np.int64)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    cuts = np.flatnonzero(sk[1:] != sk[:-1]) + 1
    bounds = [0, *cuts.tolist(), n]
    sorted_hist = (x[order], tx[order], big_t[order])
    ll, log_alive, grad = _pareto_sorted(
        r, s, (la[order], lb[order]), sorted_hist, first[order], bounds, want_grad
    )
    out_ll = np.empty(n)
    out_ll[order] = ll
    out_alive = np.empty(n)
    out_alive[order] = log_alive
    out_grad = None
    if grad is not None:
        out_grad = np.empty((4, n))
        out_grad[:, order] = grad
    return _ParetoTerms(out_ll, out_alive, out_grad)


def _pareto_sorted(  # noqa: PLR0917 - one pass of formulas, private
    r: float,
    s: float,
    lab: tuple[FloatArray, FloatArray],
    hist: tuple[FloatArray, FloatArray, FloatArray],
    first: Any,
    bounds: list[int],
    want_grad: bool,
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """:func:`_pareto_terms` on customers sorted into groups of one (x, α_i >= β_i)."""
    la, lb = lab
    x, tx, big_t = hist
    n = x.size
    with np.errstate(all="ignore"):
        alpha = np.exp(la)
        beta = np.exp(lb)
        p = np.maximum(alpha, beta)
        q = np.minimum(alpha, beta)
        rx = r + x
        a = np.where(first, rx, s + 1.0)
        b = np.where(first, s + 1.0, rx)
        gap = p - q
        # H at tau = t_x (hv1) and tau = T (hv2), z = (p-q)/(p+tau), y = 1 - z
        pt1, qt1 = p + tx, q + tx
        pt2, qt2 = p + big_t, q + big_t
        hv1 = np.empty((4, n))
        hv2 = np.empty((4, n))
        for lo, hi in itertools.pairwise(bounds):
            if hi <= lo:
                continue
            m = hi - lo
            zz = np.empty(2 * m)
            yy = np.empty(2 * m)
            np.divide(gap[lo:hi], pt1[lo:hi], out=zz[:m])
            np.divide(gap[lo:hi], pt2[lo:hi], out=zz[m:])
            np.divide(qt1[lo:hi], pt1[lo:hi], out=yy[:m])
            np.divide(qt2[lo:hi], pt2[lo:hi], out=yy[m:])
            buf = np.full((4, 2 * m), np.nan)  # NaN: left to the quadrature
            _hyp2f1.log_h_block(float(a[lo]), float(b[lo]), zz, yy, buf)
            hv1[:, lo:hi] = buf[:, :m]
            hv2[:, lo:hi] = buf[:, m:]
        lc = np.log(r + s + x)
        lpt1, lqt1 = np.log(pt1), np.log(qt1)
        lpt2, lqt2 = np.log(pt2), np.log(qt2)
        bm1 = b - 1.0
        le1 = hv1[0] - a * lpt1 - bm1 * lqt1 - lc
        le2 = hv2[0] - a * lpt2 - bm1 * lqt2 - lc
        lat = np.log(alpha + big_t)
        lbt = np.log(beta + big_t)
        log_a1 = -rx * lat - s * lbt
        same = tx == big_t
        ls = np.log(s)
        # log(s I) = log s + log E1 + log(1 - E2/E1)
        diff = np.where(same, -np.inf, le2 - le1)
        log_si = ls + le1 + np.log(-np.expm1(np.minimum(diff, 0.0)))
        hard = ~same & (np.isnan(le1) | np.isnan(le2) | ~(diff < 0))
        gi = None
        idx = np.flatnonzero(hard)
        if idx.size:
            li, gi = _integral_each(r, s, alpha[idx], beta[idx], (x[idx], tx[idx], big_t[idx]))
            log_si[idx] = ls + li
        log_si[same] = -np.inf
        log_rest = np.logaddexp(log_a1, log_si)
        log_alive = np.minimum(log_a1 - log_rest, 0.0)
        ll = sc.gammaln(rx) - sc.gammaln(r) + r * la + s * lb + log_rest
        if not want_grad:
            return ll, log_alive, None
        share_a1 = np.exp(log_alive)  # A1 / (A1 + s I)
        share_i = np.where(same, 0.0, 1.0 - share_a1)
        # d log(sI) = (E1 g1 - E2 g2) / (E1 - E2), E2/E1 = exp(diff); g in (a, b, p, q)
        ratio = np.exp(np.minimum(diff, 0.0))
        denom = 1.0 - ratio
        inv = np.where(denom > 0, 1.0 / denom, 1.0)
        ratio *= inv  # E2 / (E1 - E2)
        inv_c = 1.0 / (r + s + x)
        d_a = (hv1[1] - lpt1 - inv_c) * inv - (hv2[1] - lpt2 - inv_c) * ratio
        d_b = (hv1[2] - lqt1 - inv_c) * inv - (hv2[2] - lqt2 - inv_c) * ratio
        d_p = (hv1[3] * qt1 / pt1**2 - a / pt1) * inv - (hv2[3] * qt2 / pt2**2 - a / pt2) * ratio
        d_q = (-bm1 / qt1 - hv1[3] / pt1) * inv - (-bm1 / qt2 - hv2[3] / pt2) * ratio
        grad = np.empty((4, n))
        g_r, g_al, g_s, g_be = grad
        np.copyto(g_r, np.where(first, d_a, d_b))
        np.copyto(g_al, np.where(first, d_p, d_q))
        np.copyto(g_s, np.where(first, d_b, d_a))
        np.copyto(g_be, np.where(first, d_q, d_p))
        if gi is not None:
            grad[:, idx] = gi
        g_s += 1.0 / s
        grad[:, same] = 0.0
        grad *= share_i
        # A1 part, and the terms outside the bracket
        g_r += sc.digamma(rx) - sc.digamma(r) + la - share_a1 * lat
        g_al += r / alpha - share_a1 * rx / (alpha + big_t)
        g_s += lb - share_a1 * lbt
        g_be += s / beta - share_a1 * s / (beta + big_t)
        # to log α_i, log β_i
        g_al *= alpha
        g_be *= beta
    return ll, log_alive, grad


def _integral_each(
    r: float,
    s: float,
    alpha: FloatArray,
    beta: FloatArray,
    hist: tuple[FloatArray, FloatArray, FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """Return log I and its gradient in (r, α_i, s, β_i) by quadrature, for the rare hard rows.

    The tanh-sinh quadrature of :func:`_hyp2f1.log_integral` with one
    (α_i, β_i) per row, vectorised over rows a thousand at a time: over
    v = log(q + τ), q = min(α_i, β_i), on pieces cut where p + τ starts to
    grow like q + τ and where the factor (p+τ)^-a starts to fall, so that
    every piece has its steep part at an end. Intervals so short that the
    integrand changes by less than 1e-7 across them use the midpoint rule.
    """
    x, tx, big_t = hist
    log_i = np.empty(x.size)
    grad = np.empty((4, x.size))
    for s0 in range(0, x.size, 1024):
        sl = slice(s0, s0 + 1024)
        log_i[sl], grad[:, sl] = _integral_rows(
            r, s, alpha[sl], beta[sl], (x[sl], tx[sl], big_t[sl])
        )
    return log_i, grad


def _integral_rows(
    r: float,
    s: float,
    alpha: FloatArray,
    beta: FloatArray,
    hist: tuple[FloatArray, FloatArray, FloatArray],
) -> tuple[FloatArray, FloatArray]:
    x, tx, big_t = hist
    first = alpha >= beta
    p = np.where(first, alpha, beta)
    q = np.where(first, beta, alpha)
    a = np.where(first, r + x, s + 1.0)
    b = np.where(first, s + 1.0, r + x)
    width = big_t - tx
    short = width * (a / (p + tx) + b / (q + tx)) < 1e-7
    # midpoint rule (all rows, kept where short)
    mid = tx + 0.5 * width
    lpm, lqm = np.log(p + mid), np.log(q + mid)
    log_i = np.log(width) - a * lpm - b * lqm
    g_a, g_b = -lpm, -lqm
    g_p, g_q = -a / (p + mid), -b / (q + mid)
    long = np.flatnonzero(~short)
    if long.size:
        k = long
        log_d = np.log(p[k] - q[k])
        v0 = np.log(q[k] + tx[k])
        v1 = np.log(q[k] + big_t[k])
        vb = np.clip(log_d, v0, v1)
        vc = np.clip(log_d - np.log(np.maximum(a[k], 1.0)), v0, v1)
        knots = np.stack([v0, vc, vb, v1], axis=1)
        nodes, weights = _hyp2f1._tanh_sinh(knots[:, :-1], knots[:, 1:])
        lp = np.logaddexp(log_d[:, None, None], nodes)  # log(p + τ)
        a3 = a[k][:, None, None]
        b3 = b[k][:, None, None]
        phi = (1.0 - b3) * nodes - a3 * lp
        phi = np.where(weights > 0, phi, -np.inf)
        top = phi.max(axis=(1, 2))
        f = weights * np.exp(phi - top[:, None, None])
        total = f.sum(axis=(1, 2))
        log_i[k] = top + np.log(total)
        f /= total[:, None, None]
        g_a[k] = -(f * lp).sum(axis=(1, 2))
        g_b[k] = -(f * nodes).sum(axis=(1, 2))
        g_p[k] = -a[k] * (f * np.exp(-lp)).sum(axis=(1, 2))
        g_q[k] = -b[k] * (f * np.exp(-nodes)).sum(axis=(1, 2))
    grad = np.where(first, np.stack([g_a, g_p, g_b, g_q]), np.stack([g_b, g_q, g_a, g_p]))
    return log_i, grad


def _pareto_customer_logs(
    u: FloatArray, data: _Data
) -> tuple[float, float, FloatArray, FloatArray]:
    kp = data.zp.shape[1]
    r = float(np.exp(u[0]))
    s = float(np.exp(u[2]))
    la = u[1] - _dot_rows(data.zp, u[4 : 4 + kp])
    lb = u[3] - _dot_rows(data.zd, u[4 + kp :])
    return r, s, la, lb


class _ParetoCustomers:
    """Per-customer Pareto/NBD log-likelihood and gradient in (log r, log α_i, log s, log β_i)."""

    def __init__(self, x: FloatArray, tx: FloatArray, big_t: FloatArray) -> None:
        self.hist = (x, tx, big_t)
        self.n = x.size
        self.x_rank = _x_rank(x)

    def __call__(
        self, v: tuple[Any, Any, Any, Any], want_grad: bool
    ) -> tuple[FloatArray, FloatArray]:
        lr, la, ls, lb = v
        r = float(np.exp(lr))
        s = float(np.exp(ls))
        ones = np.ones(self.n)
        t = _pareto_terms(
            r, s, la * ones, lb * ones, self.hist, want_grad=want_grad, x_rank=self.x_rank
        )
        if not want_grad:
            return t.loglik, np.zeros((4, 0))
        assert t.grad is not None
        grad = t.grad
        grad[0] *= r
        grad[2] *= s
        return t.loglik, grad


# --------------------------------------------------------------------------- fitting
#
# The optimiser's point is u = (4 log base parameters, gamma_p, gamma_d). Each
# customer's likelihood depends on u through four inputs v_i that are linear in
# u: v_i = J_i u with J_i made of unit rows and +-z_i, +-w_i. So the gradient is
# sum_i J_i' g_i and the Hessian sum_i J_i' H_i J_i, with g_i, H_i the derivatives
# of log L_i in its four inputs: the Hessian costs eight evaluations of the
# per-customer gradient (central differences in v), whatever the number of
# covariates.

_H_STEP = 1e-5  # central-difference step in the per-customer inputs
_H_FORWARD = 1e-6  # forward-difference step


class _Piece(NamedTuple):
    offset: int  # first index in u
    matrix: FloatArray | None  # None: a unit column
    sign: float


class _Engine:
    """Total log-likelihood, gradient and Hessian in u for one model and data set."""

    def __init__(self, data: _Data, model: str, shift: int = 0) -> None:
        kp, kd = data.zp.shape[1], data.zd.shape[1]
        purchase = (_Piece(4, data.zp, -1.0),) if kp else ()
        if model == "pareto":
            dropout = (_Piece(4 + kp, data.zd, -1.0),) if kd else ()
            extra: tuple[tuple[_Piece, ...], ...] = ((), purchase, (), dropout)
            self.customers: Any = _ParetoCustomers(data.x, data.tx, data.T)
        else:
            dropout = (_Piece(4 + kp, data.zd, 1.0),) if kd else ()
            extra = ((), purchase, dropout, dropout)
            self.customers = _BgCustomers(data.x, data.tx, data.T, shift)
        self.pieces = tuple((_Piece(p, None, 1.0), *extra[p]) for p in range(4))
        self.w = data.w
        self.size = 4 + kp + kd
        self.n_evaluations = 0
        self._last: tuple[FloatArray, FloatArray] | None = None  # u and per-customer gradient

    def inputs(self, u: FloatArray) -> list[Any]:
        """Return the four per-customer inputs at u (each Z @ gamma computed once)."""
        eta: dict[int, FloatArray] = {}
        out: list[Any] = []
        for p in range(4):
            value: Any = float(u[p])
            for piece in self.pieces[p][1:]:
                assert piece.matrix is not None
                if piece.offset not in eta:
                    k = piece.matrix.shape[1]
                    eta[piece.offset] = _dot_rows(piece.matrix, u[piece.offset : piece.offset + k])
                value = value + piece.sign * eta[piece.offset]
            out.append(value)
        return out

    def value_grad(self, u: FloatArray, want_grad: bool = True) -> tuple[float, FloatArray]:
        self.n_evaluations += 1
        ll, gv = self.customers(tuple(self.inputs(u)), want_grad)
        self._last = (u.copy(), gv) if want_grad else None
        total = float(np.einsum("i,i->", self.w, ll))
        if not want_grad:
            return total, np.zeros(0)
        g = np.zeros(self.size)
        weighted: dict[int, tuple[FloatArray, FloatArray]] = {}  # offset -> (matrix, sum)
        for p in range(4):
            wg = self.w * gv[p]
            g[p] += float(wg.sum())
            for piece in self.pieces[p][1:]:
                assert piece.matrix is not None
                prev = weighted.get(piece.offset)
                add = piece.sign * wg
                weighted[piece.offset] = (piece.matrix, add if prev is None else prev[1] + add)
        for offset, (matrix, vec) in weighted.items():
            g[offset : offset + matrix.shape[1]] += _dot_cols(matrix, vec)
        return total, g

    def hessian(self, u: FloatArray, *, central: bool = True) -> FloatArray:
        """Return the Hessian of the total log-likelihood in u (per-customer differences).

        Central differences in the four per-customer inputs (eight
        evaluations of the per-customer gradient), or forward differences
        from the gradient of the last evaluation at ``u`` (four; relative
        error about 1e-6, ample for standard errors). The weights of each pair
        of pieces (unit column or covariate matrix) are summed over the pairs
        of inputs first, so that every block of the result is one weighted
        cross-product.
        """
        v = self.inputs(u)
        h_i = np.empty((4, 4, self.customers.n))
        base = None
        if not central:
            if self._last is not None and np.array_equal(self._last[0], u):
                base = self._last[1]
            else:
                self.n_evaluations += 1
                base = self.customers(tuple(v), True)[1]
        for q in range(4):
            up = list(v)
            down = list(v)
            step = _H_STEP if central else _H_FORWARD
            up[q] = v[q] + step
            down[q] = v[q] - step
            self.n_evaluations += 1 if base is not None else 2
            _, g_up = self.customers(tuple(up), True)
            if base is not None:
                h_i[:, q] = (g_up - base) / step
            else:
                _, g_down = self.customers(tuple(down), True)
                h_i[:, q] = (g_up - g_down) / (2.0 * step)
        # A holds the pairs p < q once and half of the pairs p = q: the Hessian is A + A'.
        weights: dict[tuple[int, int], tuple[_Piece, _Piece, FloatArray]] = {}
        for p in range(4):
            for q in range(p, 4):
                c = h_i[p, q] + h_i[q, p]  # twice the symmetrised entry
                c *= self.w * (0.25 if p == q else 0.5)
                for a in self.pieces[p]:
                    for b in self.pieces[q]:
                        key = (a.offset, b.offset)
                        prev = weights.get(key)
                        if prev is None:
                            weights[key] = (a, b, c * (a.sign * b.sign))
                        elif a.sign * b.sign > 0:
                            prev[2].__iadd__(c)
                        else:
                            prev[2].__isub__(c)
        out = np.zeros((self.size, self.size))
        for a, b, c in weights.values():
            _add_block(out, _Piece(a.offset, a.matrix, 1.0), _Piece(b.offset, b.matrix, 1.0), c)
        return out + out.T


def _add_block(out: FloatArray, a: _Piece, b: _Piece, c: FloatArray) -> None:
    """Add sign_a sign_b sum_i c_i J_a,i' J_b,i to ``out`` (a, b: pieces of two inputs)."""
    sign = a.sign * b.sign
    ia = slice(a.offset, a.offset + (1 if a.matrix is None else a.matrix.shape[1]))
    ib = slice(b.offset, b.offset + (1 if b.matrix is None else b.matrix.shape[1]))
    if a.matrix is None and b.matrix is None:
        out[ia, ib] += sign * float(c.sum())
    elif a.matrix is None:
        assert b.matrix is not None
        out[ia, ib] += sign * _dot_cols(b.matrix, c)[None, :]
    elif b.matrix is None:
        out[ia, ib] += sign * _dot_cols(a.matrix, c)[:, None]
    else:
        out[ia, ib] += sign * np.einsum("ij,ik->jk", a.matrix * c[:, None], b.matrix)


def _run(
    engine: _Engine,
    start_u: FloatArray,
    names: tuple[str, ...],
    model: str,
    n_customers: float,
) -> tuple[MleResult, FloatArray]:
    """Maximise over u through the shared driver (theta = exp(u)); return (result, cov of u)."""

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        u = np.log(theta)
        value, g = engine.value_grad(u)
        return value, g / theta

    res = maximize_likelihood(
        objective, np.exp(start_u), names=names, model=model, n_customers=n_customers
    )
    theta = res.estimates
    cov_u = res.covariance / np.outer(theta, theta)
    return res, 0.5 * (cov_u + cov_u.T)


_SE_TOL = 1e-4  # Newton steps stop when the step left is this many standard errors long
_SE_EXACT = 0.05  # within this many standard errors the exact Hessian takes over ...
_HESS_DRIFT = 2e-5  # ... and within 2e-5 sqrt(n) (its relative change over the rest ~ 2e-5)
_SAMPLE_SE_TOL = 0.05  # the sample's optimum only starts the fit on all customers


def _newton_step(hess: FloatArray, grad: FloatArray) -> tuple[FloatArray, float] | None:
    """Return the Newton step and its length in standard errors; None where -hess is not definite.

    The length is ``sqrt(g' (-H)^-1 g)``: the distance to the maximum of the
    quadratic model, measured with the covariance ``(-H)^-1`` of the estimates.
    """
    try:
        chol = np.linalg.cholesky(-hess)
    except np.linalg.LinAlgError:
        return None
    half = np.linalg.solve(chol, grad)  # L^-1 g
    step = np.linalg.solve(chol.T, half)  # (L L')^-1 g
    return np.asarray(step, dtype=np.float64), float(np.sqrt(half @ half))


def _newton(
    engine: _Engine,
    start_u: FloatArray,
    approx: FloatArray,
    names: tuple[str, ...],
    model: str,
    *,
    tol: float = _SE_TOL,
    refresh: bool = True,
) -> tuple[MleResult, FloatArray] | None:
    """Newton steps on all of the engine's customers from a nearby start; None when they stall.

    ``approx`` is a Hessian near the start (a sample's, scaled to all
    customers): the first steps use it, refined after each step by the BFGS
    update (one gradient evaluation per step). Within ``d`` standard errors of
    the maximum (or after 8 steps) the exact Hessian from per-customer
    differences takes over: its steps converge quadratically, and it is the
    Hessian of the result. ``d`` is :data:`_SE_EXACT`, or ``_HESS_DRIFT *
    sqrt(n)`` for n customers when smaller: the Hessian of the total changes by
    about ``d / sqrt(n)`` of itself over ``d`` standard errors, so that the
    result's Hessian is within a few 1e-5 of the one at the maximum (it is
    computed again at the end when the steps moved by more than ``d`` after it,
    and ``refresh`` is true). The steps stop when the next one would be shorter
    than ``tol`` standard errors. The result passes the shared driver's checks
    (boundary, concavity, identification).
    """
    near = min(_SE_EXACT, _HESS_DRIFT * float(np.sqrt(engine.w.sum())))
    u = start_u.copy()
    value, g = engine.value_grad(u)
    hess = approx
    exact_at: FloatArray | None = None
    steps = 0
    for _ in range(60):
        newton = _newton_step(hess, g)
        is_exact = exact_at is not None and np.array_equal(exact_at, u)
        if newton is None or (exact_at is None and (newton[1] <= near or steps >= 8)):
            if is_exact:
                return None  # not concave here
            hess, exact_at = engine.hessian(u, central=False), u.copy()
            continue
        direction, length = newton
        if exact_at is not None and length <= tol:
            break
        steps += 1
        lam = 1.0
        for _ in range(30):
            trial = u + lam * direction
            t_value, t_grad = engine.value_grad(trial)
            noise = 1e-12 * (1.0 + abs(value))
            if np.isfinite(t_value) and (
                t_value >= value + 1e-4 * lam * float(g @ direction)
                or (t_value >= value - noise and np.max(np.abs(t_grad)) < np.max(np.abs(g)))
            ):
                break
            lam *= 0.5
        else:
            if is_exact:
                return None
            hess, exact_at = engine.hessian(u, central=False), u.copy()  # at u: _last is u's
            continue
        if exact_at is None:
            # the driver's BFGS update works on -H and the gradient of -log L
            hess = -_mle._secant_update(-hess, trial - u, g - t_grad)
        u, value, g = trial, t_value, t_grad
    else:
        return None
    assert exact_at is not None
    moved = u - exact_at
    if refresh and float(moved @ (-hess) @ moved) > near**2:
        hess = engine.hessian(u, central=False)
    res = _result(
        u, value, g, hess, names=names, model=model, steps=steps, n_evaluations=engine.n_evaluations
    )
    return res, np.asarray(np.linalg.inv(-hess), dtype=np.float64)


def _result(
    u: FloatArray,
    value: float,
    grad: FloatArray,
    hess: FloatArray,
    *,
    names: tuple[str, ...],
    model: str,
    steps: int,
    n_evaluations: int,
) -> MleResult:
    """Build the driver's result from the optimum in u, with the driver's own checks."""
    _mle._check_boundary(model, names, u, _mle.DEFAULT_LIMIT_HINT)
    try:
        np.linalg.cholesky(-hess)
    except np.linalg.LinAlgError:
        raise ConvergenceError(
            f"{model}: the log-likelihood is flat or not concave at the optimum "
            f"{_mle._show(names, np.exp(u))}: the data do not identify every parameter "
            "(a covariate that barely varies, or two that move together?), so there are no "
            "standard errors; try fewer covariates or more data"
        ) from None
    theta = np.exp(u)
    cov_u = np.linalg.inv(-hess)
    cov_u = 0.5 * (cov_u + cov_u.T)
    converged = _mle._check_identified(model, names, theta, cov_u, _mle.DEFAULT_LIMIT_HINT)
    grad_nat = grad / theta
    hess_nat = (hess - np.diag(grad)) / np.outer(theta, theta)
    cov = cov_u * np.outer(theta, theta)
    return MleResult(
        names=names,
        estimates=theta,
        log_likelihood=value,
        gradient=grad_nat,
        hessian=0.5 * (hess_nat + hess_nat.T),
        covariance=0.5 * (cov + cov.T),
        standard_errors=np.sqrt(np.diag(cov)),
        converged=converged,
        n_iterations=steps,
        n_evaluations=n_evaluations,
    )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence ConvergenceWarning of a starting-point fit (the final fit reports its own)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _sample(data: _Data, size: int) -> _Data:
    """Every k-th customer, weights scaled up to the same total."""
    step = max(1, data.x.size // size)
    w = data.w[::step]
    scale = float(data.w.sum()) / float(w.sum())
    return _Data(
        data.x[::step],
        data.tx[::step],
        data.T[::step],
        w * scale,
        np.ascontiguousarray(data.zp[::step]),
        np.ascontiguousarray(data.zd[::step]),
        data.names_p,
        data.names_d,
    )


def _sample_rows(model: str) -> int:
    """Return the size of the starting sample of a model (the threshold is twice that)."""
    return int(_SAMPLE_ROWS * _PARETO_SHARE) if model == "Pareto/NBD" else _SAMPLE_ROWS


def _fit_u(
    data: _Data,
    make: Any,
    base_start: FloatArray,
    names: tuple[str, ...],
    model: str,
) -> tuple[MleResult, FloatArray]:
    """Fit from the plain model's estimates and zero coefficients.

    Up to twice :func:`_sample_rows` customers, the shared driver fits all of them.
    Beyond, Newton steps fit a systematic sample (:func:`_fit_sample`), and
    Newton steps on all customers finish from there (see :func:`_newton`): a
    handful of evaluations on the full data instead of dozens.
    """
    k = data.zp.shape[1] + data.zd.shape[1]
    start = np.concatenate([np.log(base_start), np.zeros(k)])
    labels = names[:4] + tuple(f"exp({n})" for n in names[4:])
    rows = _sample_rows(model)
    if data.x.size > 2 * rows:
        sample = _sample(data, rows)
        fitted = None
        # the sample may be too thin (ConvergenceError): the full data decide
        with _quiet(), contextlib.suppress(ConvergenceError):
            fitted = _fit_sample(make(sample), start, labels, model)
        if fitted is not None:
            res, cov_s = fitted
            approx = np.asarray(-np.linalg.inv(cov_s), dtype=np.float64) * (
                float(data.w.sum()) / float(sample.w.sum())
            )
            done = _newton(make(data), np.log(res.estimates), approx, labels, model)
            if done is not None:
                return done
            start = np.log(res.estimates)
    return _run(make(data), start, labels, model, float(data.w.sum()))


def _fit_sample(
    engine: _Engine, start: FloatArray, labels: tuple[str, ...], model: str
) -> tuple[MleResult, FloatArray]:
    """Fit a sample: Newton steps from the start's exact Hessian, else the shared driver."""
    done = None
    hess = engine.hessian(start, central=False)
    if np.all(np.isfinite(hess)):
        done = _newton(engine, start, hess, labels, model, tol=_SAMPLE_SE_TOL, refresh=False)
    if done is None:
        done = _run(engine, start, labels, model, float(engine.w.sum()))
    return done


# --------------------------------------------------------------------------- results


def _customer_inputs(
    fit: Any,
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
    covariates: tuple[object, object],
) -> tuple[inp.Histories, _Data]:
    """Return the validated histories and covariates of a prediction (every summary row)."""
    freq, _ = _units.in_fit_unit(fit.time_unit, frequency)
    h = inp.histories(freq, recency, T)
    n = h.x.size
    zp = _matrix_for(covariates[0], "purchase_covariates", n, fit.purchase_names)
    zd = _matrix_for(covariates[1], "dropout_covariates", n, fit.dropout_names)
    for mat, coef, name in (
        (zp, fit.purchase_coefficients, "purchase_covariates"),
        (zd, fit.dropout_coefficients, "dropout_covariates"),
    ):
        if mat is not None:
            _check_effect(mat, coef, name)
    data = _Data(
        h.x,
        h.tx,
        h.T,
        np.ones(n),
        np.zeros((n, 0)) if zp is None else np.ascontiguousarray(zp),
        np.zeros((n, 0)) if zd is None else np.ascontiguousarray(zd),
        fit.purchase_names,
        fit.dropout_names,
    )
    return h, data


#: Largest |gamma . z| a prediction accepts: a covariate that moves a parameter by more
#: than a factor e^50 (about 5e21) is a data error, not a customer.
MAX_EFFECT = 50.0


def _check_effect(mat: FloatArray, coef: FloatArray, name: str) -> None:
    """Refuse covariates whose effect on a parameter exceeds a factor e^MAX_EFFECT."""
    with np.errstate(all="ignore"):
        eta = _dot_rows(mat, coef)
    bad = ~(np.abs(eta) <= MAX_EFFECT)
    if bad.any():
        raise InputError(
            f"{name} times the fit's coefficients must stay within +-{MAX_EFFECT:g} (a factor "
            f"e^{MAX_EFFECT:g} on a parameter); "
            + v.describe_violations(bad, (f"{name} @ coefficients", eta))
            + "; check the covariates' units (standardise them before fitting)"
        )


def _alive_from_log_odds(d: FloatArray) -> FloatArray:
    """1 / (1 + e^d), the stable logistic."""
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(d))
        return np.asarray(np.where(d > 0, e, 1.0) / (1.0 + e), dtype=np.float64)


def _bg_predict(fit: Any, what: str, t: FloatArray | None, data: _Data) -> FloatArray:
    """P(alive), P(purchase in (T, T+t]) or E[purchases in (T, T+t]] per customer (BG, MBG)."""
    from crmcore.models.bgnbd import _expected_until_dropout

    shift = fit._SHIFT
    if what == "loglik":
        engine = _Engine(data, "bg", shift)
        return engine.customers(tuple(engine.inputs(_u_of(fit))), False)[0]  # type: ignore[no-any-return]
    hist = (data.x, data.tx, data.T)
    r, la, lab = _bg_customer_logs(_u_of(fit), data)
    d = _bg_log_odds(r, la, lab, hist, shift)
    alive = _alive_from_log_odds(d)
    if what == "alive":
        return alive
    assert t is not None
    x, big_t = data.x, data.T
    with np.errstate(all="ignore"):
        alpha = np.exp(la)
        if what == "buy":
            log_alive = -np.logaddexp(0.0, d)
            log_buy = np.log(-np.expm1(-(r + x) * np.log1p(t / (alpha + big_t))))
            return np.asarray(np.minimum(np.exp(log_alive + log_buy), alive), dtype=np.float64)
        a = np.exp(lab[0]) * np.ones(x.size)
        b = np.exp(lab[1]) * np.ones(x.size)
        h = _expected_until_dropout(r + x, a, b + x + shift, np.asarray(t / (alpha + big_t)))
    return np.asarray(alive * h, dtype=np.float64)


def _pareto_predict(fit: Any, what: str, t: FloatArray | None, data: _Data) -> FloatArray:
    """P(alive), P(purchase in (T, T+t]) or E[purchases in (T, T+t]] per customer (Pareto/NBD)."""
    from crmcore.models import pareto_nbd as pn

    x, tx, big_t = data.x, data.tx, data.T
    if x.size == 0:
        return np.zeros(0)
    if what == "loglik":
        engine = _Engine(data, "pareto")
        return engine.customers(tuple(engine.inputs(_u_of(fit))), False)[0]  # type: ignore[no-any-return]
    r, s, la, lb = _pareto_customer_logs(_u_of(fit), data)
    log_alive = _pareto_terms(r, s, la, lb, (x, tx, big_t), want_grad=False).log_alive
    alive = np.exp(log_alive)
    if what == "alive":
        return np.asarray(alive, dtype=np.float64)
    assert t is not None
    with np.errstate(all="ignore"):
        alpha = np.exp(la) * np.ones(x.size)
        beta = np.exp(lb) * np.ones(x.size)
        if what == "expected":
            b_t = beta + big_t
            u = np.log1p(t / b_t)
            out = alive * (r + x) / (alpha + big_t) * b_t * u * sc.exprel(-(s - 1.0) * u)
            return np.asarray(out, dtype=np.float64)
        out = np.zeros(x.size)
        for s0 in range(0, x.size, 1024):  # rows x pieces x nodes, a thousand rows at a time
            sl = slice(s0, s0 + 1024)
            n = (r + x[sl])[:, None, None]
            a_t = (alpha[sl] + big_t[sl])[:, None, None]
            b_t3 = (beta[sl] + big_t[sl])[:, None, None]
            sigma = 1.0 / ((n + 1.0) / a_t + s / b_t3)
            pieces = np.concatenate([[0.0], 8.0 ** np.arange(pn._N_PIECES)])
            edges = np.minimum(sigma[..., 0] * pieces[None, :], t[sl, None])
            lo, hi = edges[:, :-1, None], edges[:, 1:, None]
            uu = lo + (hi - lo) * pn._GL_SHARE
            log_f = np.log(n / a_t) - (n + 1.0) * np.log1p(uu / a_t) - s * np.log1p(uu / b_t3)
            total = ((hi - lo)[..., 0] / 2.0 * (np.exp(log_f) @ pn._GL_WEIGHTS)).sum(axis=1)
            log_buy = np.log(np.minimum(total, 1.0))
            out[sl] = np.minimum(np.exp(log_alive[sl] + log_buy), alive[sl])
    return out


def new_customer_expectation(  # noqa: PLR0917 - private, the tracking passes its cells
    fit: Any,
    u: FloatArray,
    eta_p: FloatArray,
    eta_d: FloatArray,
    group: IntArray,
    t: FloatArray,
) -> FloatArray:
    """E[X(t)] of new customers at their own parameters, one value per cell.

    ``u`` is the optimiser's vector of ``fit`` (only its first four entries,
    the logs of the base parameters, are read); ``eta_p`` and ``eta_d`` hold
    ``γ_p·z`` and ``γ_d·w`` per group of customers; cell c is a customer of
    group ``group[c]`` at time ``t[c]`` (> 0) after its first purchase. The
    per-group parameters are those of the module notes, and the expectation
    is the plain model's (BG/NBD and MBG/NBD: ``B(a_i, b_i+s)/B(a_i, b_i) H``
    with H of :func:`crmcore.models.bgnbd._expected_until_dropout`; Pareto/NBD:
    ``(r/α_i) β_i u exprel(-(s-1) u)``, ``u = log(1 + t/β_i)``).
    """
    with np.errstate(all="ignore"):
        if isinstance(fit, ParetoNbdCovariateFit):
            r, s = float(np.exp(u[0])), float(np.exp(u[2]))
            alpha = np.exp(u[1] - eta_p)[group]
            beta = np.exp(u[3] - eta_d)[group]
            lu = np.log1p(t / beta)
            out = r / alpha * beta * lu * sc.exprel(-(s - 1.0) * lu)
            return np.asarray(out, dtype=np.float64)
        from crmcore.models.bgnbd import _expected_until_dropout

        shift = fit._SHIFT
        r = float(np.exp(u[0]))
        alpha_g = np.exp(u[1] - eta_p)
        a_g = np.exp(u[2] + eta_d)
        b_g = np.exp(u[3] + eta_d)
        factor_g = np.exp(sc.betaln(a_g, b_g + shift) - sc.betaln(a_g, b_g))
        h = _expected_until_dropout(
            np.full(t.shape, r), a_g[group], (b_g + shift)[group], t / alpha_g[group]
        )
        return np.asarray(factor_g[group] * h, dtype=np.float64)


class _PredictAdapter:
    """The three methods :func:`_predict.run` needs, bound to the customers' covariates."""

    def __init__(self, fit: Any, covariates: tuple[object, object]) -> None:
        self.fit = fit
        self.covariates = covariates

    def probability_alive(self, summary: CustomerSummary) -> FloatArray:
        return self.fit._predict("alive", None, summary, None, None, self.covariates)  # type: ignore[no-any-return]

    def conditional_expected_purchases(self, t: float, summary: CustomerSummary) -> FloatArray:
        return self.fit._predict("expected", t, summary, None, None, self.covariates)  # type: ignore[no-any-return]

    def conditional_purchase_probability(self, t: float, summary: CustomerSummary) -> FloatArray:
        return self.fit._predict("buy", t, summary, None, None, self.covariates)  # type: ignore[no-any-return]


class _CovariateMethods:
    """Prediction methods shared by the covariate fits."""

    time_unit: str | None
    purchase_names: tuple[str, ...]
    dropout_names: tuple[str, ...]

    def _predict(  # noqa: PLR0917 - private, called with the public methods' arguments
        self,
        what: str,
        t: ArrayLike | None,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None,
        T: ArrayLike | None,
        covariates: tuple[object, object],
    ) -> Any:
        horizon = what in {"expected", "buy"}
        if horizon:
            t, frequency = _units.convert(self.time_unit, t, frequency)
        h, data = _customer_inputs(self, frequency, recency, T, covariates)
        tt = np.asarray(inp.horizon(t, h.x.size), dtype=np.float64) if horizon else None
        engine = _pareto_predict if isinstance(self, ParetoNbdCovariateFit) else _bg_predict
        return inp.finish(engine(self, what, tt, data), h.single)

    def probability_alive(
        self,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> Any:
        """Probability that each customer is active at T, at the customer's parameters.

        Parameters
        ----------
        frequency, recency, T : array-like, or a CustomerSummary as ``frequency``
            Histories (x, t_x, T); with a summary every row is used.
        purchase_covariates, dropout_covariates : array-like or mapping, optional
            One row per customer, the columns of the fit (by name for a
            mapping); required when the fit has them.

        Returns
        -------
        float or ndarray
            One value per customer, as the plain model's ``probability_alive``.

        Raises
        ------
        InputError
            On invalid histories, and when a covariate matrix the fit needs is
            missing, has the wrong shape, names other covariates, or holds a
            value that is not finite.
        """
        return self._predict(
            "alive", None, frequency, recency, T, (purchase_covariates, dropout_covariates)
        )

    def conditional_expected_purchases(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> Any:
        """Return the expected purchases in (T, T + t] of each customer, at its parameters.

        Parameters
        ----------
        t : float or array-like
            Length of the forecast period (>= 0), one number or one per customer.
        frequency, recency, T, purchase_covariates, dropout_covariates
            As in :meth:`probability_alive`.

        Returns
        -------
        float or ndarray

        Raises
        ------
        InputError
            As :meth:`probability_alive`, and on a negative ``t``.
        """
        return self._predict(
            "expected", t, frequency, recency, T, (purchase_covariates, dropout_covariates)
        )

    def conditional_purchase_probability(
        self,
        t: ArrayLike,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> Any:
        """Probability of at least one purchase in (T, T + t], at the customer's parameters.

        Parameters
        ----------
        t : float or array-like
            Length of the forecast period (>= 0), one number or one per customer.
        frequency, recency, T, purchase_covariates, dropout_covariates
            As in :meth:`probability_alive`.

        Returns
        -------
        float or ndarray
            Values in [0, P(alive)].

        Raises
        ------
        InputError
            As :meth:`probability_alive`, and on a negative ``t``.
        """
        return self._predict(
            "buy", t, frequency, recency, T, (purchase_covariates, dropout_covariates)
        )

    def log_likelihood_per_customer(
        self,
        frequency: ArrayLike | CustomerSummary,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
    ) -> Any:
        """Return log L_i of each customer's history at the customer's own parameters.

        Parameters
        ----------
        frequency, recency, T, purchase_covariates, dropout_covariates
            As in :meth:`probability_alive`.

        Returns
        -------
        float or ndarray
            The plain model's log-likelihood at the customer's parameters
            (rows of a summary without purchase: 0).

        Raises
        ------
        InputError
            As :meth:`probability_alive`.
        """
        return self._predict(
            "loglik", None, frequency, recency, T, (purchase_covariates, dropout_covariates)
        )

    def predict(
        self,
        summary: CustomerSummary,
        t: float,
        *,
        purchase_covariates: Covariates | None = None,
        dropout_covariates: Covariates | None = None,
        spend_fit: Any = None,
        spend_covariates: Covariates | None = None,
    ) -> Any:
        """Return P(alive), expected purchases and P(purchase) over ``t`` as one table.

        Parameters
        ----------
        summary : CustomerSummary
        t : float
            Forecast horizon (>= 0), in the summary's time unit.
        purchase_covariates, dropout_covariates : array-like or mapping, optional
            One row per summary row (see :meth:`probability_alive`).
        spend_fit : GammaGammaFit or GammaGammaCovariateFit, optional
            Adds the expected spend per transaction.
        spend_covariates : array-like or mapping, optional
            One row per summary row, for a Gamma-Gamma covariate fit.

        Returns
        -------
        CustomerPrediction
            Per-customer columns (``columns()`` makes a data frame).

        Raises
        ------
        InputError
            As :meth:`probability_alive`.
        InputTypeError
            When ``summary`` is not a CustomerSummary.
        """
        from crmcore.models import _predict

        adapter = _PredictAdapter(self, (purchase_covariates, dropout_covariates))
        return _predict.run(
            adapter, summary, t, spend_fit=spend_fit, spend_covariates=spend_covariates
        )

    def sample_params(self, n_draws: int, *, rng: SeedLike) -> ParameterDraws:
        """Draw parameter sets from the asymptotic normal of the estimates.

        On the optimiser's scale, as ``covariance``: ``u ~ N(u_hat,
        covariance)`` with u the logs of the base parameters and the
        coefficients as they are; the draws are ``exp`` of the first block and
        the coefficients unchanged (as the plain fits' ``sample_params``).

        Parameters
        ----------
        n_draws : int
            Number of parameter sets (1 to 1,000,000).
        rng : int or numpy.random.Generator
            Seed or generator; the same seed gives the same draws.

        Returns
        -------
        ParameterDraws
            Columns: the base parameters, then the coefficients named as in
            ``covariance_names`` (``purchase:<name>``, ``dropout:<name>``).

        Raises
        ------
        InputError
            On ``n_draws`` out of range, a negative seed, or a covariance that
            is not finite, symmetric positive semi-definite.

        Examples
        --------
        >>> import numpy as np
        >>> from crmcore.models import bgnbd
        >>> from crmcore.simulate import bgnbd_histories
        >>> z = np.random.default_rng(0).normal(size=(2000, 1))
        >>> h = bgnbd_histories(0.25, 4.0, 0.8, 2.5, T=52.0, rng=1,
        ...                     purchase_covariates=z, purchase_coefficients=[0.5])
        >>> f = bgnbd.fit(h.frequency, h.recency, h.T, purchase_covariates={"z": z[:, 0]})
        >>> d = f.sample_params(100, rng=0)
        >>> d.names
        ('r', 'alpha', 'a', 'b', 'purchase:z')
        >>> f.sample_params(0, rng=0)
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: n_draws must be >= 1, got 0
        """
        from crmcore.models import _draws

        fit: Any = self
        return _draws.sample_covariate_params(
            fit.params,
            np.concatenate([fit.purchase_coefficients, fit.dropout_coefficients]),
            fit.covariance_names[len(fit._BASE) :],
            fit.covariance,
            n_draws,
            rng,
        )


def _common_fields(
    res: MleResult, cov_u: FloatArray, data: _Data, params_type: Any, base: tuple[str, ...]
) -> dict[str, Any]:
    kp = len(data.names_p)
    u = np.log(res.estimates)
    se_u = np.sqrt(np.maximum(np.diag(cov_u), 0.0))
    return {
        "params": params_type(**dict(zip(base, res.estimates[:4].tolist(), strict=True))),
        "standard_errors": params_type(
            **dict(zip(base, res.standard_errors[:4].tolist(), strict=True))
        ),
        "purchase_coefficients": v.readonly(u[4 : 4 + kp].copy()),
        "purchase_standard_errors": v.readonly(se_u[4 : 4 + kp].copy()),
        "purchase_names": data.names_p,
        "dropout_coefficients": v.readonly(u[4 + kp :].copy()),
        "dropout_standard_errors": v.readonly(se_u[4 + kp :].copy()),
        "dropout_names": data.names_d,
        "covariance": v.readonly(np.array(cov_u, dtype=np.float64)),
        "log_likelihood": float(res.log_likelihood),
        "n_customers": float(data.w.sum()),
        "converged": bool(res.converged),
        "n_iterations": int(res.n_iterations),
    }


_DOC_FIELDS = """
    Attributes
    ----------
    params : {params}
        Base parameters: those of a customer whose covariates are all 0.
    standard_errors : {params}
        Their asymptotic standard errors (delta method from the log scale).
    purchase_coefficients, dropout_coefficients : ndarray
        gamma_p and gamma_d, one per covariate (empty without covariates of
        that kind).
    purchase_standard_errors, dropout_standard_errors : ndarray
        Their asymptotic standard errors.
    purchase_names, dropout_names : tuple of str
        The covariates' names (the mapping's keys, or ``z0``, ``z1``, ...).
    covariance : ndarray
        Asymptotic covariance (inverse observed information) on the
        optimiser's scale: {scale}, then the purchase and the dropout
        coefficients as they are; ``covariance_names`` names the rows.
    log_likelihood : float
        Total log-likelihood at the estimates, weights applied.
    n_customers : float
        Customers the fit used (the sum of the weights).
    converged : bool
        False when the fit came with a ConvergenceWarning.
    n_iterations : int
        Optimiser iterations (of the final fit on all customers).
    time_unit : {{"h", "D", "W", "M", "Y"}} or None
        Time unit of the data the fit was made on.

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2007). Incorporating time-invariant
    covariates into the Pareto/NBD and BG/NBD models.
    http://brucehardie.com/notes/019/

    CLVTools (R package), models with static covariates:
    https://www.clvtools.com/reference/pnbd_PAlive.html
"""


@attrs.frozen(kw_only=True, eq=False, field_transformer=v.copy_array_fields)
class BgNbdCovariateFit(_CovariateMethods):
    __doc__ = (
        """A BG/NBD model fitted with time-invariant covariates (``bgnbd.fit`` with them).

    Customer i has ``α_i = α exp(-γ_p·z_i)``, ``a_i = a exp(γ_d·w_i)`` and
    ``b_i = b exp(γ_d·w_i)`` (CLVTools' parameterisation); a positive
    purchase coefficient means more purchases.
"""
        + _DOC_FIELDS.format(params="BgNbdParams", scale="log r, log alpha, log a, log b")
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from crmcore.models import bgnbd
    >>> from crmcore.simulate import bgnbd_histories
    >>> z = np.random.default_rng(0).normal(size=(4000, 1))
    >>> h = bgnbd_histories(0.25, 4.0, 0.8, 2.5, T=52.0, rng=1,
    ...                     purchase_covariates=z, purchase_coefficients=[0.5])
    >>> f = bgnbd.fit(h.frequency, h.recency, h.T, purchase_covariates={"z": z[:, 0]})
    >>> f.purchase_names, bool(abs(f.purchase_coefficients[0] - 0.5) < 0.15)
    (('z',), True)
    >>> f.probability_alive(h.frequency[:2], h.recency[:2], h.T[:2])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: purchase_covariates is missing: the fit has 1 purchase ...
"""
    )

    _BASE = ("r", "alpha", "a", "b")
    _SHIFT = 0

    params: Any
    standard_errors: Any
    purchase_coefficients: FloatArray = attrs.field(converter=v.readonly_copy)
    purchase_standard_errors: FloatArray = attrs.field(converter=v.readonly_copy)
    purchase_names: tuple[str, ...] = attrs.field(converter=tuple)
    dropout_coefficients: FloatArray = attrs.field(converter=v.readonly_copy)
    dropout_standard_errors: FloatArray = attrs.field(converter=v.readonly_copy)
    dropout_names: tuple[str, ...] = attrs.field(converter=tuple)
    covariance: FloatArray = attrs.field(converter=v.readonly_copy)
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int
    time_unit: str | None = _units.unit_field()

    @property
    def covariance_names(self) -> tuple[str, ...]:
        """Names of the rows and columns of ``covariance``."""
        return _cov_names(self)


@attrs.frozen(kw_only=True, eq=False, field_transformer=v.copy_array_fields)
class MbgNbdCovariateFit(_CovariateMethods):
    __doc__ = """An MBG/NBD model fitted with time-invariant covariates (``mbgnbd.fit``).

    The parameterisation of :class:`BgNbdCovariateFit`.
""" + _DOC_FIELDS.format(params="MbgNbdParams", scale="log r, log alpha, log a, log b")

    _BASE = ("r", "alpha", "a", "b")
    _SHIFT = 1

    params: Any
    standard_errors: Any
    purchase_coefficients: FloatArray = attrs.field(converter=v.readonly_copy)
    purchase_standard_errors: FloatArray = attrs.field(converter=v.readonly_copy)
    purchase_names: tuple[str, ...] = attrs.field(converter=tuple)
    dropout_coefficients: FloatArray = attrs.field(converter=v.readonly_copy)
    dropout_standard_errors: FloatArray = attrs.field(converter=v.readonly_copy)
    dropout_names: tuple[str, ...] = attrs.field(converter=tuple)
    covariance: FloatArray = attrs.field(converter=v.readonly_copy)
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int
    time_unit: str | None = _units.unit_field()

    @property
    def covariance_names(self) -> tuple[str, ...]:
        """Names of the rows and columns of ``covariance``."""
        return _cov_names(self)


@attrs.frozen(kw_only=True, eq=False, field_transformer=v.copy_array_fields)
class ParetoNbdCovariateFit(_CovariateMethods):
    __doc__ = """A Pareto/NBD model fitted with time-invariant covariates (``pareto_nbd.fit``).

    Customer i has ``α_i = α exp(-γ_p·z_i)`` and ``β_i = β exp(-γ_d·w_i)``
    (CLVTools' parameterisation): a positive purchase coefficient means more
    purchases, a positive dropout coefficient earlier dropout.
""" + _DOC_FIELDS.format(params="ParetoNbdParams", scale="log r, log alpha, log s, log beta")

    _BASE = ("r", "alpha", "s", "beta")

    params: Any
    standard_errors: Any
    purchase_coefficients: FloatArray = attrs.field(converter=v.readonly_copy)
    purchase_standard_errors: FloatArray = attrs.field(converter=v.readonly_copy)
    purchase_names: tuple[str, ...] = attrs.field(converter=tuple)
    dropout_coefficients: FloatArray = attrs.field(converter=v.readonly_copy)
    dropout_standard_errors: FloatArray = attrs.field(converter=v.readonly_copy)
    dropout_names: tuple[str, ...] = attrs.field(converter=tuple)
    covariance: FloatArray = attrs.field(converter=v.readonly_copy)
    log_likelihood: float
    n_customers: float
    converged: bool
    n_iterations: int
    time_unit: str | None = _units.unit_field()

    @property
    def covariance_names(self) -> tuple[str, ...]:
        """Names of the rows and columns of ``covariance``."""
        return _cov_names(self)


# The prediction methods live in _CovariateMethods; each class also holds them as its own
# attributes, so that tools listing a class's methods (documentation, API records) see them.
for _cls in (BgNbdCovariateFit, MbgNbdCovariateFit, ParetoNbdCovariateFit):
    for _name in (
        "probability_alive",
        "conditional_expected_purchases",
        "conditional_purchase_probability",
        "log_likelihood_per_customer",
        "predict",
        "sample_params",
    ):
        setattr(_cls, _name, vars(_CovariateMethods)[_name])


def _cov_names(fit: Any) -> tuple[str, ...]:
    return (
        tuple(f"log_{n}" for n in fit._BASE)
        + tuple(f"purchase:{n}" for n in fit.purchase_names)
        + tuple(f"dropout:{n}" for n in fit.dropout_names)
    )


def _u_of(fit: Any) -> FloatArray:
    return np.concatenate(
        [np.log(fit.params.as_array()), fit.purchase_coefficients, fit.dropout_coefficients]
    )


def _fit_bg(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
    *,
    weights: ArrayLike | None,
    initial: Any,
    time_unit: str | None,
    purchase_covariates: object,
    dropout_covariates: object,
    shift: int,
) -> BgNbdCovariateFit | MbgNbdCovariateFit:
    """Fit BG/NBD (shift 0) or MBG/NBD (shift 1) with covariates (see ``bgnbd.fit``)."""
    from crmcore.models import bgnbd, mbgnbd

    params_type = mbgnbd.MbgNbdParams if shift else bgnbd.BgNbdParams
    model = "MBG/NBD" if shift else "BG/NBD"
    unit = _units.fit_unit(frequency, time_unit)
    data = _fit_data(
        frequency, recency, T, weights=weights, covariates=(purchase_covariates, dropout_covariates)
    )
    if initial is not None:
        inp.check_params(initial, params_type, "initial")
        start = initial.as_array()
    else:
        basis = _sample(data, _SAMPLE_ROWS) if data.x.size > 2 * _SAMPLE_ROWS else data
        plain = inp.prepare_fit_data(basis.x, basis.tx, basis.T, basis.w)
        start = bgnbd._default_initial(plain)
        # the covariates may be what identifies the model: then start from the default
        with _quiet(), contextlib.suppress(ConvergenceError):
            start = bgnbd._fit_compressed(plain, start, shift, model).estimates
    names = ("r", "alpha", "a", "b", *_coef_labels(data))
    res, cov_u = _fit_u(data, lambda d: _Engine(d, "bg", shift), start, names, model)
    cls = MbgNbdCovariateFit if shift else BgNbdCovariateFit
    return cls(**_common_fields(res, cov_u, data, params_type, cls._BASE), time_unit=unit)


def fit_bgnbd(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
    **options: Any,
) -> BgNbdCovariateFit:
    """Fit BG/NBD with covariates (``bgnbd.fit`` with covariates)."""
    out = _fit_bg(frequency, recency, T, shift=0, **options)
    assert isinstance(out, BgNbdCovariateFit)
    return out


def fit_mbgnbd(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
    **options: Any,
) -> MbgNbdCovariateFit:
    """Fit MBG/NBD with covariates (``mbgnbd.fit`` with covariates)."""
    out = _fit_bg(frequency, recency, T, shift=1, **options)
    assert isinstance(out, MbgNbdCovariateFit)
    return out


def fit_pareto(
    frequency: ArrayLike | CustomerSummary,
    recency: ArrayLike | None,
    T: ArrayLike | None,
    *,
    weights: ArrayLike | None,
    initial: Any,
    time_unit: str | None,
    purchase_covariates: object,
    dropout_covariates: object,
) -> ParetoNbdCovariateFit:
    """Fit Pareto/NBD with covariates (see ``pareto_nbd.fit``)."""
    from crmcore.models import pareto_nbd as pn

    unit = _units.fit_unit(frequency, time_unit)
    data = _fit_data(
        frequency, recency, T, weights=weights, covariates=(purchase_covariates, dropout_covariates)
    )
    if initial is not None:
        inp.check_params(initial, pn.ParetoNbdParams, "initial")
        start = initial.as_array()
    else:
        rows = _sample_rows("Pareto/NBD")
        basis = _sample(data, rows) if data.x.size > 2 * rows else data
        plain = inp.prepare_fit_data(basis.x, basis.tx, basis.T, basis.w)
        start = pn._default_initial(plain)
        with _quiet(), contextlib.suppress(ConvergenceError):
            start = pn._fit_compressed(plain, start).estimates
    names = ("r", "alpha", "s", "beta", *_coef_labels(data))
    res, cov_u = _fit_u(data, lambda d: _Engine(d, "pareto"), start, names, "Pareto/NBD")
    return ParetoNbdCovariateFit(
        **_common_fields(res, cov_u, data, pn.ParetoNbdParams, ParetoNbdCovariateFit._BASE),
        time_unit=unit,
    )


def _coef_labels(data: _Data) -> tuple[str, ...]:
    return tuple(f"gamma_purchase[{n}]" for n in data.names_p) + tuple(
        f"gamma_dropout[{n}]" for n in data.names_d
    )

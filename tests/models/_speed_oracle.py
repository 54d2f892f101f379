"""The prediction numerics as they were before the speed work of issue 14 (test oracle).

Copied unchanged (but for type hints) from crmcore.models.bgnbd,
crmcore.models.gamma_gamma and crmcore.models.pareto_nbd at commit 4a269cf,
so that the tests can check that the faster code gives the same results: bit for bit where the
arithmetic did not change, else within 1e-12 relative.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special as sc

FloatArray = Any

_SERIES_LIMIT = 0.1
_QUAD_NODES = 1201


def _log_odds_dead(
    theta: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray, shift: int
) -> FloatArray:
    """log(P(dead)/P(alive)); -inf where dropout is impossible (x + shift = 0)."""
    r, alpha, a, b = (float(q) for q in theta)
    with np.errstate(all="ignore"):
        # (r + x) log((α + T)/(α + t_x)) as one log1p of a non-negative ratio
        d = (big_t - tx) / (alpha + tx)
        np.log1p(d, out=d)
        d *= r + x
        d -= np.log(np.maximum(b + x + (shift - 1), 1e-300))
        d += np.log(a)
    return np.where(x + shift > 0, d, -np.inf)


def _probability_alive(
    theta: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray, shift: int
) -> FloatArray:
    """P(alive) = 1 / (1 + e^d) for the log-odds of death d, as the stable logistic.

    With e = exp(-|d|) in (0, 1]: 1/(1 + e) for d <= 0 and e/(1 + e) for d > 0,
    accurate to a few ulps everywhere (one exp instead of the softplus' exp, log1p
    and exp); it underflows to 0 only where exp(-d) does.
    """
    return _alive_from_log_odds(_log_odds_dead(theta, x, tx, big_t, shift))


def _alive_from_log_odds(d: FloatArray) -> FloatArray:
    """1 / (1 + e^d), the stable logistic (see :func:`_probability_alive`)."""
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(d))
        return np.asarray(np.where(d > 0, e, 1.0) / (1.0 + e), dtype=np.float64)


def _conditional_purchase_probability(
    theta: FloatArray,
    t: FloatArray,
    histories: tuple[FloatArray, FloatArray, FloatArray],
    shift: int,
) -> FloatArray:
    """P(alive) * (1 - ((α+T)/(α+T+t))^(r+x)), in log space (see the public function).

    Both factors come from the same log-odds of death as :func:`_probability_alive`,
    and the product is capped by that P(alive), so the result never exceeds it,
    also where it underflows to 0.
    """
    x, tx, big_t = histories
    r, alpha = float(theta[0]), float(theta[1])
    d = _log_odds_dead(theta, x, tx, big_t, shift)  # computed once for both factors
    with np.errstate(all="ignore"):
        log_alive = -np.logaddexp(0.0, d)
        log_buy = np.log(-np.expm1(-(r + x) * np.log1p(t / (alpha + big_t))))  # -inf at t = 0
        # capped by P(alive) exactly as probability_alive computes it
        out = np.minimum(np.exp(log_alive + log_buy), _alive_from_log_odds(d))
    return np.asarray(out, dtype=np.float64)


def _conditional_expectation_each(
    theta: FloatArray,
    t: FloatArray,
    histories: tuple[FloatArray, FloatArray, FloatArray],
    shift: int,
) -> FloatArray:
    """Return the expected purchases in (T, T+t] of each customer, ``t`` one per customer."""
    x, tx, big_t = histories
    r, alpha, a, b = (float(q) for q in theta)
    alive = _probability_alive(theta, x, tx, big_t, shift)
    h = _expected_until_dropout(r + x, np.full(x.shape, a), b + x + shift, t / (alpha + big_t))
    return np.asarray(alive * h, dtype=np.float64)


def _expected_until_dropout(n: FloatArray, a: FloatArray, beta: FloatArray, u: FloatArray) -> Any:
    """H = E[(1 - (1 + p u)^(-n)) / p] for p ~ Beta(a, beta), elementwise (1-d arrays).

    H is the expected number of purchases in a period of length u (in units
    of the posterior rate scale) of a customer who is alive at its start, with
    a gamma(n) purchase rate and a Beta(a, beta) dropout probability. In closed
    form H = (a+beta-1)/(a-1) [1 - 2F1(n, a-1; a+beta-1; -u)]. Three regimes:

    * u and n u small: the power series sum_k (-1)^(k+1) (n)_k (a)_(k-1) u^k
      / (k! (a+beta)_(k-1)), which avoids the cancellation in 1 - 2F1;
    * otherwise the Euler form (1+u)^(1-a) 2F1(a+beta-1-n, a-1; a+beta-1;
      u/(1+u)) via scipy, with a -> 1 handled by interpolation across 1;
    * where scipy's value is not finite or breaks 0 < H <= n u, a Simpson
      quadrature of the expectation over y = logit(p), the pieces below and
      above the machine range added in closed form with incomplete beta
      functions.
    """
    out = np.zeros(n.shape)
    with np.errstate(all="ignore"):
        small = (u > 0) & (u <= _SERIES_LIMIT) & (n * u <= _SERIES_LIMIT)
        if small.any():
            out[small] = _series(n[small], a[small], beta[small], u[small])
        rest = ~small & (u > 0)
        if rest.any():
            nr, ar, br, ur = n[rest], a[rest], beta[rest], u[rest]
            val = _euler(nr, ar, br, ur)
            bad = ~np.isfinite(val) | (val <= 0) | (val > nr * ur * (1 + 1e-10))
            if bad.any():
                i = np.flatnonzero(bad)
                val[i] = _quadrature(nr[i], ar[i], br[i], ur[i])
            out[rest] = val
    return out


def _series(n: FloatArray, a: FloatArray, beta: FloatArray, u: FloatArray) -> FloatArray:
    term = n * u
    total = term.copy()
    for k in range(1, 60):
        term = term * (-(n + k) * u / (k + 1) * (a + k - 1) / (a + beta + k - 1))
        total = total + term
        if float(np.max(np.abs(term))) <= 1e-17 * float(np.min(np.abs(total))):
            break
    return total


def _euler(n: FloatArray, a: FloatArray, beta: FloatArray, u: FloatArray) -> FloatArray:
    delta = 1e-5
    near = np.abs(a - 1.0) < delta
    if not near.any():
        return _euler_core(n, a, beta, u)
    out = np.empty(n.shape)
    far = ~near
    out[far] = _euler_core(n[far], a[far], beta[far], u[far])
    nn, bb, uu = n[near], beta[near], u[near]
    lo = _euler_core(nn, np.full(nn.shape, 1.0 - delta), bb, uu)
    hi = _euler_core(nn, np.full(nn.shape, 1.0 + delta), bb, uu)
    weight = (a[near] - (1.0 - delta)) / (2 * delta)
    out[near] = lo + weight * (hi - lo)
    return out


def _euler_core(n: FloatArray, a: FloatArray, beta: FloatArray, u: FloatArray) -> FloatArray:
    c = a + beta - 1.0
    z = u / (1.0 + u)
    f = sc.hyp2f1(c - n, a - 1.0, c, z)
    phi = np.sign(f) * np.exp((1.0 - a) * np.log1p(u) + np.log(np.abs(f)))
    return np.asarray(c * (1.0 - phi) / (a - 1.0), dtype=np.float64)


def _quadrature(n: FloatArray, a: FloatArray, beta: FloatArray, u: FloatArray) -> FloatArray:
    """Simpson rule over y = logit(p), vectorised over rows in chunks (rare fallback).

    The range covers 40 Laplace standard deviations around the mode of the
    Beta density in y, clipped to p in [eps, 1 - eps]; the pieces beyond the
    clip, where g(p) = (1 - (1 + p u)^-n) / p is constant to relative order
    eps, are added with incomplete beta functions.
    """
    simpson = np.full(_QUAD_NODES, 2.0)
    simpson[1::2] = 4.0
    simpson[0] = simpson[-1] = 1.0
    grid = np.linspace(0.0, 1.0, _QUAD_NODES)
    out = np.empty(n.shape)
    chunk = 256
    for start in range(0, n.size, chunk):
        sl = slice(start, start + chunk)
        ni, ai, bi, ui = n[sl, None], a[sl, None], beta[sl, None], u[sl, None]
        nu = ni * ui
        eps = 1e-12 / np.maximum(np.maximum(nu, ui), 1.0)
        y0, y1 = np.log(eps), -np.log(eps)
        mode = np.log(ai) - np.log(bi)
        sd = np.sqrt((ai + bi) / (ai * bi))
        lo = np.maximum(y0, mode - 40 * sd)
        hi = np.minimum(y1, mode + 40 * sd)
        y = lo + (hi - lo) * grid
        log_p = -np.logaddexp(0.0, -y)
        log_q = -np.logaddexp(0.0, y)
        p = np.exp(log_p)
        dens = np.exp(ai * log_p + bi * log_q - sc.betaln(ai, bi))
        g = -np.expm1(-ni * np.log1p(p * ui)) / p
        total = (hi - lo)[:, 0] / (_QUAD_NODES - 1) / 3.0 * ((dens * g) @ simpson)
        below = np.where(lo == y0, nu * sc.betainc(ai, bi, p[:, :1]), 0.0)[:, 0]
        g1 = -np.expm1(-ni * np.log1p(ui))
        above = np.where(hi == y1, g1 * sc.betainc(bi, ai, np.exp(log_q[:, -1:])), 0.0)[:, 0]
        out[sl] = total + below + above
    return out


def _conditional_spend(params: Any, x: FloatArray, m: FloatArray) -> FloatArray:
    p, q, gv = params.p, params.q, params.v
    denom = p * x + q - 1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # p (v + x m) / (p x + q - 1) in logs: the product p (v + x m) can overflow
        # (p = 1e8, x m = 1e306) while the ratio is of the order of m.
        log_num = np.log(p) + np.logaddexp(np.log(gv), np.log(x) + np.log(m))
        ratio = np.exp(log_num - np.log(np.where(denom > 0, denom, 1.0)))
        out = np.where(denom > 0, ratio, np.inf)
    return np.asarray(out, dtype=np.float64)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)
_GL_SHARE = (_GL_NODES + 1.0) / 2.0  # nodes as shares of a piece
_N_PIECES = 28  # [0, σ], then [σ 8^(k-1), σ 8^k]: up to t/σ ~ 1e24


def _log_purchase_given_alive(
    theta: FloatArray, t: FloatArray, x: FloatArray, big_t: FloatArray
) -> FloatArray:
    """Return log P(a purchase in (T, T+t] | alive at T); -inf at t = 0 (Pareto/NBD).

    ``P = ∫_0^t f(u) du``, ``f(u) = n/A (1 + u/A)^-(n+1) (1 + u/B)^-s`` with
    ``n = r+x``, ``A = α+T``, ``B = β+T``. ``f`` starts as ``f(0) exp(-u/σ)``,
    ``σ = 1 / ((n+1)/A + s/B)``, and decays no faster than a power law
    beyond: Gauss-Legendre on [0, σ] and on the pieces [σ 8^(k-1), σ 8^k],
    all clipped at t. A short t falls in the first piece, where ``f`` is
    smooth and positive, so the relative accuracy holds for t -> 0.
    """
    r, alpha, s, beta = (float(q) for q in theta)
    n = (r + x)[:, None, None]
    a_t = (alpha + big_t)[:, None, None]
    b_t = (beta + big_t)[:, None, None]
    sigma = 1.0 / ((n + 1.0) / a_t + s / b_t)
    edges = sigma[..., 0] * np.concatenate([[0.0], 8.0 ** np.arange(_N_PIECES)])[None, :]
    edges = np.minimum(edges, t)
    lo, hi = edges[:, :-1, None], edges[:, 1:, None]
    u = lo + (hi - lo) * _GL_SHARE
    log_f = np.log(n / a_t) - (n + 1.0) * np.log1p(u / a_t) - s * np.log1p(u / b_t)
    total = ((hi - lo)[..., 0] / 2.0 * (np.exp(log_f) @ _GL_WEIGHTS)).sum(axis=1)
    return np.asarray(np.log(np.minimum(total, 1.0)), dtype=np.float64)

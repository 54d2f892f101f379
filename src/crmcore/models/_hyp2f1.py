"""The hypergeometric engine of the Pareto/NBD model (private).

The Pareto/NBD likelihood is ``Γ(r+x) α^r β^s / Γ(r) * [A1 + s I]`` with
``A1 = (α+T)^-(r+x) (β+T)^-s`` and the integral
``I = ∫_{t_x}^T (α+τ)^-(r+x) (β+τ)^-(s+1) dτ = E(x, t_x) - E(x, T)``,
``E(x, τ) = (p+τ)^-a (q+τ)^-(b-1) H(z) / c``, ``H(z) = 2F1(1, a; a+b; z)``,
where (p, a), (q, b) are (α, r+x), (β, s+1) ordered so that p >= q,
c = a + b - 1 = r + s + x and z = (p-q)/(p+τ) in [0, 1)
(Fader & Hardie 2005, "A note on deriving the Pareto/NBD model and related
expressions", eq. 22, after Euler's transformation of its 2F1).

This module evaluates

* :func:`log_h_block`: log H and its derivatives in a, b and z at many z
  for one (a, b), by the power series, Taylor expansions from the
  differential equation of H, or a continued fraction (NaN where none of
  these is fast and accurate);
* :func:`log_integral`: log I and its gradient by tanh-sinh quadrature, for
  the points :func:`log_h_block` leaves out;
* :func:`log_death_integral`: ``log ∫_0^t τ^n (α+τ)^-(r+n) (β+τ)^-(s+1) dτ``
  of P(X(t) = n) (Fader & Hardie 2006).

Each is checked against mpmath in ``tests/models/test_hyp2f1.py``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from scipy import special as sc

from crmcore._typing import FloatArray, IntArray

__all__ = ["log_death_integral", "log_h_block", "log_integral"]

_SHORT = 1e-6  # relative length below which log_death_integral uses its expansion

_Z_SERIES = 0.75  # power series of H up to here (terms fall at least as z^k)
_K_MAX = 200  # longest series (0.75^200 ~ 1e-25)
# Beyond _Z_SERIES (y = 1 - z < 0.25): Taylor expansions about points z0 = 1 - R
# (R = 1/6, 1/18, ...) from the differential equation of H while the recursion
# is stable (b < _B_CF, c <= _C_TAYLOR); the continued fraction when b >= _B_CF
# (or y >= _Y_CF); the quadrature of the integral otherwise.
_B_CF = 10.0
_C_TAYLOR = 60.0
# The Taylor expansions of the middle bands (0.1 < z <= 0.75) start from H(z0) and
# H'(z0) = (c - (c - a z0) H(z0)) / (z0 (1 - z0)), which cancels to a few digits for
# large c; the recursion then carries the error into every coefficient (1e-11 in log H
# at c = 20, 1e-7 at c = 45, 1e-5 at c = 55). Above _C_MID the power series serves them.
_C_MID = 15.0
_Y_CF = 0.01
_R_FIRST = 1.0 / 6.0
_N_CHAIN = 120  # Taylor terms carried from one centre to the next (ratio 2/3)
_N_POINT = 64  # Taylor terms at the points (|z - z0| <= R/2)
_N_MID = 30  # Taylor terms in the middle bands (|z - z0| <= min(z0, 1 - z0)/4)


def _middle_bands() -> tuple[tuple[float, float, float], ...]:
    """(low, high, centre) of the bands of z in (0.1, 0.75] served by Taylor expansions.

    Each centre z0 is at least four half-widths away from 0 and from 1, the
    singular points of the differential equation of H, so that its Taylor
    series converges like 4^-n and the recursion cannot amplify rounding.
    """
    bands = []
    lo = 0.1
    while lo < _Z_SERIES:
        if 4.0 * lo / 3.0 <= 0.5:
            z0, half = 4.0 * lo / 3.0, lo / 3.0
        else:
            y0 = 0.8 * (1.0 - lo)
            z0, half = 1.0 - y0, y0 / 4.0
        hi = min(lo + 2.0 * half, _Z_SERIES)
        bands.append((lo, hi, z0))
        lo = hi
    return tuple(bands)


_MID_BANDS = _middle_bands()
_Z_EDGES = (0.02, 0.1, *(band[1] for band in _MID_BANDS))
_CENTRES = {band[1]: band[2] for band in _MID_BANDS}  # by upper edge
_LOG_TOL = float(np.log(1e-17))
_CHUNK = 8192  # rows per vector operation in the series (keeps them in cache)


_KEY_CF = 1_000  # method keys above the Taylor bands near 1
_KEY_HARD = 2_000


def _method_keys(a: float, b: float, z: FloatArray, y: FloatArray) -> IntArray:
    """Which evaluation serves each point, as an integer that grows with z.

    0 .. len(_Z_EDGES)-1: the bands of z up to 0.75 (power series about 0 up to
    0.1, Taylor expansions about the band centres above); 6 + j: the Taylor
    expansion about 1 - R_1/3^(j-1) near z = 1; _KEY_CF: the continued
    fraction; _KEY_HARD: none (the quadrature of the integral takes the row).
    """
    c = a + b - 1.0
    keys = np.searchsorted(np.asarray(_Z_EDGES), z, side="left").astype(np.int64)
    near = keys == len(_Z_EDGES)
    if not near.any():
        return keys
    yn = y[near]
    if b >= _B_CF:
        keys[near] = _KEY_CF
    elif c <= _C_TAYLOR:
        # The z-derivative loses digits in proportion to 1/y for b > 2 (H'(1) is
        # finite there and the expansion's coefficients cancel): stop at 1e-6.
        y_min = 1e-12 if b <= 2.0 else 1e-6
        with np.errstate(divide="ignore"):
            j = np.floor(np.log(1.5 * _R_FIRST / np.maximum(yn, 1e-300)) / np.log(3.0)) + 1
        keys[near] = np.where(yn >= y_min, len(_Z_EDGES) - 1 + j.astype(np.int64), _KEY_HARD)
    else:
        keys[near] = np.where(yn >= _Y_CF, _KEY_CF, _KEY_HARD)
    return keys


def log_h_block(a: float, b: float, z: FloatArray, y: FloatArray, out: FloatArray) -> None:
    """Evaluate log H and d log H / d(a, b, z) for one x (scalar a, b), points in any order.

    The points are grouped by :func:`_method_keys` (a stable sort of small
    integers; no sort at all when they already come in order, as in a fit)
    and each group is evaluated with coefficients shared by all its points.
    Points left as NaN are done by the quadrature of the integral. An ``out``
    of one row receives log H only (the derivatives are not computed; log H
    is the same to the bit).
    """
    keys = _method_keys(a, b, z, y)
    n = keys.size
    if n > 1 and bool(np.all(keys[1:] <= keys[:-1])):
        order = None  # already sorted: tau increasing, so z and the keys decreasing
        ordered = keys[::-1]
    else:
        order = np.argsort(keys.astype(np.int16), kind="stable")  # radix sort
        ordered = keys[order]
    cuts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    bounds = [0, *cuts.tolist(), n]
    chain = _TaylorChain(a, b)
    for lo, hi in itertools.pairwise(bounds):
        key = int(ordered[lo])
        if key == _KEY_HARD:
            continue
        if order is None:
            sel: Any = slice(n - hi, n - lo)
            zz, yy = z[sel], y[sel]
            buf = out[:, sel]
        else:
            sel = order[lo:hi]
            zz, yy = z[sel], y[sel]
            buf = np.empty((out.shape[0], hi - lo))
        _evaluate_group(chain, key, (zz, yy), buf)
        if order is not None:
            out[:, sel] = buf


def _evaluate_group(
    chain: _TaylorChain, key: int, points: tuple[FloatArray, FloatArray], out: FloatArray
) -> None:
    """Evaluate one group of points of :func:`log_h_block` by the method its key names."""
    a, b = chain.a, chain.b
    z, y = points
    if key == _KEY_CF:
        out[:] = _continued_fraction(np.full(z.size, a), np.full(z.size, b), z)[: out.shape[0]]
    elif key >= len(_Z_EDGES):
        chain.evaluate(key - len(_Z_EDGES) + 1, y, out)
    else:
        centre = _CENTRES.get(_Z_EDGES[key])
        if centre is not None and a + b - 1.0 <= _C_MID:
            _taylor_at(a, b, centre, z, out)
        else:
            _series(a, b, z, out)


class _TaylorChain:
    """Taylor expansions of H about z0 = 1 - R_j, R_j = R_1 / 3^(j-1), R_1 = 1/6.

    H solves the first-order equation ``z(1-z) H' + (c - a z) H = c``
    (c = a+b-1), so its Taylor coefficients about z0 follow from H(z0) by a
    three-term recursion; with u = (z - z0)/R and scaled coefficients
    ``e_n = H^(n)(z0) R^n / n!``:
    ``e_1 = (c - (c - a z0) e_0)/z0``,
    ``e_(n+1) = (-((1 - 2 z0) n + c - a z0) e_n + (n - 1 + a) R e_(n-1)) / (z0 (n+1))``.
    The series converges for |u| < 1; centre j serves the points with y = 1 - z
    in (R/2, 3R/2] (|u| <= 1/2) and hands H and its a, b derivatives on to
    the next centre at u = 2/3. H(z0) at the first centre comes from the
    power series (ratio 5/6). Centres are built on demand, in order.
    """

    def __init__(self, a: float, b: float) -> None:
        self.a, self.c = a, a + b - 1.0
        self.b = b
        self.j = 0
        self.radius = 3.0 * _R_FIRST
        self.start: tuple[float, float, float] | None = None
        self.coef: tuple[FloatArray, FloatArray, FloatArray] | None = None

    def _advance(self) -> None:
        if self.coef is None:
            self.start = _series_at(self.a, self.b, 1.0 - _R_FIRST)
        else:
            hand_on = (2.0 / 3.0) ** np.arange(_N_CHAIN + 1)
            e, ea, eb = self.coef
            self.start = (float(e @ hand_on), float(ea @ hand_on), float(eb @ hand_on))
        self.j += 1
        self.radius /= 3.0
        assert self.start is not None
        self.coef = _taylor_coefficients(self.a, self.c, 1.0 - self.radius, self.radius, self.start)

    def evaluate(self, j: int, y: FloatArray, out: FloatArray) -> None:
        while self.j < j:
            self._advance()
        assert self.coef is not None
        e, ea, eb = (c[: _N_POINT + 1] for c in self.coef)
        _horner4(e, ea, eb, (self.radius - y) / self.radius, out)
        if out.shape[0] > 1:
            out[3] /= self.radius


def _taylor_at(a: float, b: float, z0: float, z: FloatArray, out: FloatArray) -> None:
    """Taylor expansion about z0 of log H and its log-derivatives (see :func:`_taylor`)."""
    radius = 1.0 - z0
    start = _series_at(a, b, z0)
    e, ea, eb = _taylor_coefficients(a, a + b - 1.0, z0, radius, start, n_terms=_N_MID)
    _horner4(e, ea, eb, (z - z0) / radius, out)
    if out.shape[0] > 1:
        out[3] /= radius


def _series(a: float, b: float, z: FloatArray, out: FloatArray) -> None:
    """Power series of H = Σ_k (a)_k/(a+b)_k z^k: log H and d log H / d(a, b, z).

    The coefficients depend on x only, so they are computed once for all
    points of that x (each band of z with its own series length, from the
    bound ``c_K z_max^K (K+1) / (1 - z_max)`` on the tail) and summed by
    Horner's rule.
    """
    zmax = float(z.max())
    k = np.arange(_K_MAX, dtype=np.float64)
    ak = a + k
    abk = a + b + k
    logc = np.concatenate(([0.0], np.cumsum(np.log(ak) - np.log(abk))))
    if zmax > 0.0:
        kk = np.arange(_K_MAX + 1, dtype=np.float64)
        bound = logc + kk * np.log(zmax) + np.log1p(kk) - np.log1p(-zmax)
        below = np.flatnonzero(bound < _LOG_TOL)
        n_terms = int(below[0]) if below.size else _K_MAX
    else:
        n_terms = 1
    n_terms = max(n_terms, 1)
    c = np.exp(logc[: n_terms + 1])
    la = np.concatenate(([0.0], np.cumsum(1.0 / ak[:n_terms] - 1.0 / abk[:n_terms])))
    lb = np.concatenate(([0.0], -np.cumsum(1.0 / abk[:n_terms])))
    _horner4(c, c * la, c * lb, z, out)


def _series_at(a: float, b: float, z0: float) -> tuple[float, float, float]:
    """H(z0), dH/da, dH/db by the power series (positive terms; z0 = 5/6)."""
    k = np.arange(400, dtype=np.float64)
    logc = np.concatenate(([0.0], np.cumsum(np.log(a + k) - np.log(a + b + k))))
    la = np.concatenate(([0.0], np.cumsum(1.0 / (a + k) - 1.0 / (a + b + k))))
    lb = np.concatenate(([0.0], -np.cumsum(1.0 / (a + b + k))))
    terms = np.exp(logc + np.arange(k.size + 1) * np.log(z0))
    return float(terms.sum()), float(terms @ la), float(terms @ lb)


def _taylor_coefficients(
    a: float,
    c: float,
    z0: float,
    radius: float,
    start: tuple[float, float, float],
    *,
    n_terms: int = _N_CHAIN,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    e0, ea0, eb0 = start
    e = [e0, 0.0]
    ea = [ea0, 0.0]
    eb = [eb0, 0.0]
    b0 = c - a * z0
    e[1] = (c - b0 * e0) / z0
    ea[1] = (1.0 - radius * e0 - b0 * ea0) / z0
    eb[1] = (1.0 - e0 - b0 * eb0) / z0
    slope = 1.0 - 2.0 * z0
    for n in range(1, n_terms):
        bn = slope * n + b0
        gn = (n - 1.0 + a) * radius
        d = z0 * (n + 1)
        e.append((-bn * e[n] + gn * e[n - 1]) / d)
        ea.append((-radius * e[n] - bn * ea[n] + radius * e[n - 1] + gn * ea[n - 1]) / d)
        eb.append((-e[n] - bn * eb[n] + gn * eb[n - 1]) / d)
    return np.array(e), np.array(ea), np.array(eb)


def _horner4(e: FloatArray, ea: FloatArray, eb: FloatArray, u: FloatArray, out: FloatArray) -> None:
    """Evaluate log P(u), P_a/P, P_b/P, P'(u)/P for the polynomials e, ea, eb.

    Horner's rule in place, in chunks that stay in the processor cache. An
    ``out`` of one row receives log P(u) only.
    """
    n_terms = e.size - 1
    cl, ca, cb = e.tolist(), ea.tolist(), eb.tolist()
    if out.shape[0] == 1:
        for s0 in range(0, u.size, _CHUNK):
            s1 = min(s0 + _CHUNK, u.size)
            uu = u[s0:s1]
            h = out[0, s0:s1]
            h.fill(cl[n_terms])
            for j in range(n_terms - 1, -1, -1):
                h *= uu
                h += cl[j]
            np.log(h, out=h)
        return
    for s0 in range(0, u.size, _CHUNK):
        s1 = min(s0 + _CHUNK, u.size)
        uu = u[s0:s1]
        h, ha, hb, hd = out[0, s0:s1], out[1, s0:s1], out[2, s0:s1], out[3, s0:s1]
        h.fill(cl[n_terms])
        ha.fill(ca[n_terms])
        hb.fill(cb[n_terms])
        hd.fill(0.0)
        for j in range(n_terms - 1, -1, -1):
            hd *= uu
            hd += h
            h *= uu
            h += cl[j]
            ha *= uu
            ha += ca[j]
            hb *= uu
            hb += cb[j]
        ha /= h
        hb /= h
        hd /= h
        np.log(h, out=h)


def _continued_fraction(
    a: FloatArray, b: FloatArray, z: FloatArray, tol: float = 1e-16, max_iter: int = 5000
) -> FloatArray:
    """Continued fraction for log H and d log H / d(a, b, z), H = 2F1(1, a; a+b; z).

    H is the continued fraction of the incomplete beta function B_z(c, 1-b)
    (DLMF 8.17.22), c = a+b-1; the derivatives are carried along the
    recursion. Used for z > 0.75 when b >= 10, where it converges in at most a
    few hundred steps.
    """
    m = z.size
    ab = a + b
    iz = 1.0 / z
    cc = np.ones(m)
    dd = np.zeros(m)
    c_a, c_b, c_z = np.zeros(m), np.zeros(m), np.zeros(m)
    d_a, d_b, d_z = np.zeros(m), np.zeros(m), np.zeros(m)
    log_q, g_a, g_b, g_z = np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m)
    active = np.ones(m, dtype=np.bool_)
    for j in range(1, max_iter + 1):
        if j % 2 == 1:
            mm = (j - 1) // 2
            u1, u2 = ab + (mm - 1), a + mm
            i1, i2 = 1.0 / u1, 1.0 / u2
            i3, i4 = 1.0 / (ab + (2 * mm - 1)), 1.0 / (ab + 2 * mm)
            coef = -(u1 * u2) * (i3 * i4)
            la = i1 + i2 - i3 - i4
            lb = i1 - i3 - i4
        else:
            mm = j // 2
            u1 = b + (mm - 1)
            i1 = 1.0 / u1
            i3, i4 = 1.0 / (ab + (2 * mm - 2)), 1.0 / (ab + (2 * mm - 1))
            coef = -(mm * u1) * (i3 * i4)
            la = -i3 - i4
            lb = i1 - i3 - i4
        aa = coef * z
        t = aa * dd
        dd = 1.0 / (1.0 + t)
        f_d = -dd * t
        d_a = f_d * (la + d_a)
        d_b = f_d * (lb + d_b)
        d_z = f_d * (iz + d_z)
        ratio = aa / cc
        cc = 1.0 + ratio
        f_c = ratio / cc
        c_a = f_c * (la - c_a)
        c_b = f_c * (lb - c_b)
        c_z = f_c * (iz - c_z)
        delta = cc * dd
        log_q += np.where(active, np.log(delta), 0.0)
        g_a += np.where(active, c_a + d_a, 0.0)
        g_b += np.where(active, c_b + d_b, 0.0)
        g_z += np.where(active, c_z + d_z, 0.0)
        active &= np.abs(delta - 1.0) >= tol
        if not active.any():
            break
    return np.stack([-log_q, -g_a, -g_b, -g_z])


def _tanh_sinh_rule(h: float = 1.0 / 16, t_max: float = 4.0) -> tuple[FloatArray, ...]:
    """Nodes (as shares of the interval from either end) and weights of tanh-sinh."""
    t = np.arange(-t_max, t_max + h / 2, h)
    u = np.pi / 2 * np.sinh(t)
    from_left = sc.expit(2 * u)
    from_right = sc.expit(-2 * u)
    weight = h * np.pi / 4 * np.cosh(t) / np.cosh(u) ** 2
    return from_left, from_right, weight


_TS_LEFT, _TS_RIGHT, _TS_WEIGHT = _tanh_sinh_rule()
_TS_USE_LEFT = _TS_LEFT < 0.5


def _tanh_sinh(lo: FloatArray, hi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights (rows x pieces x nodes) on the pieces [lo, hi] (rows x pieces)."""
    lo3 = lo[..., None]
    hi3 = hi[..., None]
    length = hi3 - lo3
    nodes = np.where(_TS_USE_LEFT, lo3 + length * _TS_LEFT, hi3 - length * _TS_RIGHT)
    return nodes, length * _TS_WEIGHT


def log_integral(
    theta: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray, want_grad: bool
) -> tuple[FloatArray, FloatArray | None]:
    """Quadrature of log I, I = ∫_{t_x}^T (α+τ)^-(r+x) (β+τ)^-(s+1) dτ, and its gradient.

    Tanh-sinh quadrature over v = log(q + τ), q = min(α, β), on the pieces cut
    at v = log(p - q) (where p + τ starts to grow like q + τ) and log(p - q) -
    log(a) (where the factor (p+τ)^-a starts to fall), so that every piece has
    its steep part at an end, where the rule places its nodes. Intervals so
    short that the integrand changes by less than 1e-7 across them use the
    midpoint rule (relative error below 1e-15).
    """
    r, alpha, s, beta = (float(q) for q in theta)
    first = alpha >= beta
    p, q = (alpha, beta) if first else (beta, alpha)
    a = r + x if first else np.full(x.shape, s + 1.0)
    b = np.full(x.shape, s + 1.0) if first else r + x
    width = big_t - tx
    short = width * (a / (p + tx) + b / (q + tx)) < 1e-7
    if short.any():
        log_i = np.empty(x.size)
        grad = np.empty((4, x.size)) if want_grad else None
        mid = tx[short] + 0.5 * width[short]
        lpm, lqm = np.log(p + mid), np.log(q + mid)
        log_i[short] = np.log(width[short]) - a[short] * lpm - b[short] * lqm
        if grad is not None:
            g_a, g_b = -lpm, -lqm
            g_p, g_q = -a[short] / (p + mid), -b[short] / (q + mid)
            grad[:, short] = (
                np.stack([g_a, g_p, g_b, g_q]) if first else np.stack([g_b, g_q, g_a, g_p])
            )
        long = ~short
        if long.any():
            li, gi = log_integral(theta, x[long], tx[long], big_t[long], want_grad)
            log_i[long] = li
            if grad is not None and gi is not None:
                grad[:, long] = gi
        return log_i, grad
    log_d = np.log(p - q)
    v0 = np.log(q + tx)
    v1 = np.log(q + big_t)
    vb = np.clip(log_d, v0, v1)
    vc = np.clip(log_d - np.log(np.maximum(a, 1.0)), v0, v1)
    knots = np.stack([v0, vc, vb, v1], axis=1)
    nodes, weights = _tanh_sinh(knots[:, :-1], knots[:, 1:])
    lp = np.logaddexp(log_d, nodes)  # log(p + τ)
    a3 = a[:, None, None]
    b3 = b[:, None, None]
    phi = (1.0 - b3) * nodes - a3 * lp
    phi = np.where(weights > 0, phi, -np.inf)
    top = phi.max(axis=(1, 2))
    f = weights * np.exp(phi - top[:, None, None])
    total = f.sum(axis=(1, 2))
    log_i = top + np.log(total)
    if not want_grad:
        return log_i, None
    f /= total[:, None, None]
    g_a = -(f * lp).sum(axis=(1, 2))
    g_b = -(f * nodes).sum(axis=(1, 2))
    g_p = -a * (f * np.exp(-lp)).sum(axis=(1, 2))
    g_q = -b * (f * np.exp(-nodes)).sum(axis=(1, 2))
    grad = np.stack([g_a, g_p, g_b, g_q]) if first else np.stack([g_b, g_q, g_a, g_p])
    return log_i, grad


def log_death_integral(theta: FloatArray, n: FloatArray, t: FloatArray) -> FloatArray:
    """Tanh-sinh quadrature of log ∫_0^t τ^n (α+τ)^-(r+n) (β+τ)^-(s+1) dτ.

    The interval is cut at α, β and the maximum of the integrand (the positive
    root of (r+s+1)τ² - Bτ - nαβ = 0, B = nα - rβ - (s+1)α), so that the
    steep parts of every piece lie at its ends.

    A short interval, ``ε = t ((r+n)/α + (s+1)/β) < 1e-6``, uses the expansion
    ``t^(n+1)/(n+1) α^-(r+n) β^-(s+1) (1 - (n+1)/(n+2) ε + O(ε²))`` instead
    (the quadrature's weights underflow for a subnormal t).
    """
    r, alpha, s, beta = (float(q) for q in theta)
    with np.errstate(all="ignore"):
        eps = t * ((r + n) / alpha + (s + 1.0) / beta)
    short = eps < _SHORT
    if short.any():
        out = np.empty(n.shape)
        ns, ts = n[short], t[short]
        with np.errstate(divide="ignore"):  # log(0) = -inf at t = 0
            out[short] = (
                (ns + 1.0) * np.log(ts)
                - np.log1p(ns)
                - (r + ns) * np.log(alpha)
                - (s + 1.0) * np.log(beta)
                + np.log1p(-(ns + 1.0) / (ns + 2.0) * eps[short])
            )
        if not short.all():
            long = ~short
            with np.errstate(all="ignore"):
                out[long] = _death_quadrature(theta, n[long], t[long])
        return out
    with np.errstate(all="ignore"):  # log(0) at the left end, weights that underflow
        return _death_quadrature(theta, n, t)


def _death_quadrature(theta: FloatArray, n: FloatArray, t: FloatArray) -> FloatArray:
    r, alpha, s, beta = (float(q) for q in theta)
    big_b = n * alpha - r * beta - (s + 1.0) * alpha
    disc = np.sqrt(big_b * big_b + 4.0 * (r + s + 1.0) * n * alpha * beta)
    peak = np.where(
        big_b > 0,
        (big_b + disc) / (2.0 * (r + s + 1.0)),
        2.0 * n * alpha * beta / np.where(disc - big_b > 0, disc - big_b, 1.0),
    )
    cuts = np.sort(np.stack([np.full(n.shape, alpha), np.full(n.shape, beta), peak], axis=1))
    knots = np.concatenate([np.zeros((n.size, 1)), np.minimum(cuts, t[:, None]), t[:, None]], 1)
    nodes, weights = _tanh_sinh(knots[:, :-1], knots[:, 1:])
    n3 = n[:, None, None]
    log_tau = np.log(nodes)
    phi = (
        np.where(n3 > 0, n3 * log_tau, 0.0)
        - (r + n3) * np.log(alpha + nodes)
        - (s + 1.0) * np.log(beta + nodes)
    )
    phi = np.where(weights > 0, phi, -np.inf)
    top = phi.max(axis=(1, 2))
    total = (weights * np.exp(phi - top[:, None, None])).sum(axis=(1, 2))
    return np.asarray(top + np.log(total), dtype=np.float64)

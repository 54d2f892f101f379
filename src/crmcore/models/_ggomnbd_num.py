"""Quadrature engine of the GGompertz/NBD model (private).

Every quantity of the model is an integral over time of a product of
factors of three kinds, each positive on the real axis:

* power laws ``(A + u)^-p`` (the purchase process integrated over its gamma
  rate), with a singularity at ``u = -A``;
* the gamma-Gompertz survival ``S(τ) = (β / (β + e^(bτ) - 1))^s`` and death
  density ``f(τ) = s b β^s e^(bτ) (β + e^(bτ) - 1)^-(s+1)``, whose
  singularities lie where ``e^(bτ) = 1 - β``: on the real axis at
  ``log(1-β)/b < 0`` when β < 1, at ``(log(β-1) ± iπ)/b`` when β > 1;
* exponentials ``e^(-δu)`` (discounting) and, for P(X(t) = n), ``τ^n``.

:func:`march` integrates such a product in log space by Gauss-Legendre
rules on consecutive pieces, each no longer than a fixed share of the
distance from its start to the nearest singularity of every factor and of
the inverse of the factor's exponential rate (the local scales), so that the
rule converges on every piece; the scales grow with the distance from the
singularities, so a heavy tail is covered in a number of pieces that grows
with the logarithm of its length. The march stops at the end of the
interval or as soon as a bound on the rest of the integral falls below
1e-17 of the sum so far. It is vectorised over rows (distinct histories or
forecasts): each step advances every unfinished row by one piece.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from crmcore._typing import FloatArray, IntArray

__all__ = ["g_log", "march", "singularity_distance"]

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)
_SHARE = (_NODES + 1.0) / 2.0
_HALF_W = _WEIGHTS / 2.0
SHARE, HALF_W = _SHARE, _HALF_W  # the rule on [0, 1], for one-piece integrals
REACH = 2.0  # a piece spans at most this many distances to a singularity
RATE = 3.0  # ... and at most this many e-folds of a factor
STOP = 40.0  # stop when the rest is below e^-STOP of the sum so far
MAX_STEPS = 20_000
CHUNK = 4096  # rows marched together

LogF = Callable[[IntArray, FloatArray, bool], tuple[FloatArray, Any]]
Weighted = Callable[[Any, FloatArray], FloatArray]
Scale = Callable[[IntArray, FloatArray], FloatArray]
Tail = Callable[[IntArray, FloatArray, FloatArray], FloatArray]


def g_log(b: float, beta: float | FloatArray, tau: FloatArray) -> FloatArray:
    """Return ``G(τ) = log(β + e^(bτ) - 1)``, exact for small and huge bτ.

    ``beta`` is one number or an array broadcast against ``tau`` (one value per row).
    """
    bt = b * tau
    if bt.size == 0 or bt.max() < 700.0:
        return np.asarray(np.log(beta + np.expm1(bt)), dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        direct = np.log(beta + np.expm1(np.minimum(bt, 700.0)))
        far = bt + np.log1p((beta - 1.0) * np.exp(-bt))
    return np.asarray(np.where(bt < 700.0, direct, far), dtype=np.float64)


def singularity_distance(b: float, beta: float | FloatArray, tau: FloatArray) -> FloatArray:
    """Distance from τ to the nearest singularity of the gamma-Gompertz factors.

    ``beta`` is one number or an array broadcast against ``tau`` (one value per row).
    """
    if isinstance(beta, float | int):
        if beta < 1.0:
            return np.asarray(tau - np.log1p(-beta) / b, dtype=np.float64)
        if beta > 1.0:
            return np.asarray(np.hypot(tau - np.log(beta - 1.0) / b, np.pi / b), dtype=np.float64)
        return np.full(np.shape(tau), np.inf)
    bb = np.asarray(beta, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        below = tau - np.log1p(-np.minimum(bb, 1.0)) / b
        above = np.hypot(tau - np.log(bb - 1.0) / b, np.pi / b)
    out = np.where(bb < 1.0, below, np.where(bb > 1.0, above, np.inf))
    return np.asarray(np.broadcast_to(out, np.broadcast_shapes(bb.shape, np.shape(tau))))


def gompertz_scale(
    b: float, beta: float | FloatArray, power: float, tau: FloatArray, *, numerator: float = 0.0
) -> FloatArray:
    """Longest piece for the factor ``e^(numerator bτ) (β + e^(bτ) - 1)^-power`` at τ.

    At most REACH times the distance to the nearest singularity, RATE e-folds
    of the factor (its log-derivative is ``b (numerator - power q)``,
    ``q = e^(bτ)/(β + e^(bτ) - 1)``) and a change of that log-derivative of
    RATE over the piece (the second derivative is ``-power b² q (1-q)``,
    ``1 - q = (β-1)/(β + e^(bτ) - 1)``). ``beta`` is one number or an
    array broadcast against ``tau``.
    """
    d = singularity_distance(b, beta, tau)
    g = g_log(b, beta, tau)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        q = np.exp(np.minimum(b * tau - g, 700.0))
        slope = b * np.abs(numerator - power * q)
        bend = power * b * b * q * np.abs(beta - 1.0) * np.exp(-g)
        out = np.minimum(REACH * d, RATE / slope)
        out = np.minimum(out, np.sqrt(RATE / bend))
        if isinstance(beta, float | int):
            if beta > 1.0:
                out = np.minimum(out, _ellipse_length(np.log(beta - 1.0) / b - tau, d))
        else:  # one β per row: the ellipse where β > 1
            ellipse = _ellipse_length(np.log(beta - 1.0) / b - tau, d)
            out = np.where(np.asarray(beta) > 1.0, np.minimum(out, ellipse), out)
    return np.asarray(out, dtype=np.float64)


_RHO = 3.0  # Bernstein ellipse of every piece: 16 Gauss-Legendre nodes err by about _RHO**-32
_K = (_RHO + 1.0 / _RHO) / 2.0


def _ellipse_length(ahead: FloatArray, d: FloatArray) -> FloatArray:
    """Longest piece from τ (either way) whose Bernstein ellipse avoids the singularity.

    The singularity lies at real offset ``ahead`` from τ and distance ``d``; the ellipse
    has parameter _RHO.

    A point z lies on the ellipse of parameter ρ of the piece [τ, τ + L] when its distances
    to the two ends add up to (ρ + 1/ρ) L / 2; solving ``d + |z - τ - L| = K L`` for L gives
    ``2 (K d - x) / (K² - 1)`` with x the offset along the march, taken here in the worse
    direction (|x|). Without it a piece passing beside the singularity of β > 1 at
    ``(log(β-1) ± iπ)/b`` kept an ellipse of ρ ≈ 1.7 and erred by 1e-7 (found by a property
    test under the hunt profile: E[X(t)] not monotone in t for b = 0.625, s = 2, β = 177).
    """
    return np.asarray(2.0 * (_K * d - np.abs(ahead)) / (_K * _K - 1.0), dtype=np.float64)


def power_scale(shift: FloatArray | float, power: FloatArray | float, u: FloatArray) -> FloatArray:
    """Longest piece for the factor ``(shift + u)^-power`` at u (power >= 0)."""
    with np.errstate(divide="ignore"):
        return np.asarray((shift + u) * np.minimum(REACH, RATE / power), dtype=np.float64)


def march(
    start: FloatArray,
    end: FloatArray,
    direction: float,
    *,
    log_f: LogF,
    scale: Scale,
    log_tail: Tail,
    n_grad: int = 0,
    weighted: Weighted | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Return log ∫ exp(log_f) from ``start`` towards ``end`` per row, and its gradient.

    ``log_f(rows, u, want_grad)`` gives the log integrand at the points ``u``
    (rows x points) of the rows ``rows`` and, with ``want_grad``, what
    ``weighted(aux, w)`` needs to return the sums over the points of its
    derivatives times ``w`` (n_grad x rows); ``scale(rows, u)`` the longest
    piece starting at ``u``; ``log_tail(rows, u, log_f_at_u)`` an upper
    bound of the log of the rest of the integral beyond ``u`` (+inf when
    unknown). The gradient returned is that of the log integral (the
    integrand-weighted mean of the derivatives). Empty intervals give -inf.
    """
    n = start.size
    log_sum = np.full(n, -np.inf)
    grad = np.zeros((n_grad, n)) if n_grad else None
    pos = start.astype(np.float64, copy=True)
    active = np.flatnonzero(pos != end)
    share = np.append(_SHARE, 1.0)  # the end of each piece is evaluated too (for the tail)
    # rows in chunks that keep the (rows x nodes) arrays in the processor cache
    everyone = active
    for c0 in range(0, everyone.size, CHUNK):
        active = everyone[c0 : c0 + CHUNK]
        for _ in range(MAX_STEPS):
            if active.size == 0:
                break
            p = pos[active]
            left = np.abs(end[active] - p)
            length = np.minimum(scale(active, p), left)
            length = np.where(length > 0, length, left)  # never stall
            u = p[:, None] + direction * length[:, None] * share[None, :]
            phi, aux = log_f(active, u, n_grad > 0)
            body = phi[:, :-1]
            top = body.max(axis=1)
            top = np.where(np.isfinite(top), top, 0.0)
            with np.errstate(divide="ignore", under="ignore"):
                wts = np.exp(body - top[:, None]) * _HALF_W
                total = wts.sum(axis=1)
                piece = top + np.log(total * length)
            old = log_sum[active]
            new = np.logaddexp(old, piece)
            if grad is not None and weighted is not None:
                with np.errstate(invalid="ignore", divide="ignore", under="ignore"):
                    mean = weighted(aux, wts) / total
                    keep = np.where(np.isfinite(old), np.exp(old - new), 0.0)
                    take = np.where(np.isfinite(piece), np.exp(piece - new), 0.0)
                grad[:, active] = grad[:, active] * keep + np.nan_to_num(mean) * take
            log_sum[active] = new
            hi = np.where(length >= left, end[active], u[:, -1])
            pos[active] = hi
            # at the end, or pieces below the spacing of floats (frequencies near 1e18: the
            # integrand falls by e^-RATE within one ulp; the first piece already holds its mass)
            done = (hi == end[active]) | (hi == p)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                done |= log_tail(active, hi, phi[:, -1]) < new - STOP
            active = active[~done]
    return log_sum, grad

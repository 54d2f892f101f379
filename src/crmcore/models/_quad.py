"""Gauss-Legendre quadrature on geometrically growing pieces (private).

The discounted expectations of the purchase models (DERT) are integrals over
[0, infinity) of smooth integrands that change on two or more scales: a short
one where the purchase process bends (a few inter-purchase times) and a long
one, the discounting's 1/delta. Pieces [0, h], [h, 4h], [4h, 16h], ... with a
20-node Gauss-Legendre rule on each resolve both without knowing the second
scale, like the quadrature of P(at least one purchase) of the Pareto/NBD model.

An integrand analytic in a neighbourhood of each piece whose nearest
singularity lies at least the piece's first point away from it (here: poles or
branch points at negative arguments of size >= h) is integrated to about
1e-15 relative error per piece by 20 nodes; the truncation at ``stop`` is the
only other error, chosen by the callers below 1e-20 relative.
"""

from __future__ import annotations

import numpy as np

from crmcore._typing import FloatArray, IntArray

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(20)
_SHARE = (_NODES + 1.0) / 2.0
_RATIO = 4.0
_MAX_PIECES = 48  # 4^47 ~ 2e28: from start to stop whatever their ratio (start is raised)


def pieces(start: FloatArray, stop: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
    """Nodes and weights of the rule on [0, stop] of each row, first piece [0, start].

    Returns ``(row, nodes, weights)``: for every piece of positive length the
    index of its row and its nodes and weights (shape (pieces, 20)).
    ``integral[row] = sum over its pieces of (weights * f(nodes)).sum(axis=1)``,
    see :func:`sum_rows`.
    """
    start = np.maximum(np.minimum(start, stop), stop * 1e-27)
    k = np.arange(_MAX_PIECES - 1, dtype=np.float64)
    edges = np.concatenate([np.zeros((start.size, 1)), start[:, None] * _RATIO ** k[None, :]], 1)
    edges = np.minimum(edges, stop[:, None])
    edges[:, -1] = stop
    lo, hi = edges[:, :-1], edges[:, 1:]
    keep = hi > lo
    row = np.nonzero(keep)[0].astype(np.int64)
    lo, hi = lo[keep], hi[keep]
    nodes = lo[:, None] + (hi - lo)[:, None] * _SHARE
    weights = (hi - lo)[:, None] / 2.0 * _WEIGHTS
    return row, nodes, weights


def sum_rows(row: IntArray, terms: FloatArray, n_rows: int) -> FloatArray:
    """Add the (pieces, nodes) ``terms`` up per row."""
    out = np.bincount(row, weights=terms.sum(axis=1), minlength=n_rows)
    return np.asarray(out, dtype=np.float64)

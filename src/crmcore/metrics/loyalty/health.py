"""Health scores: weighted 0-100 scores per customer and their bands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, overload

import numpy as np

from crmcore import _validation as v
from crmcore._typing import ArrayLike, FloatArray
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics._numeric import finish_labels, is_single, ndim_of, pow2_scale
from crmcore.metrics.loyalty._common import StrArray

__all__ = ["band", "health_score"]


# ------------------------------------------------------------------ health score


def health_score(
    measures: ArrayLike,
    weights: ArrayLike,
    *,
    missing: Literal["renormalize", "zero", "raise"] = "renormalize",
) -> float | FloatArray:
    """Weighted 0-100 score of several 0-100 measures (a customer health score).

    Parameters
    ----------
    measures : array-like, shape (k,) or (n_customers, k)
        Measures on a 0-100 scale, one column per measure; NaN marks a missing
        measure.
    weights : array-like, shape (k,)
        Non-negative weights, at least one positive (need not sum to 1 or 100).
    missing : {"renormalize", "zero", "raise"}, default "renormalize"
        ``"renormalize"``: a missing measure drops out and the other weights
        are rescaled; ``"zero"``: a missing measure counts as 0; ``"raise"``:
        any missing measure is an error.

    Returns
    -------
    float or ndarray of float64
        The score of the one customer (1-d ``measures``) or of each customer
        (2-d), between 0 and 100.

    Raises
    ------
    InputError
        On measures outside 0-100, infinite values, negative or all-zero
        weights, a weight count that differs from the measure count, a missing
        measure with ``missing="raise"``, or a customer with no weight left
        under ``"renormalize"`` (the score is undefined).

    Notes
    -----
    ``score = Σ_j w_j x_j / Σ_j w_j`` over the measures present
    (``"renormalize"``) or over all measures with missing ones as 0
    (``"zero"``). A weighted mean of values in [0, 100] stays in [0, 100].

    Examples
    --------
    >>> round(health_score([47, 59, 21], [20, 15, 22]), 2)  # one customer: a float, 2287 / 57
    40.12
    >>> health_score([[80, float("nan")], [50, 100]], [1, 3]).tolist()
    [80.0, 87.5]
    >>> health_score([[80, float("nan")]], [1, 3], missing="zero").tolist()
    [20.0]
    >>> health_score([120, 50], [1, 1])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: measures must be at most 100.0; 1 of 2 values breaks this ...
    """
    v.check_choice(missing, "missing", ("renormalize", "zero", "raise"))
    ndim = ndim_of(measures, "measures")
    if ndim not in (1, 2):
        raise InputError(
            f"measures must be 1-dimensional (one customer) or 2-dimensional (customers x "
            f"measures), got {ndim} dimensions"
        )
    x = v.as_float_array(measures, "measures", ndim=ndim, allow_nan=True, low=0.0, high=100.0)
    w = v.as_float_array(weights, "weights", nonnegative=True)
    # The score depends on the weights only through their ratios: scale them near 1 (by a
    # power of two, exactly) so that huge weights (1e308) do not overflow the sums.
    w = w / pow2_scale(w)
    x2 = x.reshape(1, -1) if ndim == 1 else x
    if x2.shape[1] != w.size:
        raise InputError(f"weights must have one value per measure ({x2.shape[1]}), got {w.size}")
    if not (w > 0).any():
        raise InputError("weights must have at least one positive value")
    present = ~np.isnan(x2)
    if missing == "raise" and not present.all():
        bad = ~present.reshape(-1)
        raise InputError(
            "measures must not be missing (NaN) with missing='raise'; "
            + v.describe_violations(bad, ("measures", x2.reshape(-1)))
        )
    filled = np.where(present, x2, 0.0)
    # Row sums, not a matrix product: BLAS may sum a row differently depending on how many
    # rows there are, and a customer's score must not depend on who else is in the call.
    total = (filled * w).sum(axis=1)
    if missing == "renormalize":
        denom = np.where(present, w, 0.0).sum(axis=1)
        empty = denom <= 0
        if empty.any():
            first = int(np.flatnonzero(empty)[0])
            raise InputError(
                f"measures leave no weight for {int(empty.sum())} of {empty.size} customers "
                f"(first at row {first}): every measure with a positive weight is missing, so "
                "the score is undefined"
            )
    else:
        denom = np.full(total.shape, w.sum())
    score: FloatArray = np.clip(total / denom, 0.0, 100.0)
    if ndim == 1:
        return float(score[0])
    return score


@overload
def band(
    scores: float,
    edges: ArrayLike,
    labels: Sequence[str],
    *,
    closed: Literal["left", "right"] = "left",
) -> str: ...


@overload
def band(
    scores: ArrayLike,
    edges: ArrayLike,
    labels: Sequence[str],
    *,
    closed: Literal["left", "right"] = "left",
) -> StrArray: ...


def band(
    scores: ArrayLike,
    edges: ArrayLike,
    labels: Sequence[str],
    *,
    closed: Literal["left", "right"] = "left",
) -> str | StrArray:
    """Label scores by bands between edges (e.g. red / amber / green health).

    Parameters
    ----------
    scores : float or array-like
        Finite scores, any shape.
    edges : array-like
        Strictly increasing, finite band boundaries (at least one).
    labels : sequence of str
        ``len(edges) + 1`` labels, lowest band first.
    closed : {"left", "right"}, default "left"
        ``"left"``: bands ``[e_k, e_{k+1})``, so a score equal to an edge
        joins the upper band (edges read as "at least"); ``"right"``: bands
        ``(e_k, e_{k+1}]``, a score on an edge stays in the lower band.

    Returns
    -------
    str or ndarray of str
        One label per score, the shape of ``scores``; for a single score (a
        Python or numpy scalar, or a 0-d array) the label as a Python ``str``.

    Raises
    ------
    InputError
        On NaN or infinite scores, edges not strictly increasing, or a label
        count other than ``len(edges) + 1``.

    Examples
    --------
    >>> band([12.0, 40.0, 69.9, 70.0], [40, 70], ["red", "amber", "green"]).tolist()
    ['red', 'amber', 'amber', 'green']
    >>> band(70.0, [40, 70], ["red", "amber", "green"])  # one score: a str
    'green'
    >>> band([40.0], [40, 70], ["red", "amber", "green"], closed="right").tolist()
    ['red']
    >>> band([50.0], [70, 40], ["red", "amber", "green"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: edges must be strictly increasing; 1 of 2 values breaks this ...
    """
    v.check_choice(closed, "closed", ("left", "right"))
    single = is_single(scores)
    if single:
        scores = np.array([scores])
    ndim = ndim_of(scores, "scores")
    x = v.as_float_array(scores, "scores", ndim=ndim, allow_empty=True)
    e = v.as_float_array(edges, "edges")
    bad = np.zeros(e.size, dtype=np.bool_)
    bad[1:] = e[1:] <= e[:-1]
    if bad.any():
        raise InputError(
            "edges must be strictly increasing; " + v.describe_violations(bad, ("edges", e))
        )
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise InputTypeError(f"labels must be a sequence of strings, got {type(labels).__name__}")
    names = list(labels)
    for i, label in enumerate(names):
        if not isinstance(label, str):
            raise InputTypeError(
                f"labels must hold strings; found {type(label).__name__} {label!r} at index {i}"
            )
    if len(names) != e.size + 1:
        raise InputError(f"labels must hold len(edges) + 1 = {e.size + 1} labels, got {len(names)}")
    side: Literal["left", "right"] = "right" if closed == "left" else "left"
    idx = np.searchsorted(e, x, side=side)
    return finish_labels(np.asarray(np.array(names)[idx]), single)

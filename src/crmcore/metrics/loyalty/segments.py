"""RFM segments: named regions of the score grid, preset rules and a rule checker."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._typing import ArrayLike, IntArray
from crmcore._validation import readonly as _ro
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics.loyalty._common import (
    SegmentRules,
    StrArray,
)
from crmcore.metrics.loyalty.rfm import RfmScores

__all__ = ["RFM_CUBE", "RF_GRID", "SegmentRuleReport", "rfm_segments", "validate_segment_rules"]

_DIMENSIONS = ("r", "f", "m")
# Above this many cells segment labels are found rule by rule, not by a lookup table.
_MAX_LOOKUP_CELLS = 1 << 20
# validate_segment_rules checks every cell against every rule: at most this many cells.
_MAX_CHECKED_CELLS = 1 << 20


def _frozen_rules(rules: dict[str, dict[str, tuple[int, int]]]) -> SegmentRules:
    return MappingProxyType({name: MappingProxyType(dict(spec)) for name, spec in rules.items()})


#: The common ten-segment map over (R, F) scores 1-5; it partitions the 25 cells.
#: First match wins (the cells do not overlap, so the order does not matter here).
RF_GRID: SegmentRules = _frozen_rules(
    {
        "champions": {"r": (5, 5), "f": (4, 5)},
        "loyal": {"r": (3, 4), "f": (4, 5)},
        "potential_loyalists": {"r": (4, 5), "f": (2, 3)},
        "new": {"r": (5, 5), "f": (1, 1)},
        "promising": {"r": (4, 4), "f": (1, 1)},
        "need_attention": {"r": (3, 3), "f": (3, 3)},
        "about_to_sleep": {"r": (3, 3), "f": (1, 2)},
        "at_risk": {"r": (1, 2), "f": (3, 4)},
        "cannot_lose": {"r": (1, 2), "f": (5, 5)},
        "hibernating": {"r": (1, 2), "f": (1, 2)},
    }
)

_HIGH, _LOW = (4, 5), (1, 3)
#: The eight-class R×F×M cube over scores 1-5: each dimension high (4-5) or
#: low (1-3); it partitions the 125 cells.
RFM_CUBE: SegmentRules = _frozen_rules(
    {
        "important_value": {"r": _HIGH, "f": _HIGH, "m": _HIGH},
        "important_develop": {"r": _HIGH, "f": _LOW, "m": _HIGH},
        "important_retain": {"r": _LOW, "f": _HIGH, "m": _HIGH},
        "important_win_back": {"r": _LOW, "f": _LOW, "m": _HIGH},
        "general_value": {"r": _HIGH, "f": _HIGH, "m": _LOW},
        "general_develop": {"r": _HIGH, "f": _LOW, "m": _LOW},
        "general_retain": {"r": _LOW, "f": _HIGH, "m": _LOW},
        "general_win_back": {"r": _LOW, "f": _LOW, "m": _LOW},
    }
)


# ---------------------------------------------------------------------- segments


@attrs.frozen(kw_only=True, eq=False)
class SegmentRuleReport:
    """What :func:`validate_segment_rules` found about a set of segment rules.

    Attributes
    ----------
    dimensions : tuple of str
        ``("r", "f")``, or ``("r", "f", "m")`` when a rule uses ``"m"``.
    bins : int
        Scores per dimension (1..bins).
    grid : ndarray of str
        The winning segment of each cell, indexed by score - 1
        (``grid[r - 1, f - 1]``); ``""`` for a gap.
    gaps : ndarray of int64, shape (k, len(dimensions))
        Score cells no rule matches.
    overlaps : ndarray of int64, shape (k, len(dimensions))
        Score cells more than one rule matches (the first one wins).
    overlapping_pairs : tuple of (str, str)
        Pairs of rules that share at least one cell.
    unreachable : tuple of str
        Rules that win no cell: earlier rules take all of their cells, or their
        ranges lie outside 1..bins.
    """

    dimensions: tuple[str, ...]
    bins: int
    grid: StrArray
    gaps: IntArray
    overlaps: IntArray
    overlapping_pairs: tuple[tuple[str, str], ...]
    unreachable: tuple[str, ...]

    @property
    def is_partition(self) -> bool:
        """True when every cell is matched by exactly one rule and every rule wins a cell."""
        return self.gaps.shape[0] == 0 and self.overlaps.shape[0] == 0 and not self.unreachable


def _check_rules(rules: object) -> list[tuple[str, dict[str, tuple[int, int]]]]:
    """Validate segment rules and return them as (name, {dim: (lo, hi)}) in order."""
    if not isinstance(rules, Mapping):
        raise InputTypeError(
            "rules must be a mapping of segment name -> {dimension: (low, high)}, "
            f"got {type(rules).__name__}"
        )
    if not rules:
        raise InputError("rules must hold at least one segment")
    parsed: list[tuple[str, dict[str, tuple[int, int]]]] = []
    for name, spec in rules.items():
        if not isinstance(name, str) or not name:
            raise InputTypeError(f"rules: segment names must be non-empty strings, got {name!r}")
        if not isinstance(spec, Mapping):
            raise InputTypeError(
                f"rules[{name!r}] must be a mapping of dimension -> (low, high), "
                f"got {type(spec).__name__}"
            )
        ranges: dict[str, tuple[int, int]] = {}
        for dim, rng in spec.items():
            if dim not in _DIMENSIONS:
                raise InputError(
                    f"rules[{name!r}] has an unknown dimension {dim!r}; use 'r', 'f' or 'm'"
                )
            ranges[dim] = _check_range(rng, f"rules[{name!r}][{dim!r}]")
        parsed.append((name, ranges))
    return parsed


def _check_range(rng: object, label: str) -> tuple[int, int]:
    def is_int(x: object) -> bool:
        return isinstance(x, numbers.Integral) and not isinstance(x, bool)

    if is_int(rng):
        lo = hi = int(rng)  # type: ignore[call-overload]
    elif isinstance(rng, Sequence) and not isinstance(rng, str) and len(rng) == 2:
        if not (is_int(rng[0]) and is_int(rng[1])):
            raise InputTypeError(f"{label} must hold two integer scores, got {rng!r}")
        lo, hi = int(rng[0]), int(rng[1])
    else:
        raise InputTypeError(f"{label} must be a score or a (low, high) pair, got {rng!r}")
    if lo < 1 or hi < lo:
        raise InputError(f"{label} must satisfy 1 <= low <= high, got ({lo}, {hi})")
    return lo, hi


def _rule_dimensions(parsed: list[tuple[str, dict[str, tuple[int, int]]]]) -> tuple[str, ...]:
    if any("m" in spec for _, spec in parsed):
        return _DIMENSIONS
    return ("r", "f")


def rfm_segments(
    scores: RfmScores | None = None,
    /,
    *,
    r: ArrayLike | None = None,
    f: ArrayLike | None = None,
    m: ArrayLike | None = None,
    rules: SegmentRules = RF_GRID,
    unmatched: str = "unclassified",
) -> StrArray:
    """Name each customer's segment from its RFM scores; the first matching rule wins.

    Parameters
    ----------
    scores : RfmScores, optional (positional only)
        Scores from :func:`rfm_scores`; its ``r``, ``f`` and ``m`` are used.
        Leave out to pass the score arrays.
    r, f : array-like of int, keyword-only
        Recency and frequency scores (1 = worst), when ``scores`` is left out.
    m : array-like of int, keyword-only, optional
        Monetary scores; required when a rule uses ``"m"``.
    rules : mapping, default RF_GRID
        Segment name -> {``"r"``/``"f"``/``"m"`` -> ``(low, high)`` inclusive
        score range, or a single score}. A dimension a rule leaves out matches
        any score (so ``{}`` is a catch-all). Rules are tried in order; the
        first that matches wins. Presets: :data:`RF_GRID`, :data:`RFM_CUBE`.
    unmatched : str, default "unclassified"
        Label of customers no rule matches: customers with score 0 (no
        purchase, from a summary) and any gap in the rules
        (see :func:`validate_segment_rules`).

    Returns
    -------
    ndarray of str
        One segment name per customer.

    Raises
    ------
    InputError
        On malformed rules, negative or non-integer scores, or mismatched
        lengths.
    InputTypeError
        On rules that are not mappings of ranges, rules using ``"m"`` without
        ``m``, scores together with ``r``/``f``/``m``, or neither.

    Notes
    -----
    :data:`RF_GRID` is the ten-segment (R, F) map common in RFM practice:
    champions R5 F4-5; loyal R3-4 F4-5; potential loyalists R4-5 F2-3; new R5
    F1; promising R4 F1; need attention R3 F3; about to sleep R3 F1-2; at risk
    R1-2 F3-4; cannot lose R1-2 F5; hibernating R1-2 F1-2.

    :data:`RFM_CUBE` splits each of R, F and M into high (4-5) and low (1-3)
    and names the eight corners as in the common eight-class RFM model
    (important/general value, develop, retain, win back): "important" means
    high M; R and F high is "value", R high and F low "develop", R low and F
    high "retain", both low "win back". High is the top two quintiles, above
    the middle score 3 that holds the median.

    Examples
    --------
    >>> rfm_segments(r=[5, 3, 1, 4], f=[5, 3, 2, 1]).tolist()
    ['champions', 'need_attention', 'hibernating', 'promising']
    >>> rules = {"best": {"r": (4, 5), "f": (4, 5)}, "rest": {}}
    >>> rfm_segments(r=[5, 2], f=[4, 5], rules=rules).tolist()
    ['best', 'rest']
    >>> rfm_segments(r=[5, 0], f=[4, 0]).tolist()
    ['champions', 'unclassified']
    >>> rfm_segments(r=[5, 4], f=[4, 4], rules=RFM_CUBE)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: m is required: rule 'important_value' uses the monetary score
    """
    if scores is not None:
        if not isinstance(scores, RfmScores):
            raise InputTypeError(
                "scores (rfm_segments' only positional argument) must be an RfmScores, got "
                f"{type(scores).__name__}; pass score arrays by keyword: r=..., f=..., m=..."
            )
        given = [name for name, arr in (("r", r), ("f", f), ("m", m)) if arr is not None]
        if given:
            raise InputTypeError(
                f"{', '.join(given)} must be left out when an RfmScores is given "
                "(its r, f and m are used)"
            )
        r, f, m = scores.r, scores.f, scores.m
    if r is None or f is None:
        raise InputTypeError("r and f are required unless an RfmScores is given")
    if not isinstance(unmatched, str):
        raise InputTypeError(f"unmatched must be a string, got {type(unmatched).__name__}")
    parsed = _check_rules(rules)
    dims = _rule_dimensions(parsed)
    by_dim: dict[str, IntArray] = {
        "r": v.as_int_array(r, "r", allow_empty=True, nonnegative=True),
        "f": v.as_int_array(f, "f", allow_empty=True, nonnegative=True),
    }
    if "m" in dims:
        if m is None:
            first = next(name for name, spec in parsed if "m" in spec)
            raise InputTypeError(f"m is required: rule {first!r} uses the monetary score")
        by_dim["m"] = v.as_int_array(m, "m", allow_empty=True, nonnegative=True)
    elif m is not None:
        by_dim["m"] = v.as_int_array(m, "m", allow_empty=True, nonnegative=True)
    v.check_same_length(*((d, by_dim[d]) for d in by_dim))
    names = np.array([name for name, _ in parsed] + [unmatched])
    n = by_dim["r"].size
    if n == 0:
        return names[np.zeros(0, dtype=np.int64)]
    top = max(int(by_dim[d].max()) for d in dims)
    if (top + 1) ** len(dims) <= _MAX_LOOKUP_CELLS:
        # One lookup table over all score cells, then one gather.
        table = _cell_codes(parsed, dims, top)
        flat = np.zeros(n, dtype=np.int64)
        for d in dims:
            flat *= top + 1
            flat += by_dim[d]
        code = table.reshape(-1)[flat]
    else:
        code = _codes_by_rule(parsed, by_dim, n)
    return names[code]


def _codes_by_rule(
    parsed: list[tuple[str, dict[str, tuple[int, int]]]], scores: Mapping[str, IntArray], n: int
) -> IntArray:
    code = np.full(n, len(parsed), dtype=np.int64)
    free = np.ones(n, dtype=np.bool_)
    for i, (_, spec) in enumerate(parsed):
        hit = free.copy()
        for dim, (lo, hi) in spec.items():
            s = scores[dim]
            hit &= (s >= lo) & (s <= hi)
        code[hit] = i
        free &= ~hit
    return code


def _cell_codes(
    parsed: list[tuple[str, dict[str, tuple[int, int]]]], dims: tuple[str, ...], top: int
) -> IntArray:
    """Winning rule index of every cell with scores 0..top (len(parsed) where none matches)."""
    axes = np.meshgrid(*([np.arange(top + 1)] * len(dims)), indexing="ij")
    cells = {d: a.reshape(-1) for d, a in zip(dims, axes, strict=True)}
    size = (top + 1) ** len(dims)
    return _codes_by_rule(parsed, cells, size).reshape((top + 1,) * len(dims))


def validate_segment_rules(rules: SegmentRules, *, bins: int = 5) -> SegmentRuleReport:
    """Check segment rules for gaps, overlaps and rules that can never win.

    Parameters
    ----------
    rules : mapping
        Segment rules as accepted by :func:`rfm_segments`.
    bins : int, default 5
        Scores per dimension. The cells checked are all score combinations
        1..bins over (R, F), or over (R, F, M) when a rule uses ``"m"``.

    Returns
    -------
    SegmentRuleReport
        The gaps, overlaps, overlapping rule pairs and unreachable rules, and
        the winning segment of every cell; ``is_partition`` tells whether the
        rules cover every cell exactly once with no dead rule.

    Raises
    ------
    InputError
        On malformed rules, ``bins < 1``, or more than 2**20 score cells
        (``bins**2``, or ``bins**3`` with a monetary rule).
    InputTypeError
        On rules that are not mappings of ranges.

    Examples
    --------
    >>> validate_segment_rules(RF_GRID).is_partition
    True
    >>> rules = {"top": {"r": (4, 5)}, "high": {"r": 5}, "low": {"r": (1, 2)}}
    >>> report = validate_segment_rules(rules)
    >>> report.gaps.tolist()[:2], report.unreachable, report.overlapping_pairs
    ([[3, 1], [3, 2]], ('high',), (('top', 'high'),))
    >>> validate_segment_rules({"bad": {"x": (1, 2)}})
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: rules['bad'] has an unknown dimension 'x'; use 'r', 'f' or 'm'
    """
    parsed = _check_rules(rules)
    n_bins = v.check_int(bins, "bins", low=1)
    dims = _rule_dimensions(parsed)
    d = len(dims)
    if n_bins**d > _MAX_CHECKED_CELLS:
        raise InputError(
            f"bins: {n_bins}^{d} = {n_bins**d} score cells exceed the {_MAX_CHECKED_CELLS} "
            "that are checked; use fewer bins"
        )
    axes = np.meshgrid(*([np.arange(1, n_bins + 1)] * d), indexing="ij")
    cells = np.stack([a.reshape(-1) for a in axes], axis=1).astype(np.int64)
    matches = np.zeros((len(parsed), cells.shape[0]), dtype=np.bool_)
    for i, (_, spec) in enumerate(parsed):
        hit = np.ones(cells.shape[0], dtype=np.bool_)
        for dim, (lo, hi) in spec.items():
            if dim in dims:
                col = cells[:, dims.index(dim)]
                hit &= (col >= lo) & (col <= hi)
        matches[i] = hit
    n_match = matches.sum(axis=0)
    winner = np.where(n_match > 0, matches.argmax(axis=0), -1)
    names = [name for name, _ in parsed]
    grid = np.array([*names, ""])[winner].reshape((n_bins,) * d)
    won = np.zeros(len(parsed), dtype=np.bool_)
    won[winner[winner >= 0]] = True
    pairs = [
        (names[i], names[j])
        for i in range(len(parsed))
        for j in range(i + 1, len(parsed))
        if (matches[i] & matches[j]).any()
    ]
    return SegmentRuleReport(
        dimensions=dims,
        bins=n_bins,
        grid=_ro(grid),
        gaps=_ro(cells[n_match == 0]),
        overlaps=_ro(cells[n_match > 1]),
        overlapping_pairs=tuple(pairs),
        unreachable=tuple(name for name, w in zip(names, won, strict=True) if not w),
    )

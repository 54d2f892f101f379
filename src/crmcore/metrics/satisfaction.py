"""Satisfaction and service metrics: NPS, CSAT, CES, ACSI, resolution, response time, complaints.

Scores from surveys are counts in disguise: the Net Promoter Score and CSAT
depend only on how many answers fall in each group, so their results expose
those counts and offer ``combine`` to pool partitions (days, regions, workers)
into exactly the result of the whole. NPS and CSAT are in points, as the
industry quotes them (NPS in [-100, 100], CSAT in [0, 100]); every other rate
is a fraction in [0, 1].
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from typing import Literal, TypeVar, cast

import attrs
import numpy as np

from crmcore import _validation as v
from crmcore._tdist import normal_ppf, normal_sf, t_ppf
from crmcore._typing import ArrayLike, FloatArray, SeedLike
from crmcore.errors import InputError, InputTypeError
from crmcore.metrics._numeric import ndim_of, scaled_mean
from crmcore.records import InteractionKind
from crmcore.table import KIND_CODES, InteractionTable, _missing_labels

__all__ = [
    "CesResult",
    "ComplaintRate",
    "NpsDifference",
    "NpsResult",
    "ProportionResult",
    "RateResult",
    "ResponseTimeStats",
    "acsi",
    "ces",
    "complaint_rate",
    "csat",
    "csat_from_counts",
    "first_contact_resolution_rate",
    "nps",
    "nps_difference",
    "nps_from_counts",
    "response_time_stats",
]

NpsInterval = Literal["wald", "adjusted_wald", "bootstrap"]
CesDirection = Literal["agreement", "effort"]
TimeUnit = Literal["s", "min", "h", "D"]
_NPS_INTERVALS = ("wald", "adjusted_wald", "bootstrap")
_UNIT_NS = {"s": 1e9, "min": 60e9, "h": 3600e9, "D": 86400e9}


# ---------------------------------------------------------------- shared helpers


def _survey_answers(
    table: InteractionTable, question: object, scale: tuple[float, float]
) -> FloatArray:
    """Return the answers of ``table`` to ``question``, checked to lie on ``scale``.

    Every answered row (a row with a survey score) must carry a question label:
    without labels, or with some rows labelled and some not, a 1-10 CSAT could
    be read as a 0-10 recommendation answer, so the table is refused.
    """
    if not isinstance(question, str):
        raise InputTypeError(
            f"question must be a str (a label of survey_questions), got {type(question).__name__}"
        )
    if not question:
        raise InputError("question must not be an empty string")
    scores = table.survey_scores
    if scores is None or table.survey_scale_min is None or table.survey_scale_max is None:
        raise InputError(
            "scores: the table has no survey_scores column; build it with survey_scores=... "
            "or pass the answers directly"
        )
    answered = ~np.isnan(scores)
    labels = table.survey_questions
    if labels is None:
        raise InputError(
            f"scores: the table's survey answers carry no question label, so the answers to "
            f"{question!r} cannot be told from others (a 1-10 CSAT would pass for a 0-10 "
            "recommendation score); build the table with survey_questions=... or pass the "
            "answers directly"
        )
    unlabelled = answered & _missing_labels(labels)
    if unlabelled.any():
        raise InputError(
            "scores: the table mixes labelled and unlabelled survey answers, so the answers to "
            f"{question!r} cannot be told from others; label every answer in survey_questions; "
            + v.describe_violations(unlabelled, ("survey_scores", scores))
        )
    chosen = answered & np.asarray(labels == question, dtype=np.bool_)
    if not chosen.any():
        present = sorted({str(x) for x in labels[answered].tolist()})
        raise InputError(
            f"scores: the table holds no answer to the question {question!r}; "
            f"questions found: {', '.join(repr(q) for q in present) or 'none'}"
        )
    low, high = table.survey_scale_min, table.survey_scale_max
    off = chosen & ((low != scale[0]) | (high != scale[1]))
    if off.any():
        raise InputError(
            f"scores: the answers to {question!r} must be on the scale {scale[0]:g}-{scale[1]:g}; "
            + v.describe_violations(off, ("survey_scale_min", low), ("survey_scale_max", high))
        )
    return scores[chosen]


def _check_confidence(confidence: object) -> float:
    return v.check_float(confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True)


def _z(confidence: float) -> float:
    """Two-sided normal critical value for a confidence level."""
    return -normal_ppf(0.5 * (1.0 - confidence))


def _wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion, as fractions."""
    z = _z(confidence)
    p = k / n
    z2n = z * z / n
    centre = (p + 0.5 * z2n) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / n + 0.25 * z2n / n) / (1.0 + z2n)
    # At k = 0 (k = n) the lower (upper) limit is exactly 0 (1); rounding would
    # otherwise leave it a hair inside.
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


#: Largest answer scale of csat, ces and acsi (a 0-1000 slider is the finest in use).
_MAX_SCALE = 1000


def _check_count(x: object, name: str, *, low: int = 0) -> int:
    if isinstance(x, np.integer):
        x = int(x)
    return v.check_int(x, name, low=low)


_R = TypeVar("_R")


def _parts(parts: object, cls: type[_R], name: str = "parts") -> list[_R]:
    items = v.as_sequence_of(parts, name, cls, cls.__name__)
    if not items:
        raise InputError(f"{name} must hold at least one {cls.__name__}")
    return items


# ---------------------------------------------------------------- NPS


@attrs.frozen(kw_only=True)
class NpsResult:
    """A Net Promoter Score with its counts, standard error and interval.

    Attributes
    ----------
    score : float
        ``100·(promoters - detractors)/n``, in points (-100 to 100).
    standard_error : float
        Standard error of ``score``, in points.
    interval : tuple of float
        ``(low, high)`` confidence limits in points, clipped to [-100, 100].
    n : int
        Number of answers.
    promoters, passives, detractors : int
        Answers of 9-10, 7-8 and 0-6.
    confidence : float
        Confidence level of ``interval``.
    interval_method : str
        ``"wald"``, ``"adjusted_wald"`` or ``"bootstrap"``.
    """

    score: float
    standard_error: float
    interval: tuple[float, float]
    n: int
    promoters: int
    passives: int
    detractors: int
    confidence: float
    interval_method: str

    @staticmethod
    def combine(
        parts: Sequence[NpsResult],
        *,
        interval: NpsInterval | None = None,
        confidence: float | None = None,
        rng: SeedLike = None,
        n_resamples: int = 10_000,
    ) -> NpsResult:
        """Pool the answers of several results into one (the NPS of the union).

        Parameters
        ----------
        parts : sequence of NpsResult
            Results on disjoint sets of answers (days, regions, partitions).
        interval, confidence : optional
            Interval method and level of the pooled result; by default those
            of the first part.
        rng, n_resamples : optional
            Needed for ``interval="bootstrap"`` (see :func:`nps`).

        Returns
        -------
        NpsResult
            Equal to :func:`nps` on all the answers at once.

        Examples
        --------
        >>> a = nps([10, 9, 3])
        >>> b = nps([8, 10])
        >>> NpsResult.combine([a, b]).score
        40.0
        >>> NpsResult.combine([])
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: parts must hold at least one NpsResult
        """
        items = _parts(parts, NpsResult)
        first = items[0]
        return nps_from_counts(
            sum(p.promoters for p in items),
            sum(p.passives for p in items),
            sum(p.detractors for p in items),
            interval=cast(NpsInterval, first.interval_method) if interval is None else interval,
            confidence=first.confidence if confidence is None else confidence,
            rng=rng,
            n_resamples=n_resamples,
        )


def nps(
    scores: ArrayLike | InteractionTable,
    *,
    question: str = "nps",
    interval: NpsInterval = "wald",
    confidence: float = 0.95,
    rng: SeedLike = None,
    n_resamples: int = 10_000,
) -> NpsResult:
    """Net Promoter Score of 0-10 "how likely are you to recommend us" answers.

    Parameters
    ----------
    scores : array-like of int or InteractionTable
        One answer per respondent, whole numbers from 0 to 10 (floats holding
        whole numbers are accepted); or a table whose answers to ``question``
        are taken (see :func:`csat` for the rules).
    question : str, default "nps"
        With a table: the label, in ``survey_questions``, of the
        recommendation question. Ignored for an array.
    interval : {"wald", "adjusted_wald", "bootstrap"}
        How the confidence interval is formed (see Notes).
    confidence : float
        Confidence level, strictly between 0 and 1.
    rng : int or numpy.random.Generator, optional
        Required for ``interval="bootstrap"``; ignored otherwise.
    n_resamples : int
        Bootstrap resamples (100 to 1,000,000).

    Returns
    -------
    NpsResult
        Score, standard error and interval in points, and the counts.

    Raises
    ------
    InputError
        On no answers, an answer outside 0-10 or not a whole number (the
        message names its index), NaN, or an unknown interval method.
    InputTypeError
        On answers that are not numbers, or a bootstrap without ``rng``.

    See Also
    --------
    nps_from_counts : the same from the three counts.
    nps_difference : compare two scores.
    NpsResult.combine : pool partitions.

    Notes
    -----
    With ``p`` and ``d`` the shares of promoters (9-10) and detractors (0-6)
    among ``n`` answers, ``NPS = 100·(p - d)``. Each answer contributes
    +1, 0 or -1, so the variance of the score is
    ``(p + d - (p - d)²)/n`` (times 100²), and

    * ``"wald"``: ``NPS ± z·SE``;
    * ``"adjusted_wald"`` (Rocks 2016): the same formula after adding 3/4 to
      the promoters and to the detractors and 3 to ``n`` (3/2 to the
      passives), which keeps the coverage near nominal for small samples and
      extreme scores; the interval is centred on the adjusted score;
    * ``"bootstrap"``: percentile interval of ``n_resamples`` scores of
      multinomial resamples of the three counts (vectorised).

    The reported ``score`` and ``standard_error`` are always the unadjusted
    ones. Limits are clipped to [-100, 100].

    References
    ----------
    Reichheld, F. F. (2003). The one number you need to grow. Harvard Business
    Review 81(12), 46-54.
    Rocks, B. (2016). Interval estimation for the "net promoter score". The
    American Statistician 70(4), 365-372.

    Examples
    --------
    >>> r = nps([10] * 50 + [8] * 30 + [3] * 20)
    >>> r.score, round(r.standard_error, 4), [round(x, 3) for x in r.interval]
    (30.0, 7.8102, [14.692, 45.308])
    >>> [round(x, 3) for x in nps([10] * 50 + [8] * 30 + [3] * 20,
    ...                           interval="adjusted_wald").interval]
    [14.051, 44.201]
    >>> nps([10, 9.5, 3])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: scores must hold whole numbers; 1 of 3 values breaks this ...
    """
    if isinstance(scores, InteractionTable):
        scores = _survey_answers(scores, question, (0.0, 10.0))
    answers = v.as_int_array(scores, "scores", low=0, high=10)
    counts = np.bincount(answers, minlength=11)
    return nps_from_counts(
        int(counts[9:].sum()),
        int(counts[7:9].sum()),
        int(counts[:7].sum()),
        interval=interval,
        confidence=confidence,
        rng=rng,
        n_resamples=n_resamples,
    )


def nps_from_counts(
    promoters: int,
    passives: int,
    detractors: int,
    *,
    interval: NpsInterval = "wald",
    confidence: float = 0.95,
    rng: SeedLike = None,
    n_resamples: int = 10_000,
) -> NpsResult:
    """Net Promoter Score from the numbers of promoters, passives and detractors.

    Parameters
    ----------
    promoters, passives, detractors : int
        Counts of answers 9-10, 7-8 and 0-6; non-negative, not all zero.
    interval, confidence, rng, n_resamples
        As in :func:`nps`.

    Returns
    -------
    NpsResult

    Raises
    ------
    InputError
        On negative counts, no answers at all, or a bad option.
    InputTypeError
        On a bootstrap without ``rng``.

    See Also
    --------
    nps

    Notes
    -----
    See :func:`nps` for the formulas.

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". The
    American Statistician 70(4), 365-372.

    Examples
    --------
    >>> r = nps_from_counts(50, 30, 20)
    >>> r.score, r.n
    (30.0, 100)
    >>> nps_from_counts(0, 0, 0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: the NPS of zero answers is undefined; promoters, passives ...
    """
    n_p = _check_count(promoters, "promoters")
    n_pa = _check_count(passives, "passives")
    n_d = _check_count(detractors, "detractors")
    method = v.check_choice(interval, "interval", _NPS_INTERVALS)
    level = _check_confidence(confidence)
    n = n_p + n_pa + n_d
    if n == 0:
        raise InputError(
            "the NPS of zero answers is undefined; promoters, passives and detractors are all 0"
        )
    generator = None
    if method == "bootstrap":
        if rng is None:
            raise InputTypeError(
                "rng is required for interval='bootstrap' (pass an int seed or a "
                "numpy.random.Generator)"
            )
        generator = v.as_generator(rng, "rng")
        # each resample is three counts: a million of them take 24 MB and well under a second
        resamples = v.check_int(n_resamples, "n_resamples", low=100, high=1_000_000)
    score, se = _nps_score_se(n_p, n_d, n)
    if method == "wald":
        half = _z(level) * se
        low, high = score - half, score + half
    elif method == "adjusted_wald":
        adj_score, adj_se = _nps_score_se(n_p + 0.75, n_d + 0.75, n + 3.0)
        half = _z(level) * adj_se
        low, high = adj_score - half, adj_score + half
    else:
        assert generator is not None
        draws = generator.multinomial(n, [n_p / n, n_pa / n, n_d / n], size=resamples)
        boot = 100.0 * (draws[:, 0] - draws[:, 2]) / n
        alpha = 1.0 - level
        low, high = (float(x) for x in np.quantile(boot, [alpha / 2.0, 1.0 - alpha / 2.0]))
    return NpsResult(
        score=score,
        standard_error=se,
        interval=(max(-100.0, float(low)), min(100.0, float(high))),
        n=n,
        promoters=n_p,
        passives=n_pa,
        detractors=n_d,
        confidence=level,
        interval_method=method,
    )


def _nps_score_se(promoters: float, detractors: float, n: float) -> tuple[float, float]:
    p, d = promoters / n, detractors / n
    score = 100.0 * (promoters - detractors) / n
    # Var of one answer in {+1, 0, -1}: p + d - (p - d)², written as a sum of
    # non-negative terms so that rounding cannot make it negative.
    var = p * (1.0 - p) + d * (1.0 - d) + 2.0 * p * d
    return score, 100.0 * math.sqrt(var / n)


@attrs.frozen(kw_only=True)
class NpsDifference:
    """Difference of two independent Net Promoter Scores (``a - b``).

    Attributes
    ----------
    difference : float
        ``a.score - b.score`` in points.
    standard_error : float
        ``√(SE_a² + SE_b²)`` in points.
    interval : tuple of float
        Wald confidence limits of the difference, in points.
    z : float
        ``difference / standard_error``.
    p_value : float
        Two-sided p-value of "no difference" under the normal approximation.
    confidence : float
        Confidence level of ``interval``.
    """

    difference: float
    standard_error: float
    interval: tuple[float, float]
    z: float
    p_value: float
    confidence: float


def nps_difference(
    a: NpsResult | ArrayLike, b: NpsResult | ArrayLike, *, confidence: float = 0.95
) -> NpsDifference:
    """Test whether two Net Promoter Scores differ (independent samples).

    Parameters
    ----------
    a, b : NpsResult or array-like of int
        The two scores, as results of :func:`nps` or as raw 0-10 answers.
    confidence : float
        Confidence level of the interval of the difference.

    Returns
    -------
    NpsDifference
        Difference ``a - b``, its standard error, interval, z and two-sided p-value.

    Raises
    ------
    InputError
        When both samples have zero variance (every answer of each sample in
        one group), where the test is undefined, and on bad answers.

    See Also
    --------
    nps

    Notes
    -----
    The unpooled Wald test for independent samples:
    ``z = (NPS_a - NPS_b)/√(SE_a² + SE_b²)``, ``p = 2·(1 - Φ(|z|))``. Each
    ``SE`` is the unadjusted standard error of :func:`nps`.

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". The
    American Statistician 70(4), 365-372.

    Examples
    --------
    >>> d = nps_difference(nps_from_counts(50, 30, 20), nps_from_counts(40, 30, 30))
    >>> d.difference, round(d.standard_error, 3), round(d.p_value, 4)
    (20.0, 11.402, 0.0794)
    >>> nps_difference([10, 10], [0, 0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: the NPS difference test is undefined: both samples have a ...
    """
    res_a = a if isinstance(a, NpsResult) else _nps_arg(a, "a")
    res_b = b if isinstance(b, NpsResult) else _nps_arg(b, "b")
    level = _check_confidence(confidence)
    diff = res_a.score - res_b.score
    se = math.hypot(res_a.standard_error, res_b.standard_error)
    if se == 0.0:
        raise InputError(
            "the NPS difference test is undefined: both samples have a standard error of 0 "
            "(each has all its answers in one group)"
        )
    z = diff / se
    half = _z(level) * se
    return NpsDifference(
        difference=diff,
        standard_error=se,
        interval=(diff - half, diff + half),
        z=z,
        p_value=min(1.0, 2.0 * normal_sf(abs(z))),
        confidence=level,
    )


def _nps_arg(x: ArrayLike, name: str) -> NpsResult:
    answers = v.as_int_array(x, name, low=0, high=10)
    counts = np.bincount(answers, minlength=11)
    return nps_from_counts(int(counts[9:].sum()), int(counts[7:9].sum()), int(counts[:7].sum()))


# ---------------------------------------------------------------- CSAT and rates


@attrs.frozen(kw_only=True)
class ProportionResult:
    """A share in points (0-100) with its Wilson interval and counts, e.g. CSAT.

    Attributes
    ----------
    score : float
        ``100·k/n``.
    interval : tuple of float
        Wilson score limits in points.
    n : int
        Number of answers.
    k : int
        Answers counted (the top boxes for CSAT).
    confidence : float
        Confidence level of ``interval``.
    """

    score: float
    interval: tuple[float, float]
    n: int
    k: int
    confidence: float

    @staticmethod
    def combine(
        parts: Sequence[ProportionResult], *, confidence: float | None = None
    ) -> ProportionResult:
        """Pool several results on disjoint answers into the result of the union.

        Examples
        --------
        >>> ProportionResult.combine([csat([5, 4, 1]), csat([2])]).score
        50.0
        """
        items = _parts(parts, ProportionResult)
        return csat_from_counts(
            sum(p.k for p in items),
            sum(p.n for p in items),
            confidence=items[0].confidence if confidence is None else confidence,
        )


def csat(
    scores: ArrayLike | InteractionTable,
    *,
    question: str = "csat",
    scale: int = 5,
    top_box: int = 2,
    confidence: float = 0.95,
) -> ProportionResult:
    """Compute CSAT, the share of answers in the top boxes, in points.

    Parameters
    ----------
    scores : array-like of int or InteractionTable
        Answers on a 1..``scale`` scale (whole numbers); or a table, whose
        answers labelled ``question`` in ``survey_questions`` are taken. Each
        answered row of the table must carry a label (a table without labels,
        or mixing labelled and unlabelled answers, is refused: a 1-10
        satisfaction rating must never pass for another question's answer),
        and the chosen rows must be on the scale 1..``scale``.
    question : str, default "csat"
        With a table: the label of the satisfaction question. Ignored for an
        array.
    scale : int
        Highest answer (2 to 1000); 5 for the common 5-point question.
    top_box : int
        How many of the highest answers count as satisfied (1 to
        ``scale - 1``); 2 (answers 4 and 5 on 5 points) is the usual CSAT.
    confidence : float
        Confidence level of the Wilson interval.

    Returns
    -------
    ProportionResult
        Score and interval in points (0-100), with ``n`` and ``k``.

    Raises
    ------
    InputError
        On no answers, answers outside 1..scale or not whole numbers, bad options.

    See Also
    --------
    csat_from_counts, ProportionResult.combine

    Notes
    -----
    ``CSAT = 100·k/n`` with ``k`` the answers of at least
    ``scale - top_box + 1``. The Wilson score interval,
    ``(p + z²/2n ± z·√(p(1-p)/n + z²/4n²))/(1 + z²/n)``, stays inside [0, 1]
    and covers well even for small ``n`` and shares near 0 or 1.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and
    statistical inference. JASA 22(158), 209-212.

    Examples
    --------
    >>> r = csat([5] * 35 + [4] * 25 + [3] * 20 + [1] * 20)
    >>> r.score, [round(x, 2) for x in r.interval]
    (60.0, [50.2, 69.06])
    >>> csat([5, 6])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: scores must be at most 5; 1 of 2 values breaks this (at ...

    From a table, by the question label of each answer:

    >>> import numpy as np
    >>> from crmcore import InteractionTable
    >>> t = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[ns]")
    >>> table = InteractionTable.from_arrays(
    ...     [1, 2, 3], t, kinds=["survey"] * 3, survey_scores=[5, 9, 2],
    ...     survey_scale_min=[1, 0, 1], survey_scale_max=[5, 10, 5],
    ...     survey_questions=["csat", "nps", "csat"])
    >>> csat(table).k, csat(table).n, nps(table).n
    (1, 2, 1)
    """
    top = v.check_int(scale, "scale", low=2, high=_MAX_SCALE)
    boxes = v.check_int(top_box, "top_box", low=1, high=top - 1)
    if isinstance(scores, InteractionTable):
        scores = _survey_answers(scores, question, (1.0, float(top)))
    answers = v.as_int_array(scores, "scores", low=1, high=top)
    k = int(np.count_nonzero(answers >= top - boxes + 1))
    return csat_from_counts(k, int(answers.size), confidence=confidence)


def csat_from_counts(k: int, n: int, *, confidence: float = 0.95) -> ProportionResult:
    """CSAT (or any share in points) from ``k`` satisfied answers out of ``n``.

    Parameters
    ----------
    k : int
        Satisfied answers, ``0 <= k <= n``.
    n : int
        All answers, at least 1.
    confidence : float
        Confidence level of the Wilson interval.

    Returns
    -------
    ProportionResult

    Raises
    ------
    InputError
        When ``n`` is 0 (undefined), ``k`` is negative or exceeds ``n``.

    Examples
    --------
    >>> csat_from_counts(60, 100).score
    60.0
    >>> csat_from_counts(3, 2)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: k must not exceed n; got k=3, n=2
    """
    kk, nn, level = _proportion_args(k, n, confidence)
    low, high = _wilson(kk, nn, level)
    return ProportionResult(
        score=100.0 * kk / nn, interval=(100.0 * low, 100.0 * high), n=nn, k=kk, confidence=level
    )


def _proportion_args(k: object, n: object, confidence: object) -> tuple[int, int, float]:
    kk = _check_count(k, "k")
    nn = _check_count(n, "n")
    if nn == 0:
        raise InputError("n must be at least 1: a share of zero answers is undefined")
    if kk > nn:
        raise InputError(f"k must not exceed n; got k={kk}, n={nn}")
    return kk, nn, _check_confidence(confidence)


@attrs.frozen(kw_only=True)
class RateResult:
    """A rate as a fraction in [0, 1] with its Wilson interval and counts.

    Attributes
    ----------
    rate : float
        ``k/n``.
    interval : tuple of float
        Wilson score limits, fractions.
    n : int
        Cases (e.g. support contacts with a known outcome).
    k : int
        Successes (e.g. resolved at first contact).
    confidence : float
        Confidence level of ``interval``.
    """

    rate: float
    interval: tuple[float, float]
    n: int
    k: int
    confidence: float

    @staticmethod
    def combine(parts: Sequence[RateResult], *, confidence: float | None = None) -> RateResult:
        """Pool several results on disjoint cases into the result of the union.

        Examples
        --------
        >>> a = first_contact_resolution_rate([True, False])
        >>> b = first_contact_resolution_rate([True, True])
        >>> RateResult.combine([a, b]).rate
        0.75
        """
        items = _parts(parts, RateResult)
        return _rate(
            sum(p.k for p in items),
            sum(p.n for p in items),
            items[0].confidence if confidence is None else confidence,
        )


def _rate(k: object, n: object, confidence: object) -> RateResult:
    kk, nn, level = _proportion_args(k, n, confidence)
    return RateResult(rate=kk / nn, interval=_wilson(kk, nn, level), n=nn, k=kk, confidence=level)


def first_contact_resolution_rate(
    resolved: ArrayLike | InteractionTable, *, confidence: float = 0.95
) -> RateResult:
    """Share of support contacts resolved at the first contact.

    Parameters
    ----------
    resolved : array-like of bool or InteractionTable
        One flag per contact (True/1 resolved, False/0 not); or a table, whose
        ``resolved_at_first_contact`` column is used on the rows where it is
        known (1 or 0; -1 rows are skipped).
    confidence : float
        Confidence level of the Wilson interval.

    Returns
    -------
    RateResult
        The rate (a fraction), its interval and the counts.

    Raises
    ------
    InputError
        On no contacts, values other than booleans or 0/1, a table without the
        column or without a known outcome.

    Notes
    -----
    ``FCR = resolved / contacts``; the interval is Wilson's (see :func:`csat`).

    Examples
    --------
    >>> first_contact_resolution_rate([True, True, False, True]).rate
    0.75
    >>> first_contact_resolution_rate([1, 2])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: resolved must hold booleans (or 0/1); 1 of 2 values breaks ...
    """
    if isinstance(resolved, InteractionTable):
        column = resolved.resolved_at_first_contact
        if column is None:
            raise InputError(
                "resolved: the table has no resolved_at_first_contact column; build it with "
                "resolved_at_first_contact=... or pass the flags directly"
            )
        known = column[column >= 0]
        if known.size == 0:
            raise InputError(
                "resolved: no row of the table has a known first-contact outcome (all are -1)"
            )
        return _rate(int(np.count_nonzero(known == 1)), int(known.size), confidence)
    flags = v.as_bool_array(resolved, "resolved")
    return _rate(int(np.count_nonzero(flags)), int(flags.size), confidence)


# ---------------------------------------------------------------- CES


@attrs.frozen(kw_only=True)
class CesResult:
    """Customer Effort Score: mean answer with a Student-t interval.

    Attributes
    ----------
    mean : float
        Mean answer, on the answer scale.
    standard_error : float
        ``s/√n`` with the sample standard deviation ``s`` (ddof = 1).
    interval : tuple of float
        Student-t confidence limits of the mean, on the answer scale.
    n : int
        Number of answers.
    share_agreeing : float
        Fraction of favourable answers: above the scale's midpoint for
        ``direction="agreement"``, below it for ``"effort"``.
    n_agreeing : int
        Number of favourable answers.
    sum_squared_deviations : float
        ``Σ(x - mean)²``, kept so that parts can be pooled exactly.
    scale : int
        Highest answer.
    direction : str
        ``"agreement"`` or ``"effort"``.
    confidence : float
        Confidence level of ``interval``.
    """

    mean: float
    standard_error: float
    interval: tuple[float, float]
    n: int
    share_agreeing: float
    n_agreeing: int
    sum_squared_deviations: float
    scale: int
    direction: str
    confidence: float

    @staticmethod
    def combine(parts: Sequence[CesResult], *, confidence: float | None = None) -> CesResult:
        """Pool results on disjoint answers (same scale and direction) into one.

        The means and squared deviations merge exactly (Chan, Golub & LeVeque
        1979): ``M2 = M2_a + M2_b + δ²·n_a·n_b/(n_a + n_b)`` with ``δ`` the
        difference of the means.

        Examples
        --------
        >>> a, b = ces([7, 6, 2]), ces([5, 5])
        >>> round(CesResult.combine([a, b]).mean, 6) == round(ces([7, 6, 2, 5, 5]).mean, 6)
        True
        """
        items = _parts(parts, CesResult)
        first = items[0]
        for i, p in enumerate(items[1:], start=1):
            if p.scale != first.scale or p.direction != first.direction:
                raise InputError(
                    "parts must share scale and direction; part 0 has "
                    f"scale={first.scale}, direction={first.direction!r}, part {i} has "
                    f"scale={p.scale}, direction={p.direction!r}"
                )
        n, mean, m2 = first.n, first.mean, first.sum_squared_deviations
        for p in items[1:]:
            total = n + p.n
            delta = p.mean - mean
            mean += delta * p.n / total
            m2 += p.sum_squared_deviations + delta * delta * n * p.n / total
            n = total
        return _ces_result(
            n,
            mean,
            m2,
            n_agree=sum(p.n_agreeing for p in items),
            scale=first.scale,
            direction=first.direction,
            level=first.confidence if confidence is None else _check_confidence(confidence),
        )


def ces(
    scores: ArrayLike | InteractionTable,
    *,
    question: str = "ces",
    scale: int = 7,
    direction: CesDirection = "agreement",
    confidence: float = 0.95,
) -> CesResult:
    """Compute the Customer Effort Score: mean answer, Student-t interval, share agreeing.

    Parameters
    ----------
    scores : array-like of int or InteractionTable
        Answers on a 1..``scale`` scale (whole numbers); or a table whose
        answers to ``question`` are taken (see :func:`csat` for the rules).
    question : str, default "ces"
        With a table: the label of the effort question. Ignored for an array.
    scale : int
        Highest answer (2 to 1000); 7 for the current CES 2.0 agreement question ("The
        company made it easy for me to handle my issue").
    direction : {"agreement", "effort"}
        ``"agreement"``: higher is better (CES 2.0). ``"effort"``: the
        original 5-point question ("How much effort did you personally have to
        put forth?") where lower is better; pass ``scale=5`` for it.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    CesResult

    Raises
    ------
    InputError
        On fewer than 2 answers (the interval needs a standard deviation),
        answers outside 1..scale or not whole numbers, bad options.

    Notes
    -----
    ``mean ± t_{1-α/2, n-1}·s/√n``, with the Student-t quantile from a
    private numpy-free routine. An answer is favourable when it lies strictly
    above the midpoint ``(scale + 1)/2`` (agreement) or strictly below it
    (effort): 5-7 of 7, or 1-2 of 5.

    References
    ----------
    Dixon, M., Freeman, K. & Toman, N. (2010). Stop trying to delight your
    customers. Harvard Business Review 88(7/8), 116-122.

    Examples
    --------
    >>> r = ces([7, 6, 6, 5, 3, 2, 7, 5])
    >>> r.mean, round(r.share_agreeing, 3), [round(x, 3) for x in r.interval]
    (5.125, 0.75, [3.614, 6.636])
    >>> ces([7])
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: scores must hold at least 2 answers for a Student-t interval, got 1
    """
    top = v.check_int(scale, "scale", low=2, high=_MAX_SCALE)
    way = v.check_choice(direction, "direction", ("agreement", "effort"))
    level = _check_confidence(confidence)
    if isinstance(scores, InteractionTable):
        scores = _survey_answers(scores, question, (1.0, float(top)))
    answers = v.as_int_array(scores, "scores", low=1, high=top)
    n = int(answers.size)
    if n < 2:
        raise InputError(f"scores must hold at least 2 answers for a Student-t interval, got {n}")
    x = answers.astype(np.float64)
    mean = float(x.mean())
    m2 = float(np.square(x - mean).sum())
    midpoint = (top + 1) / 2.0
    favourable = answers > midpoint if way == "agreement" else answers < midpoint
    return _ces_result(
        n,
        mean,
        m2,
        n_agree=int(np.count_nonzero(favourable)),
        scale=top,
        direction=way,
        level=level,
    )


def _ces_result(
    n: int, mean: float, m2: float, *, n_agree: int, scale: int, direction: str, level: float
) -> CesResult:
    se = math.sqrt(m2 / (n - 1) / n)
    half = t_ppf(0.5 * (1.0 + level), n - 1) * se
    return CesResult(
        mean=mean,
        standard_error=se,
        interval=(mean - half, mean + half),
        n=n,
        share_agreeing=n_agree / n,
        n_agreeing=n_agree,
        sum_squared_deviations=m2,
        scale=scale,
        direction=direction,
        confidence=level,
    )


# ---------------------------------------------------------------- ACSI


def acsi(item_means: ArrayLike, weights: ArrayLike | None = None, *, scale: int = 10) -> float:
    """Weighted satisfaction index on 0-100 from mean item ratings (ACSI style).

    Parameters
    ----------
    item_means : array-like of float
        Mean rating of each satisfaction item, on a 1..``scale`` scale.
    weights : array-like of float, optional
        Non-negative weight of each item (for ACSI, the outer weights of the
        satisfaction construct); normalised to sum to 1. Equal weights when
        omitted.
    scale : int
        Highest rating (2 to 1000); 10 for the ACSI questionnaire.

    Returns
    -------
    float
        ``100·Σ w_i (x̄_i - 1)/(scale - 1)``, between 0 and 100.

    Raises
    ------
    InputError
        On no items, means outside 1..scale, NaN, negative weights, weights
        summing to 0, or mismatched lengths.

    Notes
    -----
    The ACSI rescales the weighted mean of 1-10 ratings to 0-100:
    ``100·Σ w (x̄ - 1)/9``. The weights come from the structural model; this
    function takes them as given.

    References
    ----------
    Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J. & Bryant, B. E.
    (1996). The American Customer Satisfaction Index: nature, purpose, and
    findings. Journal of Marketing 60(4), 7-18.

    Examples
    --------
    >>> round(acsi([8.2, 7.9, 7.5], [0.4, 0.35, 0.25]), 3)
    76.889
    >>> acsi([8.2, 11.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: item_means must be at most 10.0; 1 of 2 values breaks this ...
    """
    top = v.check_int(scale, "scale", low=2, high=_MAX_SCALE)
    means = v.as_float_array(item_means, "item_means", low=1.0, high=float(top))
    if weights is None:
        w = np.full(means.size, 1.0 / means.size)
    else:
        w = v.as_float_array(weights, "weights", nonnegative=True)
        v.check_same_length(("item_means", means), ("weights", w))
        total = float(w.sum())
        if total <= 0.0:
            raise InputError("weights must not all be 0")
        w = w / total
    return float(min(100.0, max(0.0, 100.0 * float(np.dot(w, means - 1.0)) / (top - 1))))


# ---------------------------------------------------------------- response times


@attrs.frozen(kw_only=True)
class ResponseTimeStats:
    """Summary of response times, in ``time_unit``.

    Attributes
    ----------
    median, p90, mean, max : float
        The median, 90th percentile (linear interpolation, numpy's default),
        mean and largest response time.
    n : int
        Number of response times.
    time_unit : str
        ``"s"``, ``"min"``, ``"h"`` or ``"D"``.
    """

    median: float
    p90: float
    mean: float
    max: float
    n: int
    time_unit: str


def response_time_stats(
    response_times: ArrayLike | InteractionTable, *, time_unit: TimeUnit = "h"
) -> ResponseTimeStats:
    """Median, 90th percentile and mean of response times.

    Parameters
    ----------
    response_times : array-like of timedelta64 or float, or InteractionTable
        Durations (``timedelta64``, or numbers already in ``time_unit``); or a table
        whose ``response_times`` column is used where it is known (NaT rows
        are skipped).
    time_unit : {"s", "min", "h", "D"}
        Unit of the results (and of numeric input).

    Returns
    -------
    ResponseTimeStats

    Raises
    ------
    InputError
        On no durations, negative durations, NaN or NaT in an array (drop
        unknown values first), a table without the column.
    InputTypeError
        On values that are neither durations nor numbers.

    Notes
    -----
    Service-level reports quote the median and the 90th percentile because
    response times are right-skewed and a few very late answers dominate the
    mean. Percentiles interpolate linearly between order statistics
    (Hyndman & Fan type 7).

    Examples
    --------
    >>> import numpy as np
    >>> times = np.array([30, 45, 60, 90, 240], dtype="timedelta64[m]")
    >>> s = response_time_stats(times, time_unit="min")
    >>> s.median, s.p90, s.mean
    (60.0, 180.0, 93.0)
    >>> response_time_stats([1.0, -2.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: response_times must be non-negative; 1 of 2 values breaks ...
    """
    chosen = v.check_choice(time_unit, "time_unit", tuple(_UNIT_NS))
    values = _response_values(response_times, chosen)
    q50, q90 = np.quantile(values, [0.5, 0.9])
    return ResponseTimeStats(
        median=float(q50),
        p90=float(q90),
        mean=scaled_mean(values),
        max=float(values.max()),
        n=int(values.size),
        time_unit=chosen,
    )


def _response_values(data: ArrayLike | InteractionTable, unit: str) -> FloatArray:
    name = "response_times"
    if isinstance(data, InteractionTable):
        column = data.response_times
        if column is None:
            raise InputError(f"{name}: the table has no response_times column")
        known = column[~np.isnat(column)]
        if known.size == 0:
            raise InputError(f"{name}: no row of the table has a known response time (all NaT)")
        return np.asarray(known.astype(np.int64) / _UNIT_NS[unit], dtype=np.float64)
    if not (isinstance(data, str | bytes) or data is None):
        ndim_of(data, name)  # ragged nested lists: an InputError naming the argument
    arr = None if isinstance(data, str | bytes) or data is None else np.asarray(data)
    if arr is not None and arr.dtype.kind == "O" and arr.size:
        first = arr.reshape(-1)[0]
        if isinstance(first, _dt.timedelta | np.timedelta64):
            try:
                arr = arr.astype("timedelta64[ns]")
            except (TypeError, ValueError) as exc:
                raise InputTypeError(f"{name} must hold durations only: {exc}") from exc
    if arr is None or arr.dtype.kind != "m":
        return v.as_float_array(data, name, nonnegative=True)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{name} must not be empty")
    missing = np.isnat(arr)
    if missing.any():
        raise InputError(
            f"{name} must not hold missing durations (NaT); drop unknown values first; "
            + v.describe_violations(missing, (name, arr))
        )
    # Convert from the array's own unit in floating point: a cast to nanoseconds would
    # wrap around for durations beyond about 292 years.
    base, count = np.datetime_data(arr.dtype)
    if base in ("Y", "M", "generic"):
        raise InputTypeError(
            f"{name} must be durations of a fixed length (weeks or finer), got {arr.dtype}: "
            "years and months vary in length"
        )
    tick = np.timedelta64(1, base)  # type: ignore[call-overload]
    ns_per_tick = float(tick / np.timedelta64(1, "ns")) * count
    ticks = np.asarray(arr.astype(np.int64), dtype=np.float64)
    values = ticks * ns_per_tick / _UNIT_NS[unit]
    negative = values < 0
    if negative.any():
        raise InputError(
            f"{name} must be non-negative; " + v.describe_violations(negative, (name, arr))
        )
    return values


# ---------------------------------------------------------------- complaints


@attrs.frozen(kw_only=True)
class ComplaintRate:
    """Complaints per customer and per 1,000 transactions, with the counts.

    Attributes
    ----------
    per_customer : float
        ``n_complaints / n_customers`` (a count rate: it can exceed 1).
    per_1000_transactions : float
        ``1000·n_complaints / n_transactions``.
    n_complaints, n_customers, n_transactions : int
        The counts behind the rates.
    """

    per_customer: float
    per_1000_transactions: float
    n_complaints: int
    n_customers: int
    n_transactions: int

    @staticmethod
    def combine(parts: Sequence[ComplaintRate]) -> ComplaintRate:
        """Pool results of disjoint partitions of customers by summing their counts.

        Examples
        --------
        >>> a = complaint_rate(2, n_customers=10, n_transactions=100)
        >>> b = complaint_rate(4, n_customers=30, n_transactions=300)
        >>> ComplaintRate.combine([a, b]).per_customer
        0.15
        """
        items = _parts(parts, ComplaintRate)
        return _complaint_result(
            sum(p.n_complaints for p in items),
            sum(p.n_customers for p in items),
            sum(p.n_transactions for p in items),
        )


def complaint_rate(
    complaints: int | InteractionTable,
    *,
    n_customers: int | None = None,
    n_transactions: int | None = None,
) -> ComplaintRate:
    """Complaint rate per customer and per 1,000 transactions.

    Parameters
    ----------
    complaints : int or InteractionTable
        The number of complaints; or a table, whose complaint rows are counted.
    n_customers : int, optional
        Customers served in the period (at least 1). Required with a count;
        with a table it defaults to the table's distinct customers.
    n_transactions : int, optional
        Transactions in the period (at least 1). Required with a count; with a
        table it defaults to its purchase rows.

    Returns
    -------
    ComplaintRate

    Raises
    ------
    InputError
        On negative counts, or zero customers or transactions (undefined rates).
    InputTypeError
        When a count of complaints comes without ``n_customers`` or
        ``n_transactions``.

    Notes
    -----
    ``per_customer = complaints/customers`` and
    ``per_1000_transactions = 1000·complaints/transactions``. Pooling parts
    (:meth:`ComplaintRate.combine`) sums the customers, so the parts must hold
    disjoint customers.

    Examples
    --------
    >>> r = complaint_rate(12, n_customers=400, n_transactions=3_000)
    >>> r.per_customer, r.per_1000_transactions
    (0.03, 4.0)
    >>> complaint_rate(12, n_customers=0, n_transactions=10)
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: n_customers must be >= 1, got 0
    """
    if isinstance(complaints, InteractionTable):
        count = int(np.count_nonzero(complaints.kinds == KIND_CODES[InteractionKind.COMPLAINT]))
        if n_customers is None:
            n_customers = complaints.n_customers
        if n_transactions is None:
            n_transactions = int(np.count_nonzero(complaints.is_purchase))
            if n_transactions == 0:
                raise InputError(
                    "n_transactions: the table has no purchase rows; pass n_transactions"
                )
    else:
        count = _check_count(complaints, "complaints")
        for label, value in (("n_customers", n_customers), ("n_transactions", n_transactions)):
            if value is None:
                raise InputTypeError(f"{label} is required when complaints is a count")
    return _complaint_result(count, n_customers, n_transactions)


def _complaint_result(complaints: int, customers: object, transactions: object) -> ComplaintRate:
    n_c = _check_count(customers, "n_customers", low=1)
    n_t = _check_count(transactions, "n_transactions", low=1)
    return ComplaintRate(
        per_customer=complaints / n_c,
        per_1000_transactions=1000.0 * complaints / n_t,
        n_complaints=complaints,
        n_customers=n_c,
        n_transactions=n_t,
    )

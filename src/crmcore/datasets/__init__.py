"""Classic data sets of customer-base analysis, as crmcore objects.

The data ship inside the package (compressed ``.npz`` files, about 300 kB in
all); each loader reads its file with :mod:`importlib.resources` and returns a
fresh, read-only crmcore object. Reading the package's own data is the only
I/O in this module: nothing is downloaded, cached or written, and scipy is not
needed.

- :func:`cdnow` and :func:`cdnow_sample`: the CDNOW purchase logs (the full
  cohort of 23,570 customers and the 1/10 sample of 2,357) as an
  :class:`~crmcore.InteractionTable`;
- :func:`cdnow_sample_summary`: the sample's published 39-week calibration
  summary with its 39-week holdout, as a :class:`~crmcore.CustomerSummary`;
- :func:`donations`: the 1995 donor cohort of Fader, Hardie & Shang (2010), as
  a :class:`~crmcore.DiscreteSummary` for :func:`crmcore.models.bgbb.fit`;
- :func:`retention_survivors`: the "regular" and "high end" survivor counts of
  Fader & Hardie (2007), for :func:`crmcore.models.sbg.fit`.

The files are built from the originals by ``scripts/make_datasets.py`` in the
source repository, which is not part of the package.

Examples
--------
>>> from crmcore import datasets
>>> log = datasets.cdnow_sample()
>>> len(log), log.n_customers
(6919, 2357)
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Literal

import numpy as np

from crmcore import _validation as v
from crmcore._typing import IntArray
from crmcore._validation import readonly as _ro
from crmcore.summary import CustomerSummary, DiscreteSummary
from crmcore.table import InteractionTable

__all__ = [
    "CDNOW_CALIBRATION_END",
    "CDNOW_OBSERVATION_END",
    "cdnow",
    "cdnow_sample",
    "cdnow_sample_summary",
    "donations",
    "retention_survivors",
]

#: Last day of the CDNOW calibration period (the end of week 39 of 1997).
CDNOW_CALIBRATION_END = np.datetime64("1997-09-30", "D")
#: Last day of the CDNOW logs (the end of week 78, the holdout's end).
CDNOW_OBSERVATION_END = np.datetime64("1998-06-30", "D")

_EPOCH = np.datetime64("1997-01-01", "D")  # day 0 of the stored CDNOW logs

# Fader & Hardie (2007), "How to project customer retention": percent (times 10) of the
# 1,000 customers of each segment still active at the start of years 0-12.
_SURVIVORS: dict[str, tuple[int, ...]] = {
    "regular": (1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173),
    "high_end": (1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394),
}


def _load(name: str) -> dict[str, np.ndarray[Any, Any]]:
    """Read the arrays of one shipped ``.npz`` file (the module's only I/O)."""
    source = resources.files(__name__).joinpath("data").joinpath(name)
    with source.open("rb") as handle, np.load(handle, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def _log(name: str) -> InteractionTable:
    arrays = _load(name)
    days = arrays["day"].astype("timedelta64[D]")
    return InteractionTable.from_arrays(
        arrays["customer_id"].astype(np.int64),
        (_EPOCH + days).astype("datetime64[ns]"),
        amounts=arrays["cents"].astype(np.float64) / 100.0,
    )


def cdnow() -> InteractionTable:
    """Load the full CDNOW purchase log: 23,570 customers, 69,659 purchases.

    The customers who made their first purchase at the online music retailer
    CDNOW in the first quarter of 1997, and every purchase they made up to
    the end of June 1998. This is the data set of Fader, Hardie & Lee's
    papers on the BG/NBD and Pareto/NBD models (they fit the 1/10 sample,
    :func:`cdnow_sample`).

    Returns
    -------
    InteractionTable
        One purchase row per line of the original file (several rows of a
        customer on one day are kept apart; :func:`crmcore.summarize` with
        ``period="D"`` merges them into one occasion). ``customer_ids`` are
        the original ids 1-23570; ``times`` are days (midnight UTC) from
        1997-01-01 to 1998-06-30 (:data:`CDNOW_OBSERVATION_END`);
        ``amounts`` are the dollar values. The number of CDs of each row, in
        the original file, is not kept: the table has no quantity column.

    Notes
    -----
    Source: the file ``CDNOW_master.txt`` that Bruce Hardie distributes
    (brucehardie.com) with the papers below; this copy comes from the one
    shipped under the MIT licence inside the ``lifetimes`` package (version
    0.11.3). The loader reads only the package's own data file.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your
    customers" the easy way: An alternative to the Pareto/NBD model.
    Marketing Science, 24(2), 275-284.

    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using
    iso-value curves for customer base analysis. Journal of Marketing
    Research, 42(4), 415-430.

    Examples
    --------
    >>> log = cdnow()
    >>> len(log), log.n_customers
    (69659, 23570)
    >>> str(log.times.min())[:10], str(log.times.max())[:10]
    ('1997-01-01', '1998-06-30')
    >>> cdnow(1)
    Traceback (most recent call last):
    ...
    TypeError: cdnow() takes 0 positional arguments but 1 was given
    """
    return _log("cdnow_master.npz")


def cdnow_sample() -> InteractionTable:
    """Load the 1/10 sample of the CDNOW log: 2,357 customers, 6,919 purchases.

    The sample on which Fader, Hardie & Lee (2005) fit the BG/NBD, Pareto/NBD
    and Gamma-Gamma models. Every row is a row of :func:`cdnow`.

    Returns
    -------
    InteractionTable
        Purchase rows as in :func:`cdnow`, but ``customer_ids`` are the
        sample's own ids 1-2357, those of :func:`cdnow_sample_summary`
        (the sample customer ids of the original file, not the ids of the
        full log). Eight purchases have amount 0.

    Notes
    -----
    Source: the file ``CDNOW_sample.txt`` distributed by Bruce Hardie
    (brucehardie.com); this copy comes from the one shipped under the MIT
    licence inside the ``lifetimes`` package (version 0.11.3). The loader
    reads only the package's own data file.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your
    customers" the easy way: An alternative to the Pareto/NBD model.
    Marketing Science, 24(2), 275-284.

    Examples
    --------
    >>> from crmcore import summarize
    >>> s = summarize(cdnow_sample(), observation_end=CDNOW_OBSERVATION_END,
    ...               calibration_end=CDNOW_CALIBRATION_END, time_unit="W")
    >>> int(s.frequency.sum()), int(s.frequency_holdout.sum()), s.duration_holdout
    (2457, 1882, 39.0)
    >>> cdnow_sample(True)
    Traceback (most recent call last):
    ...
    TypeError: cdnow_sample() takes 0 positional arguments but 1 was given
    """
    return _log("cdnow_sample.npz")


def cdnow_sample_summary() -> CustomerSummary:
    """Load the published calibration summary of the CDNOW sample, with its holdout.

    Weeks 1-39 of 1997 (up to :data:`CDNOW_CALIBRATION_END`) are the
    calibration period and weeks 40-78 (up to :data:`CDNOW_OBSERVATION_END`)
    the holdout period, as in Fader, Hardie & Lee (2005).

    Returns
    -------
    CustomerSummary
        2,357 customers with ids 1-2357 (those of :func:`cdnow_sample`),
        ``time_unit="W"``: ``frequency`` (x, repeat purchases in the
        calibration period), ``recency`` (t_x) and ``T`` in weeks to two
        decimals, and ``monetary_value`` (the mean spend of the calibration
        repeat purchases, in dollars to the cent), exactly as published.
        ``first_spend``, ``frequency_holdout`` (purchase days in weeks
        40-78), ``monetary_value_holdout`` and ``duration_holdout`` (39.0)
        were counted from the sample log; ``total_spend`` is
        ``first_spend + frequency * monetary_value``. It is built with
        :meth:`CustomerSummary.from_arrays`, so it has no purchase dates.

    Notes
    -----
    Source: the summary file of the CDNOW sample distributed by Bruce Hardie
    (brucehardie.com), as shipped under the MIT licence inside the
    ``lifetimes`` package (version 0.11.3,
    ``cdnow_customers_summary_with_transactions.csv``). Purchases on the
    same day count once. :func:`crmcore.summarize` of :func:`cdnow_sample`
    with ``period="D"``, ``time_unit="W"`` and the two dates above gives the
    same figures up to that rounding. The loader reads only the package's
    own data file.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your
    customers" the easy way: An alternative to the Pareto/NBD model.
    Marketing Science, 24(2), 275-284.

    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using
    iso-value curves for customer base analysis. Journal of Marketing
    Research, 42(4), 415-430.

    Examples
    --------
    >>> s = cdnow_sample_summary()
    >>> len(s), s.time_unit, int((s.frequency > 0).sum())
    (2357, 'W', 946)
    >>> s.frequency[:2].tolist(), s.recency[:2].tolist(), s.T[:2].tolist()
    ([2, 1], [30.43, 1.71], [38.86, 38.86])
    >>> cdnow_sample_summary("W")
    Traceback (most recent call last):
    ...
    TypeError: cdnow_sample_summary() takes 0 positional arguments but 1 was given
    """
    a = _load("cdnow_sample_summary.npz")
    n_holdout = a["frequency_holdout"].astype(np.int64)
    spend_holdout = a["spend_holdout_cents"].astype(np.float64) / 100.0
    return CustomerSummary.from_arrays(
        a["frequency"].astype(np.int64),
        a["recency_centiweeks"].astype(np.float64) / 100.0,
        a["T_centiweeks"].astype(np.float64) / 100.0,
        monetary_value=a["monetary_value_cents"].astype(np.float64) / 100.0,
        first_spend=a["first_spend_cents"].astype(np.float64) / 100.0,
        customer_ids=np.arange(1, n_holdout.size + 1, dtype=np.int64),
        time_unit="W",
        frequency_holdout=n_holdout,
        monetary_value_holdout=spend_holdout / np.maximum(n_holdout, 1),
        duration_holdout=39.0,
    )


def donations() -> DiscreteSummary:
    """Load the 1995 donor cohort of Fader, Hardie & Shang (2010): 11,104 donors.

    The first-time supporters of a non-profit organisation in 1995, and
    whether each of them gave again in each of the six years 1996-2001 (the
    paper's calibration period). Only the count of donors per history
    (x, t_x) is published; the loader gives each donor a row.

    Returns
    -------
    DiscreteSummary
        ``frequency`` (x, the years with a donation), ``recency`` (t_x, the
        last of them, 0 if none) for donors 1-11104, sorted by (x, t_x);
        ``n_periods=6``, ``period="Y"``, ``start`` 1995-01-01. It is the
        form :func:`crmcore.models.bgbb.fit` takes.

    Notes
    -----
    Source: the count table of the paper, as shipped under the MIT licence
    inside the ``lifetimes`` package (version 0.11.3, ``donations.csv``).
    The loader reads only the package's own data file.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Shang, J. (2010). Customer-base analysis
    in a discrete-time noncontractual setting. Marketing Science, 29(6),
    1086-1108.

    Examples
    --------
    >>> d = donations()
    >>> len(d), d.n_periods, d.period
    (11104, 6, 'Y')
    >>> int((d.frequency == 0).sum()), int((d.frequency == 6).sum())
    (3464, 1203)
    >>> donations(6)
    Traceback (most recent call last):
    ...
    TypeError: donations() takes 0 positional arguments but 1 was given
    """
    a = _load("donations.npz")
    counts = a["n_customers"].astype(np.int64)
    n = int(counts.sum())
    return DiscreteSummary(
        customer_ids=_ro(np.arange(1, n + 1, dtype=np.int64)),
        frequency=_ro(np.repeat(a["frequency"].astype(np.int64), counts)),
        recency=_ro(np.repeat(a["recency"].astype(np.int64), counts)),
        n_periods=6,
        start=np.datetime64("1995-01-01T00:00:00", "ns"),
        period="Y",
    )


def retention_survivors(segment: Literal["regular", "high_end"]) -> IntArray:
    """Survivor counts of a cohort of 1,000 contract customers over 12 years.

    The two segments of Fader & Hardie (2007): of 1,000 customers who signed
    up in year 0, how many were still customers at the start of each year
    0-12. The paper fits the shifted-beta-geometric model to years 0-7
    (``alive[:8]``) and judges its projection on years 8-12.

    Parameters
    ----------
    segment : {"regular", "high_end"}
        The "regular" or the "high end" customers.

    Returns
    -------
    ndarray of int64
        13 counts, ``alive[t]`` for t = 0..12, read-only; ``alive[0]`` is 1000.

    Raises
    ------
    InputError
        On an unknown segment.

    Notes
    -----
    Source and licence: the figures printed in the paper (the percentage of
    each segment still active, times 10), typed in; cite the paper. No file
    is read.

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2007). How to project customer
    retention. Journal of Interactive Marketing, 21(1), 76-90.

    Examples
    --------
    >>> retention_survivors("regular")[:8].tolist()
    [1000, 631, 468, 382, 326, 289, 262, 241]
    >>> retention_survivors("premium")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: segment must be one of 'regular', 'high_end'; got 'premium'
    """
    v.check_choice(segment, "segment", _SURVIVORS)
    return _ro(np.array(_SURVIVORS[segment], dtype=np.int64))

"""Consent and purpose: keep only the customers whose recorded consent covers a use.

A customer's consents are :class:`~crmcore.Consent` records (purpose, given
at, withdrawn at). :func:`filter_by_consent` restricts an interaction table or
a customer summary to the customers whose consents cover every purpose asked
for at the analysis date. Customer ids are hidden with
:meth:`crmcore.InteractionTable.pseudonymize` and
:meth:`crmcore.CustomerSummary.pseudonymize`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import numpy as np

from . import _validation as v
from ._typing import BoolArray
from .errors import InputError, InputTypeError
from .records import Consent
from .summary import CustomerSummary
from .table import InteractionTable

__all__ = ["filter_by_consent"]

_Data = TypeVar("_Data", InteractionTable, CustomerSummary)


def _purposes(purposes: object) -> frozenset[str]:
    items: list[object]
    if isinstance(purposes, str):
        items = [purposes]
    elif isinstance(purposes, Iterable) and not isinstance(purposes, bytes | bytearray):
        items = list(purposes)
    else:
        raise InputTypeError(
            f"purposes must be a str or an iterable of str, got {type(purposes).__name__}"
        )
    if not items:
        raise InputError("purposes must name at least one purpose")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InputTypeError(
                f"purposes must hold str; found {type(item).__name__} {item!r} at index {i}"
            )
        if not item:
            raise InputError(f"purposes must not hold an empty string (index {i})")
    return frozenset(items)  # type: ignore[arg-type]


def _covered_mask(ids: np.ndarray[Any, Any], covered: list[Any]) -> BoolArray:
    """Mask of ``ids`` found in ``covered`` (customer ids of one kind: int or str)."""
    kind = ids.dtype.kind
    if kind in "iuU":
        want = int if kind in "iu" else str
        wrong = [c for c in covered if not isinstance(c, want)]
        if wrong:
            raise InputTypeError(
                f"consents must name customers with ids of the data's kind ({want.__name__}); "
                f"found the {type(wrong[0]).__name__} id {wrong[0]!r}"
            )
        if not covered:
            return np.zeros(ids.size, dtype=np.bool_)
        found = np.array(covered, dtype=np.int64 if want is int else str)
        if kind in "iu" and ids.dtype != np.int64:
            return np.asarray(np.isin(ids.astype(object), found.astype(object)), dtype=np.bool_)
        return np.asarray(np.isin(ids, found), dtype=np.bool_)
    lookup = set(covered)
    return np.fromiter((i in lookup for i in ids.tolist()), dtype=np.bool_, count=ids.size)


def filter_by_consent(
    data: _Data,
    consents: Iterable[Consent],
    *,
    purposes: str | Iterable[str],
    observation_end: object,
) -> _Data:
    """Keep the customers whose consents cover every purpose at the analysis date.

    Parameters
    ----------
    data : InteractionTable or CustomerSummary
        The data to restrict.
    consents : iterable of Consent
        The recorded consents, any number per customer, in any order.
        Customers without a record have given no consent.
    purposes : str or iterable of str
        The purposes the analysis serves (at least one). A customer is kept
        when, for each purpose, one of their consents covers it at
        ``observation_end``.
    observation_end : datetime, date, numpy.datetime64 or ISO string
        The instant at which consent must hold (naive values are taken as
        UTC, like every analysis date of crmcore).

    Returns
    -------
    InteractionTable or CustomerSummary
        The same type as ``data``: a table keeps the rows of the kept
        customers (in their order), a summary their rows. Customers of the
        data without a consent record are dropped; consents of customers
        absent from the data are ignored.

    Raises
    ------
    InputError
        If ``purposes`` is empty or holds an empty string, or
        ``observation_end`` is not a valid time.
    InputTypeError
        If ``data`` is neither a table nor a summary, ``consents`` holds
        something other than :class:`~crmcore.Consent` records, a purpose is
        not a str, or a consent names a customer with an id of another kind
        than the data's (the str ``"7"`` against int ids).

    See Also
    --------
    crmcore.Consent : one consent and :meth:`~crmcore.Consent.covers`.
    crmcore.InteractionTable.pseudonymize : hide the ids of what is kept.

    Notes
    -----
    A consent covers its purpose from ``given_at`` included to
    ``withdrawn_at`` excluded. Asking for more purposes never keeps more
    customers: the kept set for purposes ``P ∪ Q`` is the intersection of
    the sets for ``P`` and for ``Q``.

    Examples
    --------
    >>> import datetime as dt
    >>> import numpy as np
    >>> from crmcore import Consent, InteractionTable
    >>> jan, jun = dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    >>> consents = [
    ...     Consent(customer_id=1, purpose="analytics", given_at=jan),
    ...     Consent(customer_id=2, purpose="analytics", given_at=jan, withdrawn_at=jun),
    ...     Consent(customer_id=3, purpose="marketing", given_at=jan),
    ... ]
    >>> t = np.array(["2024-02-01", "2024-02-02", "2024-02-03"], dtype="datetime64[ns]")
    >>> table = InteractionTable.from_arrays([1, 2, 3], t, amounts=[5.0, 6.0, 7.0])
    >>> kept = filter_by_consent(table, consents, purposes="analytics",
    ...                          observation_end="2024-03-01")
    >>> kept.customer_ids.tolist()
    [1, 2]
    >>> filter_by_consent(table, consents, purposes="analytics",
    ...                   observation_end="2024-07-01").customer_ids.tolist()
    [1]
    >>> filter_by_consent(table, consents, purposes=[], observation_end="2024-07-01")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: purposes must name at least one purpose
    """
    if not isinstance(data, InteractionTable | CustomerSummary):
        raise InputTypeError(
            f"data must be an InteractionTable or a CustomerSummary, got {type(data).__name__}"
        )
    records = v.as_sequence_of(consents, "consents", Consent, "Consent")
    wanted = _purposes(purposes)
    end = v.as_timestamp(observation_end, "observation_end")
    relevant = [c for c in records if c.purpose in wanted]
    if relevant:
        given = v.as_datetime_array(
            np.array([c.given_at for c in relevant], dtype=object), "consents.given_at"
        )
        withdrawn = [c.withdrawn_at for c in relevant]
        open_ended = np.array([w is None for w in withdrawn], dtype=np.bool_)
        until = np.full(len(relevant), np.datetime64("NaT", "ns"))
        if not open_ended.all():
            until[~open_ended] = v.as_datetime_array(
                np.array([w for w in withdrawn if w is not None], dtype=object),
                "consents.withdrawn_at",
            )
        with np.errstate(invalid="ignore"):
            active = (given <= end) & (open_ended | (end < until))
    else:
        active = np.zeros(0, dtype=np.bool_)
    held: dict[Any, set[str]] = {}
    for c, ok in zip(relevant, active.tolist(), strict=True):
        if ok:
            held.setdefault(c.customer_id, set()).add(c.purpose)
    covered = [cid for cid, got in held.items() if got >= wanted]
    keep = _covered_mask(data.customer_ids, covered)
    if isinstance(data, InteractionTable):
        return data.select(keep[data.customer_codes])
    return data.select(keep)

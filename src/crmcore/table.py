"""The columnar form of an interaction log: :class:`InteractionTable`."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from . import _validation as v
from ._typing import ArrayLike, BoolArray, DatetimeArray, FloatArray, IntArray
from ._validation import readonly as _ro
from .errors import InputError, InputTypeError
from .records import Channel, InteractionKind, OpportunityStage, pseudonymize_ids

if TYPE_CHECKING:
    from .records import Interaction

__all__ = ["KIND_CODES", "InteractionTable", "factorize_ids"]

#: Code of each :class:`InteractionKind` in :attr:`InteractionTable.kinds`.
KIND_CODES: dict[InteractionKind, int] = {k: i for i, k in enumerate(InteractionKind)}
_KINDS = tuple(InteractionKind)
_CHANNELS = tuple(Channel)
_STAGES = tuple(OpportunityStage)
PURCHASE_CODE = KIND_CODES[InteractionKind.PURCHASE]


def factorize_ids(ids: ArrayLike, name: str = "ids") -> tuple[np.ndarray[Any, Any], IntArray]:
    """Map arbitrary hashable ids to dense codes, ids in sorted order.

    Parameters
    ----------
    ids : array-like
        One id per row: integers, strings, or any mutually comparable values.
    name : str
        The argument's name, for error messages.

    Returns
    -------
    uniques : ndarray
        The distinct ids, sorted.
    codes : ndarray of int64
        ``uniques[codes]`` equals ``ids``.

    Raises
    ------
    InputError
        On missing ids (None, NaN) or a non-1-d input.
    InputTypeError
        When the ids cannot be ordered (mixed ``1`` and ``"1"``).

    Notes
    -----
    Integer ids that are dense enough (their range at most four times the
    number of rows, or 2**20) are factorised with a lookup table in linear
    time; other ids with one sort. Strings (a ``str`` array, or an object
    array holding only ``str``) are packed, code point by code point, into
    uint64 keys whose order is the strings' order, and those are sorted;
    object arrays of other values, and strings holding NUL or lone
    surrogates, are sorted as Python objects.

    Examples
    --------
    >>> uniques, codes = factorize_ids([30, 10, 30, 20])
    >>> uniques.tolist(), codes.tolist()
    ([10, 20, 30], [2, 0, 2, 1])
    """
    return _factorize_ids(ids, name)


def _factorize_ids(
    ids: ArrayLike, name: str, into: IntArray | None = None
) -> tuple[np.ndarray[Any, Any], IntArray]:
    """:func:`factorize_ids`, the codes written into ``into`` (int64, one per id) if given."""
    uniques, codes = _factorize_fresh(ids, name, into)
    if into is not None and codes is not into:
        into[...] = codes
        codes = into
    return uniques, codes


def _factorize_fresh(
    ids: ArrayLike, name: str, into: IntArray | None
) -> tuple[np.ndarray[Any, Any], IntArray]:
    """Factorise as :func:`_factorize_ids` does; the lookup-table paths write into ``into``."""
    arr = v._to_array(ids, name)
    if into is not None and into.shape != arr.shape:
        into = None
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        return arr.copy(), np.empty(0, dtype=np.int64)
    kind = arr.dtype.kind
    if kind == "b":
        raise InputTypeError(f"{name} must be ids (integers or strings), got booleans")
    if kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        span = hi - lo + 1
        if span <= max(4 * arr.size, 1 << 20):
            # ids from 0 in the native integer type index the table as they are; else
            # their offsets do (fewer fresh arrays: each costs its page faults)
            zero_based = lo == 0 and arr.dtype == np.intp
            offset = arr if zero_based else (arr - lo).astype(np.intp, copy=False)
            present = np.zeros(span, dtype=np.bool_)
            present[offset] = True
            if present.all():  # every id from lo to hi: the offsets are the codes
                uniques = np.arange(span).astype(arr.dtype, copy=False)
                if into is not None:
                    into[...] = offset
                    codes = into
                else:  # never the caller's ids themselves: a copy when the offsets are them
                    codes = offset.astype(np.int64, copy=offset is arr)
            else:
                lut = np.cumsum(present, dtype=np.int64)
                lut -= 1
                uniques = np.flatnonzero(present).astype(arr.dtype, copy=False)
                codes = lut[offset] if into is None else np.take(lut, offset, out=into, mode="clip")
            if lo:  # in the ids' own type (wrap-around exact): uint64 ids above 2**63 too
                uniques += arr.dtype.type(lo)
            return uniques, codes
    if kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InputError(
                f"{name} must not hold missing ids; {v.describe_violations(bad, (name, arr))}"
            )
    if kind == "U":
        found = _factorize_unicode(arr)
        if found is not None:
            return arr[found[1]], found[0]
    if kind == "O":
        found = _factorize_str_objects(arr)
        if found is not None:
            return arr[found[1]], found[0]
        bad = np.fromiter(
            (x is None or (isinstance(x, float) and np.isnan(x)) for x in arr),
            dtype=np.bool_,
            count=arr.size,
        )
        if bad.any():
            raise InputError(
                f"{name} must not hold missing ids; {v.describe_violations(bad, (name, arr))}"
            )
    try:
        uniques, codes = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        raise InputTypeError(
            f"{name} must be mutually comparable (all integers or all strings): {exc}"
        ) from exc
    return uniques, codes.astype(np.int64, copy=False).reshape(-1)


_MAX_KEY_BITS = 512  # longer keys (chars times bits per char) take the general sort


def _dense_codes(
    keys: np.ndarray[Any, np.dtype[np.uint64]], idx_bits: int | None
) -> tuple[IntArray, IntArray]:
    """Codes of ``keys`` in sorted key order, and one row index per distinct key.

    With ``idx_bits``, the keys fit in ``64 - idx_bits`` bits and the row index is
    packed beneath them, so a plain (vectorised) sort replaces an argsort.
    """
    n = keys.size
    if idx_bits is not None:
        packed = (keys << np.uint64(idx_bits)) | np.arange(n, dtype=np.uint64)
        packed.sort()
        order = (packed & np.uint64((1 << idx_bits) - 1)).astype(np.intp)
        sorted_keys = packed >> np.uint64(idx_bits)
    else:
        order = np.argsort(keys)
        sorted_keys = keys[order]
    first = np.empty(n, dtype=np.bool_)
    first[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first[1:])
    codes = np.empty(n, dtype=np.int64)
    codes[order] = np.cumsum(first, dtype=np.int64) - 1
    return codes, order[first]


def _factorize_code_points(
    n: int,
    width: int,
    column: Callable[[int], np.ndarray[Any, np.dtype[np.uint32]]],
    top: int,
    alphabet: Callable[[], np.ndarray[Any, np.dtype[np.bool_]]],
) -> tuple[IntArray, IntArray] | None:
    """Factorise strings given as columns of code points (0 past a string's end).

    ``column(j)`` returns the ``j``-th code point of every string, ``top`` is the
    largest, ``alphabet()`` marks the code points that occur. Code points are
    packed, most significant first, into uint64 keys; a key's order is the
    strings' order. When the raw code points do not fit in one key, they are
    ranked first (0 stays 0), so that each takes fewer bits. Strings longer
    than one key are refined key by key: the codes so far, then the next
    characters. Returns codes and one row per distinct string, or None when
    the keys would be too long.
    """
    idx_bits = (n - 1).bit_length()
    bits = max(top.bit_length(), 1)
    rank: np.ndarray[Any, np.dtype[np.uint64]] | None = None
    if width * bits + idx_bits > 64:
        present = alphabet()
        present[0] = True
        rank = (np.cumsum(present, dtype=np.int64) - 1).astype(np.uint64)
        bits = max(int(rank[-1]).bit_length(), 1)
    if width * bits > _MAX_KEY_BITS:
        return None
    codes: IntArray | None = None
    rows = np.zeros(1, dtype=np.intp)
    prev_bits = 0
    j = 0
    while j < width:
        packed_index: int | None = idx_bits
        budget = 64 - prev_bits - idx_bits
        if budget < bits:
            packed_index, budget = None, 64 - prev_bits
        take = min(budget // bits, width - j)
        if take < 1:
            return None
        keys = np.zeros(n, dtype=np.uint64) if codes is None else codes.astype(np.uint64)
        for c in range(j, j + take):
            keys <<= np.uint64(bits)
            keys |= column(c) if rank is None else rank[column(c)]
        j += take
        codes, rows = _dense_codes(keys, packed_index)
        prev_bits = (rows.size - 1).bit_length()
    if codes is None:  # every string is empty
        codes = np.zeros(n, dtype=np.int64)
    return codes, rows


def _factorize_unicode(arr: np.ndarray[Any, Any]) -> tuple[IntArray, IntArray] | None:
    """Codes and representative rows of a 1-d 'U' array (see _factorize_code_points)."""
    n = arr.size
    full = arr.dtype.itemsize // 4
    if full == 0:
        return np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.intp)
    native = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))
    points = native.view(np.uint32).reshape(n, full)
    col_max = points.max(axis=0)
    used = np.flatnonzero(col_max)
    width = int(used[-1]) + 1 if used.size else 0
    top = int(col_max.max())

    def alphabet() -> np.ndarray[Any, np.dtype[np.bool_]]:
        present = np.zeros(top + 1, dtype=np.bool_)
        for c in range(width):
            present[points[:, c]] = True
        return present

    return _factorize_code_points(n, width, lambda c: points[:, c], top, alphabet)


def _factorize_str_objects(arr: np.ndarray[Any, Any]) -> tuple[IntArray, IntArray] | None:
    """Codes and representative rows of an object array of str, or None if it is not one.

    None also for strings holding NUL or lone surrogates (the general path takes them).
    """
    items = arr.tolist()
    if not set(map(type, items)) <= {str, np.str_}:
        return None
    n = len(items)
    joined = "\x00".join(items)
    if joined.count("\x00") != n - 1:
        return None
    try:
        buf = np.frombuffer(joined.encode("utf-32-le"), dtype="<u4")
    except UnicodeEncodeError:
        return None
    ends = np.append(np.flatnonzero(buf == 0), buf.size)
    starts = np.empty(n, dtype=np.intp)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    width = int((ends - starts).max())
    padded = np.append(buf, np.uint32(0))
    top = int(buf.max()) if buf.size else 0

    def alphabet() -> np.ndarray[Any, np.dtype[np.bool_]]:
        present = np.zeros(top + 1, dtype=np.bool_)
        present[buf] = True
        return present

    def column(c: int) -> np.ndarray[Any, np.dtype[np.uint32]]:
        # Past its end a string reads its separator (0), the last one the padding.
        out: np.ndarray[Any, np.dtype[np.uint32]] = padded[np.minimum(starts + c, ends)]
        return out

    return _factorize_code_points(n, width, column, top, alphabet)


def _encode(
    values: ArrayLike, name: str, members: tuple[Any, ...], n: int
) -> np.ndarray[Any, np.dtype[np.int8]]:
    """Encode enum values (members, their string values, or codes) as int8 codes."""
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size != n:
        raise InputError(f"{name} must be 1-dimensional with {n} values, got shape {arr.shape}")
    allowed = [str(m.value) for m in members]
    if arr.dtype.kind in "iu":
        bad = (arr < 0) | (arr >= len(members))
        if bad.any():
            raise InputError(
                f"{name} codes must lie in 0..{len(members) - 1}; "
                f"{v.describe_violations(bad, (name, arr))}"
            )
        return arr.astype(np.int8)
    if arr.dtype.kind not in "UO":
        raise InputTypeError(f"{name} must hold strings or enum members, got dtype {arr.dtype}")
    if n == 0:
        return np.empty(0, dtype=np.int8)
    uniq, inverse = np.unique(arr.astype(str), return_inverse=True)
    lookup = np.empty(uniq.size, dtype=np.int8)
    for i, label in enumerate(uniq.tolist()):
        if label not in allowed:
            first = int(np.flatnonzero(inverse == i)[0])
            raise InputError(
                f"{name} has an unknown value {label!r} (first at index {first}); "
                f"allowed: {', '.join(allowed)}"
            )
        lookup[i] = allowed.index(label)
    return lookup[inverse.reshape(-1)]


@attrs.frozen(kw_only=True, eq=False, field_transformer=v.copy_array_fields)
class InteractionTable:
    """A struct of read-only numpy arrays, one row per interaction.

    Build it with :meth:`from_arrays` or :meth:`from_records`; every metric and
    :func:`crmcore.summarize` runs on it. Customer ids are factorised once:
    ``customer_ids`` holds the distinct ids in sorted order and
    ``customer_codes`` each row's index into it.

    Attributes
    ----------
    customer_ids : ndarray
        Distinct customer ids, sorted.
    customer_codes : ndarray of int64
        Per row, the index of its customer in ``customer_ids``.
    times : ndarray of datetime64[ns]
        Per row, the time in UTC (naive datetime64 meaning UTC).
    kinds : ndarray of int8
        Per row, the code of its :class:`~crmcore.InteractionKind`
        (see :data:`KIND_CODES`; a purchase is 0).
    amounts : ndarray of float64
        Per row, the amount (0 where the interaction carries none).
    channels : ndarray of int8 or None
        Code of the :class:`~crmcore.Channel` (its position in the enum), -1 unknown.
    margins : ndarray of float64 or None
        Margin of the row; NaN where unknown. On a refund row, the margin given
        back, signed as recorded at the sale (a refund of a sale made at a
        loss has a negative margin); see :class:`~crmcore.Interaction`.
    products, categories, regions, campaigns : ndarray or None
        Labels per row (any dtype the caller passed; None where unknown).
    in_control_group, discounted : ndarray of bool or None
        Flags per row.
    survey_scores : ndarray of float64 or None
        The answer of a survey row, NaN on other rows.
    survey_scale_min, survey_scale_max : ndarray of float64 or None
        The answer scale of a survey row, NaN on other rows.
    resolved_at_first_contact : ndarray of int8 or None
        1 resolved, 0 not resolved, -1 unknown or not a support contact.
    response_times : ndarray of timedelta64[ns] or None
        Time to respond, NaT where unknown.
    survey_questions : ndarray or None
        The question a survey row's score answers (``"nps"``, ``"csat"``,
        ``"ces"``, ...); None (or NaN, or ``""``) where unknown. The
        satisfaction functions read a table's answers by this label.
    order_ids : ndarray or None
        The order of a row (any labels; None, NaN or ``""`` where unknown).
        Without it, an order is the purchase rows of a customer with one
        timestamp; see :meth:`order_codes`.
    lead_sources : ndarray or None
        Where the prospect of a ``lead`` (or ``opportunity``) row came from
        (any labels; None, NaN or ``""`` where unknown).
    opportunity_stages : ndarray of int8 or None
        Code of the :class:`~crmcore.OpportunityStage` of an ``opportunity``
        row (its position in the enum), -1 on other rows or where unknown.

    Examples
    --------
    >>> import numpy as np
    >>> table = InteractionTable.from_arrays(
    ...     ["b", "a", "b"],
    ...     np.array(["2024-01-01", "2024-01-02", "2024-01-05"], dtype="datetime64[D]"),
    ...     amounts=[10.0, 5.0, 7.5],
    ... )
    >>> table.customer_ids.tolist(), table.customer_codes.tolist()
    (['a', 'b'], [1, 0, 1])
    >>> len(table), table.n_customers
    (3, 2)
    """

    customer_ids: np.ndarray[Any, Any]
    customer_codes: IntArray
    times: DatetimeArray
    kinds: np.ndarray[Any, np.dtype[np.int8]]
    amounts: FloatArray
    channels: np.ndarray[Any, np.dtype[np.int8]] | None = None
    margins: FloatArray | None = None
    products: np.ndarray[Any, Any] | None = None
    categories: np.ndarray[Any, Any] | None = None
    regions: np.ndarray[Any, Any] | None = None
    campaigns: np.ndarray[Any, Any] | None = None
    in_control_group: BoolArray | None = None
    discounted: BoolArray | None = None
    survey_scores: FloatArray | None = None
    survey_scale_min: FloatArray | None = None
    survey_scale_max: FloatArray | None = None
    resolved_at_first_contact: np.ndarray[Any, np.dtype[np.int8]] | None = None
    response_times: np.ndarray[Any, np.dtype[np.timedelta64]] | None = None
    survey_questions: np.ndarray[Any, Any] | None = None
    order_ids: np.ndarray[Any, Any] | None = None
    lead_sources: np.ndarray[Any, Any] | None = None
    opportunity_stages: np.ndarray[Any, np.dtype[np.int8]] | None = None

    def __len__(self) -> int:
        return int(self.customer_codes.size)

    @property
    def n_customers(self) -> int:
        """Number of distinct customers."""
        return int(self.customer_ids.size)

    @property
    def is_purchase(self) -> BoolArray:
        """Mask of the purchase rows."""
        return np.asarray(self.kinds == PURCHASE_CODE, dtype=np.bool_)

    def kind_mask(self, kind: InteractionKind | str) -> BoolArray:
        """Mask of the rows of one kind.

        Examples
        --------
        >>> import numpy as np
        >>> t = InteractionTable.from_arrays(
        ...     [1, 1], np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"),
        ...     kinds=["purchase", "complaint"], amounts=[3.0, 0.0])
        >>> t.kind_mask("complaint").tolist()
        [False, True]
        """
        try:
            member = InteractionKind(kind)
        except ValueError as exc:
            allowed = ", ".join(k.value for k in InteractionKind)
            raise InputError(f"kind must be one of {allowed}; got {kind!r}") from exc
        return np.asarray(self.kinds == KIND_CODES[member], dtype=np.bool_)

    def order_codes(self) -> IntArray:
        """Return the order of every row as a dense code (0 .. number of orders - 1).

        Two rows belong to one order when they have the same customer and the
        same order id. Where the table has no ``order_ids`` column, or a row's
        order id is unknown, an order is the rows of a customer with one
        timestamp. Count orders over some rows (the purchases, say) with
        ``np.unique(table.order_codes()[rows]).size``.

        Returns
        -------
        ndarray of int64
            One code per row; codes follow the sort order of (customer, order
            id) with the timestamp-defined orders of a customer after its
            labelled ones.

        Examples
        --------
        >>> import numpy as np
        >>> t = np.array(["2024-01-01T10", "2024-01-01T10", "2024-01-01T12", "2024-01-02"],
        ...              dtype="datetime64[ns]")
        >>> table = InteractionTable.from_arrays([1, 1, 1, 2], t, amounts=[3.0, 2.0, 4.0, 5.0])
        >>> table.order_codes().tolist()
        [0, 0, 1, 2]
        >>> labelled = InteractionTable.from_arrays(
        ...     [1, 1, 1, 2], t, amounts=[3.0, 2.0, 4.0, 5.0], order_ids=["A", "B", "B", None])
        >>> labelled.order_codes().tolist()
        [0, 1, 1, 2]
        """
        n = len(self)
        cust = self.customer_codes
        unlabelled = np.ones(n, dtype=np.bool_)
        value = self.times.view(np.int64).copy()
        if self.order_ids is not None:
            known = ~_missing_labels(self.order_ids)
            if known.any():
                _, codes = factorize_ids(self.order_ids[known], "order_ids")
                value[known] = codes
                unlabelled = ~known
        if n == 0:
            return np.empty(0, dtype=np.int64)
        # One int64 key per row ordered as (customer, unlabelled, value): the values are
        # replaced by their dense ranks (below n), so the key stays below 2 n**2.
        _, rank = np.unique(value, return_inverse=True)
        n_values = int(rank.max()) + 1
        second = unlabelled.astype(np.int64) * n_values + rank.reshape(-1)
        _, inverse = np.unique(cust * (2 * n_values) + second, return_inverse=True)
        return _ro(inverse.reshape(-1).astype(np.int64, copy=False))

    def pseudonymize(self, key: bytes | str) -> InteractionTable:
        """Return the table with every customer id replaced by its keyed hash.

        Parameters
        ----------
        key : bytes or str
            The secret key of :func:`crmcore.pseudonymize` (not empty). The
            same key gives the same pseudonyms, so tables and summaries
            pseudonymised separately still join; keep it out of the data.

        Returns
        -------
        InteractionTable
            The same rows in the same order; ``customer_ids`` holds the
            pseudonyms (``<U64`` hex digests) sorted, ``customer_codes``
            points into them. The mapping from ids to pseudonyms is not
            stored anywhere in the result.

        Raises
        ------
        InputError
            If the key is empty.
        InputTypeError
            If the key is not bytes or str, or the ids are not integers or
            strings.

        See Also
        --------
        crmcore.pseudonymize_ids : the hash of each id.
        crmcore.CustomerSummary.pseudonymize : the same for a summary.

        Notes
        -----
        Only the customer ids are replaced: every other column, and so every
        metric computed per customer or over the whole table, is unchanged up
        to the renaming (and re-sorting) of the customers.

        Examples
        --------
        >>> import numpy as np
        >>> t = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[ns]")
        >>> table = InteractionTable.from_arrays([7, 8, 7], t, amounts=[1.0, 2.0, 3.0])
        >>> hidden = table.pseudonymize("secret")
        >>> hidden.row_customer_ids()[0] == hidden.row_customer_ids()[2], len(hidden)
        (True, 3)
        >>> 7 in hidden.customer_ids.tolist()
        False
        >>> table.pseudonymize(b"")
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: key must not be empty
        """
        hidden, order = _pseudonyms(self.customer_ids, key)
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(order.size, dtype=np.int64)
        return attrs.evolve(
            self,
            customer_ids=_ro(hidden[order]),
            customer_codes=_ro(rank[self.customer_codes]),
        )

    def row_customer_ids(self) -> np.ndarray[Any, Any]:
        """Return the customer id of every row (``customer_ids[customer_codes]``)."""
        return self.customer_ids[self.customer_codes]

    def select(self, rows: BoolArray | IntArray) -> InteractionTable:
        """Return the table restricted to some rows (a mask or indices).

        The customer ids are re-factorised, so customers left without a row
        disappear. Indices must lie in ``0..len(self) - 1`` and must not repeat
        (a repeated row would count an interaction twice); they may come in
        any order, which becomes the new row order.

        Examples
        --------
        >>> import numpy as np
        >>> t = InteractionTable.from_arrays(
        ...     [1, 2], np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"))
        >>> t.select(np.array([False, True])).customer_ids.tolist()
        [2]
        """
        index = v.as_row_selection(rows, len(self), "rows")
        fields: dict[str, Any] = {}
        for field in attrs.fields(InteractionTable):
            if field.name in ("customer_ids", "customer_codes"):
                continue
            value = getattr(self, field.name)
            fields[field.name] = None if value is None else _ro(value[index])
        codes = self.customer_codes[index]
        used, new_codes = np.unique(codes, return_inverse=True)
        return InteractionTable(
            customer_ids=_ro(self.customer_ids[used]),
            customer_codes=_ro(new_codes.reshape(-1).astype(np.int64)),
            **fields,
        )

    @classmethod
    def from_arrays(
        cls,
        customer_ids: ArrayLike,
        times: ArrayLike,
        *,
        kinds: ArrayLike | None = None,
        amounts: ArrayLike | None = None,
        channels: ArrayLike | None = None,
        margins: ArrayLike | None = None,
        products: ArrayLike | None = None,
        categories: ArrayLike | None = None,
        regions: ArrayLike | None = None,
        campaigns: ArrayLike | None = None,
        in_control_group: ArrayLike | None = None,
        discounted: ArrayLike | None = None,
        survey_scores: ArrayLike | None = None,
        survey_scale_min: ArrayLike | None = None,
        survey_scale_max: ArrayLike | None = None,
        resolved_at_first_contact: ArrayLike | None = None,
        response_times: ArrayLike | None = None,
        survey_questions: ArrayLike | None = None,
        order_ids: ArrayLike | None = None,
        lead_sources: ArrayLike | None = None,
        opportunity_stages: ArrayLike | None = None,
    ) -> InteractionTable:
        """Build a table from columns.

        Parameters
        ----------
        customer_ids : array-like
            One id per row (any mutually comparable hashable values).
        times : array-like
            One time per row: numpy ``datetime64`` (taken as UTC), ``datetime``
            objects (aware ones converted to UTC, naive ones taken as UTC; never
            mixed), ISO strings, or a timezone-aware pandas or polars column
            (converted to UTC).
        kinds : array-like, optional
            :class:`~crmcore.InteractionKind` members, their string values, or
            their codes. Default: every row is a purchase.
        amounts : array-like, optional
            Finite amounts; purchases must not be negative. Default 0.
        channels : array-like, optional
            :class:`~crmcore.Channel` members or their string values.
        margins : array-like, optional
            Finite margins (may be negative: a customer can cost money). A
            refund row holds the margin given back, signed as at the sale.
        products, categories, regions, campaigns : array-like, optional
            Labels per row.
        in_control_group, discounted : array-like of bool, optional
            Flags per row.
        survey_scores, survey_scale_min, survey_scale_max : array-like, optional
            Survey answers and their scale; NaN on rows that are not answers.
            Scores must lie inside their scale.
        resolved_at_first_contact : array-like, optional
            1/True, 0/False, or -1 (unknown).
        response_times : array-like of timedelta64, optional
            Non-negative durations, NaT where unknown.
        survey_questions : array-like, optional
            The question each survey answer replies to (``"nps"``, ``"csat"``,
            ...; None where there is no answer). Needs ``survey_scores``.
        order_ids : array-like, optional
            The order of each row (None where unknown); rows of one customer
            with the same order id form one order.
        lead_sources : array-like, optional
            The lead source of each ``lead`` or ``opportunity`` row (None where
            unknown or on other rows).
        opportunity_stages : array-like, optional
            :class:`~crmcore.OpportunityStage` members, their string values or
            codes on ``opportunity`` rows; None, ``""`` or -1 elsewhere (or
            where unknown). A stage on another kind of row is refused.

        Returns
        -------
        InteractionTable

        Raises
        ------
        InputError
            On mismatched lengths, NaN or infinite amounts, negative purchase
            amounts, missing times, mixed naive and aware times, unknown kinds
            or channels, survey scores outside their scale.
        InputTypeError
            On values of the wrong type (text where numbers belong),
            ``survey_scores`` without ``survey_scale_min`` and
            ``survey_scale_max``, or ``survey_questions`` without
            ``survey_scores``.

        Examples
        --------
        >>> import numpy as np
        >>> t = InteractionTable.from_arrays(
        ...     [7, 7], np.array(["2024-03-01", "2024-03-02"], dtype="datetime64[D]"),
        ...     amounts=[20.0, -5.0])
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: amounts of purchases must be non-negative; 1 of 2 values ...
        """
        # codes, times and amounts in the rows of one allocation: numpy backs one of 4 MiB
        # or more with huge pages, so the table's fresh memory costs far fewer page
        # faults than three columns of their own (on a virtual machine, more than the
        # copies themselves)
        ids = v.as_ndarray(customer_ids, "customer_ids")
        block = np.empty((3, ids.shape[0] if ids.ndim == 1 else 0), dtype=np.int64)
        uniques, codes = _factorize_ids(ids, "customer_ids", block[0])
        n = int(codes.size)
        t = v.as_datetime_array(times, "times", into=block[1].view("datetime64[ns]"))
        v.check_same_length(("customer_ids", codes), ("times", t))
        kind_codes = (
            np.full(n, PURCHASE_CODE, dtype=np.int8)
            if kinds is None
            else _encode(kinds, "kinds", _KINDS, n)
        )
        amt = block[2].view(np.float64)
        if amounts is None:
            amt.fill(0.0)
        else:
            given = v.as_float_array(amounts, "amounts", allow_empty=True)
            v.check_same_length(("customer_ids", codes), ("amounts", given))
            amt[...] = given
            bad = amt < 0
            if bad.any():
                bad &= kind_codes == PURCHASE_CODE
            if bad.any():
                raise InputError(
                    "amounts of purchases must be non-negative; "
                    + v.describe_violations(bad, ("amounts", amt))
                )
        optional: dict[str, Any] = {}
        if channels is not None:
            optional["channels"] = _encode(channels, "channels", _CHANNELS, n)
        if margins is not None:
            optional["margins"] = _column_float(margins, "margins", n, allow_nan=True)
        if survey_questions is not None and survey_scores is None:
            raise InputTypeError(
                "survey_questions labels survey answers: it needs survey_scores (with "
                "survey_scale_min and survey_scale_max)"
            )
        for label, col in (
            ("products", products),
            ("categories", categories),
            ("regions", regions),
            ("campaigns", campaigns),
            ("survey_questions", survey_questions),
            ("order_ids", order_ids),
            ("lead_sources", lead_sources),
        ):
            if col is not None:
                arr = np.asarray(col)
                if arr.shape != (n,):
                    raise InputError(f"{label} must have {n} values, got shape {arr.shape}")
                optional[label] = arr.copy()
        for label, col in (("in_control_group", in_control_group), ("discounted", discounted)):
            if col is not None:
                flags = v.as_bool_array(col, label, allow_empty=True)
                v.check_same_length(("customer_ids", codes), (label, flags))
                optional[label] = flags
        if survey_scores is not None:
            optional.update(_survey_columns(survey_scores, survey_scale_min, survey_scale_max, n))
        if resolved_at_first_contact is not None:
            res = v.as_int_array(
                resolved_at_first_contact,
                "resolved_at_first_contact",
                allow_empty=True,
                low=-1,
                high=1,
            )
            v.check_same_length(("customer_ids", codes), ("resolved_at_first_contact", res))
            optional["resolved_at_first_contact"] = res.astype(np.int8)
        if response_times is not None:
            optional["response_times"] = _column_timedelta(response_times, n)
        if opportunity_stages is not None:
            optional["opportunity_stages"] = _stage_codes(opportunity_stages, kind_codes, n)
        _ro(block)  # its rows are stored as they are (read-only views of read-only memory)
        return cls(
            customer_ids=_ro(uniques),  # a fresh array of factorize_ids
            customer_codes=_ro(codes),
            times=_ro(t),
            kinds=_ro(kind_codes),
            amounts=_ro(amt),
            **{k: _ro(a) for k, a in optional.items()},
        )

    @classmethod
    def from_records(cls, records: Iterable[Interaction]) -> InteractionTable:
        """Build a table from :class:`~crmcore.Interaction` records.

        Aware record times are converted to UTC. Missing optional values become
        the table's missing markers (NaN, NaT, -1).

        Examples
        --------
        >>> import datetime as dt
        >>> from crmcore import Interaction
        >>> rec = Interaction(customer_id="c1", kind="purchase", amount=12.5,
        ...                   timestamp=dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC))
        >>> InteractionTable.from_records([rec]).amounts.tolist()
        [12.5]
        """
        from .records import Interaction

        rows = v.as_sequence_of(records, "records", Interaction, "Interaction")
        nan = float("nan")

        def col(name: str) -> list[Any]:
            return [getattr(r, name) for r in rows]

        def opt_float(name: str) -> list[float]:
            return [nan if x is None else float(x) for x in col(name)]

        def any_set(name: str) -> bool:
            return any(x is not None for x in col(name))

        kwargs: dict[str, Any] = {}
        if any_set("channel"):
            kwargs["channels"] = np.array(
                [-1 if c is None else _CHANNELS.index(Channel(c)) for c in col("channel")],
                dtype=np.int8,
            )
        if any_set("margin"):
            kwargs["margins"] = opt_float("margin")
        for rec_name, tab_name in (
            ("product", "products"),
            ("category", "categories"),
            ("region", "regions"),
            ("campaign", "campaigns"),
            ("survey_question", "survey_questions"),
            ("order_id", "order_ids"),
            ("lead_source", "lead_sources"),
        ):
            if any_set(rec_name):
                kwargs[tab_name] = np.array(col(rec_name), dtype=object)
        for flag in ("in_control_group", "discounted"):
            kwargs[flag] = np.array([bool(x) for x in col(flag)], dtype=np.bool_)
        if any_set("survey_score"):
            kwargs["survey_scores"] = opt_float("survey_score")
            kwargs["survey_scale_min"] = [
                nan if r.survey_score is None else float(r.survey_scale[0]) for r in rows
            ]
            kwargs["survey_scale_max"] = [
                nan if r.survey_score is None else float(r.survey_scale[1]) for r in rows
            ]
        if any_set("resolved_at_first_contact"):
            kwargs["resolved_at_first_contact"] = [
                -1 if x is None else int(bool(x)) for x in col("resolved_at_first_contact")
            ]
        if any_set("response_time"):
            kwargs["response_times"] = _timedeltas_to_ns(col("response_time"))
        if any_set("opportunity_stage"):
            kwargs["opportunity_stages"] = np.array(
                [-1 if x is None else _STAGES.index(x) for x in col("opportunity_stage")],
                dtype=np.int8,
            )
        channels = kwargs.pop("channels", None)
        table = cls.from_arrays(
            _id_column(col("customer_id")),
            np.array(col("timestamp"), dtype=object),
            kinds=np.array([str(k) for k in col("kind")], dtype=object),
            amounts=[0.0 if x is None else float(x) for x in col("amount")],
            **kwargs,
        )
        if channels is not None:
            table = attrs.evolve(table, channels=_ro(channels))
        return table


def _missing_labels(labels: np.ndarray[Any, Any]) -> BoolArray:
    """Mask of unknown labels: None, NaN or the empty string."""
    kind = labels.dtype.kind
    if kind == "f":
        return np.asarray(np.isnan(labels), dtype=np.bool_)
    if kind in "US":
        return np.asarray(labels == labels.dtype.type(), dtype=np.bool_)
    if kind == "O":
        return np.fromiter(
            (
                x is None
                or (isinstance(x, float) and math.isnan(x))
                or (isinstance(x, str) and not x)
                for x in labels
            ),
            dtype=np.bool_,
            count=labels.size,
        )
    return np.zeros(labels.size, dtype=np.bool_)


def _pseudonyms(
    ids: np.ndarray[Any, Any], key: bytes | str
) -> tuple[np.ndarray[Any, Any], IntArray]:
    """Pseudonyms of distinct ids, and the order that sorts them."""
    hidden = pseudonymize_ids(ids, key)
    order = np.argsort(hidden, kind="stable")
    if hidden.size > 1 and (hidden[order][1:] == hidden[order][:-1]).any():  # pragma: no cover
        raise InputError("two customer ids share a pseudonym (an HMAC collision)")
    return hidden, order.astype(np.int64)


def _id_column(ids: list[Any]) -> np.ndarray[Any, Any]:
    """Ids as numpy infers them (int64 for ints, str for strings), object when mixed."""
    if not ids:
        return np.array([], dtype=object)
    if all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        try:
            return np.array(ids, dtype=np.int64)
        except OverflowError:
            return np.array(ids, dtype=object)
    if all(isinstance(i, str) for i in ids):
        return np.array(ids, dtype=str)
    return np.array(ids, dtype=object)


_MAX_TIMEDELTA = dt.timedelta(microseconds=(2**63 - 1) // 1000)


def _timedeltas_to_ns(values: list[Any]) -> np.ndarray[Any, np.dtype[np.timedelta64]]:
    """Durations (timedelta or None) to timedelta64[ns]; NaT for None."""
    out = np.full(len(values), np.timedelta64("NaT", "ns"))
    for i, x in enumerate(values):
        if x is None:
            continue
        if abs(x) > _MAX_TIMEDELTA:
            raise InputError(
                f"response_time at index {i} is too long for timedelta64[ns] "
                f"(at most about 292 years); got {x!r}"
            )
        out[i] = np.timedelta64(x, "us").astype("timedelta64[ns]")
    return out


def _column_float(values: ArrayLike, name: str, n: int, *, allow_nan: bool) -> FloatArray:
    arr = v.as_float_array(values, name, allow_empty=True, allow_nan=allow_nan)
    if arr.shape != (n,):
        raise InputError(f"{name} must have {n} values, got shape {arr.shape}")
    return v.readonly_copy(arr)  # as_float_array may hand back the caller's own array


def _survey_columns(
    scores: ArrayLike, low: ArrayLike | None, high: ArrayLike | None, n: int
) -> dict[str, FloatArray]:
    s = _column_float(scores, "survey_scores", n, allow_nan=True)
    if low is None or high is None:
        raise InputTypeError(
            "survey_scores needs survey_scale_min and survey_scale_max (the answer scale of "
            "each row, e.g. 0 and 10 for a recommendation question)"
        )
    lo = _column_float(low, "survey_scale_min", n, allow_nan=True)
    hi = _column_float(high, "survey_scale_max", n, allow_nan=True)
    answered = ~np.isnan(s)
    missing_scale = answered & (np.isnan(lo) | np.isnan(hi))
    if missing_scale.any():
        raise InputError(
            "survey_scale_min and survey_scale_max must be given for every answered row; "
            + v.describe_violations(missing_scale, ("survey_scores", s))
        )
    with np.errstate(invalid="ignore"):
        outside = answered & ((s < lo) | (s > hi))
    if outside.any():
        raise InputError(
            "survey_scores must lie inside their scale; "
            + v.describe_violations(
                outside, ("survey_scores", s), ("survey_scale_min", lo), ("survey_scale_max", hi)
            )
        )
    return {"survey_scores": s, "survey_scale_min": lo, "survey_scale_max": hi}


def _column_timedelta(values: ArrayLike, n: int) -> np.ndarray[Any, np.dtype[np.timedelta64]]:
    arr = np.asarray(values)
    if arr.dtype.kind == "O":
        try:
            arr = arr.astype("timedelta64[ns]")
        except (TypeError, ValueError) as exc:
            raise InputTypeError(f"response_times must hold durations: {exc}") from exc
    if arr.dtype.kind != "m":
        raise InputTypeError(f"response_times must hold timedelta64 values, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise InputError(f"response_times must have {n} values, got shape {arr.shape}")
    out = arr.astype("timedelta64[ns]")
    bad = ~np.isnat(out) & (out < np.timedelta64(0, "ns"))
    if bad.any():
        raise InputError(
            "response_times must not be negative; "
            + v.describe_violations(bad, ("response_times", out))
        )
    return out


_OPPORTUNITY_CODE = KIND_CODES[InteractionKind.OPPORTUNITY]


def _stage_codes(
    values: ArrayLike, kind_codes: np.ndarray[Any, np.dtype[np.int8]], n: int
) -> np.ndarray[Any, np.dtype[np.int8]]:
    """Encode opportunity stages (members, values, codes; missing as None, "" or -1)."""
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size != n:
        raise InputError(
            f"opportunity_stages must be 1-dimensional with {n} values, got shape {arr.shape}"
        )
    if arr.dtype.kind in "iu":
        known = arr != -1
    elif arr.dtype.kind in "UO":
        known = ~_missing_labels(arr)
    else:
        raise InputTypeError(
            f"opportunity_stages must hold strings or enum members, got dtype {arr.dtype}"
        )
    codes = np.full(n, -1, dtype=np.int8)
    if known.any():
        inner = arr[known]
        if inner.dtype.kind == "O" and not all(isinstance(x, str) for x in inner.tolist()):
            bad = next(x for x in inner.tolist() if not isinstance(x, str))
            raise InputTypeError(
                "opportunity_stages must hold strings or enum members; found "
                f"{type(bad).__name__} {bad!r}"
            )
        codes[known] = _encode(inner, "opportunity_stages", _STAGES, int(inner.size))
    misplaced = (codes >= 0) & (kind_codes != _OPPORTUNITY_CODE)
    if misplaced.any():
        raise InputError(
            "opportunity_stages must be missing (None or -1) on rows that are not "
            "'opportunity' rows; " + v.describe_violations(misplaced, ("opportunity_stages", arr))
        )
    return codes

"""Customer, interaction and relationship records and their enums.

The records are frozen, keyword-only attrs classes validated on construction;
change them with :func:`attrs.evolve`, which validates the new record again.
Each record converts to and from a plain dict of JSON values (``to_dict`` /
``from_dict``). :func:`pseudonymize` and :func:`pseudonymize_ids` replace
customer ids by keyed hashes so that analytics can run on data without
identities. The CRM concepts behind each record are mapped in the docs page
"CRM concepts and where they live".
"""

from __future__ import annotations

import datetime as _dt
import enum
import hashlib
import hmac
import math
import numbers
import types
from collections.abc import Mapping
from typing import Any, TypeAlias, TypeVar

import attrs
import numpy as np
import numpy.typing as npt

from . import _validation as v
from ._typing import ArrayLike
from .errors import InputError, InputTypeError

__all__ = [
    "Channel",
    "Consent",
    "Customer",
    "CustomerId",
    "CustomerSource",
    "CustomerStatus",
    "Interaction",
    "InteractionKind",
    "LadderStage",
    "OpportunityStage",
    "PartyKind",
    "Relationship",
    "RelationshipLevel",
    "SourceClass",
    "pseudonymize",
    "pseudonymize_ids",
]

CustomerId: TypeAlias = int | str
"""A customer id: an ``int`` or a non-empty ``str`` (numpy integers become ``int``)."""


class InteractionKind(enum.StrEnum):
    """What kind of touch point an interaction is.

    The order of the members is the code used in
    :class:`crmcore.InteractionTable` (``purchase`` is 0); new members are
    appended at the end, so stored codes keep their meaning.

    ``lead`` and ``opportunity`` belong to acquisition (客户开发): a ``lead``
    row is a contact with a prospect (its first one is the first contact of
    the sales cycle), carrying the :attr:`Interaction.lead_source`; an
    ``opportunity`` row records that the prospect reached an
    :class:`OpportunityStage` of the sales process. The prospect's first
    purchase makes it a customer.

    Examples
    --------
    >>> InteractionKind("refund") is InteractionKind.REFUND
    True
    >>> InteractionKind("gift")
    Traceback (most recent call last):
    ...
    ValueError: 'gift' is not a valid InteractionKind
    """

    PURCHASE = "purchase"
    REFUND = "refund"
    COMPLAINT = "complaint"
    SUPPORT = "support"
    SURVEY = "survey"
    VISIT = "visit"
    MARKETING = "marketing"
    LEAD = "lead"
    """A contact with a prospect (潜在客户); carries the lead source."""
    OPPORTUNITY = "opportunity"
    """A step of the sales process; carries the :class:`OpportunityStage` reached."""


class OpportunityStage(enum.StrEnum):
    """The stage a prospect reaches in the sales process, recorded on ``opportunity`` rows.

    The funnel is lead → qualified → proposal → won, with ``lost`` closing an
    opportunity at any stage: a prospect is a *lead* from its first contact
    (a ``lead`` row, no stage needed), *qualified* once judged a real
    prospect (合格的潜在客户: it needs the product and can pay for it),
    reaches *proposal* when an offer is made, and is *won* (成交) or *lost*.
    A first purchase counts as *won* even without a ``won`` row.
    :func:`crmcore.metrics.leads_from_table` takes the highest stage of the
    funnel each prospect reached.

    Examples
    --------
    >>> OpportunityStage("proposal") is OpportunityStage.PROPOSAL
    True
    >>> [s.value for s in OpportunityStage]
    ['qualified', 'proposal', 'won', 'lost']
    """

    QUALIFIED = "qualified"
    PROPOSAL = "proposal"
    WON = "won"
    LOST = "lost"


class Channel(enum.StrEnum):
    """Where an interaction took place.

    The order of the members is the code used in
    :class:`crmcore.InteractionTable` (``store`` is 0).

    Examples
    --------
    >>> Channel("online").value
    'online'
    """

    STORE = "store"
    ONLINE = "online"
    PHONE = "phone"
    EMAIL = "email"
    MOBILE_APP = "mobile_app"
    FIELD_SALES = "field_sales"
    PARTNER = "partner"
    OTHER = "other"


class SourceClass(enum.StrEnum):
    """The four customer sources of the practice, the coarse level of :class:`CustomerSource`.

    End (终端客户), intermediate (中间客户), internal (内部客户) and public
    (公利客户) customers.

    Examples
    --------
    >>> SourceClass("intermediate") is SourceClass.INTERMEDIATE
    True
    """

    END = "end"
    """终端客户: buys for its own use (a consumer, or an organisation buying for itself)."""
    INTERMEDIATE = "intermediate"
    """中间客户: buys to pass on, or brings customers (distributors, dealers, partners)."""
    INTERNAL = "internal"
    """内部客户: inside the company (employees, departments)."""
    PUBLIC = "public"
    """公利客户: public interest (government, associations, media)."""


class CustomerSource(enum.StrEnum):
    """Where a customer stands in the value chain: the finer level of :class:`SourceClass`.

    Each member belongs to one of the practice's four sources, given by
    :attr:`source_class`: ``consumer`` (a person) and ``business`` (an
    organisation, the B2B end customer) are end customers; ``distributor``,
    ``dealer``, ``reseller`` and ``partner`` are intermediate; ``internal`` and
    ``public`` are their own classes.

    Examples
    --------
    >>> CustomerSource("dealer") is CustomerSource.DEALER
    True
    >>> CustomerSource.BUSINESS.source_class, CustomerSource.PARTNER.source_class
    (<SourceClass.END: 'end'>, <SourceClass.INTERMEDIATE: 'intermediate'>)
    >>> CustomerSource("wholesale")
    Traceback (most recent call last):
    ...
    ValueError: 'wholesale' is not a valid CustomerSource
    """

    CONSUMER = "consumer"
    """End customer, a person buying for private use (个人终端客户)."""
    BUSINESS = "business"
    """End customer, an organisation buying for its own use: the B2B customer (组织终端客户)."""
    DISTRIBUTOR = "distributor"
    """Intermediate: distributor (经销商)."""
    DEALER = "dealer"
    """Intermediate: dealer (代理商)."""
    RESELLER = "reseller"
    """Intermediate: reseller, retailer (零售商)."""
    PARTNER = "partner"
    """Intermediate: business partner, alliance or channel partner (合作伙伴)."""
    INTERNAL = "internal"
    """Internal: employees, departments."""
    PUBLIC = "public"
    """Public: government, associations, media."""

    @property
    def source_class(self) -> SourceClass:
        """The coarse source (终端 / 中间 / 内部 / 公利) this member belongs to."""
        return _SOURCE_CLASS[self]


_SOURCE_CLASS: dict[CustomerSource, SourceClass] = {
    CustomerSource.CONSUMER: SourceClass.END,
    CustomerSource.BUSINESS: SourceClass.END,
    CustomerSource.DISTRIBUTOR: SourceClass.INTERMEDIATE,
    CustomerSource.DEALER: SourceClass.INTERMEDIATE,
    CustomerSource.RESELLER: SourceClass.INTERMEDIATE,
    CustomerSource.PARTNER: SourceClass.INTERMEDIATE,
    CustomerSource.INTERNAL: SourceClass.INTERNAL,
    CustomerSource.PUBLIC: SourceClass.PUBLIC,
}


class PartyKind(enum.StrEnum):
    """Whether a customer is a person (个人) or an organisation (组织).

    Examples
    --------
    >>> PartyKind("organisation") is PartyKind.ORGANISATION
    True
    """

    PERSON = "person"
    ORGANISATION = "organisation"


class _OrderedEnum(enum.StrEnum):
    """A str-valued enum whose members compare by their declaration order.

    A member equals its value (``LadderStage.MEMBER == "member"``), so that it
    compares with the str arrays of the category results
    (``stage == LadderStage.MEMBER`` gives a mask); it hashes like its value
    to keep dicts and sets consistent with that equality. The order ``< <= >
    >=`` holds between members of the same enum only and follows the rungs;
    against anything else, a plain str included (whose order would be
    alphabetical), it raises InputTypeError (a TypeError).
    """

    __hash__ = str.__hash__

    def _rank(self) -> int:
        return list(type(self)).index(self)

    def _other_rank(self, other: object, op: str) -> int:
        if type(other) is type(self):
            return other._rank()
        cls = type(self).__name__
        hint = f"; compare members, e.g. {cls}(value) {op} {cls}.{self.name}"
        raise InputTypeError(
            f"'{op}' is not supported between {cls} and {type(other).__name__}"
            f" (the order of {cls} is that of its rungs){hint if isinstance(other, str) else ''}"
        )

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """Compare with numpy arrays: == and != by value; the order raises InputTypeError.

        numpy would otherwise compare a str array with a member as plain
        strings, in alphabetical order, not in the order of the rungs. Object
        arrays (of members) compare element by element, in the rung order.
        """
        if ufunc.__name__ in {"equal", "not_equal"} and method == "__call__":
            plain = [x.value if isinstance(x, _OrderedEnum) else x for x in inputs]
            return getattr(ufunc, method)(*plain, **kwargs)
        if all(
            isinstance(x, _OrderedEnum) or (isinstance(x, np.ndarray) and x.dtype.kind == "O")
            for x in inputs
        ):
            # object arrays (of members): element by element, with the operators above
            boxed = [np.array(x, dtype=object) for x in inputs]
            return getattr(ufunc, method)(*boxed, **kwargs)
        cls = type(self).__name__
        raise InputTypeError(
            f"numpy's {ufunc.__name__} is not supported with a {cls} (only == and != are; "
            f"the order of {cls} is that of its rungs): convert the values with {cls}(value)"
        )

    def __lt__(self, other: object) -> bool:
        if isinstance(other, np.ndarray):
            return NotImplemented  # numpy's reflected operator calls __array_ufunc__
        return self._rank() < self._other_rank(other, "<")

    def __le__(self, other: object) -> bool:
        if isinstance(other, np.ndarray):
            return NotImplemented  # numpy's reflected operator calls __array_ufunc__
        return self._rank() <= self._other_rank(other, "<=")

    def __gt__(self, other: object) -> bool:
        if isinstance(other, np.ndarray):
            return NotImplemented  # numpy's reflected operator calls __array_ufunc__
        return self._rank() > self._other_rank(other, ">")

    def __ge__(self, other: object) -> bool:
        if isinstance(other, np.ndarray):
            return NotImplemented  # numpy's reflected operator calls __array_ufunc__
        return self._rank() >= self._other_rank(other, ">=")


class LadderStage(_OrderedEnum):
    """The loyalty ladder, ordered from prospect to advocate.

    Examples
    --------
    >>> LadderStage.REPEAT_BUYER < LadderStage.ADVOCATE
    True

    A stage equals its value, also inside the str arrays of the category
    results; the order holds between stages only:

    >>> import numpy as np
    >>> np.array(["member", "loyal"]) == LadderStage.MEMBER
    array([ True, False])
    >>> "loyal" < LadderStage.MEMBER
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: '>' is not supported between LadderStage and str ...
    """

    PROSPECT = "prospect"
    QUALIFIED_PROSPECT = "qualified_prospect"
    FIRST_TIME_BUYER = "first_time_buyer"
    REPEAT_BUYER = "repeat_buyer"
    LOYAL = "loyal"
    MEMBER = "member"
    ADVOCATE = "advocate"


class RelationshipLevel(_OrderedEnum):
    """Kotler's five levels of relationship marketing, ordered.

    Examples
    --------
    >>> RelationshipLevel.BASIC < RelationshipLevel.PARTNERSHIP
    True
    """

    BASIC = "basic"
    REACTIVE = "reactive"
    ACCOUNTABLE = "accountable"
    PROACTIVE = "proactive"
    PARTNERSHIP = "partnership"


class CustomerStatus(enum.StrEnum):
    """Where a person or organisation stands towards the company.

    Examples
    --------
    >>> CustomerStatus("lost") is CustomerStatus.LOST
    True
    """

    NON_CUSTOMER = "non_customer"
    POTENTIAL = "potential"
    TARGET = "target"
    ACTUAL = "actual"
    LOST = "lost"


# --------------------------------------------------------------------------------------
# Converters normalise harmless variants (numpy scalars, enum values as strings, ints
# for floats) and pass anything else through unchanged; the validators, which know the
# field's name, then reject what is left with a message naming the field.

_E = TypeVar("_E", bound=enum.Enum)
_Attribute: TypeAlias = "attrs.Attribute[Any]"


def _is_integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _coerce_enum(cls: type[_E], value: object) -> Any:
    if isinstance(value, str) and not isinstance(value, cls):
        try:
            return cls(value)
        except ValueError:
            return value
    return value


def _to_id(value: CustomerId | np.integer[Any]) -> CustomerId:
    return int(value) if _is_integer(value) and not isinstance(value, int) else value  # type: ignore[return-value]


def _to_opt_id(value: CustomerId | np.integer[Any] | None) -> CustomerId | None:
    return None if value is None else _to_id(value)


def _to_opt_float(value: float | None) -> float | None:
    number: Any = value  # numpy scalars and Fractions are Real too, not only float
    return float(number) if _is_real(number) else value


def _to_bool(value: bool | np.bool_) -> bool:
    return bool(value) if isinstance(value, np.bool_) else value


def _to_opt_bool(value: bool | np.bool_ | None) -> bool | None:
    return bool(value) if isinstance(value, np.bool_) else value


def _to_kind(value: InteractionKind | str) -> InteractionKind:
    return _coerce_enum(InteractionKind, value)  # type: ignore[no-any-return]


def _to_opt_channel(value: Channel | str | None) -> Channel | None:
    return _coerce_enum(Channel, value)  # type: ignore[no-any-return]


def _to_opt_opportunity_stage(value: OpportunityStage | str | None) -> OpportunityStage | None:
    return _coerce_enum(OpportunityStage, value)  # type: ignore[no-any-return]


def _to_source(value: CustomerSource | str) -> CustomerSource:
    return _coerce_enum(CustomerSource, value)  # type: ignore[no-any-return]


def _to_party(value: PartyKind | str) -> PartyKind:
    return _coerce_enum(PartyKind, value)  # type: ignore[no-any-return]


def _to_stage(value: LadderStage | str) -> LadderStage:
    return _coerce_enum(LadderStage, value)  # type: ignore[no-any-return]


def _to_level(value: RelationshipLevel | str) -> RelationshipLevel:
    return _coerce_enum(RelationshipLevel, value)  # type: ignore[no-any-return]


def _to_status(value: CustomerStatus | str) -> CustomerStatus:
    return _coerce_enum(CustomerStatus, value)  # type: ignore[no-any-return]


def _to_scale(value: tuple[float, float] | list[float]) -> tuple[float, float]:
    if isinstance(value, tuple | list) and len(value) == 2 and all(_is_real(x) for x in value):
        return (float(value[0]), float(value[1]))
    return value  # type: ignore[return-value]


def _freeze_json(value: object, path: str) -> object:
    """Deep-copy a JSON-able value into immutable containers, or raise."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if _is_integer(value):
        return int(value)  # type: ignore[call-overload]
    if _is_real(value):
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number):
            raise InputError(f"{path} must be a finite number (JSON has no NaN), got {number!r}")
        return number
    if isinstance(value, Mapping):
        frozen: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputTypeError(
                    f"{path} must have str keys (JSON objects do), "
                    f"got the {type(key).__name__} key {key!r}"
                )
            frozen[key] = _freeze_json(item, f"{path}[{key!r}]")
        return types.MappingProxyType(frozen)
    if isinstance(value, list | tuple):
        return tuple(_freeze_json(item, f"{path}[{i}]") for i, item in enumerate(value))
    raise InputTypeError(
        f"{path} must hold JSON-able values (None, bool, int, finite float, str, "
        f"list or dict with str keys), got {type(value).__name__}"
    )


def _to_attributes(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if value is None:
        return types.MappingProxyType({})
    if not isinstance(value, Mapping):
        raise InputTypeError(
            f"attributes must be a mapping of str to JSON-able values, got {type(value).__name__}"
        )
    frozen = _freeze_json(value, "attributes")
    assert isinstance(frozen, types.MappingProxyType)  # _freeze_json maps a Mapping to a proxy
    return frozen


def _check_id(instance: object, attribute: _Attribute, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InputTypeError(
            f"{attribute.name} must be a customer id (an int or a str), "
            f"got {type(value).__name__} {value!r}"
        )
    if isinstance(value, str) and not value:
        raise InputError(f"{attribute.name} must be a customer id, not an empty string")


def _check_opt_id(instance: object, attribute: _Attribute, value: object) -> None:
    if value is not None:
        _check_id(instance, attribute, value)


def _check_aware(instance: object, attribute: _Attribute, value: object) -> None:
    if not isinstance(value, _dt.datetime):
        raise InputTypeError(
            f"{attribute.name} must be a timezone-aware datetime.datetime, "
            f"got {type(value).__name__} {value!r}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(
            f"{attribute.name} must be timezone-aware; got the naive datetime "
            f"{value.isoformat()!r} (attach a zone, e.g. value.replace(tzinfo=datetime.UTC))"
        )


def _check_opt_aware(instance: object, attribute: _Attribute, value: object) -> None:
    if value is not None:
        _check_aware(instance, attribute, value)


def _check_str(instance: object, attribute: _Attribute, value: object) -> None:
    # The value is not shown: the field may hold contact data.
    if not isinstance(value, str):
        raise InputTypeError(f"{attribute.name} must be a str, got {type(value).__name__}")


def _check_opt_str(instance: object, attribute: _Attribute, value: object) -> None:
    # The value is not shown: the field may hold contact data.
    if value is not None and not isinstance(value, str):
        raise InputTypeError(f"{attribute.name} must be a str or None, got {type(value).__name__}")


def _check_opt_label(instance: object, attribute: _Attribute, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InputTypeError(
            f"{attribute.name} must be an int, a str or None, got {type(value).__name__} {value!r}"
        )
    if isinstance(value, str) and not value:
        raise InputError(f"{attribute.name} must not be an empty string")


def _check_text(instance: object, attribute: _Attribute, value: object) -> None:
    if not isinstance(value, str):
        raise InputTypeError(
            f"{attribute.name} must be a str, got {type(value).__name__} {value!r}"
        )
    if not value:
        raise InputError(f"{attribute.name} must not be an empty string")


def _check_opt_text(instance: object, attribute: _Attribute, value: object) -> None:
    if value is not None:
        _check_text(instance, attribute, value)


def _check_opt_finite(instance: object, attribute: _Attribute, value: object) -> None:
    if value is not None:
        v.check_float(value, attribute.name)


def _check_bool(instance: object, attribute: _Attribute, value: object) -> None:
    if not isinstance(value, bool):
        raise InputTypeError(
            f"{attribute.name} must be a bool, got {type(value).__name__} {value!r}"
        )


def _check_opt_bool(instance: object, attribute: _Attribute, value: object) -> None:
    if value is not None:
        _check_bool(instance, attribute, value)


def _member_of(cls: type[enum.Enum], *, optional: bool = False) -> Any:
    allowed = ", ".join(repr(m.value) for m in cls)

    def check(instance: object, attribute: _Attribute, value: object) -> None:
        if isinstance(value, cls) or (optional and value is None):
            return
        if isinstance(value, str):
            raise InputError(f"{attribute.name} must be one of {allowed}; got {value!r}")
        raise InputTypeError(
            f"{attribute.name} must be a member of {cls.__name__} or its string value, "
            f"got {type(value).__name__} {value!r}"
        )

    return check


def _check_scale(instance: object, attribute: _Attribute, value: object) -> None:
    if not (
        isinstance(value, tuple) and len(value) == 2 and all(isinstance(x, float) for x in value)
    ):
        raise InputTypeError(
            f"{attribute.name} must be a pair (low, high) of real numbers, got {value!r}"
        )
    low, high = value
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError(f"{attribute.name} must hold finite bounds, got {value!r}")
    if not low < high:
        raise InputError(f"{attribute.name} must have low < high, got {value!r}")


def _check_opt_duration(instance: object, attribute: _Attribute, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, _dt.timedelta):
        raise InputTypeError(
            f"{attribute.name} must be a datetime.timedelta or None, "
            f"got {type(value).__name__} {value!r}"
        )
    if value < _dt.timedelta(0):
        raise InputError(f"{attribute.name} must not be negative, got {value!r}")


# --------------------------------------------------------------------------------------
# Plain-dict conversion shared by the records.


def _export(value: object) -> object:
    """Turn a field value into JSON values (see the ``to_dict`` docstrings)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _dt.datetime):
        offset = value.utcoffset()
        if offset is not None and offset % _dt.timedelta(seconds=1):
            # Python 3.11 reads "+00:00:00.000001" back as UTC; sub-second offsets exist
            # only in synthetic zones, so write such instants in UTC.
            value = value.astimezone(_dt.UTC)
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value / _dt.timedelta(seconds=1)
    if isinstance(value, Mapping):
        return {key: _export(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_export(item) for item in value]
    return value


def _record_to_dict(record: attrs.AttrsInstance) -> dict[str, Any]:
    return {
        field.name: _export(getattr(record, field.name)) for field in attrs.fields(type(record))
    }


def _parse_datetime(value: object, key: str) -> object:
    if not isinstance(value, str):
        return value
    try:
        return _dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(
            f"{key} must be an ISO 8601 datetime with a UTC offset, got {value!r}"
        ) from exc


def _parse_duration(value: object, key: str) -> object:
    if not _is_real(value):
        return value
    seconds = float(value)  # type: ignore[arg-type]
    if not math.isfinite(seconds):
        raise InputError(f"{key} must be a finite number of seconds, got {seconds!r}")
    try:
        return _dt.timedelta(seconds=seconds)
    except OverflowError as exc:
        raise InputError(f"{key} is too large for a datetime.timedelta: {seconds!r} s") from exc


def _record_kwargs(
    cls: type[Any],
    d: object,
    *,
    datetimes: tuple[str, ...] = (),
    durations: tuple[str, ...] = (),
) -> dict[str, Any]:
    if not isinstance(d, Mapping):
        raise InputTypeError(
            f"d must be a mapping (as made by {cls.__name__}.to_dict), got {type(d).__name__}"
        )
    fields = attrs.fields_dict(cls)
    unknown = [key for key in d if key not in fields]
    if unknown:
        raise InputError(
            f"d has {len(unknown)} unknown key(s) for {cls.__name__} (first: {unknown[0]!r}); "
            f"known keys: {', '.join(fields)}"
        )
    missing = [
        name for name, field in fields.items() if field.default is attrs.NOTHING and name not in d
    ]
    if missing:
        raise InputError(
            f"d lacks the required key(s) {', '.join(repr(m) for m in missing)} for {cls.__name__}"
        )
    kwargs = dict(d)
    for key in datetimes:
        if key in kwargs:
            kwargs[key] = _parse_datetime(kwargs[key], key)
    for key in durations:
        if key in kwargs:
            kwargs[key] = _parse_duration(kwargs[key], key)
    return kwargs


# --------------------------------------------------------------------------------------
# The records.

#: Field metadata of personal data: such fields never appear in a record's repr.
_PERSONAL: Mapping[str, bool] = types.MappingProxyType({"personal": True})


@attrs.frozen(kw_only=True)
class Customer:
    """A person or organisation served individually, with a name.

    Parameters
    ----------
    id : int or str
        The customer's id (an ``int`` or a non-empty ``str``; numpy integers
        become ``int``).
    name : str
        The customer's name.
    source : CustomerSource or str, default CustomerSource.CONSUMER
        Where the customer stands in the value chain (the string value is
        accepted); ``source.source_class`` gives the practice's coarse source
        (终端 / 中间 / 内部 / 公利).
    party : PartyKind or str, optional
        Whether the customer is a person or an organisation. Default: a
        person for the sources ``consumer`` and ``internal``, an organisation
        for every other source. A ``consumer`` must be a person and a
        ``business`` an organisation (an organisation buying for its own use
        is a ``business`` customer).
    acquired : datetime.datetime
        When the customer was acquired (timezone-aware).
    member_since : datetime.datetime, optional
        When the customer joined the membership or loyalty programme
        (timezone-aware), if ever.
    referred_by : int or str, optional
        The id of the customer who referred this one; not the customer's own id.
    email, phone : str, optional
        Contact fields.
    attributes : mapping of str to JSON-able values, optional
        Free attributes (segment, industry, tags, ...). Values must be JSON-able:
        None, bool, int, finite float, str, and lists or dicts (str keys) of
        these. They are deep-copied into a read-only mapping; lists become
        tuples and dicts read-only mappings.

    Raises
    ------
    InputError
        If a datetime is naive, an id is an empty string, ``referred_by`` equals
        ``id``, ``source`` or ``party`` is an unknown string, ``party``
        contradicts ``source``, or an attribute is a non-finite float.
    InputTypeError
        If a field has the wrong type.

    See Also
    --------
    Interaction, Relationship, pseudonymize

    Notes
    -----
    ``attributes`` take part in equality but not in the hash.

    The personal fields ``name``, ``email``, ``phone`` and ``attributes``
    (marked ``personal`` in the fields' metadata) never appear in ``repr`` or
    ``str``, nor in error messages, so records can be logged: the ``repr``
    shows the id and the non-personal fields only. :meth:`to_dict` does
    export them.

    Examples
    --------
    >>> import datetime as dt
    >>> from crmcore.records import Customer
    >>> alice = Customer(id=7, name="Alice", email="alice@example.org",
    ...                  acquired=dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
    ...                  attributes={"segment": "retail"})
    >>> alice.source, alice.attributes["segment"], alice.email
    (<CustomerSource.CONSUMER: 'consumer'>, 'retail', 'alice@example.org')
    >>> repr(alice)  # doctest: +NORMALIZE_WHITESPACE
    "Customer(id=7, source=<CustomerSource.CONSUMER: 'consumer'>,
     party=<PartyKind.PERSON: 'person'>,
     acquired=datetime.datetime(2024, 3, 1, 0, 0, tzinfo=datetime.timezone.utc),
     member_since=None, referred_by=None)"
    >>> Customer(id=8, name="Bob", acquired=dt.datetime(2024, 3, 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: acquired must be timezone-aware; got the naive datetime ...
    """

    id: CustomerId = attrs.field(converter=_to_id, validator=_check_id)
    name: str = attrs.field(validator=_check_str, repr=False, metadata=_PERSONAL)
    source: CustomerSource = attrs.field(
        default=CustomerSource.CONSUMER, converter=_to_source, validator=_member_of(CustomerSource)
    )
    party: PartyKind = attrs.field(converter=_to_party, validator=_member_of(PartyKind))
    acquired: _dt.datetime = attrs.field(validator=_check_aware)
    member_since: _dt.datetime | None = attrs.field(default=None, validator=_check_opt_aware)
    referred_by: CustomerId | None = attrs.field(
        default=None, converter=_to_opt_id, validator=_check_opt_id
    )
    email: str | None = attrs.field(
        default=None, repr=False, validator=_check_opt_str, metadata=_PERSONAL
    )
    phone: str | None = attrs.field(
        default=None, repr=False, validator=_check_opt_str, metadata=_PERSONAL
    )
    attributes: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_to_attributes, hash=False, repr=False, metadata=_PERSONAL
    )

    @party.default
    def _default_party(self) -> PartyKind:
        source = self.source
        if source in (CustomerSource.CONSUMER, CustomerSource.INTERNAL) or not isinstance(
            source, CustomerSource
        ):
            return PartyKind.PERSON
        return PartyKind.ORGANISATION

    def __attrs_post_init__(self) -> None:
        if (self.source, self.party) in (
            (CustomerSource.CONSUMER, PartyKind.ORGANISATION),
            (CustomerSource.BUSINESS, PartyKind.PERSON),
        ):
            raise InputError(
                f"party must agree with source: a {self.source.value!r} customer cannot be "
                f"a {self.party.value!r} (an organisation buying for its own use is a "
                "'business' customer, a person a 'consumer')"
            )
        if self.referred_by is not None and self.referred_by == self.id:
            raise InputError(
                f"referred_by must name another customer, got the customer's own id {self.id!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the customer as a dict of JSON values.

        Returns
        -------
        dict
            One key per field. Datetimes become ISO 8601 strings with their UTC
            offset, ``source`` its string value, ``attributes`` a plain dict
            (tuples as lists). The contact fields ``email`` and ``phone`` are
            included: this is a data export. Pseudonymise or drop them before
            the dict leaves a trusted store.

        See Also
        --------
        from_dict

        Examples
        --------
        >>> import datetime as dt
        >>> c = Customer(id="c1", name="Ann", phone="+44 20 7946 0000",
        ...              acquired=dt.datetime(2024, 1, 2, 9, tzinfo=dt.UTC))
        >>> d = c.to_dict()
        >>> d["acquired"], d["source"], d["phone"]
        ('2024-01-02T09:00:00+00:00', 'consumer', '+44 20 7946 0000')
        >>> Customer.from_dict(d) == c
        True
        """
        return _record_to_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Customer:
        """Build a customer from a dict such as :meth:`to_dict` returns.

        Parameters
        ----------
        d : mapping
            Field names to values; datetimes as ISO 8601 strings with an offset
            (or ``datetime`` objects). Keys with defaults may be left out.

        Returns
        -------
        Customer

        Raises
        ------
        InputError
            On unknown or missing keys, unparsable datetimes, and every rule of
            :class:`Customer`.
        InputTypeError
            If ``d`` is not a mapping or a value has the wrong type.

        Examples
        --------
        >>> c = Customer.from_dict({"id": 1, "name": "Ann", "acquired": "2024-01-02T09:00+01:00"})
        >>> c.acquired.isoformat(), c.source.value
        ('2024-01-02T09:00:00+01:00', 'consumer')
        >>> Customer.from_dict({"id": 1, "name": "Ann"})
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: d lacks the required key(s) 'acquired' for Customer
        """
        return cls(**_record_kwargs(cls, d, datetimes=("acquired", "member_since")))


@attrs.frozen(kw_only=True)
class Interaction:
    """One touch point between a customer and the company.

    Parameters
    ----------
    customer_id : int or str
        The customer's id.
    timestamp : datetime.datetime
        When it happened (timezone-aware; :class:`~crmcore.InteractionTable`
        converts it to UTC).
    kind : InteractionKind or str
        Purchase, refund, complaint, support, survey, visit, marketing, lead
        or opportunity (the string value is accepted).
    channel : Channel or str, optional
        Where it happened.
    amount : float, optional
        Money involved; finite. Required for purchases and refunds; a purchase
        must not be negative (record money returned as a refund). A refund's
        amount is the money returned; metrics use its absolute value, so
        either sign may be stored.
    margin : float, optional
        Contribution margin; finite, may be negative. On a refund it is *the
        margin given back, signed as it was recorded at the sale*: refunding
        in full a sale whose margin was 12 stores 12, one whose margin was -5
        (sold at a loss) stores -5. :func:`crmcore.metrics.historical_value`
        subtracts it as stored, so a refund of a loss-making sale raises the
        customer's value back.
    product, category, region, campaign : str, optional
        Labels for sales breakdowns and campaign analysis.
    order_id : int or str, optional
        The order the row belongs to: the items of one order share it (and
        the customer). Without it an order is taken to be the purchase rows of
        a customer with one timestamp.
    in_control_group : bool, default False
        Whether the customer was held out of the campaign (uplift analysis).
    discounted : bool, default False
        Whether the purchase was made at a discount.
    survey_score : float, optional
        The answer to a survey question; required for kind ``survey`` (allowed
        on other kinds, e.g. a rating attached to a support contact). Must lie
        inside ``survey_scale``, bounds included.
    survey_scale : (float, float), default (0.0, 10.0)
        The answer scale ``(low, high)``, ``low < high``: (0, 10) for a
        recommendation question, (1, 5) for CSAT, (1, 7) for customer effort.
    survey_question : str, optional
        Which question ``survey_score`` answers: ``"nps"`` (how likely are
        you to recommend us), ``"csat"``, ``"ces"`` or any other non-empty
        label. The satisfaction functions read a table's answers by this
        label, so a 1-10 satisfaction rating is never taken for a
        recommendation score. Only with a ``survey_score``.
    resolved_at_first_contact : bool, optional
        For support contacts and complaints: solved at the first contact.
    response_time : datetime.timedelta, optional
        Time until the company responded; not negative.
    lead_source : str, optional
        Where a prospect came from (``"referral"``, ``"trade_show"``,
        ``"web"``, ...): a non-empty label, given on ``lead`` rows (allowed on
        ``opportunity`` rows too). It is a field of its own rather than
        ``campaign`` or ``channel``: a lead source may be a campaign, but also
        a referral or a cold call, and the channel says where a contact took
        place, not how the prospect was found.
    opportunity_stage : OpportunityStage or str, optional
        The stage of the sales process reached; required on ``opportunity``
        rows and only allowed there.

    Raises
    ------
    InputError
        If the timestamp is naive, an amount or margin is NaN or infinite, a
        purchase or refund lacks an amount, a purchase amount is negative, a
        survey lacks its score or the score lies outside its scale, the scale
        is not ``low < high``, a ``survey_question`` is empty or comes without
        a score, an ``order_id`` is an empty string, the response time is
        negative, ``kind``, ``channel`` or ``opportunity_stage`` is an unknown
        string, an ``opportunity`` row lacks its stage or another row has
        one, a ``lead_source`` is empty or is given on a row other than a lead
        or opportunity.
    InputTypeError
        If a field has the wrong type.

    See Also
    --------
    crmcore.InteractionTable.from_records : the columnar form of many interactions.

    Examples
    --------
    >>> import datetime as dt
    >>> from crmcore.records import Interaction
    >>> when = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    >>> sale = Interaction(customer_id=7, timestamp=when, kind="purchase", amount=19.9)
    >>> sale.kind, sale.amount
    (<InteractionKind.PURCHASE: 'purchase'>, 19.9)
    >>> Interaction(customer_id=7, timestamp=when, kind="survey", survey_score=6,
    ...             survey_scale=(1, 5))
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: survey_score must lie inside survey_scale (1.0, 5.0); got 6.0
    """

    customer_id: CustomerId = attrs.field(converter=_to_id, validator=_check_id)
    timestamp: _dt.datetime = attrs.field(validator=_check_aware)
    kind: InteractionKind = attrs.field(converter=_to_kind, validator=_member_of(InteractionKind))
    channel: Channel | None = attrs.field(
        default=None, converter=_to_opt_channel, validator=_member_of(Channel, optional=True)
    )
    amount: float | None = attrs.field(
        default=None, converter=_to_opt_float, validator=_check_opt_finite
    )
    margin: float | None = attrs.field(
        default=None, converter=_to_opt_float, validator=_check_opt_finite
    )
    product: str | None = attrs.field(default=None, validator=_check_opt_str)
    category: str | None = attrs.field(default=None, validator=_check_opt_str)
    region: str | None = attrs.field(default=None, validator=_check_opt_str)
    campaign: str | None = attrs.field(default=None, validator=_check_opt_str)
    order_id: int | str | None = attrs.field(
        default=None, converter=_to_opt_id, validator=_check_opt_label
    )
    in_control_group: bool = attrs.field(default=False, converter=_to_bool, validator=_check_bool)
    discounted: bool = attrs.field(default=False, converter=_to_bool, validator=_check_bool)
    survey_score: float | None = attrs.field(
        default=None, converter=_to_opt_float, validator=_check_opt_finite
    )
    survey_scale: tuple[float, float] = attrs.field(
        default=(0.0, 10.0), converter=_to_scale, validator=_check_scale
    )
    survey_question: str | None = attrs.field(default=None, validator=_check_opt_text)
    resolved_at_first_contact: bool | None = attrs.field(
        default=None, converter=_to_opt_bool, validator=_check_opt_bool
    )
    response_time: _dt.timedelta | None = attrs.field(default=None, validator=_check_opt_duration)
    lead_source: str | None = attrs.field(default=None, validator=_check_opt_text)
    opportunity_stage: OpportunityStage | None = attrs.field(
        default=None,
        converter=_to_opt_opportunity_stage,
        validator=_member_of(OpportunityStage, optional=True),
    )

    def __attrs_post_init__(self) -> None:
        kind = self.kind
        if kind is InteractionKind.OPPORTUNITY and self.opportunity_stage is None:
            raise InputError(
                "opportunity_stage is required for an interaction of kind 'opportunity'"
            )
        if kind is not InteractionKind.OPPORTUNITY and self.opportunity_stage is not None:
            raise InputError(
                f"opportunity_stage belongs to 'opportunity' rows; got the stage "
                f"{self.opportunity_stage.value!r} on a row of kind {kind.value!r}"
            )
        if self.lead_source is not None and kind not in (
            InteractionKind.LEAD,
            InteractionKind.OPPORTUNITY,
        ):
            raise InputError(
                f"lead_source belongs to 'lead' and 'opportunity' rows; got it on a row of kind "
                f"{kind.value!r}"
            )
        if kind in (InteractionKind.PURCHASE, InteractionKind.REFUND) and self.amount is None:
            raise InputError(f"amount is required for an interaction of kind {kind.value!r}")
        if kind is InteractionKind.PURCHASE and self.amount is not None and self.amount < 0:
            raise InputError(
                f"amount of a purchase must be non-negative, got {self.amount!r} "
                "(record money returned as an interaction of kind 'refund')"
            )
        if kind is InteractionKind.SURVEY and self.survey_score is None:
            raise InputError("survey_score is required for an interaction of kind 'survey'")
        if self.survey_question is not None and self.survey_score is None:
            raise InputError(
                f"survey_question labels a survey_score; got the question "
                f"{self.survey_question!r} without a score"
            )
        if self.survey_score is not None:
            low, high = self.survey_scale
            if not low <= self.survey_score <= high:
                raise InputError(
                    f"survey_score must lie inside survey_scale {self.survey_scale!r}; "
                    f"got {self.survey_score!r}"
                )

    def to_dict(self) -> dict[str, Any]:
        """Return the interaction as a dict of JSON values.

        Returns
        -------
        dict
            One key per field. ``timestamp`` becomes an ISO 8601 string with its
            UTC offset, enums their string values, ``survey_scale`` a list and
            ``response_time`` a float number of seconds (exact for durations
            below about 140 years, the range where a float holds every
            microsecond).

        See Also
        --------
        from_dict

        Notes
        -----
        The zone is written as its UTC offset at that instant, so
        :meth:`from_dict` returns a datetime with a fixed-offset zone for the
        same instant; the records compare equal, except that Python never
        finds a datetime inside a daylight-saving fold equal to one in another
        zone (PEP 495); compare such records through ``to_dict``.

        Examples
        --------
        >>> import datetime as dt, json
        >>> i = Interaction(customer_id="c1", kind="support", channel="phone",
        ...                 timestamp=dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC),
        ...                 response_time=dt.timedelta(minutes=5))
        >>> d = i.to_dict()
        >>> d["kind"], d["channel"], d["survey_scale"], d["response_time"]
        ('support', 'phone', [0.0, 10.0], 300.0)
        >>> Interaction.from_dict(json.loads(json.dumps(d))) == i
        True
        """
        return _record_to_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Interaction:
        """Build an interaction from a dict such as :meth:`to_dict` returns.

        Parameters
        ----------
        d : mapping
            Field names to values: ``timestamp`` as an ISO 8601 string with an
            offset (or a ``datetime``), ``response_time`` in seconds (or a
            ``timedelta``). Keys with defaults may be left out.

        Returns
        -------
        Interaction

        Raises
        ------
        InputError
            On unknown or missing keys, unparsable datetimes, non-finite
            durations, and every rule of :class:`Interaction`.
        InputTypeError
            If ``d`` is not a mapping or a value has the wrong type.

        Examples
        --------
        >>> Interaction.from_dict({"customer_id": 3, "kind": "refund", "amount": 4.5,
        ...                        "timestamp": "2024-05-01T09:00:00-05:00"}).amount
        4.5
        >>> Interaction.from_dict({"customer_id": 3, "kind": "refund", "amount": 4.5,
        ...                        "timestamp": "2024-05-01T09:00:00"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: timestamp must be timezone-aware; got the naive datetime ...
        """
        kwargs = _record_kwargs(cls, d, datetimes=("timestamp",), durations=("response_time",))
        return cls(**kwargs)


@attrs.frozen(kw_only=True)
class Relationship:
    """Where the company stands with one customer, from ``since`` until ``ended``.

    Parameters
    ----------
    customer_id : int or str
        The customer's id.
    stage : LadderStage or str
        Rung of the loyalty ladder (the string value is accepted).
    level : RelationshipLevel or str
        Kotler's relationship level.
    status : CustomerStatus or str
        Status of the person or organisation towards the company.
    since : datetime.datetime
        Start of this state (timezone-aware).
    ended : datetime.datetime, optional
        End of this state (timezone-aware, not before ``since``); None while
        it lasts.

    Raises
    ------
    InputError
        If a datetime is naive, ``ended`` is before ``since``, or an enum field
        is an unknown string.
    InputTypeError
        If a field has the wrong type.

    Examples
    --------
    >>> import datetime as dt
    >>> from crmcore.records import Relationship
    >>> r = Relationship(customer_id=7, stage="loyal", level="proactive", status="actual",
    ...                  since=dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    >>> r.stage > LadderStage.REPEAT_BUYER
    True
    >>> import attrs
    >>> attrs.evolve(r, ended=dt.datetime(2022, 1, 1, tzinfo=dt.UTC))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: ended must not be before since; got since=...
    """

    customer_id: CustomerId = attrs.field(converter=_to_id, validator=_check_id)
    stage: LadderStage = attrs.field(converter=_to_stage, validator=_member_of(LadderStage))
    level: RelationshipLevel = attrs.field(
        converter=_to_level, validator=_member_of(RelationshipLevel)
    )
    status: CustomerStatus = attrs.field(converter=_to_status, validator=_member_of(CustomerStatus))
    since: _dt.datetime = attrs.field(validator=_check_aware)
    ended: _dt.datetime | None = attrs.field(default=None, validator=_check_opt_aware)

    def __attrs_post_init__(self) -> None:
        if self.ended is not None and self.ended < self.since:
            raise InputError(
                f"ended must not be before since; got since={self.since.isoformat()!r}, "
                f"ended={self.ended.isoformat()!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the relationship as a dict of JSON values.

        Returns
        -------
        dict
            One key per field; enums as their string values, datetimes as ISO
            8601 strings with their UTC offset.

        See Also
        --------
        from_dict

        Examples
        --------
        >>> import datetime as dt
        >>> r = Relationship(customer_id=7, stage="member", level="basic", status="actual",
        ...                  since=dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
        >>> r.to_dict()  # doctest: +NORMALIZE_WHITESPACE
        {'customer_id': 7, 'stage': 'member', 'level': 'basic', 'status': 'actual',
         'since': '2023-01-01T00:00:00+00:00', 'ended': None}
        """
        return _record_to_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Relationship:
        """Build a relationship from a dict such as :meth:`to_dict` returns.

        Parameters
        ----------
        d : mapping
            Field names to values; datetimes as ISO 8601 strings with an offset
            (or ``datetime`` objects). ``ended`` may be left out.

        Returns
        -------
        Relationship

        Raises
        ------
        InputError
            On unknown or missing keys, unparsable datetimes, and every rule of
            :class:`Relationship`.
        InputTypeError
            If ``d`` is not a mapping or a value has the wrong type.

        Examples
        --------
        >>> Relationship.from_dict({"customer_id": 7, "stage": "member", "level": "basic",
        ...                         "status": "actual", "since": "2023-01-01T00:00:00Z"}).since
        datetime.datetime(2023, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
        >>> bad = {"customer_id": 7, "stage": "member", "level": "basic", "status": "actual",
        ...        "since": "1 Jan 2023"}
        >>> Relationship.from_dict(bad)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: since must be an ISO 8601 datetime with a UTC offset, got ...
        """
        return cls(**_record_kwargs(cls, d, datetimes=("since", "ended")))


@attrs.frozen(kw_only=True)
class Consent:
    """One consent a customer gave for one purpose of processing their data.

    A consent covers its purpose from ``given_at`` (included) until
    ``withdrawn_at`` (excluded), or for good while it is not withdrawn. A
    customer holds one record per purpose and grant: consent given again
    after a withdrawal is a new record.

    Parameters
    ----------
    customer_id : int or str
        The customer's id.
    purpose : str
        What the data may be used for: a non-empty label such as
        ``"analytics"``, ``"marketing"`` or ``"profiling"`` (compared exactly).
    given_at : datetime.datetime
        When the consent was given (timezone-aware).
    withdrawn_at : datetime.datetime, optional
        When it was withdrawn (timezone-aware, not before ``given_at``); None
        while it stands.

    Raises
    ------
    InputError
        If a datetime is naive, ``withdrawn_at`` is before ``given_at``, or the
        purpose or a str id is empty.
    InputTypeError
        If a field has the wrong type.

    See Also
    --------
    crmcore.privacy.filter_by_consent : keep the customers whose consent covers purposes.

    Examples
    --------
    >>> import datetime as dt
    >>> from crmcore.records import Consent
    >>> c = Consent(customer_id=7, purpose="marketing",
    ...             given_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    ...             withdrawn_at=dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
    >>> c.covers("marketing", dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    True
    >>> c.covers("marketing", dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
    False
    >>> Consent(customer_id=7, purpose="", given_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: purpose must not be an empty string
    """

    customer_id: CustomerId = attrs.field(converter=_to_id, validator=_check_id)
    purpose: str = attrs.field(validator=_check_text)
    given_at: _dt.datetime = attrs.field(validator=_check_aware)
    withdrawn_at: _dt.datetime | None = attrs.field(default=None, validator=_check_opt_aware)

    def __attrs_post_init__(self) -> None:
        if self.withdrawn_at is not None and self.withdrawn_at < self.given_at:
            raise InputError(
                "withdrawn_at must not be before given_at; got "
                f"given_at={self.given_at.isoformat()!r}, "
                f"withdrawn_at={self.withdrawn_at.isoformat()!r}"
            )

    def covers(self, purpose: str, when: _dt.datetime) -> bool:
        """Whether this consent covers ``purpose`` at the instant ``when``.

        Parameters
        ----------
        purpose : str
            The purpose asked about.
        when : datetime.datetime
            The instant (timezone-aware).

        Returns
        -------
        bool
            ``purpose == self.purpose`` and
            ``given_at <= when < withdrawn_at`` (no upper bound while not
            withdrawn).

        Raises
        ------
        InputError
            If ``when`` is naive.
        InputTypeError
            If ``purpose`` is not a str or ``when`` not a datetime.

        Examples
        --------
        >>> import datetime as dt
        >>> c = Consent(customer_id=1, purpose="analytics",
        ...             given_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        >>> c.covers("marketing", dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        False
        >>> c.covers("analytics", dt.datetime(2025, 1, 1))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: when must be timezone-aware; got the naive datetime ...
        """
        if not isinstance(purpose, str):
            raise InputTypeError(f"purpose must be a str, got {type(purpose).__name__}")
        _check_aware(self, _WHEN, when)
        if purpose != self.purpose or when < self.given_at:
            return False
        return self.withdrawn_at is None or when < self.withdrawn_at

    def to_dict(self) -> dict[str, Any]:
        """Return the consent as a dict of JSON values.

        Returns
        -------
        dict
            One key per field; datetimes as ISO 8601 strings with their UTC
            offset.

        See Also
        --------
        from_dict

        Examples
        --------
        >>> import datetime as dt
        >>> c = Consent(customer_id="c1", purpose="analytics",
        ...             given_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        >>> c.to_dict()  # doctest: +NORMALIZE_WHITESPACE
        {'customer_id': 'c1', 'purpose': 'analytics', 'given_at': '2024-01-01T00:00:00+00:00',
         'withdrawn_at': None}
        """
        return _record_to_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Consent:
        """Build a consent from a dict such as :meth:`to_dict` returns.

        Parameters
        ----------
        d : mapping
            Field names to values; datetimes as ISO 8601 strings with an offset
            (or ``datetime`` objects). ``withdrawn_at`` may be left out.

        Returns
        -------
        Consent

        Raises
        ------
        InputError
            On unknown or missing keys, unparsable datetimes, and every rule of
            :class:`Consent`.
        InputTypeError
            If ``d`` is not a mapping or a value has the wrong type.

        Examples
        --------
        >>> Consent.from_dict({"customer_id": 1, "purpose": "analytics",
        ...                    "given_at": "2024-01-01T00:00:00Z"}).withdrawn_at is None
        True
        >>> Consent.from_dict({"customer_id": 1, "purpose": "analytics"})
        Traceback (most recent call last):
        ...
        crmcore.errors.InputError: d lacks the required key(s) 'given_at' for Consent
        """
        return cls(**_record_kwargs(cls, d, datetimes=("given_at", "withdrawn_at")))


class _Named:
    """Stands in for an attrs attribute where a validator checks a method argument."""

    def __init__(self, name: str) -> None:
        self.name = name


_WHEN: Any = _Named("when")


# --------------------------------------------------------------------------------------
# Pseudonymisation.


def _key_bytes(key: object) -> bytes:
    # The key is never shown in a message.
    if isinstance(key, str):
        try:
            raw = key.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError("key must be encodable as UTF-8 (it holds a lone surrogate)") from exc
    elif isinstance(key, bytes | bytearray):
        raw = bytes(key)
    else:
        raise InputTypeError(f"key must be bytes or str, got {type(key).__name__}")
    if not raw:
        raise InputError("key must not be empty")
    return raw


def _id_bytes(text: str, name: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"{name} must be encodable as UTF-8, got {text!r}") from exc


def pseudonymize(customer_id: CustomerId | np.integer[Any], key: bytes | str) -> str:
    """Replace a customer id by a stable keyed hash.

    Parameters
    ----------
    customer_id : int or str
        The id to hide (numpy integers are accepted).
    key : bytes or str
        The secret key (a ``str`` is encoded as UTF-8); not empty. Whoever
        holds it can recompute the mapping for known ids, so keep it out of
        the analysed data.

    Returns
    -------
    str
        The 64 hexadecimal digits of HMAC-SHA256(key, UTF-8 bytes of
        ``str(customer_id)``).

    Raises
    ------
    InputError
        If the key is empty, or the id is an empty string or not encodable as
        UTF-8.
    InputTypeError
        If the id is not an int or str (floats are refused: ``str(1.0)`` is
        ``'1.0'``, which would not match the int 1), or the key is not bytes or
        str.

    See Also
    --------
    pseudonymize_ids : the same for an array of ids.

    Notes
    -----
    The hash covers the text of the id only, so the int ``1`` and the str
    ``"1"`` map to the same pseudonym. The same id and key always give the
    same pseudonym, so tables pseudonymised separately still join.

    References
    ----------
    H. Krawczyk, M. Bellare and R. Canetti, "HMAC: Keyed-Hashing for Message
    Authentication", RFC 2104, 1997.

    Examples
    --------
    >>> p = pseudonymize(1, "secret")
    >>> len(p), p == pseudonymize("1", b"secret")
    (64, True)
    >>> pseudonymize(1, "")
    Traceback (most recent call last):
    ...
    crmcore.errors.InputError: key must not be empty
    """
    raw_key = _key_bytes(key)
    if isinstance(customer_id, bool | np.bool_) or not isinstance(
        customer_id, str | numbers.Integral
    ):
        raise InputTypeError(
            f"customer_id must be an int or a str, got {type(customer_id).__name__} {customer_id!r}"
        )
    text = customer_id if isinstance(customer_id, str) else str(int(customer_id))
    if not text:
        raise InputError("customer_id must not be an empty string")
    data = _id_bytes(text, "customer_id")
    return hmac.new(raw_key, data, hashlib.sha256).hexdigest()


def pseudonymize_ids(ids: ArrayLike, key: bytes | str) -> npt.NDArray[np.str_]:
    """Replace every id of an array by its keyed hash (see :func:`pseudonymize`).

    Parameters
    ----------
    ids : array-like
        1-d integers or strings (a list, numpy array, pandas or polars column).
    key : bytes or str
        The secret key; not empty.

    Returns
    -------
    ndarray of str
        ``pseudonymize(ids[i], key)`` at position ``i`` (dtype ``<U64``).

    Raises
    ------
    InputError
        If the key is empty, ``ids`` is not 1-d, or holds a missing id (None)
        or an empty string.
    InputTypeError
        If ``ids`` holds floats, booleans or other non-id values, or the key
        is not bytes or str.

    See Also
    --------
    pseudonymize

    Notes
    -----
    Each distinct id is hashed once (the ids are made unique with one sort),
    so repeated ids cost little.

    Examples
    --------
    >>> out = pseudonymize_ids([2, 1, 2], "secret")
    >>> out[0] == out[2] == pseudonymize(2, "secret"), out[1] == pseudonymize("1", "secret")
    (True, True)
    >>> pseudonymize_ids([1.0, 2.0], "secret")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmcore.errors.InputTypeError: ids must hold integers or strings, got dtype float64 ...
    """
    raw_key = _key_bytes(key)
    if isinstance(ids, str | bytes):
        raise InputTypeError("ids must be array-like; for a single id use pseudonymize")
    arr = v.as_ndarray(ids, "ids")
    if arr.ndim != 1:
        raise InputError(f"ids must be 1-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "U" and isinstance(ids, list | tuple):
        # Keep the Python strings: a numpy str array drops trailing NUL characters.
        arr = np.array(ids, dtype=object)
    kind = arr.dtype.kind
    if arr.size == 0:
        return np.empty(0, dtype="<U64")
    if kind in "iu":
        # Distinct integers have distinct decimal texts: sort the integers (fast), then
        # turn only the distinct ones into text.
        distinct, inverse = np.unique(arr, return_inverse=True)
        texts = distinct.astype(str).tolist()
    elif kind in "UO":
        if kind == "O":
            arr = _object_ids_as_text(arr)
        empty = arr == ""
        if empty.any():
            raise InputError(
                f"ids must not hold empty strings; {v.describe_violations(empty, ('ids', arr))}"
            )
        distinct, inverse = np.unique(arr, return_inverse=True)
        texts = distinct.tolist()
    elif kind == "f":
        raise InputTypeError(
            f"ids must hold integers or strings, got dtype {arr.dtype} (str(1.0) is '1.0', "
            "which would not match the int 1: convert whole-number floats to int first)"
        )
    else:
        raise InputTypeError(f"ids must hold integers or strings, got dtype {arr.dtype}")
    base = hmac.new(raw_key, digestmod=hashlib.sha256)

    def digest(text: str) -> str:
        h = base.copy()
        h.update(_id_bytes(text, "ids"))
        return h.hexdigest()

    digests = np.array([digest(text) for text in texts], dtype="<U64")
    return digests[inverse.reshape(-1)]


def _object_ids_as_text(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Check an object array of ids and return their texts (as Python strings)."""
    missing = np.fromiter((x is None for x in arr), dtype=np.bool_, count=arr.size)
    if missing.any():
        raise InputError(
            f"ids must not hold missing ids; {v.describe_violations(missing, ('ids', arr))}"
        )
    bad = np.fromiter(
        (isinstance(x, bool | np.bool_) or not isinstance(x, str | numbers.Integral) for x in arr),
        dtype=np.bool_,
        count=arr.size,
    )
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputTypeError(
            f"ids must hold integers or strings; found {type(arr[first]).__name__} "
            f"{arr[first]!r} at index {first}"
        )
    # Kept as Python strings: a numpy str array would drop trailing NUL characters.
    return np.array([x if isinstance(x, str) else str(int(x)) for x in arr], dtype=object)

"""Customer, interaction and relationship records and their enums.

The records are frozen, keyword-only attrs classes validated on construction;
change them with :func:`attrs.evolve`. See CONCEPTS §1.
"""

from __future__ import annotations

import enum

__all__ = [
    "Channel",
    "CustomerSource",
    "CustomerStatus",
    "InteractionKind",
    "LadderStage",
    "RelationshipLevel",
]


class InteractionKind(enum.StrEnum):
    """What kind of touch point an interaction is.

    The order of the members is the code used in
    :class:`crmcore.InteractionTable` (``purchase`` is 0).
    """

    PURCHASE = "purchase"
    REFUND = "refund"
    COMPLAINT = "complaint"
    SUPPORT = "support"
    SURVEY = "survey"
    VISIT = "visit"
    MARKETING = "marketing"


class Channel(enum.StrEnum):
    """Where an interaction took place.

    The order of the members is the code used in
    :class:`crmcore.InteractionTable` (``store`` is 0).
    """

    STORE = "store"
    ONLINE = "online"
    PHONE = "phone"
    EMAIL = "email"
    MOBILE_APP = "mobile_app"
    FIELD_SALES = "field_sales"
    PARTNER = "partner"
    OTHER = "other"


class CustomerSource(enum.StrEnum):
    """Where a customer stands in the value chain (CONCEPTS §1)."""

    CONSUMER = "consumer"
    """End customer."""
    DISTRIBUTOR = "distributor"
    """Intermediate: distributor."""
    DEALER = "dealer"
    """Intermediate: dealer."""
    RESELLER = "reseller"
    """Intermediate: reseller."""
    INTERNAL = "internal"
    """Internal: employees, departments."""
    PUBLIC = "public"
    """Public: government, associations, media."""


class _OrderedEnum(enum.Enum):
    """An enum whose members compare by their declaration order."""

    def _rank(self) -> int:
        return list(type(self)).index(self)

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._rank() < other._rank()  # type: ignore[attr-defined]

    def __le__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._rank() <= other._rank()  # type: ignore[attr-defined]

    def __gt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._rank() > other._rank()  # type: ignore[attr-defined]

    def __ge__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._rank() >= other._rank()  # type: ignore[attr-defined]


class LadderStage(_OrderedEnum):
    """The loyalty ladder, ordered from prospect to advocate.

    Examples
    --------
    >>> LadderStage.REPEAT_BUYER < LadderStage.ADVOCATE
    True
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
    """Where a person or organisation stands towards the company."""

    NON_CUSTOMER = "non_customer"
    POTENTIAL = "potential"
    TARGET = "target"
    ACTUAL = "actual"
    LOST = "lost"

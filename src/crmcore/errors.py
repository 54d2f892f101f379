"""Exceptions and warnings raised by crmcore.

Every error crmcore raises derives from :class:`CrmError` and also from the
matching built-in (``ValueError``, ``TypeError`` or ``RuntimeError``), so code
that already catches the built-in keeps working.

Examples
--------
>>> from crmcore.errors import CrmError, InputError
>>> try:
...     raise InputError("frequency must be non-negative")
... except ValueError as exc:
...     isinstance(exc, CrmError)
True
"""

from __future__ import annotations

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "CrmError",
    "CrmWarning",
    "DataQualityWarning",
    "InputError",
    "InputTypeError",
]


class CrmError(Exception):
    """Base class of every exception raised by crmcore."""


class InputError(CrmError, ValueError):
    """A value, shape, length or domain rule of an argument is broken."""


class InputTypeError(CrmError, TypeError):
    """An argument has the wrong type or dtype."""


class ConvergenceError(CrmError, RuntimeError):
    """An iterative routine (an optimiser) failed; the message says what to try."""


class CrmWarning(UserWarning):
    """Base class of every warning issued by crmcore."""


class ConvergenceWarning(CrmWarning):
    """An iterative routine finished but its result deserves caution."""


class DataQualityWarning(CrmWarning):
    """The data are valid but degenerate (ties collapse bins, tiny samples, ...)."""

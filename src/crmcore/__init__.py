"""crmcore: the analytical core of customer-relationship management.

Records and interaction logs in, loyalty scores, value tiers, satisfaction
figures and buy-till-you-die forecasts out, as pure functions over numpy arrays.
The forecast models live in :mod:`crmcore.models` (``pip install crmcore[models]``).
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType

from .errors import (
    ConvergenceError,
    ConvergenceWarning,
    CrmError,
    CrmWarning,
    DataQualityWarning,
    InputError,
    InputTypeError,
)
from .privacy import filter_by_consent
from .records import (
    Channel,
    Consent,
    Customer,
    CustomerId,
    CustomerSource,
    CustomerStatus,
    Interaction,
    InteractionKind,
    LadderStage,
    OpportunityStage,
    PartyKind,
    Relationship,
    RelationshipLevel,
    SourceClass,
    pseudonymize,
    pseudonymize_ids,
)
from .summary import (
    CompressedHistories,
    CustomerSummary,
    DiscreteSummary,
    compress,
    summarize,
    summarize_discrete,
)
from .table import InteractionTable

try:
    __version__ = version("crmcore")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Channel",
    "CompressedHistories",
    "Consent",
    "ConvergenceError",
    "ConvergenceWarning",
    "CrmError",
    "CrmWarning",
    "Customer",
    "CustomerId",
    "CustomerSource",
    "CustomerStatus",
    "CustomerSummary",
    "DataQualityWarning",
    "DiscreteSummary",
    "InputError",
    "InputTypeError",
    "Interaction",
    "InteractionKind",
    "InteractionTable",
    "LadderStage",
    "OpportunityStage",
    "PartyKind",
    "Relationship",
    "RelationshipLevel",
    "SourceClass",
    "__version__",
    "compress",
    "filter_by_consent",
    "pseudonymize",
    "pseudonymize_ids",
    "summarize",
    "summarize_discrete",
]

# Subpackages reachable as attributes without importing them by hand
# (``crmcore.models.bgnbd`` after a plain ``import crmcore``). They load on first
# access, so ``import crmcore`` itself never imports scipy.
_SUBMODULES = (
    "datasets",
    "errors",
    "metrics",
    "models",
    "privacy",
    "records",
    "simulate",
    "summary",
    "table",
)


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES})

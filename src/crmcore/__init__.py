"""crmcore: the analytical core of customer-relationship management.

Records and interaction logs in, loyalty scores, value tiers, satisfaction
figures and buy-till-you-die forecasts out, as pure functions over numpy arrays.
The forecast models live in :mod:`crmcore.models` (``pip install crmcore[models]``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .errors import (
    ConvergenceError,
    ConvergenceWarning,
    CrmError,
    CrmWarning,
    DataQualityWarning,
    InputError,
    InputTypeError,
)
from .records import (
    Channel,
    Customer,
    CustomerId,
    CustomerSource,
    CustomerStatus,
    Interaction,
    InteractionKind,
    LadderStage,
    Relationship,
    RelationshipLevel,
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
    "Relationship",
    "RelationshipLevel",
    "__version__",
    "compress",
    "pseudonymize",
    "pseudonymize_ids",
    "summarize",
    "summarize_discrete",
]

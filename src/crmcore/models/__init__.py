"""Buy-till-you-die forecast models and customer lifetime value.

One module per model: :mod:`~crmcore.models.bgnbd`,
:mod:`~crmcore.models.mbgnbd`, :mod:`~crmcore.models.gamma_gamma`, ... and
:mod:`~crmcore.models.clv` for lifetime value and model checking. This is the
only part of crmcore that needs scipy: install it with
``pip install crmcore[models]``.

Examples
--------
>>> import crmcore.models
>>> crmcore.models.__name__
'crmcore.models'
"""

from __future__ import annotations

try:
    import scipy  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without scipy
    raise ImportError(
        "crmcore.models needs scipy; install the extra with: pip install crmcore[models]"
    ) from exc

__all__: list[str] = []

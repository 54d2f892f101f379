"""Buy-till-you-die forecast models and customer lifetime value.

One module per model, each with a frozen parameters class, a frozen fit
result and pure functions (``fit``, ``log_likelihood``,
``conditional_expected_purchases``, ``probability_alive``, ...):

- :mod:`crmcore.models.bgnbd`: BG/NBD (Fader, Hardie & Lee 2005);
- :mod:`crmcore.models.mbgnbd`: MBG/NBD (Batislam, Denizel & Filiztekin 2007);
- :mod:`crmcore.models.gamma_gamma`: Gamma-Gamma spend model;
- :mod:`crmcore.models.clv`: lifetime value, holdout comparison, tracking and
  the frequency histogram;

and the other purchase models alongside. Every fit goes through one
maximum-likelihood driver (``crmcore.models._mle``). This is the only part of
crmcore that needs scipy: install it with ``pip install crmcore[models]``.

Examples
--------
>>> from crmcore.models import bgnbd
>>> params = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
>>> round(bgnbd.expected_purchases(params, 39.0), 3)
1.197
"""

from __future__ import annotations

try:
    import scipy  # noqa: F401
except ImportError as exc:
    raise ImportError(
        "crmcore.models needs scipy; install the extra with: pip install crmcore[models]"
    ) from exc

__all__: list[str] = []

"""Buy-till-you-die forecast models and customer lifetime value.

One module per model, each with a frozen parameters class, a frozen fit
result and pure functions (``fit``, ``log_likelihood``,
``conditional_expected_purchases``, ``probability_alive``, ...).

Non-contractual, continuous time (data: frequency, recency, T):

- :mod:`crmcore.models.bgnbd`: BG/NBD, Fader, Hardie & Lee (2005),
  "Counting your customers" the easy way, Marketing Science 24(2);
- :mod:`crmcore.models.mbgnbd`: MBG/NBD, Batislam, Denizel & Filiztekin
  (2007), International Journal of Research in Marketing 24(3);
- :mod:`crmcore.models.bgcnbd`, :mod:`crmcore.models.mbgcnbd`: BG/CNBD-k and
  MBG/CNBD-k, Platzer & Reutterer (2016), "Ticking away the moments: timing
  regularity helps to better predict customer activity", Marketing Science
  35(5): Erlang-k times between purchases (data: also ``litt``);
- :mod:`crmcore.models.pareto_nbd`: Pareto/NBD, Schmittlein, Morrison &
  Colombo (1987), Management Science 33(1), with the likelihood of Fader &
  Hardie (2005), "A note on deriving the Pareto/NBD model";
- :mod:`crmcore.models.ggomnbd`: GGompertz/NBD, Bemmaor & Glady (2012),
  "Modeling purchasing behavior with sudden 'death'", Management Science
  58(5), with the conditional expectation as corrected by Adler (2022).

Non-contractual, discrete time (data: summarize_discrete):

- :mod:`crmcore.models.bgbb`: BG/BB, Fader, Hardie & Shang (2010),
  Marketing Science 29(6).

Contractual (data: customers alive per period):

- :mod:`crmcore.models.sbg`: shifted-beta-geometric, Fader & Hardie (2007),
  "How to project customer retention", Journal of Interactive Marketing 21(1);
- :mod:`crmcore.models.bdw`: beta-discrete-Weibull, the sBG model with
  duration dependence, Fader, Hardie, Liu, Davin & Steenburgh (2018), "How to
  project customer retention" revisited, Journal of Interactive Marketing 43.

Spend and value:

- :mod:`crmcore.models.gamma_gamma`: Gamma-Gamma spend per transaction,
  Fader, Hardie & Lee (2005), "RFM and CLV: Using iso-value curves",
  Journal of Marketing Research 42(4);
- :mod:`crmcore.models.clv`: lifetime value from a purchase and a spend
  model, holdout comparison, tracking and the frequency histogram (same
  paper).

Model selection:

- :mod:`crmcore.models.selection`: the likelihood-ratio test between nested
  fits (every fit result also has ``aic()`` and ``bic()``).

Uncertainty:

- :mod:`crmcore.models.uncertainty`: intervals around predictions, CLV and
  tracking from the parameters' asymptotic normal (every fit result has
  ``sample_params``), the delta method and a parametric bootstrap.

Every fit goes through one maximum-likelihood driver
(``crmcore.models._mle``). This is the only part of crmcore that needs scipy:
install it with ``pip install crmcore[models]``.

Examples
--------
>>> from crmcore.models import bgnbd
>>> params = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
>>> round(bgnbd.expected_purchases(params, 39.0), 3)
1.197
"""

from __future__ import annotations

import importlib
from types import ModuleType

try:
    import scipy  # noqa: F401
except ImportError as exc:
    raise ImportError(
        "crmcore.models needs scipy; install the extra with: pip install crmcore[models]"
    ) from exc

__all__: list[str] = []

# The model modules load on first access, so ``crmcore.models.bgnbd`` works after
# ``import crmcore.models`` (or a plain ``import crmcore``) without importing each by hand.
_MODEL_MODULES = (
    "bdw",
    "bgbb",
    "bgcnbd",
    "bgnbd",
    "clv",
    "gamma_gamma",
    "ggomnbd",
    "mbgcnbd",
    "mbgnbd",
    "pareto_nbd",
    "sbg",
    "selection",
    "uncertainty",
)


def __getattr__(name: str) -> ModuleType:
    if name in _MODEL_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODEL_MODULES})

"""Pure metric functions over numpy arrays: loyalty, retention, value, satisfaction, change, sales.

Every function is re-exported here, so ``crmcore.metrics.nps`` and
``crmcore.metrics.satisfaction.nps`` are the same object.
"""

from __future__ import annotations

from . import acquisition, change, loyalty, retention, sales, satisfaction, value
from .acquisition import *  # noqa: F403
from .change import *  # noqa: F403
from .loyalty import *  # noqa: F403
from .retention import *  # noqa: F403
from .sales import *  # noqa: F403
from .satisfaction import *  # noqa: F403
from .value import *  # noqa: F403

__all__: list[str] = []
__all__ += acquisition.__all__
__all__ += change.__all__
__all__ += loyalty.__all__
__all__ += retention.__all__
__all__ += sales.__all__
__all__ += satisfaction.__all__
__all__ += value.__all__
__all__.sort()

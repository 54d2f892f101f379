"""Array aliases shared by the package (private)."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["ArrayLike", "BoolArray", "DatetimeArray", "FloatArray", "IntArray", "SeedLike"]

ArrayLike: TypeAlias = npt.ArrayLike
FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
DatetimeArray: TypeAlias = npt.NDArray[np.datetime64]
SeedLike: TypeAlias = int | np.random.Generator | None

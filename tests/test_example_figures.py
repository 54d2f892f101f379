"""Run examples/figures.py into a temporary folder and check the PNG files it writes.

The script needs the extra ``crmcore[examples]`` (matplotlib, scipy). Without
it these tests skip on a user's machine; in CI (environment variable ``CI``
set) the extra is installed, so a missing package fails them instead.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import require

require("matplotlib", "examples")
require("scipy", "examples")

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "figures.py"
FIGURES = (
    "lorenz.png",
    "rfm_grid.png",
    "cohort_heatmap.png",
    "p_alive.png",
    "holdout.png",
    "tracking.png",
    "parameters.png",
    "calibration.png",
    "coefficients.png",
    "kaplan_meier.png",
    "nps_over_time.png",
    "retention_models.png",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("figures") / "nested"  # the script creates it
    # -W error: neither the library nor matplotlib may warn while drawing
    subprocess.run(
        [sys.executable, "-W", "error", str(SCRIPT), str(out)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    return out


def test_writes_exactly_the_expected_files(folder):
    assert sorted(p.name for p in folder.iterdir()) == sorted(FIGURES)


@pytest.mark.parametrize("name", FIGURES)
def test_figure_is_a_sensible_png(folder, name):
    data = (folder / name).read_bytes()
    assert data[:8] == PNG_SIGNATURE
    # the first chunk is IHDR: length 13, type, width, height (big-endian)
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    assert (length, kind) == (13, b"IHDR")
    assert 600 <= width <= 1600
    assert 400 <= height <= 1200
    assert width > height  # landscape, about 7 x 4.5 inches
    assert 10_000 < len(data) < 200_000  # a drawn picture, and small enough for the docs

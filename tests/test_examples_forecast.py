"""Run examples/forecast.py and check what it prints."""

from __future__ import annotations

import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "forecast.py"


def test_forecast_example_runs(capsys):
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "BG/NBD: log-likelihood" in out
    assert "Gamma-Gamma: log-likelihood" in out
    assert "holdout purchases per customer by calibration frequency" in out
    assert "top 10 customers by 52-week CLV" in out
    # the fitted r is close to the simulated CDNOW value 0.243
    line = next(s for s in out.splitlines() if s.strip().startswith("r ="))
    assert abs(float(line.split("=")[1].split()[0]) - 0.243) < 0.05

"""The layers of docs/explanation/design.md, checked by parsing the imports of every module."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "crmcore"

# Layers, lowest first: a module may import only from its own layer or lower ones.
LAYERS: list[set[str]] = [
    {"errors", "_typing", "_tdist"},
    {"_validation", "_periods", "_time_varying"},
    {"records"},
    {"table"},
    {"summary"},
    {"simulate", "metrics", "datasets", "privacy"},
    {"models"},
    {"__init__"},
]
FORBIDDEN_EVERYWHERE = {"pandas", "polars", "matplotlib", "sklearn", "dask", "pyspark"}


def _layer_of(module: str) -> int:
    top = module.split(".", maxsplit=1)[0]
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    raise AssertionError(f"module {module} has no layer: add it to LAYERS in this test")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        out.append((".".join(rel.parts), path))
    return out


def _imports(path: Path, module: str) -> list[str]:
    tree = ast.parse(path.read_text())
    found: list[str] = []
    package = module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module == "crmcore":
                found.extend(f"crmcore.{a.name}" for a in node.names)
            elif node.level == 0:
                found.append(node.module or "")
            else:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                if node.module:
                    found.append(".".join(["crmcore", *base, node.module]))
                else:  # from . import a, b: the names are modules
                    found.extend(".".join(["crmcore", *base, a.name]) for a in node.names)
    return found


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_imports_point_downward(module: str, path: Path) -> None:
    own = _layer_of(module)
    for name in _imports(path, module):
        top = name.split(".")[0]
        assert top not in FORBIDDEN_EVERYWHERE, f"{module} imports {name}"
        if top == "scipy":
            assert module.startswith("models"), f"{module} imports scipy outside models/"
        if name.startswith("crmcore.") or name == "crmcore":
            inner = name.removeprefix("crmcore").removeprefix(".")
            if not inner:
                assert module == "__init__" or module.endswith("__init__"), (
                    f"{module} imports the crmcore package itself"
                )
                continue
            target = _layer_of(inner)
            if module.split(".", maxsplit=1)[0] == inner.split(".")[0]:
                continue  # within one package (metrics, models)
            assert target <= own, f"{module} (layer {own}) imports {name} (layer {target})"


BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"scipy", "pandas", "polars"}:
                raise ImportError(f"blocked in this test: {name}")
            return None

    sys.meta_path.insert(0, Block())
    """
)


def test_core_works_without_scipy_and_pandas() -> None:
    code = BLOCKER + textwrap.dedent(
        """
        import numpy as np
        import crmcore
        import crmcore.metrics
        import crmcore.simulate
        assert "scipy" not in sys.modules and "pandas" not in sys.modules
        t = crmcore.InteractionTable.from_arrays(
            [1, 1, 2], np.array(["2024-01-01", "2024-01-05", "2024-01-02"], dtype="datetime64[ns]"),
            amounts=[1.0, 2.0, 3.0])
        s = crmcore.summarize(t, observation_end="2024-01-10")
        assert s.frequency.tolist() == [1, 0]
        crmcore.compress(s.frequency, s.recency, s.T)
        # every docstring example outside crmcore.models runs without scipy and pandas
        import doctest, importlib, pkgutil
        failures = 0
        for info in pkgutil.walk_packages(crmcore.__path__, "crmcore."):
            if info.name.startswith("crmcore.models"):
                continue
            module = importlib.import_module(info.name)
            flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS  # NUMBER is pytest-only
            failures += doctest.testmod(module, optionflags=flags).failed
        assert failures == 0, f"{failures} doctest failures without scipy"
        try:
            import crmcore.models
        except ImportError as exc:
            assert "crmcore[models]" in str(exc), exc
        else:
            raise AssertionError("crmcore.models imported without scipy")
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


def test_public_api_is_sorted_and_complete() -> None:
    import crmcore

    assert crmcore.__all__ == sorted(crmcore.__all__)
    for name in crmcore.__all__:
        assert hasattr(crmcore, name), name


def test_subpackages_reachable_as_attributes_without_importing_scipy_eagerly() -> None:
    # `import crmcore` loads neither scipy nor crmcore.models; the first attribute access
    # `crmcore.models.bgnbd` imports the model module (and scipy) on demand.
    code = textwrap.dedent(
        """
        import sys
        import crmcore
        assert "scipy" not in sys.modules, "import crmcore imported scipy"
        assert "crmcore.models" not in sys.modules
        assert crmcore.metrics.nps is crmcore.metrics.satisfaction.nps
        assert "scipy" not in sys.modules, "crmcore.metrics imported scipy"
        fit_module = crmcore.models.bgnbd
        assert fit_module is sys.modules["crmcore.models.bgnbd"]
        assert callable(fit_module.fit)
        assert "models" in dir(crmcore) and "bgnbd" in dir(crmcore.models)
        try:
            crmcore.no_such_module
        except AttributeError as exc:
            assert "no_such_module" in str(exc)
        else:
            raise AssertionError("unknown attribute did not raise AttributeError")
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")

"""Cheap checks of the documentation sources in docs/ (no Sphinx build).

- every page named in a toctree exists;
- every figure a page embeds exists;
- every public name is mentioned in the API reference (docs/api/), so that a
  new public function without documentation fails here;
- the Python code blocks of the tutorial, how-to and explanation pages run.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import warnings
from pathlib import Path

import pytest

import crmcore
import crmcore.metrics
from crmcore.errors import DataQualityWarning

DOCS = Path(__file__).resolve().parent.parent / "docs"
API = DOCS / "api"
SKIP_DIRS = {"_build", "generated", "_templates"}

TOCTREE = re.compile(r"^```\{toctree\}[^\n]*\n(.*?)^```", re.S | re.M)
FIGURE = re.compile(r"^```\{(?:figure|image)\}\s+(\S+)", re.M)
MD_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)

MODEL_MODULES = ["bgbb", "bgnbd", "clv", "gamma_gamma", "mbgnbd", "pareto_nbd", "sbg"]
# Pages whose code blocks are fragments of larger scripts (they need a cluster).
NOT_RUNNABLE = {"cluster.md"}


def pages() -> list[Path]:
    return sorted(
        p for p in DOCS.rglob("*.md") if not SKIP_DIRS.intersection(p.relative_to(DOCS).parts)
    )


def toctree_entries(page: Path) -> list[str]:
    entries = []
    for block in TOCTREE.findall(page.read_text(encoding="utf-8")):
        for raw in block.splitlines():
            line = raw.strip()
            if not line or line.startswith(":"):
                continue
            titled = re.fullmatch(r".*<(.+)>", line)  # "Title <path>"
            entries.append(titled.group(1) if titled else line)
    return entries


def api_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(API.rglob("*.md")))


def documented_names(text: str) -> set[str]:
    """Fully qualified names listed in the autosummary tables of ``text``."""
    names: set[str] = set()
    module = ""
    in_table = False
    for line in text.splitlines():
        current = re.fullmatch(r"\.\. currentmodule:: (\S+)", line.strip())
        if current:
            module = current.group(1)
        if line.startswith(".. "):
            in_table = line.startswith(".. autosummary::")
            continue
        if in_table:
            if line.startswith("```"):
                in_table = False
                continue
            entry = re.fullmatch(r"   ~?([A-Za-z_][\w.]*)", line)
            if entry:
                names.add(f"{module}.{entry.group(1)}" if module else entry.group(1))
    return names


def is_documented(module: str, name: str, documented: set[str]) -> bool:
    """``module.name`` is in a table, under its public path or its defining module."""
    return any(
        d == f"{module}.{name}" or (d.startswith(f"{module}.") and d.endswith(f".{name}"))
        for d in documented
    )


def mentioned(name: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def test_the_docs_have_pages() -> None:
    names = {p.relative_to(DOCS).as_posix() for p in pages()}
    assert {"index.md", "tutorial.md", "glossary.md", "api/index.md"} <= names


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_toctree_entries_exist(page: Path) -> None:
    for entry in toctree_entries(page):
        target = (page.parent / entry).resolve()
        candidates = [target.with_suffix(".md"), target.with_suffix(".rst")]
        assert any(c.is_file() for c in candidates), f"{page.name}: toctree entry {entry!r}"


def test_every_page_is_in_a_toctree() -> None:
    listed = {DOCS / "index.md"}
    for page in pages():
        for entry in toctree_entries(page):
            listed.add((page.parent / entry).resolve().with_suffix(".md"))
    missing = [p.relative_to(DOCS).as_posix() for p in pages() if p.resolve() not in listed]
    assert not missing, f"pages in no toctree: {missing}"


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_embedded_figures_exist(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for ref in FIGURE.findall(text) + MD_IMAGE.findall(text):
        if "://" in ref:
            continue
        assert (page.parent / ref).is_file(), f"{page.name}: missing figure {ref}"


@pytest.mark.parametrize(
    ("module", "names"),
    [("crmcore", crmcore.__all__), ("crmcore.metrics", crmcore.metrics.__all__)],
)
def test_public_names_are_in_the_api_reference(module: str, names: list[str]) -> None:
    text = api_text()
    documented = documented_names(text)
    missing = [
        name
        for name in names
        if not (
            is_documented(module, name, documented)
            or (name == "__version__" and mentioned(name, text))
        )
    ]
    assert not missing, f"{module} names missing from the tables of docs/api/: {missing}"


def test_simulate_names_are_in_the_api_reference() -> None:
    simulate = importlib.import_module("crmcore.simulate")
    documented = documented_names((API / "simulate.md").read_text(encoding="utf-8"))
    missing = [n for n in simulate.__all__ if not is_documented("crmcore.simulate", n, documented)]
    assert not missing, f"crmcore.simulate names missing from docs/api/simulate.md: {missing}"


@pytest.mark.parametrize("name", MODEL_MODULES)
def test_model_names_are_in_the_api_reference(name: str) -> None:
    pytest.importorskip("scipy")
    module = importlib.import_module(f"crmcore.models.{name}")
    page = API / "models" / f"{name}.md"
    documented = documented_names(page.read_text(encoding="utf-8"))
    missing = [n for n in module.__all__ if f"crmcore.models.{name}.{n}" not in documented]
    assert not missing, f"crmcore.models.{name} names missing from {page.name}: {missing}"


def runnable_pages() -> list[Path]:
    return [p for p in pages() if p.name not in NOT_RUNNABLE and PYTHON_BLOCK.search(p.read_text())]


@pytest.mark.slow
@pytest.mark.parametrize("page", runnable_pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_code_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a page's ```python blocks in order, in one namespace, as a reader would."""
    pytest.importorskip("scipy")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    text = page.read_text(encoding="utf-8")
    for i, match in enumerate(PYTHON_BLOCK.finditer(text)):
        code = compile(match.group(1), f"{page.relative_to(DOCS)} (block {i})", "exec")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # pages show these on purpose (tied RFM values)
            warnings.filterwarnings("ignore", category=DataQualityWarning)
            with contextlib.redirect_stdout(io.StringIO()):
                exec(code, namespace)

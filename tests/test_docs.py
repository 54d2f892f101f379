"""Cheap checks of the documentation sources in docs/ (no Sphinx build).

- every page named in a toctree exists;
- every figure a page embeds exists;
- every public name is mentioned in the API reference (docs/api/), so that a
  new public function without documentation fails here;
- the Python code blocks of every page run, in order and in one namespace, and
  every ``print`` in them prints what the comment on its line says.

The comparison of printed output with comments is shared with tests/test_readme.py
(:func:`run_blocks`): a ``print(...)`` line of a block must carry a ``# ...``
comment (it may go on over the comment-only lines right below), and the words and
numbers that the call prints, punctuation aside, must appear in that order in the
comment. Numbers match within one unit of the last digit the comment shows (or
1e-9 relative), so that a figure rounded on another machine still matches; other
words match exactly. A print called several times (in a loop) must have all its
output in the comment.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib
import io
import math
import re
import sys
import tokenize
import warnings
from collections.abc import Iterator
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

MODEL_MODULES = [
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
]
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


# Numbers (with sign, decimals, exponent) and words; punctuation and spaces are not compared.
TOKEN = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[^\W\d]\w*")
NUMERIC = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def last_digit(number: str) -> float:
    """The value of one unit of the last digit a number is written with."""
    mantissa = re.split(r"[eE]", number)[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(re.split(r"[eE]", number)[1]) if re.search(r"[eE]", number) else 0
    return 10.0 ** (exponent - decimals)


def same_token(printed: str, stated: str) -> bool:
    """Whether a printed token matches the comment's, numbers within the comment's precision.

    A number printed to the comment's precision (or coarser) may differ by one unit of
    its last digit (rounded on another machine); one printed with more digits than the
    comment shows must round to the comment's figure.
    """
    if not (NUMERIC.fullmatch(printed) and NUMERIC.fullmatch(stated)):
        return printed == stated
    a, b = float(printed), float(stated)
    unit = last_digit(stated)
    tolerance = 0.5 if last_digit(printed) < unit else 1.0
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=tolerance * unit * 1.000001)


def says(comment: str, printed: str) -> bool:
    """Whether the printed tokens appear, in order and adjacent, among the comment's.

    Output without words or numbers (``[]``, ``()``) must appear in the comment as it is.
    """
    want, have = tokens(printed), tokens(comment)
    if not want:
        return printed.strip() in comment
    return any(
        all(same_token(w, h) for w, h in zip(want, have[i : i + len(want)], strict=True))
        for i in range(len(have) - len(want) + 1)
    )


def python_blocks(text: str) -> Iterator[tuple[int, str]]:
    """The ```python blocks of a Markdown text, with the line number where each starts."""
    for match in PYTHON_BLOCK.finditer(text):
        yield text.count("\n", 0, match.start(1)) + 1, match.group(1)


def print_comments(code: str) -> dict[tuple[int, int], str]:
    """Map each ``print(...)`` call's line range to its comment ('' when it has none)."""
    lines = code.splitlines()
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string[1:].strip()
    out: dict[tuple[int, int], str] = {}
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            first, last = node.lineno, node.end_lineno or node.lineno
            parts = [comments[n] for n in range(first, last + 1) if n in comments]
            below = last + 1  # comment-only lines right below continue the comment
            while below <= len(lines) and lines[below - 1].lstrip().startswith("#"):
                parts.append(comments.get(below, ""))
                below += 1
            out[first, last] = " ".join(parts)
    return out


def recorder(
    name: str, calls: dict[tuple[int, int], str], printed: dict[tuple[int, int], list[str]]
) -> object:
    """A ``print`` that files its output under the print call of block ``name`` it came from."""

    def recording_print(*args: object, **kwargs: object) -> None:
        if kwargs.get("file") not in (None, sys.stdout):
            builtins.print(*args, **kwargs)  # type: ignore[call-overload]
            return
        out = io.StringIO()
        builtins.print(*args, **{**kwargs, "file": out})  # type: ignore[call-overload]
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != name:
            frame = frame.f_back  # type: ignore[assignment]
        line = frame.f_lineno if frame is not None else 0
        spans = [s for s in calls if s[0] <= line <= s[1]]
        if spans:
            printed[min(spans, key=lambda s: s[1] - s[0])].append(out.getvalue())

    return recording_print


def run_blocks(source: Path, namespace: dict[str, object]) -> list[str]:
    """Run the ```python blocks of ``source`` in order in ``namespace``; return the mismatches.

    A mismatch is a print without a comment, or one whose output the comment does not say.
    Everything the blocks write to stdout is captured, so that nothing reaches the test log.
    """
    problems: list[str] = []
    for start, code in python_blocks(source.read_text(encoding="utf-8")):
        name = f"{source.name}, line {start}"
        calls = print_comments(code)
        printed: dict[tuple[int, int], list[str]] = {span: [] for span in calls}

        namespace["print"] = recorder(name, calls, printed)
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, name, "exec"), namespace)
        for (first, _last), comment in calls.items():
            output = "".join(printed[first, _last])
            where = f"{source.name}:{start + first - 1}"
            if not comment:
                problems.append(f"{where}: print without a comment saying what it prints")
            elif not says(comment, output):
                problems.append(f"{where}: printed {output.strip()!r}, comment says {comment!r}")
    return problems


def test_says_compares_numbers_within_the_last_shown_digit() -> None:
    assert says("r, alpha, a, b: [0.252 5.    1.067 3.696]", "[0.253 5.    1.067 3.696]\n")
    assert not says("[0.252 5.    1.067 3.696]", "[0.254 5.    1.067 3.696]\n")
    assert says("1663 True", "1663 True\n")
    assert not says("1663 True", "1663 False\n")
    assert says("0.8083333333333333: (1150 - 180) / 1200", "0.8083333333333333\n")
    assert not says("[1 0 0]", "[1 0]\n[0]\n[5]\n")
    # more digits printed than the comment shows: they must round to its figure
    assert says("1.23", "1.2345\n")
    assert not says("1.23", "1.2381\n")
    assert not says("the top 1 % hold 13 %", "0.159\n")
    assert says("7.0", "7.0\n")
    assert says("7", "7.0\n")
    assert says("[] nothing", "[]\n")
    assert not says("[1, 2]", "[]\n")


@pytest.mark.slow
@pytest.mark.parametrize("page", runnable_pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_code_blocks_print_what_their_comments_say(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run a page's ```python blocks in order, in one namespace, as a reader would."""
    pytest.importorskip("scipy")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # pages show these on purpose (tied RFM values)
        warnings.filterwarnings("ignore", category=DataQualityWarning)
        problems = run_blocks(page, namespace)
    assert not problems, "\n".join(problems)

"""Sphinx configuration for crmcore's documentation (MyST + numpydoc, warnings are errors)."""

from __future__ import annotations

import crmcore

project = "crmcore"
author = "The crmcore developers"
copyright = "2026, The crmcore developers"
release = crmcore.__version__
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
templates_path = ["_templates"]
exclude_patterns = ["_build"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

nitpicky = False
suppress_warnings = ["myst.header"]
intersphinx_mapping: dict[str, tuple[str, None]] = {}

html_theme = "furo"
html_title = "crmcore"
html_static_path = ["_static"]


# Sphinx calls this handler with six positional arguments (autodoc-process-docstring).
def _module_sections_as_rubrics(app, what, name, obj, options, lines):  # noqa: PLR0917
    """Render the section headings of module docstrings as rubrics.

    numpydoc rewrites the sections of function and class docstrings but leaves
    module docstrings alone, so their "Examples" headings would become document
    sections whose labels collide across the pages that show a module docstring.
    """
    if what != "module":
        return
    out: list[str] = []
    i = 0
    while i < len(lines):
        title = lines[i].strip()
        under = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if title and under and set(under) == {"-"} and len(under) >= len(title):
            out += [f".. rubric:: {title}", ""]
            i += 2
        else:
            out.append(lines[i])
            i += 1
    lines[:] = out


def setup(app):
    app.connect("autodoc-process-docstring", _module_sections_as_rubrics)

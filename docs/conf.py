"""Sphinx configuration of the shenjing documentation site.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` (warnings are errors).
"""

import importlib
import inspect
import os
import sys

DOCS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(DOCS))          # the package, without installing it
sys.path.insert(0, os.path.join(DOCS, "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

project = "shenjing"
author = "the shenjing authors"
copyright = "the shenjing authors"
from shenjing import __version__ as release  # noqa: E402

version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "matplotlib.sphinxext.plot_directive",
    "runblock",
]

exclude_patterns = ["_build"]
language = "en"

# API reference: each public module is documented once, where its names are defined, with the
# module's ``__all__`` deciding what is public. Signatures show the bare name (``Linear``, not
# ``shenjing.nn.linear.Linear``); the page title says the public import path.
add_module_names = False
autodoc_default_options = {"members": True, "member-order": "bysource", "show-inheritance": True}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autoclass_content = "both"
napoleon_google_docstring = True
napoleon_numpy_docstring = True

# Figures of the guide are drawn when the site is built, from the code shown beside them.
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 90)]
plot_rcparams = {"figure.figsize": (6.4, 3.6), "figure.dpi": 90, "savefig.bbox": "tight"}
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\nimport shenjing as sj\n"

html_theme = "alabaster"
html_title = f"shenjing {release}"
html_static_path = ["_static"]
html_css_files = ["shenjing.css"]
html_theme_options = {
    "description": "神经 — every formula of the notes as runnable code",
    "fixed_sidebar": True,
    "page_width": "1240px",
    "sidebar_width": "240px",
    "body_max_width": "none",
}


def skip_inherited_sklearn_plumbing(app, what, name, obj, skip, options):
    """scikit-learn adds ``set_*_request`` methods to every estimator; they are not shenjing's API."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def _public_object(dotted: str):
    """The object at a public dotted path such as ``shenjing.metrics.precision``, or None."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attr in parts[split:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


def resolve_public_paths(app, env, node, contnode):
    """Let docstrings name an object by its public path (``shenjing.metrics.precision``): the reference
    documents it where it is defined (``shenjing.metrics.classification.precision``)."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("shenjing."):
        return None
    obj = _public_object(target)
    if obj is None or inspect.ismodule(obj) or not hasattr(obj, "__qualname__"):
        return None
    defined_at = f"{obj.__module__}.{obj.__qualname__}"
    if defined_at == target:
        return None
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"], defined_at, node,
                                             contnode)


def setup(app):
    app.connect("autodoc-skip-member", skip_inherited_sklearn_plumbing)
    app.connect("missing-reference", resolve_public_paths)

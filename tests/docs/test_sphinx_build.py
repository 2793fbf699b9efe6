"""The documentation site builds with warnings as errors: API reference, guide (its code and figures run
at build time) and pages, as CI and ``python -m sphinx -W -b html docs docs/_build/html`` build it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(out / ".doctrees"),
         str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert result.returncode == 0, f"sphinx -W failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
    return out


def test_the_site_builds_with_warnings_as_errors(site):
    for page in ("index", "getting_started", "training", "saving", "gpu", "benchmarks", "typos", "api/index",
                 "guide/index"):
        assert (site / f"{page}.html").is_file(), page


def test_every_note_has_a_guide_page_with_executed_code_and_figures(site):
    pages = sorted((site / "guide").glob("00[0-4]_*.html"))
    assert [p.name[:3] for p in pages] == ["000", "001", "002", "003", "004"]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "runblock-output" in html, f"{page.name}: no executed code output"
        assert 'href="../api/' in html, f"{page.name}: no link into the API reference"
    figures = sum(page.read_text(encoding="utf-8").count('class="plot-directive"') for page in pages)
    assert figures >= 10


def test_the_reference_documents_the_objects_users_call(site):
    from sphinx.util.inventory import InventoryFile

    with open(site / "objects.inv", "rb") as f:
        inventory = InventoryFile.load(f, "", lambda base, uri: uri)
    by_kind = inventory.data if hasattr(inventory, "data") else inventory
    documented = {name for names in by_kind.values() for name in names}
    for name in ("shenjing.tensor.Tensor", "shenjing.tensor.Tensor.backward", "shenjing.functional.loss.cross_entropy",
                 "shenjing.nn.linear.Linear", "shenjing.optim.adam.Adam", "shenjing.optim.lr_scheduler.OneCycleLR",
                 "shenjing.metrics.ranking.roc_auc_score", "shenjing.train.trainer.Trainer.fit",
                 "shenjing.classic.bp.BPNetwork", "shenjing.float32"):
        assert name in documented, name

"""README.md as a user reads it: every Python block runs as written (with fewer epochs), and the two start
commands name extras that exist."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)


def _short(code: str) -> str:
    """The block with every ``epochs=N`` cut to 2, so the documented path runs in CI time."""
    return re.sub(r"\bepochs=\d+", "epochs=2", code)


def test_readme_has_python_blocks():
    assert len(PYTHON_BLOCKS) >= 2


@pytest.mark.parametrize("code", PYTHON_BLOCKS, ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))])
def test_python_block_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks may write files (plots, models): keep them out of the checkout
    exec(compile(_short(code), "README.md", "exec"), {"__name__": "__readme__"})


def test_start_commands_name_declared_extras():
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    named = set()
    for group in re.findall(r'pip install -e "\.\[([\w,]+)\]"', README):
        named |= set(group.split(","))
    assert named and named <= extras, named - extras
    assert "shenjing train" in README and "pytest" in README

"""examples/port_from_pytorch.py: PyTorch's quickstart trains on the digits with only its imports changed."""

import importlib.util
import re
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "port_from_pytorch.py"
IMPORTS = {"import shenjing as torch": "import torch", "from shenjing import nn": "from torch import nn",
           "from shenjing.data import DataLoader, Dataset": "from torch.utils.data import DataLoader, Dataset"}


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quickstart_learns_the_digits_and_reloads_its_state_dict(tmp_path, capsys):
    accuracy, reloaded = _load(EXAMPLE, "port_from_pytorch").main(["--epochs", "5", "--out", str(tmp_path / "m.npz")])
    assert accuracy > 0.9 and reloaded == accuracy
    assert "Accuracy" in capsys.readouterr().out and (tmp_path / "m.npz").exists()


def test_the_same_file_runs_under_pytorch_with_its_imports_swapped_back(tmp_path):
    pytest.importorskip("torch")
    text = EXAMPLE.read_text()
    code = text.split('"""', 2)[2]  # after the module docstring
    shenjing_lines = [line for line in code.splitlines() if re.search(r"\bshenjing\b", line)]
    assert sorted(shenjing_lines) == sorted(IMPORTS)  # the imports are the only lines that name shenjing
    for ours, theirs in IMPORTS.items():
        text = text.replace(ours, theirs)
    ported = tmp_path / "quickstart_torch.py"
    ported.write_text(text)
    accuracy, reloaded = _load(ported, "quickstart_torch").main(["--epochs", "3", "--out", str(tmp_path / "t.npz")])
    assert accuracy > 0.8 and reloaded == accuracy

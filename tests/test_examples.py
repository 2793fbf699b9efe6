"""Every script in examples/ runs as a user runs it (``python examples/NAME.py``), in a fresh process and a
fresh directory, with arguments that keep it short; each prints the result it promises."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# script -> (quick arguments, a line fragment its output must contain); adversarial.py's numbers are checked
# in tests/train/test_adversarial.py, port_from_pytorch.py's in tests/test_port_from_pytorch.py
QUICK = {
    "adversarial.py": (["--epochs", "1"], "adversarial (FGSM)"),
    "char_lm.py": (["--epochs", "1", "--steps", "5"], "validation perplexity"),
    "ensemble.py": ([], "FGE"),
    "gradient_penalty.py": (["--epochs", "1"], "penalty"),
    "multi_exit.py": (["--epochs", "2"], "mean exit depth"),
    "newton.py": (["--steps", "2"], "Newton, exact Hessian"),
    "port_from_pytorch.py": (["--epochs", "1"], "Saved PyTorch Model State to model.npz"),
    "swa.py": (["--epochs", "2", "--swa-start", "1"], "SWA model test accuracy"),
    "training_pathologies.py": (["--seeds", "1", "--epochs", "1", "--out", "."], "4. RNN with recurrent gain 3"),
}


def test_every_example_is_run_here():
    assert sorted(p.name for p in (ROOT / "examples").glob("*.py")) == sorted(QUICK)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(QUICK))
def test_example_runs(name, tmp_path):
    args, expected = QUICK[name]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert expected in result.stdout

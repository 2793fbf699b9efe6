"""Run a test program on real MPI ranks: ``mpiexec -n N python program.py OUT`` with a timeout.

Each rank saves what it computed to ``OUT/rank{r}.npz``; the test reads the files back and
asserts in the pytest process. Skips when mpi4py or mpiexec is missing.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 180

PRELUDE = """
import sys
from pathlib import Path
import numpy as np
import shenjing as sj
import shenjing.distributed as dist
OUT = Path(sys.argv[1])
def save(**arrays):
    np.savez(OUT / f"rank{dist.get_rank()}.npz", **{k: np.asarray(v) for k, v in arrays.items()})
"""


def mpiexec() -> str:
    pytest.importorskip("mpi4py")
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec (pip install mpich)")
    return found


def environment() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def launch(program: str, tmp_path: Path, nproc: int = 2) -> subprocess.CompletedProcess:
    """Run ``program`` (after PRELUDE) on ``nproc`` ranks; the timeout failing the test means a hang."""
    script = tmp_path / "program.py"
    script.write_text(PRELUDE + textwrap.dedent(program))
    command = [mpiexec(), "-n", str(nproc), sys.executable, str(script), str(tmp_path)]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, env=environment())
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"mpiexec did not finish within {TIMEOUT_S}s (a hang): {e.stderr}")


def run_ranks(program: str, tmp_path: Path, nproc: int = 2) -> list[dict]:
    """Run ``program`` and return each rank's saved arrays, failing with its output if it fails."""
    return saved(launch(program, tmp_path, nproc), tmp_path, nproc)


def saved(done: subprocess.CompletedProcess, tmp_path: Path, nproc: int = 2) -> list[dict]:
    """Each rank's saved arrays from a finished launch, failing with its output if it failed."""
    assert done.returncode == 0, f"ranks failed:\n{done.stdout}\n{done.stderr}"
    return [dict(np.load(tmp_path / f"rank{r}.npz")) for r in range(nproc)]

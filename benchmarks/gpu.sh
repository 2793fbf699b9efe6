#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, CuPy and PyTorch (CUDA): run the test suite (the core tests are
# parametrised over 'cpu' and 'cuda') and the benchmark suite on the GPU against PyTorch CUDA.
# Usage: bash benchmarks/gpu.sh [OUTDIR]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-results}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -c "import cupy, numpy, torch; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'torch', torch.__version__)" \
    | tee -a "$out/gpu.txt"
python3 -m pytest -q -p no:cacheprovider -n 8 tests 2>&1 | tail -60 > "$out/tests.log"
tail -3 "$out/tests.log"
python3 benchmarks/run.py --device cuda --repeat 20 --json "$out/bench_cuda.json" 2>&1 | tee "$out/bench_cuda.txt"

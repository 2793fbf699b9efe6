"""LeNet-5 (1x28x28, batch 128, SGD momentum) and a wider CNN (1->32->64 3x3, batch 64, Adam):
full training step of shenjing vs PyTorch CPU in one run, ratios and peak memory.

    python benchmarks/cnn.py [--threads 2] [--device cuda]

A thin entry point to ``benchmarks/run.py`` (the one suite) with the CNN models selected.
"""

import sys

from run import main

if __name__ == "__main__":
    main(["--models", "lenet5,conv", *sys.argv[1:]])

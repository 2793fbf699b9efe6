"""GRU and LSTM classifiers (sequence 40, input 1, hidden 128, batch 128, Adam): full training
step of shenjing vs PyTorch CPU in one run, ratios and peak memory.

    python benchmarks/rnn.py [--threads 2] [--device cuda]

A thin entry point to ``benchmarks/run.py`` (the one suite) with the recurrent models selected.
"""

import sys

from run import main

if __name__ == "__main__":
    main(["--models", "gru,lstm", *sys.argv[1:]])

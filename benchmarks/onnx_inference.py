"""Inference latency: the exported ONNX model in onnxruntime against shenjing's own forward and PyTorch's.

The MLP and LeNet-5 of ``models.py``, same float32 weights in all three (copied from the PyTorch
model), eval mode without gradients, one thread each (onnxruntime: intra- and inter-op threads 1),
batch 1 and 128, timed in interleaved blocks; medians in milliseconds. The onnxruntime outputs are
checked against shenjing's first.

    python benchmarks/onnx_inference.py [--repeat 30] [--number 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from _timing import interleaved, set_threads, table  # noqa: E402
from models import SPECS, build, copy_weights  # noqa: E402

MODELS = ("mlp", "lenet5")
BATCHES = (1, 128)


def contenders(spec: str, batch: int, folder: str) -> dict:
    """Callables running one forward pass in shenjing, PyTorch and onnxruntime on the same batch."""
    import onnxruntime as ort
    import torch

    import shenjing as sj
    import shenjing.onnx

    kind, shape = SPECS[spec][:2]
    torch.manual_seed(0)
    reference = build(torch, kind).eval()
    model = build(sj, kind).eval()
    copy_weights(reference, model)
    x = np.random.default_rng(0).standard_normal((batch, *shape)).astype(np.float32)
    path = os.path.join(folder, f"{spec}.onnx")
    shenjing.onnx.export(model, sj.Tensor(np.repeat(x[:1], 2, axis=0)), path, input_names=["x"],
                         dynamic_axes={"x": {0: "batch"}})
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    xs, xt = sj.Tensor(x), torch.from_numpy(x)
    with sj.no_grad():
        np.testing.assert_allclose(session.run(None, {"x": x})[0], np.asarray(model(xs)), rtol=1e-4, atol=1e-5)

    def shenjing_forward():
        with sj.no_grad():
            return model(xs)

    def torch_forward():
        with torch.inference_mode():
            return reference(xt)

    return {"shenjing": shenjing_forward, "torch": torch_forward, "onnxruntime": lambda: session.run(None, {"x": x})}


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed blocks per contender")
    parser.add_argument("--number", type=int, default=5, help="forward passes per block")
    args = parser.parse_args(argv)
    set_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for spec in MODELS:
            for batch in BATCHES:
                t = interleaved(contenders(spec, batch, folder), repeat=args.repeat, number=args.number, pause=0.02)
                ms = {name: 1e3 * s for name, s in t.items()}
                rows.append([spec, batch, f"{ms['shenjing']:.3f}", f"{ms['torch']:.3f}", f"{ms['onnxruntime']:.3f}",
                             f"{ms['onnxruntime'] / ms['shenjing']:.2f}", f"{ms['torch'] / ms['shenjing']:.2f}"])
    print(table(rows, ["model", "batch", "shenjing ms", "torch ms", "onnxruntime ms", "ort / shenjing",
                       "torch / shenjing"]))
    return rows


if __name__ == "__main__":
    main()

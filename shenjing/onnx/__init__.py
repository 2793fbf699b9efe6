"""ONNX export (DESIGN §10.3): ``shenjing.onnx.export(model, args, f)``.

One forward pass runs in eval mode under ``no_grad`` while a hook of ``Function.apply``
records every op (:class:`~shenjing.onnx._graph.Trace`); each recorded op becomes ONNX nodes,
parameters and buffers become initializers under their state-dict names, and the file is
checked by ``onnx.checker`` and written atomically. Needs the ``onnx`` extra
(``pip install shenjing[onnx]``: onnx and onnxruntime).
"""

from __future__ import annotations

import importlib
import os

import numpy as np

from ..io.serialization import write_atomically
from ..tensor import Tensor, no_grad
from . import _ops  # noqa: F401  (registers the converters)
from ._graph import Graph, Trace, UnsupportedOperatorError, elem_type

__all__ = ["export", "UnsupportedOperatorError"]


def _require_onnx():
    try:
        return importlib.import_module("onnx")
    except ImportError:
        raise ImportError("shenjing.onnx needs the onnx package: pip install 'shenjing[onnx]'") from None


def _flat_tensors(outputs) -> list:
    if isinstance(outputs, Tensor):
        return [outputs]
    if isinstance(outputs, (tuple, list)):
        return [t for item in outputs for t in _flat_tensors(item)]
    return []


def _value_info(onnx, name: str, t: Tensor, dynamic: dict):
    dims = [dynamic.get(axis, n) for axis, n in enumerate(t.shape)]
    return onnx.helper.make_tensor_value_info(name, elem_type(onnx, t.dtype), dims)


def _dynamic(dynamic_axes, name: str) -> dict:
    """``{axis: label}`` for one input or output; a list of axes gets labels of its own."""
    axes = (dynamic_axes or {}).get(name, {})
    return dict(axes) if isinstance(axes, dict) else {a: f"{name}_dim{a}" for a in axes}


def _names(given, count: int, base: str, where: str) -> list:
    """The given names, then ``base0, base1, ...`` for the tensors they leave unnamed (as torch)."""
    names = list(given or [])
    if len(names) > count:
        raise ValueError(f"onnx.export: {where} lists {len(names)} names for {count} tensors")
    return names + [f"{base}{i}" for i in range(len(names), count)]


def _trace(model, args: tuple) -> tuple:
    """Run ``model(*args)`` in eval mode under no_grad with a Trace; the model's mode is restored."""
    was_training = model.training
    model.eval()
    try:
        with no_grad(), Trace() as trace:
            outputs = model(*args)
    finally:
        model.train(was_training)
    trace.check_unchanged()
    return trace, _flat_tensors(outputs)


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None, opset_version: int = 17):
    """Trace ``model(*args)`` once in eval mode and write it to ``f`` (a path or a binary file) as ONNX.

    ``args`` is a Tensor (or array) or a tuple of them (the example inputs; their shapes fix the graph's
    except along ``dynamic_axes``, ``{name: {axis: label}}`` or ``{name: [axes]}`` as in
    ``torch.onnx.export``; sizes above 1 along them are safest, as a general reshape cannot tell
    a size-1 dynamic axis from a fixed one). Inputs are named ``input0, input1, ...`` and outputs
    ``output0, ...`` unless ``input_names``/``output_names`` say otherwise. Raises
    :class:`UnsupportedOperatorError` naming the first op with no ONNX form. The model is left as
    it was (its training flag and state). Returns the ``onnx.ModelProto``.

    >>> import io, shenjing, shenjing.nn as nn
    >>> proto = shenjing.onnx.export(nn.Linear(3, 2), shenjing.ones(4, 3), io.BytesIO())
    >>> [n.op_type for n in proto.graph.node]
    ['Gemm', 'Identity']
    """
    onnx = _require_onnx()
    newest = onnx.defs.onnx_opset_version()
    if not isinstance(opset_version, int) or not 13 <= opset_version <= newest:
        raise ValueError(f"onnx.export: opset_version must be an int from 13 to {newest}, got {opset_version!r}")
    args = (args,) if isinstance(args, (Tensor, np.ndarray)) else tuple(args)
    args = tuple(Tensor(a) if isinstance(a, np.ndarray) else a for a in args)
    inputs = [a for a in args if isinstance(a, Tensor)]
    input_names = _names(input_names, len(inputs), "input", "input_names")
    trace, outputs = _trace(model, args)
    if not outputs:
        raise ValueError("onnx.export: the model returned no Tensor")
    output_names = _names(output_names, len(outputs), "output", "output_names")
    named = dict(model.named_parameters())
    named.update(dict(model.named_buffers()))
    g = Graph(onnx, opset_version, named)
    for t, name in zip(inputs, input_names):
        g.bind(t, name)
    for call in trace.calls:
        g.convert(*call)
    _name_outputs(g, outputs, output_names)
    _check_inputs_used(g, input_names)
    graph = onnx.helper.make_graph(
        g.nodes, type(model).__name__,
        [_value_info(onnx, n, t, _dynamic(dynamic_axes, n)) for t, n in zip(inputs, input_names)],
        [_output_info(onnx, n, t, dynamic_axes) for t, n in zip(outputs, output_names)],
        g.initializers,
    )
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset_version)],
                                   producer_name="shenjing")
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        write_atomically(f, lambda out: out.write(data))
    else:
        f.write(data)
    return proto


def _name_outputs(g: Graph, outputs: list, names: list) -> None:
    for t, name in zip(outputs, names):
        if not g.knows(t):
            raise UnsupportedOperatorError(f"onnx.export: output {name!r} was not computed by shenjing's ops (array "
                                           "code outside them would be exported as a constant)")
        g.nodes.append(g.helper.make_node("Identity", [g.value(t)], [name]))


def _check_inputs_used(g: Graph, input_names: list) -> None:
    """An input no node reads was used by array code outside shenjing's ops: its values would be baked in."""
    read = {name for node in g.nodes for name in node.input}
    for name in input_names:
        if name not in read:
            raise UnsupportedOperatorError(f"onnx.export: input {name!r} does not reach any of shenjing's ops "
                                           "(array code outside them would bake its values in)")


def _output_info(onnx, name: str, t: Tensor, dynamic_axes):
    """An output's declared shape: its own dynamic axes when given; with other dynamic axes and none
    given for it, every axis left open (it may follow the inputs')."""
    if dynamic_axes and name not in dynamic_axes:
        return onnx.helper.make_tensor_value_info(name, elem_type(onnx, t.dtype), [None] * t.ndim)
    return _value_info(onnx, name, t, _dynamic(dynamic_axes, name))

"""Checkpoint files without pickle: nested state as arrays plus a JSON skeleton inside one ``.npz``.

A nested structure (dicts, lists, tuples, numbers, strings, arrays, Tensors, NumPy
scalars) is split into a flat ``{key: array}`` map and a JSON document that records the
structure, with ``{"__array__": key}`` where an array was. Both go into one file written
atomically with :func:`shenjing.io.save`; the JSON is stored as a uint8 array under
``META_KEY``. Loading never unpickles: it reads arrays and parses JSON.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .. import _backend as B
from ..tensor import Tensor

__all__ = ["pack", "unpack", "save_state", "load_state", "META_KEY"]

META_KEY = "__shenjing_meta__"


def pack(tree) -> tuple[dict, object]:
    """Split ``tree`` into ``(arrays, skeleton)``: a flat key→ndarray map and a JSON-able structure.

    Array keys are the paths to the arrays, e.g. ``model/fc.weight`` or ``optimizer/state/0/exp_avg``.

    >>> import numpy as np
    >>> from shenjing.train.checkpoint import pack, unpack
    >>> arrays, skeleton = pack({"w": np.ones(2), "step": 7})
    >>> sorted(arrays), unpack(arrays, skeleton)["step"]
    (['state/w'], 7)
    """
    arrays: dict = {}

    def walk(node, path: str):
        if isinstance(node, Tensor):
            node = node.data
        if isinstance(node, np.generic) or (hasattr(node, "shape") and hasattr(node, "dtype")):
            key = path if path not in arrays else f"{path}#{len(arrays)}"
            scalar = isinstance(node, np.generic)
            arrays[key] = np.asarray(node) if scalar else B.to_numpy(node)
            return {"__scalar__" if scalar else "__array__": key}
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, dict):
            return {"__dict__": [[k if isinstance(k, (int, str)) else _bad(k, path), walk(v, f"{path}/{k}")]
                                 for k, v in node.items()]}
        if isinstance(node, (list, tuple)):
            items = [walk(v, f"{path}/{i}") for i, v in enumerate(node)]
            return {"__tuple__": items} if isinstance(node, tuple) else items
        return _bad(node, path)

    skeleton = walk(tree, "state")
    return arrays, skeleton


def _bad(value, path: str):
    raise TypeError(f"cannot store {type(value).__name__} at {path} in a checkpoint; "
                    "expected arrays, Tensors, numbers, strings, None, dicts, lists or tuples")


def unpack(arrays: dict, skeleton):
    """Rebuild the structure :func:`pack` split (arrays come back as NumPy arrays, scalars as NumPy scalars).

    >>> import numpy as np
    >>> from shenjing.train.checkpoint import pack, unpack
    >>> tree = {"epoch": 3, "layers": [np.ones(2), {"scale": 0.5}]}
    >>> unpack(*pack(tree))
    {'epoch': 3, 'layers': [array([1., 1.]), {'scale': 0.5}]}
    """

    def walk(node):
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "__array__" in node:
            return np.array(arrays[node["__array__"]])
        if "__scalar__" in node:
            return arrays[node["__scalar__"]][()]
        if "__tuple__" in node:
            return tuple(walk(v) for v in node["__tuple__"])
        return {k: walk(v) for k, v in node["__dict__"]}

    return walk(skeleton)


def _io():
    from .. import io

    return io


def save_state(state, path) -> Path:
    """Write a nested ``state`` to ``path`` (``.npz`` or ``.safetensors``) atomically, no pickle.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from shenjing.train import load_state, save_state
    >>> path = os.path.join(tempfile.mkdtemp(), "state.npz")
    >>> _ = save_state({"epoch": 3, "weights": [np.ones(2), np.zeros(1)], "name": "mlp"}, path)
    >>> load_state(path)
    {'epoch': 3, 'weights': [array([1., 1.]), array([0.])], 'name': 'mlp'}
    """
    path = Path(path)
    arrays, skeleton = pack(state)
    arrays[META_KEY] = np.frombuffer(json.dumps(skeleton).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    _io().save(arrays, os.fspath(path))
    return path


def load_state(path):
    """Read back what :func:`save_state` wrote.

    >>> import os, tempfile
    >>> from shenjing.train import load_state, save_state
    >>> path = save_state({"epoch": 7, "name": "run"}, os.path.join(tempfile.mkdtemp(), "state.npz"))
    >>> load_state(path)
    {'epoch': 7, 'name': 'run'}
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    arrays = {k: B.to_numpy(v.data if isinstance(v, Tensor) else v) for k, v in _io().load(os.fspath(path)).items()}
    if META_KEY not in arrays:
        raise ValueError(f"{str(path)!r} is not a shenjing checkpoint (no {META_KEY} entry)")
    skeleton = json.loads(bytes(np.asarray(arrays.pop(META_KEY), dtype=np.uint8)).decode("utf-8"))
    return unpack(arrays, skeleton)

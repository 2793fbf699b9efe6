"""Saving and loading state dicts as ``.npz`` or ``.safetensors``, atomically and without pickle.

Writes go to a temporary file in the target's folder, are flushed to disk, then renamed over
the target (``os.replace``), so a crash never leaves a half-written file. Reads use
``np.load(allow_pickle=False)`` or a strict safetensors parser; a truncated or corrupt file raises
``ValueError`` before anything is returned (a model is only touched by ``load_state_dict`` after
a successful load).
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from .. import _backend as B
from ..tensor import Tensor

__all__ = ["save", "load", "flatten_state", "unflatten_state", "StateDict"]

_FORMATS = (".npz", ".safetensors")
_ST_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "I16": np.int16,
    "I8": np.int8, "U8": np.uint8, "U16": np.uint16, "U32": np.uint32, "U64": np.uint64, "BOOL": np.bool_,
}
_ST_CODES = {np.dtype(v): k for k, v in _ST_DTYPES.items()}


def _format(path) -> str:
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in _FORMATS:
        raise ValueError(f"io: path must end in .npz or .safetensors, got {os.fspath(path)!r}")
    return suffix


def _as_array(value, key: str) -> np.ndarray:
    if isinstance(value, Tensor):
        arr = B.to_numpy(value.data)
    elif isinstance(value, (bool, int, float, str, np.generic)):
        arr = np.asarray(value)
    elif hasattr(value, "shape") and hasattr(value, "dtype"):
        arr = B.to_numpy(value)
    else:
        raise TypeError(f"io.save: '{key}' is a {type(value).__name__}; expected a Tensor, array, number or string")
    if arr.dtype.kind not in "biufU":
        raise TypeError(f"io.save: '{key}' has dtype {arr.dtype}; only numeric, bool and string arrays are stored")
    return arr


def flatten_state(obj, prefix: str = "") -> OrderedDict:
    """Nested dicts/lists of Tensors, arrays and numbers as one flat dict with '.'-joined keys."""
    flat = OrderedDict()
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for key, value in items:
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            raise TypeError(f"io.save: keys must be strings or ints, got {key!r}")
        name = f"{prefix}{key}"
        if isinstance(value, (dict, list, tuple)):
            nested = flatten_state(value, name + ".")
            if not nested:
                raise ValueError(f"io.save: '{name}' is empty; empty containers cannot be stored")
            flat.update(nested)
        else:
            flat[name] = _as_array(value, name)
    return flat


def unflatten_state(flat: dict) -> dict:
    """Inverse of :func:`flatten_state`: '.'-separated keys become nested dicts; digit keys become
    ints, and a dict whose keys are exactly 0..n-1 becomes a list.
    """
    root: dict = {}
    for key, value in flat.items():
        parts = [int(p) if p.isdigit() else p for p in key.split(".")]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"io.unflatten_state: key '{key}' clashes with a value stored at a prefix of it")
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(isinstance(k, int) for k in node) and sorted(node) == list(range(len(node))):
        return [node[i] for i in range(len(node))]
    return node


def _state_of(obj) -> OrderedDict:
    if hasattr(obj, "state_dict") and callable(obj.state_dict) and not isinstance(obj, dict):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise TypeError(f"io.save: expected a Module or a state dict, got {type(obj).__name__}")
    return flatten_state(obj)


def _write_npz(f, arrays: dict) -> None:
    np.savez(f, **arrays)


def _write_safetensors(f, arrays: dict) -> None:
    header, offset = {}, 0
    for key, arr in arrays.items():
        if arr.dtype not in _ST_CODES:
            raise TypeError(f"io.save: '{key}' has dtype {arr.dtype}, which .safetensors cannot store")
        header[key] = {"dtype": _ST_CODES[arr.dtype], "shape": list(arr.shape),
                       "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    for arr in arrays.values():
        f.write(np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes())


def save(obj, path) -> None:
    """Write a Module's state dict (or a state dict, possibly nested) to ``path`` (.npz or .safetensors).

    Keys are the state-dict keys (nested keys joined with '.'); the file is replaced atomically.
    """
    fmt = _format(path)
    arrays = _state_of(obj)
    write_atomically(path, lambda f: (_write_npz if fmt == ".npz" else _write_safetensors)(f, arrays))


def write_atomically(path, write) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, flush it to disk, then rename it over
    ``path``: readers see the old file or the whole new one, never a part."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class StateDict(OrderedDict):
    """What :func:`load` returns: the flat '.'-joined keys, where a missing key that is a prefix gives the
    part below it, so a checkpoint saved as ``{'model': ..., 'epoch': 3}`` reads back as PyTorch code
    expects (``model.load_state_dict(ckpt['model'])``, ``int(ckpt['epoch'])``).

    >>> ckpt = StateDict({"model.weight": 1, "model.bias": 2, "epoch": 3})
    >>> dict(ckpt["model"]), ckpt["epoch"]
    ({'weight': 1, 'bias': 2}, 3)
    """

    def __missing__(self, key):
        prefix = f"{key}."
        part = StateDict((k[len(prefix):], v) for k, v in self.items() if k.startswith(prefix))
        if not part:
            raise KeyError(key)
        return part


def _read_npz(path) -> OrderedDict:
    with np.load(path, allow_pickle=False) as archive:
        return OrderedDict((k, archive[k]) for k in archive.files)


def _read_safetensors(path) -> OrderedDict:
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("file shorter than its 8-byte header length")
    (size,) = struct.unpack("<Q", blob[:8])
    if size > len(blob) - 8:
        raise ValueError(f"header of {size} bytes runs past the end of the file ({len(blob)} bytes)")
    header = json.loads(blob[8:8 + size].decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    data = memoryview(blob)[8 + size:]
    out, end_max = OrderedDict(), 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        dtype = np.dtype(_ST_DTYPES[info["dtype"]]).newbyteorder("<")
        shape = tuple(int(n) for n in info["shape"])
        begin, end = (int(v) for v in info["data_offsets"])
        if not 0 <= begin <= end <= len(data) or end - begin != int(np.prod(shape)) * dtype.itemsize:
            raise ValueError(f"tensor '{key}' has offsets [{begin}, {end}) inconsistent with its shape {shape} "
                             f"or the {len(data)}-byte data section")
        out[key] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
        end_max = max(end_max, end)
    if end_max != len(data):
        raise ValueError(f"data section has {len(data)} bytes but the tensors cover {end_max}")
    return out


def load(path, map_location=None, weights_only: bool = True) -> StateDict:
    """Read a file written by :func:`save` (or any .npz / .safetensors of plain arrays) into an
    ordered dict of arrays (a :class:`StateDict`). Never unpickles; a corrupt file raises ValueError.

    ``map_location`` (a device: ``'cpu'``, ``'cuda'``) places the arrays (NumPy arrays on the CPU
    by default); ``weights_only`` is accepted for ported code and is always true here.
    """
    fmt = _format(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"io.load: no such file {os.fspath(path)!r}")
    if not weights_only:
        raise ValueError("io.load: weights_only=False would need pickle, which shenjing never loads")
    reader = _read_npz if fmt == ".npz" else _read_safetensors
    try:
        state = reader(path)
    except (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile, UnicodeDecodeError,
            struct.error) as err:
        raise ValueError(f"io.load: {os.fspath(path)!r} is corrupt, truncated or not a plain-array "
                         f"{fmt} file ({type(err).__name__}: {err})") from None
    device = "cpu" if map_location is None else B.parse_device(map_location)
    return StateDict((k, B.to_device(v, device)) for k, v in state.items())

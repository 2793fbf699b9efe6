"""shenjing.io: bit-exact round trips, atomic writes, no pickle, clean failures on damaged files."""

import os
import pickle

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing import io, nn

FORMATS = [".npz", ".safetensors"]


def _model():
    sj.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    model(sj.randn(8, 4))
    return model


@pytest.mark.parametrize("suffix", FORMATS)
def test_module_round_trip_is_bit_exact(tmp_path, suffix):
    model = _model()
    path = tmp_path / f"m{suffix}"
    io.save(model, path)
    state = io.load(path)
    assert list(state) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert state[key].dtype == value.dtype and state[key].shape == value.shape
        assert state[key].tobytes() == value.numpy().tobytes(), key
    fresh = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    fresh.load_state_dict(state)
    x = sj.randn(3, 4)
    model.eval()
    fresh.eval()
    assert_close(fresh(x), model(x), rtol=0, atol=0)
    assert [f for f in os.listdir(tmp_path)] == [path.name]


def test_nested_state_round_trips_through_unflatten(tmp_path):
    state = {"model": {"w": np.arange(6, dtype=np.float32).reshape(2, 3)},
             "optimizer": {"state": {0: {"step": 3, "exp_avg": np.ones(2)}},
                           "param_groups": [{"lr": 0.1, "params": [0, 1]}]},
             "epoch": 7}
    path = tmp_path / "ckpt.npz"
    io.save(state, path)
    flat = io.load(path)
    assert "optimizer.state.0.exp_avg" in flat and "optimizer.param_groups.0.params.1" in flat
    back = io.unflatten_state(flat)
    assert int(back["epoch"]) == 7
    assert float(back["optimizer"]["param_groups"][0]["lr"]) == 0.1
    assert back["optimizer"]["state"][0]["exp_avg"].tolist() == [1.0, 1.0]
    assert_close(back["model"]["w"], state["model"]["w"])


def test_safetensors_interoperates_with_the_reference_library(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    arrays = {"a": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.array([1, 2], dtype=np.int64)}
    ours = tmp_path / "ours.safetensors"
    io.save(arrays, ours)
    loaded = st.load_file(str(ours))
    assert all(np.array_equal(loaded[k], v) for k, v in arrays.items())
    theirs = tmp_path / "theirs.safetensors"
    st.save_file(arrays, str(theirs))
    assert all(np.array_equal(io.load(theirs)[k], v) for k, v in arrays.items())


def test_loading_never_unpickles(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    io.save(_model(), path)

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    assert len(io.load(path)) == 9
    evil = tmp_path / "evil.npz"
    np.savez(evil, obj=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="corrupt|pickle"):
        io.load(evil)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("keep", [0.5, 0.95])
def test_truncated_file_fails_cleanly_and_leaves_model_untouched(tmp_path, suffix, keep):
    model = _model()
    path = tmp_path / f"m{suffix}"
    io.save(model, path)
    blob = path.read_bytes()
    path.write_bytes(blob[: int(len(blob) * keep)])
    other = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    before = {k: v.numpy().copy() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match="corrupt|truncated"):
        other.load_state_dict(io.load(path))
    for key, value in other.state_dict().items():
        assert np.array_equal(value.numpy(), before[key])


def test_corrupt_safetensors_header(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes((10**9).to_bytes(8, "little") + b"{}")
    with pytest.raises(ValueError, match="corrupt"):
        io.load(path)
    path.write_bytes((4).to_bytes(8, "little") + b"[1] ")
    with pytest.raises(ValueError, match="corrupt"):
        io.load(path)


def test_failed_write_keeps_previous_file(tmp_path):
    path = tmp_path / "m.safetensors"
    io.save({"a": np.ones(3)}, path)
    with pytest.raises(TypeError, match="'b'"):
        io.save({"a": np.zeros(3), "b": object()}, path)
    assert io.load(path)["a"].tolist() == [1.0, 1.0, 1.0]
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=".npz or .safetensors"):
        io.save({"a": np.ones(1)}, tmp_path / "m.pt")
    with pytest.raises(TypeError, match="Module or a state dict"):
        io.save([1, 2], tmp_path / "m.npz")
    with pytest.raises(FileNotFoundError):
        io.load(tmp_path / "missing.npz")

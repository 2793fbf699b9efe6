"""The checkpoint format: nested state packed into flat arrays plus a JSON skeleton, written atomically,
read back without unpickling."""

import numpy as np
import pytest

import shenjing as sj
from shenjing.train import load_state, save_state
from shenjing.train.checkpoint import pack, unpack


def test_pack_unpack_round_trip(tmp_path):
    state = {"a": np.arange(3.0), "nested": {0: [1, 2.5, None, "x"], "t": (np.float32(1.5), np.int64(3))},
             "flag": True, "tensor": sj.tensor([1.0, 2.0])}
    arrays, skeleton = pack(state)
    assert set(arrays) == {"state/a", "state/nested/t/0", "state/nested/t/1", "state/tensor"}
    back = unpack(arrays, skeleton)
    assert back["nested"][0] == [1, 2.5, None, "x"] and isinstance(back["nested"]["t"], tuple)
    assert type(back["nested"]["t"][0]) is np.float32 and back["nested"]["t"][0] == 1.5
    assert 0 in back["nested"] and back["flag"] is True
    np.testing.assert_array_equal(back["tensor"], [1.0, 2.0])
    save_state(state, tmp_path / "s.safetensors")
    again = load_state(tmp_path / "s.safetensors")
    np.testing.assert_array_equal(again["a"], np.arange(3.0))
    with pytest.raises(TypeError, match=r"state/bad"):
        pack({"bad": object()})


def test_load_state_refuses_a_pickle_and_leaves_no_partial_file(tmp_path):
    import pickle

    path = tmp_path / "evil.npz"
    np.savez(path, state=np.array([pickle.dumps({"x": 1})], dtype=object))
    with pytest.raises((ValueError, TypeError)):
        load_state(path)
    with pytest.raises(TypeError):
        save_state({"ok": np.ones(2), "bad": object()}, tmp_path / "half.npz")
    assert not (tmp_path / "half.npz").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.npz"]

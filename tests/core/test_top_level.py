"""Top-level names a ported PyTorch script uses: dtype aliases, device, cuda, save and load."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn

ALIASES = ["float", "double", "half", "long", "int", "short", "bool", "float16", "float32", "float64", "int8",
           "int16", "int32", "int64", "uint8"]


@pytest.mark.parametrize("name", ALIASES)
def test_dtype_aliases_name_torch_dtypes(name):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(sj, name), getattr(torch, name)
    assert sj.zeros(2, dtype=ours).dtype == ours
    assert str(theirs).removeprefix("torch.") == str(ours)


def test_alias_casts_like_torch():
    x = sj.tensor([1.7, -2.2])
    assert x.to(sj.long).dtype == sj.int64 and x.to(sj.long).tolist() == [1, -2]
    assert x.to(sj.double).dtype == np.float64 and x.to(sj.bool).tolist() == [True, True]
    assert sj.bool is sj.bool_ and sj.float is sj.float32


def test_device_compares_with_strings_and_carries_type_and_index():
    torch = pytest.importorskip("torch")
    for spec in ["cpu", "cuda", "cuda:1"]:
        ours, theirs = sj.device(spec), torch.device(spec)
        assert (ours.type, ours.index, str(ours)) == (theirs.type, theirs.index, str(theirs))
        assert ours == spec
    assert sj.device("cuda", 2) == "cuda:2" and repr(sj.device("cuda", 2)) == repr(torch.device("cuda", 2))
    assert sj.zeros(1).device == sj.device("cpu") and sj.zeros(1).device.type == "cpu"


def test_to_accepts_a_device_object():
    model = nn.Linear(2, 3).to(sj.device("cpu"))
    x = sj.ones(4, 2).to(sj.device("cpu"), sj.float64)
    assert x.dtype == np.float64 and model(x.float()).shape == (4, 3)


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cuda:-1"])
def test_bad_device_names_what_was_expected_with_torchs_exception_class(torch, spec):
    with pytest.raises(RuntimeError, match="device must be 'cpu', 'cuda' or 'cuda:N'"):
        sj.device(spec)
    with pytest.raises(RuntimeError):
        torch.device(spec)


def test_cuda_queries_agree_with_the_back_end():
    assert sj.cuda.is_available() == sj.cuda_available()
    assert isinstance(sj.cuda.device_count(), int) and (sj.cuda.device_count() > 0) == sj.cuda.is_available()
    device = "cuda" if sj.cuda.is_available() else "cpu"
    assert sj.ones(2, device=device).device == device


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_top_level_save_and_load_round_trip_a_state_dict(tmp_path, suffix):
    sj.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    path = tmp_path / f"model{suffix}"
    sj.save(model.state_dict(), path)
    copy = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    copy.load_state_dict(sj.load(path, map_location="cpu", weights_only=True))
    x = sj.randn(5, 3)
    np.testing.assert_array_equal(np.asarray(copy(x)), np.asarray(model(x)))


def test_load_refuses_pickle_and_pickle_suffixes(tmp_path):
    sj.save(nn.Linear(2, 2), tmp_path / "m.npz")
    with pytest.raises(ValueError, match="weights_only=False"):
        sj.load(tmp_path / "m.npz", weights_only=False)
    with pytest.raises(ValueError, match=r"\.npz or \.safetensors"):
        sj.save(nn.Linear(2, 2), tmp_path / "m.pth")


def test_torch_utils_data_path_is_the_data_package():
    import shenjing.utils.data
    from shenjing.utils.data import DataLoader, random_split

    assert sj.utils.data is sj.data is shenjing.utils.data
    assert DataLoader is sj.data.DataLoader and random_split is sj.data.random_split


def test_a_nested_checkpoint_reads_back_the_way_torch_code_indexes_it(tmp_path):
    sj.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = sj.optim.Adam(model.parameters(), lr=0.1)
    model(sj.ones(1, 3)).sum().backward()
    opt.step()
    sj.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 4}, tmp_path / "ckpt.npz")
    ckpt = sj.load(tmp_path / "ckpt.npz")
    copy = nn.Linear(3, 2)
    copy.load_state_dict(ckpt["model"])
    copy_opt = sj.optim.Adam(copy.parameters(), lr=0.5)
    copy_opt.load_state_dict(ckpt["optimizer"])
    assert int(ckpt["epoch"]) == 4 and copy_opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(np.asarray(copy.weight), np.asarray(model.weight))
    with pytest.raises(KeyError):
        ckpt["scheduler"]

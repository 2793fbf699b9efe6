"""Module: registration, traversal, modes, state dicts (strict checking), hooks, repr, dtype conversion."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
        self.head = nn.Linear(4, 2)
        self.scale = nn.Parameter(sj.ones(1))
        self.register_buffer("steps", sj.zeros(1))

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def test_state_dict_keys_match_torch_layout(torch):
    ours = Net()
    keys = ["scale", "steps", "body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias", "body.1.running_mean",
            "body.1.running_var", "body.1.num_batches_tracked", "head.weight", "head.bias"]
    assert sorted(ours.state_dict()) == sorted(keys)
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU())
    assert list(ours.body.state_dict()) == list(t.state_dict())
    assert [n for n, _ in ours.named_parameters()][:1] == ["scale"]
    assert len(list(ours.buffers())) == 4


def test_load_state_dict_round_trip_and_strict_errors():
    a, b = Net(), Net()
    b.load_state_dict({k: v.numpy() for k, v in a.state_dict().items()})
    x = sj.randn(5, 3)
    assert_close(b(x), a(x))
    state = dict(a.state_dict())
    state.pop("head.bias")
    state["extra"] = np.zeros(1)
    with pytest.raises(KeyError, match="head.bias.*extra"):
        b.load_state_dict(state)
    missing, unexpected = b.load_state_dict(state, strict=False)
    assert missing == ["head.bias"] and unexpected == ["extra"]
    before = b.head.weight.numpy().copy()
    bad = dict(a.state_dict())
    bad["head.weight"] = np.zeros((3, 3))
    bad["body.0.weight"] = np.full((4, 3), 7.0)
    with pytest.raises(ValueError, match=r"head.weight.*\(3, 3\).*\(2, 4\)"):
        b.load_state_dict(bad)
    assert_close(b.head.weight, before)
    assert not (b.body[0].weight.numpy() == 7.0).all()


def test_train_eval_zero_grad_and_to():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(sj.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.body[1].num_batches_tracked.dtype == np.int64
    assert net(sj.randn(4, 3, dtype="float64")).dtype == np.float64


def test_hooks_see_and_replace_outputs():
    layer = nn.Linear(3, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, inp, out: seen.append(out.shape))
    layer(sj.randn(4, 3))
    assert seen == [(4, 2)]
    handle.remove()
    layer(sj.randn(4, 3))
    assert len(seen) == 1
    layer.register_forward_hook(lambda m, inp, out: out * 0)
    assert (layer(sj.randn(2, 3)).numpy() == 0).all()
    grads = []
    other = nn.Linear(3, 2)
    other.register_full_backward_hook(lambda m, gin, gout: grads.append(gout[0].shape))
    other(sj.randn(5, 3, requires_grad=True)).sum().backward()
    assert grads == [(5, 2)]


def test_repr_lists_tree_with_parameter_counts():
    text = repr(Net())
    assert text.startswith("Net(  # 35 parameters")
    assert "(head): Linear(in_features=4, out_features=2, bias=True)  # 10 parameters" in text
    assert "BatchNorm1d(4" in text and "(2): ReLU()" in text


def test_apply_and_named_modules():
    net = Net()
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Net" and visited.count("Linear") == 2
    names = [n for n, _ in net.named_modules()]
    assert names[:3] == ["", "body", "body.0"]


def test_identity_flatten_and_containers():
    x = sj.randn(2, 3, 4)
    assert nn.Identity()(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    md = nn.ModuleDict({"a": nn.Linear(2, 3)})
    assert len(ml) == 2 and "a" in md and len(list(md.parameters())) == 2
    with pytest.raises(TypeError, match="Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_pytorch_style_module_helpers():
    model = nn.Sequential(nn.Linear(2, 3), nn.PReLU())
    assert "PReLU" in repr(model)  # an attribute named num_parameters must not break printing
    assert model.get_submodule("0") is model[0] and model.get_parameter("0.bias") is model[0].bias
    calls = []
    handle = model.register_forward_pre_hook(lambda module, inputs: calls.append(inputs[0].shape))
    model(sj.ones(4, 2))
    handle.remove()
    model(sj.ones(4, 2))
    assert calls == [(4, 2)]
    state = model.state_dict()
    assert not state["0.weight"].requires_grad and state["0.weight"].data is model[0].weight.data
    assert model.state_dict(keep_vars=True)["0.weight"] is model[0].weight
    with pytest.raises(RuntimeError, match="missing keys"):
        model.load_state_dict({"0.weight": state["0.weight"]})
    result = model.load_state_dict({"0.weight": state["0.weight"]}, strict=False)
    assert "0.bias" in result.missing_keys and result.unexpected_keys == []


def test_reassigning_a_submodule_or_parameter_keeps_its_place_as_in_torch(torch):
    def build(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1))
        setattr(model, "0", lib.nn.Linear(2, 3))  # replaced: still first
        layer = getattr(model, "2")
        layer.weight = lib.nn.Parameter(lib.zeros(1, 3))  # weight stays before bias
        setattr(model, "1", None)  # the slot stays, empty
        return model

    ours, theirs = build(sj), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    np.testing.assert_array_equal(getattr(ours, "2").weight.numpy(), np.zeros((1, 3)))

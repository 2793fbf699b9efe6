"""Stochastic weight averaging (seed 004 §7) and the exponential moving average (seed 004 §5.1.2)."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing import Tensor, nn, optim
from shenjing.optim import swa_utils


def _mlp(sizes=(3, 5, 2), dtype=np.float64):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b, dtype=dtype), _Tanh()]
    return nn.Sequential(*layers[:-1])


class _Tanh(nn.Module):
    def forward(self, x):
        return sj.tanh(x)


def _perturb(model, rng):
    for p in model.parameters():
        p.data += rng.normal(size=p.shape)


def test_averaged_model_is_the_running_mean():
    sj.manual_seed(0)
    rng = np.random.default_rng(0)
    model = _mlp()
    swa = swa_utils.AveragedModel(model)
    snapshots = []
    for _ in range(5):
        _perturb(model, rng)
        snapshots.append([p.numpy().copy() for p in model.parameters()])
        swa.update_parameters(model)
    assert swa.n_averaged.item() == 5
    for i, p in enumerate(swa.module.parameters()):
        assert_close(p, np.mean([s[i] for s in snapshots], axis=0))
    assert swa.module.parameters().__next__() is not model.parameters().__next__()
    x = Tensor(rng.normal(size=(4, 3)))
    assert_close(swa(x), swa.module(x))
    assert "n_averaged" in swa.state_dict()


@pytest.mark.parametrize("kind", ["ema", "ema_multi", "custom"])
def test_averaged_model_with_other_averages_matches_torch(torch, kind):
    sj.manual_seed(0)
    rng = np.random.default_rng(1)
    model = _mlp()
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()

    def custom(avg, cur, n):
        return avg * 0.5 + cur * 0.5

    ours_fn = dict(ema=dict(avg_fn=swa_utils.get_ema_avg_fn(0.9)),
                   ema_multi=dict(multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9)), custom=dict(avg_fn=custom))[kind]
    theirs_fn = dict(ema=dict(avg_fn=torch.optim.swa_utils.get_ema_avg_fn(0.9)),
                     ema_multi=dict(multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(0.9)),
                     custom=dict(avg_fn=custom))[kind]
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        tp.data = torch.tensor(p.numpy().copy())
    ours, theirs = swa_utils.AveragedModel(model, **ours_fn), torch.optim.swa_utils.AveragedModel(tmodel, **theirs_fn)
    for _ in range(4):
        for p, tp in zip(model.parameters(), tmodel.parameters()):
            step = rng.normal(size=p.shape)
            p.data += step
            tp.data += torch.tensor(step)
        ours.update_parameters(model)
        theirs.update_parameters(tmodel)
    for p, tp in zip(ours.module.parameters(), theirs.module.parameters()):
        assert_close(p, tp)


class _BatchNormStub(nn.Module):
    """Records what update_bn does to a BatchNorm-like layer."""

    def __init__(self):
        super().__init__()
        self.momentum, self.resets, self.seen = 0.1, 0, []

    def reset_running_stats(self):
        self.resets += 1

    def forward(self, x):
        self.seen.append((self.momentum, self.training, x.shape))
        return x


def test_update_bn_protocol():
    stub = _BatchNormStub()
    model = nn.Sequential(nn.Linear(3, 3, dtype=np.float64), stub).eval()
    loader = [(np.ones((4, 3)), np.zeros(4)), (np.ones((2, 3)), np.zeros(2))]
    swa_utils.update_bn(loader, model)
    assert stub.resets == 1
    assert stub.seen == [(None, True, (4, 3)), (None, True, (2, 3))]
    assert stub.momentum == 0.1 and not model.training and not stub.training
    swa_utils.update_bn(loader, nn.Sequential(nn.Linear(3, 3)))  # no BatchNorm: nothing to do


def test_update_bn_matches_torch(torch):
    if not hasattr(nn, "BatchNorm1d"):
        pytest.skip("nn.BatchNorm1d is not available")
    sj.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.BatchNorm1d(4, momentum=0.3, dtype=np.float64))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4, momentum=0.3)).double()
    with torch.no_grad():
        tmodel[0].weight.copy_(torch.tensor(model[0].weight.numpy()))
        tmodel[0].bias.copy_(torch.tensor(model[0].bias.numpy()))
    rng = np.random.default_rng(0)
    batches = [rng.normal(size=(n, 3)) * 3 + 1 for n in (8, 5, 11)]
    model(Tensor(batches[0]))  # stale statistics that update_bn must forget
    swa_utils.update_bn([(b, None) for b in batches], model.eval())
    torch.optim.swa_utils.update_bn([(torch.tensor(b), None) for b in batches], tmodel.eval())
    assert_close(model[1].running_mean, tmodel[1].running_mean)
    assert_close(model[1].running_var, tmodel[1].running_var)
    assert model[1].momentum == 0.3 and not model.training


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = datasets.load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    return (x[:1200], y[:1200]), (x[1200:], y[1200:])


def _cross_entropy(logits, onehot):
    return (sj.logsumexp(logits, dim=1) - (logits * onehot).sum(dim=1)).mean()


def _accuracy(model, x, y):
    with sj.no_grad():
        return float((model(Tensor(x)).numpy().argmax(1) == y).mean())


def test_swa_on_digits_keeps_the_final_accuracy():
    """Seed 004 §7: averaging the weights of the last epochs (with SWALR) loses no test accuracy."""
    (x, y), (x_test, y_test) = _digits()
    onehot = np.eye(10, dtype=np.float32)[y]
    sj.manual_seed(0)
    model = _mlp((64, 32, 10), dtype=np.float32)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    swa, swa_scheduler = swa_utils.AveragedModel(model), swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=2)
    rng = np.random.default_rng(0)
    for epoch in range(12):
        for idx in np.array_split(rng.permutation(len(x)), len(x) // 64):
            opt.zero_grad()
            _cross_entropy(model(Tensor(x[idx])), Tensor(onehot[idx])).backward()
            opt.step()
        if epoch >= 6:
            swa.update_parameters(model)
            swa_scheduler.step()
    final, averaged = _accuracy(model, x_test, y_test), _accuracy(swa, x_test, y_test)
    assert final > 0.9
    assert averaged >= final


def test_ema_is_the_notes_formula():
    x = np.array([10.0, 12.0, 9.0, 14.0, 13.0])
    beta = 0.9
    m, expected = 0.0, []
    for value in x:
        m = beta * m + (1 - beta) * value
        expected.append(m)
    assert_close(optim.ema(x, beta, bias_correction=False), np.array(expected))
    assert_close(optim.ema(x, beta), np.array(expected) / (1 - beta ** np.arange(1, 6)))


def test_ema_bias_correction_removes_the_pull_towards_zero():
    constant = np.full(50, 20.0, dtype=np.float32)
    corrected = optim.ema(constant, 0.98)
    assert corrected.dtype == np.float32
    assert_close(corrected, constant)
    raw = optim.ema(constant, 0.98, bias_correction=False)
    assert raw[0] == pytest.approx(0.4) and raw[-1] < 20.0
    rows = optim.ema(Tensor(np.stack([constant, 2 * constant], axis=1)), 0.5)
    assert rows.shape == (50, 2)
    assert_close(rows[:, 1], 2 * corrected)


@pytest.mark.parametrize("beta", [1.0, -0.1])
def test_ema_rejects_bad_beta(beta):
    with pytest.raises(ValueError, match="beta"):
        optim.ema([1.0, 2.0], beta)


def test_averaged_model_rejects_two_averages():
    with pytest.raises(ValueError, match="avg_fn"):
        swa_utils.AveragedModel(_mlp(), avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match="decay"):
        swa_utils.get_ema_avg_fn(1.5)

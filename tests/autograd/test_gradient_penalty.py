"""A training step with a gradient penalty (WGAN-GP's (‖∇ₓ f(x)‖ - 1)² on a tanh MLP, Adam) gives
PyTorch's parameters at 1e-10 in float64: the penalty's gradient is a second derivative."""

import numpy as np
from helpers import load_example

import shenjing as sj
from shenjing import nn


def _penalised_loss(lib, model, x, y, weight=0.5):
    out = model(x)
    (grad_x,) = lib.autograd.grad(out.sum(), x, create_graph=True)
    penalty = ((grad_x.norm(dim=1) - 1) ** 2).mean()
    return ((out - y) ** 2).mean() + weight * penalty


def test_gradient_penalty_training_matches_torch(torch):
    rng = np.random.default_rng(0)
    features, targets = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    sj.manual_seed(0)
    ours = nn.Sequential(nn.Linear(3, 8, dtype=np.float64), nn.Tanh(), nn.Linear(8, 8, dtype=np.float64), nn.Tanh(),
                         nn.Linear(8, 1, dtype=np.float64))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.Tanh(),
                                 torch.nn.Linear(8, 1)).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.tensor(np.asarray(p)))
    initial = [np.array(p) for p in ours.parameters()]
    opt = sj.optim.Adam(ours.parameters(), lr=0.01)
    topt = torch.optim.Adam(theirs.parameters(), lr=0.01)
    for _ in range(5):
        x, tx = sj.tensor(features, requires_grad=True), torch.tensor(features, requires_grad=True)
        opt.zero_grad()
        _penalised_loss(sj, ours, x, sj.tensor(targets)).backward()
        opt.step()
        topt.zero_grad()
        _penalised_loss(torch, theirs, tx, torch.tensor(targets)).backward()
        topt.step()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(np.asarray(p), q.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert all(np.abs(np.asarray(p) - p0).max() > 1e-3 for p, p0 in zip(ours.parameters(), initial))


def test_gradient_penalty_example_flattens_the_loss_around_the_data(capsys):
    plain, penalised = load_example("gradient_penalty").main(["--epochs", "1", "--weight", "10"]).values()
    assert penalised["grad norm"] < 0.7 * plain["grad norm"]
    assert penalised["fgsm accuracy"] > plain["fgsm accuracy"]
    assert "FGSM" in capsys.readouterr().out

"""tune.sweep: grid and random search, the same results whatever n_jobs, clear errors for bad grids."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import nn, tune


def train_tiny(lr, hidden, seed=0):
    """A seeded two-layer net on a fixed toy problem; returns its final loss and weight norm."""
    sj.manual_seed(seed)
    rng = np.random.default_rng(0)
    X, y = sj.tensor(rng.standard_normal((32, 4))), sj.tensor(np.arange(32) % 2)
    model = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 2)).double()
    opt = sj.optim.SGD(model.parameters(), lr=lr)
    for _ in range(20):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
    return {"loss": float(loss), "norm": float(np.linalg.norm(np.asarray(model[0].weight)))}


GRID = {"lr": [0.3, 0.1, 0.01], "hidden": [4, 8], "seed": [0, 1]}


def test_grid_order_last_key_fastest():
    points = tune.grid_points(GRID)
    assert len(points) == 12
    assert points[:3] == [{"lr": 0.3, "hidden": 4, "seed": 0}, {"lr": 0.3, "hidden": 4, "seed": 1},
                          {"lr": 0.3, "hidden": 8, "seed": 0}]


def least_squares(lr, hidden, seed=0):
    rng = np.random.default_rng(seed)
    A, b = rng.standard_normal((hidden, 3)), rng.standard_normal(hidden)
    x = np.zeros(3)
    for _ in range(50):
        x -= lr * A.T @ (A @ x - b)
    return {"residual": float(np.linalg.norm(A @ x - b))}


@pytest.mark.parametrize("backend", ["loky", "multiprocessing"])
def test_parallel_results_equal_sequential_in_grid_order(backend):
    pytest.importorskip("joblib")
    sequential = tune.sweep(train_tiny, GRID, n_jobs=1)
    parallel = tune.sweep(train_tiny, GRID, n_jobs=2, backend=backend)
    assert parallel == sequential
    assert [{k: r[k] for k in GRID} for r in sequential] == tune.grid_points(GRID)
    assert len({r["loss"] for r in sequential}) > 1


def test_threads_suit_functions_that_release_no_global_state():
    pytest.importorskip("joblib")
    assert tune.sweep(least_squares, GRID, n_jobs=2, backend="threading") == tune.sweep(least_squares, GRID)


def test_random_search_is_seeded_and_draws_from_distributions():
    stats = pytest.importorskip("scipy.stats")
    grid = {"lr": stats.loguniform(1e-3, 1e-1), "hidden": [4, 8]}
    first = tune.sweep(train_tiny, grid, n_iter=4, seed=3)
    assert first == tune.sweep(train_tiny, grid, n_iter=4, seed=3, n_jobs=2)
    assert all(1e-3 <= r["lr"] <= 1e-1 and r["hidden"] in (4, 8) for r in first)
    assert first != tune.sweep(train_tiny, grid, n_iter=4, seed=4)


def test_a_list_of_grids_runs_one_after_another():
    rows = tune.sweep(lambda a, b=0: {"s": a + b}, [{"a": [1, 2]}, {"a": [10], "b": [5]}])
    assert rows == [{"a": 1, "s": 1}, {"a": 2, "s": 2}, {"a": 10, "b": 5, "s": 15}]


@pytest.mark.parametrize("grid, error, match", [
    ({"lr": []}, ValueError, "grid\\['lr'\\] is empty"),
    ({"lr": 0.1}, TypeError, "grid\\['lr'\\] must be a list"),
    ({"lr": "0.1"}, TypeError, "grid\\['lr'\\] must be a list"),
    ({1: [0.1]}, ValueError, "keys must be parameter names"),
    ([], TypeError, "non-empty list"),
    ("lr", TypeError, "grid must be a dict"),
])
def test_bad_grids_get_clear_errors(grid, error, match):
    with pytest.raises(error, match=match):
        tune.sweep(train_tiny, grid)


def test_bad_calls_get_clear_errors():
    with pytest.raises(TypeError, match="train_fn must be callable"):
        tune.sweep(3, GRID)
    with pytest.raises(ValueError, match="n_jobs must be"):
        tune.sweep(train_tiny, GRID, n_jobs=0)
    with pytest.raises(ValueError, match="n_iter must be a positive integer"):
        tune.sweep(train_tiny, GRID, n_iter=0)
    with pytest.raises(TypeError, match="must return a dict"):
        tune.sweep(lambda lr: lr, {"lr": [1]})
    with pytest.raises(ValueError, match="names of swept params"):
        tune.sweep(lambda lr: {"lr": 2}, {"lr": [1]})
    stats = pytest.importorskip("scipy.stats")
    with pytest.raises(ValueError, match="needs random search"):
        tune.sweep(train_tiny, {"lr": stats.uniform()})

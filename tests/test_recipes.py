"""MNIST-1D recipes: within the paper's parameter budgets; `shenjing train` applies them unless told otherwise."""

import numpy as np
import pytest

import shenjing as sj
from shenjing import cli, recipes


@pytest.mark.parametrize("kind, shape", [("mlp", (40,)), ("cnn", (1, 40)), ("gru", (40, 1))])
def test_models_fit_the_paper_budgets_and_run(kind, shape):
    model = cli.build_model(kind, shape, 10, "mnist1d")
    assert 0.75 * recipes.BUDGETS[kind] < model.num_parameters() <= recipes.BUDGETS[kind]
    out = model(sj.tensor(np.zeros((3,) + shape, dtype=np.float32)))
    assert out.shape == (3, 10)


def test_train_options_come_from_the_recipe_unless_given():
    args = cli.build_parser().parse_args(["train", "--dataset", "mnist1d", "--model", "cnn", "--epochs", "5"])
    config = cli._train_config(args)
    assert config["epochs"] == 5 and config["lr"] == recipes.RECIPES[("mnist1d", "cnn")]["lr"]
    digits = cli._train_config(cli.build_parser().parse_args(["train"]))
    assert {k: digits[k] for k in cli.TRAIN_DEFAULTS} == cli.TRAIN_DEFAULTS


def test_hold_out_is_a_fixed_partition_of_the_training_set():
    X, y = np.arange(100).reshape(50, 2), np.arange(50)
    (Xa, ya), (Xb, yb) = cli.hold_out(X, y, 0.2)
    assert len(yb) == 10 and sorted(np.concatenate([ya, yb])) == list(range(50))
    assert np.array_equal(cli.hold_out(X, y, 0.2)[1][1], yb)

"""shenjing.sklearn: scikit-learn estimators around a Module (check_estimator, Pipeline, CV, grid search, stacking)."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.ensemble import StackingClassifier as SkStackingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import shenjing as sj  # noqa: E402
from shenjing import nn  # noqa: E402
from shenjing.ensemble import StackingClassifier  # noqa: E402
from shenjing.sklearn import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402


class MLPFactory:
    """A picklable module factory: n_features -> hidden (tanh) -> n_outputs.

    A class with a fixed repr, so the check ids are the same in every pytest-xdist worker.
    """

    def __call__(self, n_features, n_outputs, hidden=16):
        return nn.Sequential(nn.Linear(n_features, hidden), nn.Tanh(), nn.Linear(hidden, n_outputs))

    def __repr__(self) -> str:
        return "mlp"


mlp = MLPFactory()


def blobs(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = np.array([[0.0, 0.0, 1.0], [3.0, 0.0, -1.0], [0.0, 3.0, 0.0]])[y] + 0.7 * rng.normal(size=(n, 3))
    return X, np.array(["a", "b", "c"])[y]


# Every check of scikit-learn's check_estimator runs. Two skip themselves here and do not apply:
# check_array_api_input (shenjing computes in NumPy, not through the array API) and
# check_*_data_not_an_array (pandas is not a dependency).
@parametrize_with_checks([
    NeuralNetClassifier(mlp, epochs=20, lr=0.02, seed=0),
    NeuralNetRegressor(mlp, epochs=20, lr=0.02, seed=0),
])
def test_sklearn_check_estimator(estimator, check):
    check(estimator)


def test_fit_predict_classes_and_attributes():
    X, y = blobs()
    clf = NeuralNetClassifier(mlp, epochs=30, lr=0.02, seed=0).fit(X, y)
    assert list(clf.classes_) == ["a", "b", "c"] and clf.n_features_in_ == 3
    proba = clf.predict_proba(X)
    assert proba.shape == (240, 3)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    assert clf.score(X, y) > 0.9
    assert len(clf.loss_curve_) == 30 and clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert isinstance(clf.module_, nn.Module) and not clf.module_.training


def test_seed_reproducible_and_leaves_global_stream_alone():
    X, y = blobs()
    sj.manual_seed(7)
    first = sj.rand(3).numpy()
    sj.manual_seed(7)
    a = NeuralNetClassifier(mlp, epochs=3, seed=1).fit(X, y)
    assert np.array_equal(sj.rand(3).numpy(), first)
    b = NeuralNetClassifier(mlp, epochs=3, seed=1).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_optimizer_choices_and_full_batch():
    X, y = blobs(120)
    sgd = NeuralNetClassifier(mlp, epochs=40, lr=0.1, optimizer="sgd", batch_size=None, seed=0).fit(X, y)
    assert len(sgd.loss_curve_) == 40 and sgd.loss_curve_[-1] < sgd.loss_curve_[0]
    custom = NeuralNetClassifier(nn.Linear, epochs=5, lr=0.05, optimizer=sj.optim.RMSprop, seed=0).fit(X, y)
    assert isinstance(custom.module_, nn.Linear)


def test_regressor_single_and_multi_output():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    Y = np.c_[X @ [1.0, -1.0, 0.5, 0.0], X @ [0.0, 2.0, 0.0, -1.0]]
    reg = NeuralNetRegressor(nn.Linear, epochs=60, lr=0.05, seed=0).fit(X, Y[:, 0])
    assert reg.predict(X).shape == (200,) and reg.predict(X).dtype == np.float64
    assert reg.score(X, Y[:, 0]) > 0.99
    multi = NeuralNetRegressor(nn.Linear, epochs=60, lr=0.05, seed=0).fit(X, Y)
    assert multi.predict(X).shape == (200, 2) and multi.score(X, Y) > 0.99


def test_pipeline_and_cross_val_score():
    X, y = blobs()
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(mlp, epochs=20, lr=0.02, seed=0))
    scores = cross_val_score(pipe, X * 100 + 5, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85


def test_grid_search_over_lr_and_hidden_size():
    X, y = blobs(180)
    search = GridSearchCV(
        NeuralNetClassifier(mlp, epochs=10, seed=0),
        {"lr": [1e-4, 0.03], "module_kwargs": [{"hidden": 2}, {"hidden": 32}]},
        cv=3,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_ == {"lr": 0.03, "module_kwargs": {"hidden": 32}}
    assert search.best_estimator_.module_[0].out_features == 32


def test_inside_sklearn_and_shenjing_stacking():
    X, y = blobs(240, seed=1)
    Xt, yt = blobs(240, seed=2)
    members = [("net", NeuralNetClassifier(mlp, epochs=15, lr=0.02, seed=0)), ("lr", LogisticRegression())]
    sk = SkStackingClassifier(members, final_estimator=NeuralNetClassifier(nn.Linear, epochs=30, lr=0.05, seed=0),
                              cv=3).fit(X, y)
    assert sk.score(Xt, yt) > 0.85
    ours = StackingClassifier(members, cv=3, seed=0).fit(X, y)  # default meta-learner: NeuralNetClassifier(Linear)
    assert isinstance(ours.final_estimator_, NeuralNetClassifier)
    assert ours.score(Xt, yt) > 0.85


def test_bad_parameters():
    X, y = blobs(30)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        NeuralNetClassifier(mlp, epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        NeuralNetClassifier(mlp, lr=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        NeuralNetClassifier(mlp, optimizer="adamax2").fit(X, y)
    with pytest.raises(TypeError, match="must return a Module"):
        NeuralNetClassifier(lambda n_in, n_out: None).fit(X, y)
    with pytest.raises(TypeError, match="module must be a callable"):
        NeuralNetClassifier(3).fit(X, y)


def test_zero_argument_module_factory():
    """DESIGN §9: ``module`` may simply be a callable returning a Module."""
    X, y = blobs()
    clf = NeuralNetClassifier(lambda: nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 3)),
                              epochs=30, lr=0.02, seed=0).fit(X, y)
    assert clf.score(X, y) > 0.9

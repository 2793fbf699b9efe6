"""Stacking (seed 004 §7) and bagging (seed 001) on toy data with known answers."""

import numpy as np
import pytest
from toy_estimators import Centroid, LeastSquares, Memorizer, blobs

from shenjing.ensemble import Bagging, StackingClassifier, average, stratified_folds


def test_stratified_folds_partition_and_balance():
    y = np.repeat([0, 1, 2], [10, 7, 13])
    folds = stratified_folds(y, 5, seed=0)
    assert folds.shape == y.shape and set(folds) == set(range(5))
    for c, n_c in zip([0, 1, 2], [10, 7, 13]):
        counts = np.bincount(folds[y == c], minlength=5)
        assert counts.sum() == n_c and counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(folds, stratified_folds(y, 5, seed=0))
    with pytest.raises(ValueError, match="n_folds must be an int >= 2"):
        stratified_folds(y, 1)


def test_stacking_meta_features_are_out_of_fold():
    X, y = blobs(90)
    stack = StackingClassifier([Memorizer()], final_estimator=Centroid(), cv=3, seed=0).fit(X, y)
    # every sample is predicted by a memorizer that never saw it: uniform probabilities
    np.testing.assert_allclose(stack.oof_features_, 1 / 3)
    # the refitted base model did see every training row
    np.testing.assert_allclose(stack.transform(X), np.eye(3)[y])
    assert stack.transform(X).dtype == np.float32


def test_stacking_meta_learner_is_not_fooled_by_a_memorizer():
    X, y = blobs(300, seed=1)
    Xt, yt = blobs(300, seed=2)
    centroid_acc = np.mean(Centroid().fit(X, y).predict(Xt) == yt)
    stack = StackingClassifier([("memo", Memorizer()), ("centroid", Centroid())], final_estimator=Centroid(),
                               cv=5, seed=0).fit(X, y)
    assert stack.oof_features_.shape == (300, 6)
    assert np.array_equal(stack.classes_, [0, 1, 2])
    assert stack.score(Xt, yt) >= centroid_acc - 0.02 > 0.9
    # in-sample meta-features would make the memorizer look perfect; out-of-fold ones make it useless
    memorizer_only = StackingClassifier([Memorizer()], final_estimator=Centroid(), cv=5, seed=0).fit(X, y)
    assert memorizer_only.score(Xt, yt) < 0.5
    assert stack.predict_proba(Xt).shape == (300, 3)


def test_stacking_passthrough_and_fit_kw():
    X, y = blobs(60)
    stack = StackingClassifier([Centroid()], final_estimator=Centroid(), cv=3, passthrough=True).fit(X, y, tag=1)
    assert stack.oof_features_.shape == (60, 3 + 2)
    np.testing.assert_allclose(stack.oof_features_[:, 3:], X.astype(np.float32))
    assert stack.estimators_[0].fit_kw_ == {"tag": 1}


def test_stacking_with_sklearn_estimators():
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = blobs(200, seed=3)
    Xt, yt = blobs(200, seed=4)
    stack = StackingClassifier([linear_model.LogisticRegression(), Centroid()],
                               final_estimator=linear_model.LogisticRegression(), cv=4, seed=0).fit(X, y)
    assert stack.score(Xt, yt) > 0.9
    assert stack.estimators[0][1] is not stack.estimators_[0]


def test_stacking_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        StackingClassifier([])
    with pytest.raises(TypeError, match="predict_proba"):
        StackingClassifier([object()])
    with pytest.raises(RuntimeError, match="not fitted"):
        StackingClassifier([Centroid()]).predict(np.zeros((2, 2)))


def test_bootstrap_keeps_about_63_percent_unique_samples():
    n = 2000
    X, y = np.arange(n, dtype=float)[:, None], np.zeros(n)
    bag = Bagging(LeastSquares, n_estimators=20, seed=0).fit(X, y)
    assert len(bag.bootstrap_indices_) == 20
    unique = np.array([len(np.unique(idx)) / n for idx in bag.bootstrap_indices_])
    assert all(len(idx) == n for idx in bag.bootstrap_indices_)
    # E = 1 - (1 - 1/n)^n ≈ 0.632; sd of one fraction ≈ 0.007 at n = 2000
    expected = 1 - (1 - 1 / n) ** n
    assert abs(unique.mean() - expected) < 0.01
    assert np.all(np.abs(unique - expected) < 0.04)
    # each member is fitted on exactly its bootstrap rows, and members differ
    for member, idx in zip(bag.estimators_, bag.bootstrap_indices_):
        np.testing.assert_array_equal(member.fitted_rows_, X[idx])
    assert not np.array_equal(bag.bootstrap_indices_[0], bag.bootstrap_indices_[1])
    again = Bagging(LeastSquares, n_estimators=20, seed=0).fit(X, y)
    np.testing.assert_array_equal(again.bootstrap_indices_[3], bag.bootstrap_indices_[3])


def test_bagging_regression_averages_members_and_oob_r2():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
    bag = Bagging(LeastSquares, n_estimators=7, oob_score=True, seed=1).fit(X, y)
    assert not bag.is_classifier_
    np.testing.assert_allclose(bag.predict(X), np.mean([m.predict(X) for m in bag.estimators_], axis=0))
    assert bag.oob_score_ == pytest.approx(1.0, abs=1e-10)  # noiseless linear data: every member is exact


def test_bagging_classifier_probabilities_and_oob():
    X, y = blobs(200, seed=5, spread=0.3)
    bag = Bagging(Centroid, n_estimators=5, oob_score=True, seed=0).fit(X, y, tag=2)
    assert bag.is_classifier_ and bag.estimators_[0].fit_kw_ == {"tag": 2}
    np.testing.assert_allclose(bag.predict_proba(X), average([m.predict_proba(X) for m in bag.estimators_]))
    np.testing.assert_array_equal(bag.predict(X), bag.predict_proba(X).argmax(1))
    assert bag.oob_score_ == 1.0  # well-separated blobs
    # a memorizer's out-of-bag predictions are uniform, so the first class always wins
    memo = Bagging(Memorizer, n_estimators=5, oob_score=True, seed=0).fit(X, y)
    seen = np.zeros(len(X), bool)
    for idx in memo.bootstrap_indices_:
        mask = np.ones(len(X), bool)
        mask[idx] = False
        seen |= mask
    assert memo.oob_score_ == pytest.approx(np.mean(y[seen] == 0))


def test_bagging_aligns_classes_missing_from_a_bootstrap():
    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    y = np.array([0, 0, 0, 1])
    bag = Bagging(Centroid, n_estimators=30, max_samples=0.5, seed=0).fit(X, y)
    assert any(len(m.classes_) == 1 for m in bag.estimators_)
    proba = bag.predict_proba(X)
    assert proba.shape == (4, 2)
    np.testing.assert_allclose(proba.sum(1), 1)


def test_bagging_bad_input():
    with pytest.raises(TypeError, match="factory must be a callable"):
        Bagging(3)
    with pytest.raises(ValueError, match="n_estimators"):
        Bagging(Centroid, n_estimators=0)
    with pytest.raises(ValueError, match="max_samples"):
        Bagging(Centroid, max_samples=1.5)
    with pytest.raises(RuntimeError, match="not fitted"):
        Bagging(Centroid).predict(np.zeros((1, 2)))
    with pytest.raises(AttributeError, match="regression"):
        Bagging(LeastSquares, n_estimators=1).fit(np.zeros((3, 1)), np.zeros(3)).predict_proba(np.zeros((1, 1)))


def _neural_member():
    from shenjing import nn
    from shenjing.sklearn import NeuralNetClassifier

    return NeuralNetClassifier(lambda n_in, n_out: nn.Sequential(nn.Linear(n_in, 8), nn.ReLU(), nn.Linear(8, n_out)),
                               epochs=3, lr=0.05)  # no seed: initialisation and shuffling use the global generator


@pytest.mark.parametrize("make", [
    lambda n_jobs: Bagging(_neural_member, n_estimators=4, seed=0, n_jobs=n_jobs),
    lambda n_jobs: StackingClassifier([_neural_member(), Centroid()], final_estimator=Centroid(), cv=3, seed=0,
                                      n_jobs=n_jobs),
])
def test_results_do_not_depend_on_n_jobs(make):
    pytest.importorskip("joblib")
    pytest.importorskip("sklearn")
    X, y = blobs()
    X = X.astype(np.float32)
    one, two = make(1).fit(X, y), make(2).fit(X, y)
    np.testing.assert_array_equal(one.predict_proba(X), two.predict_proba(X))
    members = [np.asarray(m.predict_proba(X)) for m in one.estimators_ if not isinstance(m, Centroid)]
    assert not np.array_equal(members[0], members[-1]) or len(members) == 1  # members drew different seeds


def test_bad_n_jobs():
    with pytest.raises(ValueError, match="n_jobs must be a positive integer or -1"):
        Bagging(Centroid, n_jobs=0)
    with pytest.raises(ValueError, match="n_jobs must be a positive integer or -1"):
        StackingClassifier([Centroid()], n_jobs=1.5)

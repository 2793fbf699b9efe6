"""The Trainer on two real MPI ranks: the run one process makes on the combined batches, rank 0 alone
printing and writing files, resuming from a checkpoint with the same number of ranks."""

import numpy as np
import pytest
from mpirun import launch, saved

import shenjing as sj
from shenjing.data import DataLoader, DistributedSampler, TensorDataset

pytest.importorskip("mpi4py")

SETUP = """
from shenjing.train import CSVLogger, ModelCheckpoint, Trainer

def data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 4))
    return X, (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(np.int64), X[:8] * 0.5, np.arange(8) % 2

def trainer(callbacks=(), progress=False):
    sj.manual_seed(0)
    model = sj.nn.Sequential(sj.nn.Linear(4, 8), sj.nn.Tanh(), sj.nn.Linear(8, 2)).to(dtype=sj.float64)
    return Trainer(model, sj.nn.CrossEntropyLoss(), sj.optim.SGD(model.parameters(), lr=0.3, momentum=0.5),
                   callbacks=callbacks, progress=progress, seed=5)
"""

PROGRAM = SETUP + """
dist.init_process_group()
X, y, Xv, yv = data()
full = trainer([ModelCheckpoint(str(OUT / "ckpt-{epoch}.npz")), CSVLogger(OUT / "history.csv")], progress=True)
full.fit((X, y), val=(Xv, yv), epochs=3, batch_size=10)
dist.barrier()
resumed = trainer([ModelCheckpoint(str(OUT / "resumed-{epoch}.npz")), CSVLogger(OUT / "resumed.csv")])
resumed.load_checkpoint(OUT / "ckpt-2.npz")
resumed.fit((X, y), val=(Xv, yv), epochs=3, batch_size=10)
save(params=np.concatenate([p.numpy().ravel() for p in full.model.parameters()]),
     resumed=np.concatenate([p.numpy().ravel() for p in resumed.model.parameters()]),
     loss=full.history["loss"], accuracy=full.history["accuracy"], val_loss=full.history["val_loss"])
"""


def test_two_ranks_train_as_one_process_on_the_combined_batches(tmp_path):
    done = launch(PROGRAM, tmp_path)
    ranks = saved(done, tmp_path)
    assert [line.split()[:2] for line in done.stdout.splitlines()] == [["epoch", f"{e}/3"] for e in (1, 2, 3)]
    for key in ("params", "resumed", "loss", "accuracy", "val_loss"):
        np.testing.assert_array_equal(ranks[0][key], ranks[1][key])   # every rank agrees
    np.testing.assert_array_equal(ranks[0]["resumed"], ranks[0]["params"])   # resume = not stopping

    # one process, batches of 20 = the two ranks' batches of 10 together, in DistributedSampler's order
    namespace = {"sj": sj, "np": np}
    exec(SETUP, namespace)
    X, y, Xv, yv = namespace["data"]()
    reference = namespace["trainer"]()
    dataset = TensorDataset(X, y)
    reference.fit(DataLoader(dataset, batch_size=20, sampler=DistributedSampler(dataset, 1, 0, seed=5)),
                  val=(Xv, yv), epochs=3)
    params = np.concatenate([p.numpy().ravel() for p in reference.model.parameters()])
    np.testing.assert_allclose(ranks[0]["params"], params, rtol=1e-10, atol=1e-12)
    for key in ("loss", "accuracy", "val_loss"):
        np.testing.assert_allclose(ranks[0][key], reference.history[key], rtol=1e-10, atol=1e-12)

    written = sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".npz", ".csv") and "rank" not in p.name)
    assert written == ["ckpt-1.npz", "ckpt-2.npz", "ckpt-3.npz", "history.csv", "resumed-3.npz", "resumed.csv"]
    assert len((tmp_path / "history.csv").read_text().splitlines()) == 4   # header + 3 epochs, written once

"""The ``shenjing`` command: train (report, files, resume), evaluate, lr-find, viz, bench, errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import shenjing as sj
from shenjing.cli import build_model, main


def _train(out, *extra):
    return main(["train", "--epochs", "2", "--out", str(out), "--no-progress", *extra])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert _train(out, "--schedule", "none") == 0
    return out


def test_train_writes_report_model_and_plots(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert {"model.npz", "curves.png", "confusion_matrix.png", "history.csv", "checkpoint.npz", "report.txt",
            "config.json"} <= names
    assert not [n for n in names if n.startswith(".")]  # no temporary files left behind
    report = (run_dir / "report.txt").read_text()
    assert "test accuracy" in report and "precision" in report and "confusion matrix" in report
    assert len([line for line in report.splitlines() if line.strip()[:1].isdigit()]) >= 20  # 10 classes x 2 tables
    config = json.loads((run_dir / "config.json").read_text())
    assert config["dataset"] == "digits" and config["model"] == "mlp" and config["classes"] == 10
    state = sj.io.load(run_dir / "model.npz")
    assert state["0.weight"].shape == (256, 64) and state["0.weight"].dtype == np.float32
    for png in ("curves.png", "confusion_matrix.png"):
        assert (run_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_prints_the_report(tmp_path, capsys):
    assert _train(tmp_path, "--epochs", "1", "--format", "safetensors") == 0
    out = capsys.readouterr().out
    assert "dataset digits" in out and "test accuracy" in out and "macro" in out
    assert (tmp_path / "model.safetensors").exists()


def test_resume_continues_to_the_same_weights(run_dir, tmp_path):
    straight = tmp_path / "straight"
    assert main(["train", "--epochs", "3", "--out", str(straight), "--no-progress", "--schedule", "none"]) == 0
    assert main(["train", "--resume", str(run_dir / "checkpoint.npz"), "--epochs", "3", "--no-progress"]) == 0
    a, b = sj.io.load(straight / "model.npz"), sj.io.load(run_dir / "model.npz")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert len((run_dir / "history.csv").read_text().strip().splitlines()) == 1 + 3


def test_resume_refuses_changed_options(run_dir, tmp_path, capsys):
    assert main(["train", "--resume", str(run_dir / "checkpoint.npz"), "--lr", "0.5", "--no-progress"]) == 2
    assert "differ" in capsys.readouterr().err
    assert _train(tmp_path, "--epochs", "1", "--schedule", "onecycle") == 0
    assert main(["train", "--resume", str(tmp_path / "checkpoint.npz"), "--epochs", "2", "--no-progress"]) == 2
    assert "onecycle" in capsys.readouterr().err


def test_resume_cannot_stretch_an_epoch_shaped_schedule(tmp_path, capsys):
    """A cosine schedule made for 1 epoch has ended; extending it would train at lr 0."""
    assert _train(tmp_path, "--epochs", "1") == 0
    assert main(["train", "--resume", str(tmp_path / "checkpoint.npz"), "--epochs", "2", "--no-progress"]) == 2
    assert "cosine" in capsys.readouterr().err


def test_evaluate_a_saved_model_and_a_checkpoint(run_dir, capsys):
    assert main(["evaluate", str(run_dir / "model.npz")]) == 0
    first = capsys.readouterr().out
    assert "test accuracy" in first and "mlp on the digits test set" in first
    assert main(["evaluate", str(run_dir / "checkpoint.npz")]) == 0
    second = capsys.readouterr().out
    assert first.splitlines()[2] == second.splitlines()[2]  # the same accuracy line


def test_evaluate_errors(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    sj.io.save({"w": np.zeros(2)}, tmp_path / "lonely.npz")
    assert main(["evaluate", str(tmp_path / "lonely.npz")]) == 2
    assert "--dataset and --model" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["cnn", "gru"])
def test_other_models_train_on_digits(tmp_path, model):
    assert main(["train", "--model", model, "--epochs", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    assert (tmp_path / "model.npz").exists()


@pytest.mark.parametrize("model", ["mlp", "cnn", "gru"])
def test_train_onnx_writes_a_model_onnxruntime_reproduces(tmp_path, model):
    ort = pytest.importorskip("onnxruntime")
    assert _train(tmp_path, "--epochs", "1", "--model", model, "--onnx") == 0
    config = json.loads((tmp_path / "config.json").read_text())
    net = build_model(config["model"], tuple(config["input_shape"]), config["classes"])
    net.load_state_dict(sj.io.load(tmp_path / "model.npz"))
    net.eval()
    x = np.random.default_rng(0).random((17, *config["input_shape"]), dtype=np.float32) * 16
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["logits"], {"input": x})[0], np.asarray(net(sj.Tensor(x))),
                               rtol=1e-5, atol=1e-5)


def test_lr_find_command(tmp_path, capsys):
    assert main(["lr-find", "--steps", "8", "--min-lr", "0.01", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "suggested lr" in out and "<- suggested" in out
    assert (tmp_path / "lr_find.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, message", [
    (["train", "--model", "cnn", "--dataset", "moons"], "needs image or sequence data"),
    (["train", "--resume", "nowhere/checkpoint.npz"], "not found"),
])
def test_bad_combinations_exit_2_with_a_message(tmp_path, capsys, argv, message):
    assert main(argv + ["--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["train", "--epochs", "0"], ["train", "--optimizer", "nope"],
                                  ["train", "--lr", "-1"], ["evaluate"], ["viz", "colours", "--out", "x"]])
def test_bad_options_are_rejected_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and "error" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "train" in capsys.readouterr().out


def test_viz_commands_call_the_plot_functions(tmp_path, monkeypatch):
    calls = []

    def fake(name):
        def draw(*args, out=None, **kw):
            calls.append((name, args, str(out)))
            (out / f"{name}-{len(calls)}.png").write_bytes(b"png")
        return draw

    for name in ("optimizer_paths", "schedule_curves", "ema_figure"):
        monkeypatch.setattr(sj.viz, name, fake(name), raising=False)
    assert main(["viz", "optimizers", "--out", str(tmp_path)]) == 0
    assert main(["viz", "schedules", "--out", str(tmp_path)]) == 0
    assert calls == [("optimizer_paths", (s,), str(tmp_path)) for s in ("beale", "rosenbrock", "saddle")] + \
        [("schedule_curves", (), str(tmp_path)), ("ema_figure", (), str(tmp_path))]


def test_bench_runs_benchmarks_run_py(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "run.py").write_text(
        "import sys, pathlib\npathlib.Path('ran.txt').write_text(' '.join(sys.argv[1:]))\n")
    assert main(["bench", "--quick", "x"]) == 0
    assert (tmp_path / "ran.txt").read_text() == "--quick x"


@pytest.mark.slow
def test_default_run_in_a_subprocess_reaches_97_percent(tmp_path):
    """``python -m shenjing train`` with the defaults (the README's run), in a fresh process."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")  # small GEMMs: threads only contend on a shared machine
    result = subprocess.run([sys.executable, "-m", "shenjing", "train", "--out", str(tmp_path), "--no-progress"],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("test accuracy"))
    assert float(line.split()[2]) >= 0.97
    assert (tmp_path / "curves.png").exists() and (tmp_path / "confusion_matrix.png").exists()


def test_resume_from_a_mid_epoch_step_checkpoint_ends_on_the_same_weights(tmp_path):
    assert _train(tmp_path, "--checkpoint-every", "20") == 0
    straight = sj.io.load(tmp_path / "model.npz")
    steps = sorted(int(p.stem.removeprefix("checkpoint-step")) for p in tmp_path.glob("checkpoint-step*.npz"))
    assert steps[:2] == [20, 40] and steps[-1] % 20 == 0
    state = sj.train.checkpoint.load_state(tmp_path / f"checkpoint-step{steps[-1]}.npz")
    assert state["epoch"] == 1 and 0 < state["loader"]["batches_yielded"] < state["in_epoch"]["count"]
    assert main(["train", "--resume", str(tmp_path / f"checkpoint-step{steps[-1]}.npz"), "--no-progress"]) == 0
    resumed = sj.io.load(tmp_path / "model.npz")
    for key in straight:
        np.testing.assert_array_equal(straight[key], resumed[key])
    assert len((tmp_path / "history.csv").read_text().strip().splitlines()) == 1 + 2


def test_train_diagnose_writes_files_and_warns(tmp_path, capsys):
    assert _train(tmp_path, "--optimizer", "sgd", "--lr", "1.0", "--diagnose") == 0
    out = capsys.readouterr().out
    assert "diagnostics (diagnostics.png, diagnostics.csv):" in out
    assert "of ReLU units dead since epoch" in out
    assert (tmp_path / "diagnostics.csv").read_text().startswith("epoch,module,act_mean")
    assert (tmp_path / "diagnostics.png").stat().st_size > 1000


def test_lr_find_reports_the_sharpness_limit(tmp_path, capsys):
    assert main(["lr-find", "--steps", "4", "--min-lr", "0.1", "--out", str(tmp_path)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("sharpness at initialisation"))
    lam = float(line.split("λ_max ")[1].split()[0])
    assert float(line.rsplit("= ", 1)[1]) == pytest.approx(2 / lam, rel=1e-3)


def test_sweep_command_writes_csv_and_png_in_grid_order(tmp_path, capsys):
    argv = ["sweep", "--lr", "0.01,0.001", "--epochs", "1", "--batch-size", "64,128", "--out", str(tmp_path)]
    assert main(argv + ["--n-jobs", "2"]) == 0
    lines = (tmp_path / "sweep.csv").read_text().splitlines()
    assert lines[0].startswith("lr,epochs,batch_size,train_loss,val_loss,val_accuracy")
    assert [x.split(",")[:3] for x in lines[1:]] == [["0.01", "1", "64"], ["0.01", "1", "128"], ["0.001", "1", "64"],
                                                     ["0.001", "1", "128"]]
    assert (tmp_path / "sweep.png").stat().st_size > 1000
    assert "best: lr=0.01" in capsys.readouterr().out
    again = tmp_path / "again"
    assert main(["sweep", "--lr", "0.01,0.001", "--epochs", "1", "--batch-size", "64,128", "--out", str(again)]) == 0
    assert (again / "sweep.csv").read_text() == "\n".join(lines) + "\n"  # n_jobs 1 == n_jobs 2


def test_sweep_rejects_a_bad_value_in_a_list(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "--lr", "0.1,-1"])
    assert exc.value.code == 2 and "positive number" in capsys.readouterr().err


@pytest.mark.slow
def test_train_nproc_2_writes_one_run_folder_and_resumes_on_two_ranks(tmp_path):
    """``shenjing train --nproc 2`` relaunches itself through mpiexec; resuming its checkpoint relaunches
    on as many processes and ends where the uninterrupted run ends."""
    from mpirun import TIMEOUT_S, environment, mpiexec

    mpiexec()   # skips without mpi4py and mpiexec

    def shenjing(*argv):
        done = subprocess.run([sys.executable, "-m", "shenjing", "train", "--epochs", "2", "--schedule", "none",
                               "--no-progress", *argv], cwd=tmp_path, capture_output=True, text=True,
                              timeout=TIMEOUT_S, env=environment())
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    stdout = shenjing("--nproc", "2")
    (run,) = (tmp_path / "runs").iterdir()
    written = {p.name for p in run.iterdir()}
    assert {"model.npz", "checkpoint.npz", "history.csv", "report.txt", "config.json"} <= written
    assert stdout.count("test accuracy") == 1   # rank 0 alone reports
    assert json.loads((run / "config.json").read_text())["nproc"] == 2

    shenjing("--nproc", "2", "--epochs", "1", "--out", "stopped")
    shenjing("--resume", "stopped/checkpoint.npz")
    assert len((tmp_path / "stopped" / "history.csv").read_text().splitlines()) == 3   # header + 2 epochs
    straight, resumed = np.load(run / "model.npz"), np.load(tmp_path / "stopped" / "model.npz")
    for name in straight.files:
        np.testing.assert_array_equal(straight[name], resumed[name])

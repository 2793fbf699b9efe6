"""The ``shenjing`` command: ``train``, ``evaluate``, ``lr-find``, ``viz`` and ``bench``.

``shenjing train`` with no options trains a small MLP on scikit-learn's handwritten digits
and writes the model, the training curves and the confusion matrix into a new run folder.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DATASETS = ("digits", "mnist1d", "breast_cancer", "moons", "spirals", "xor")
MODELS = ("mlp", "cnn", "gru")
OPTIMIZERS = {"sgd": ("SGD", 0.05, {"momentum": 0.9}), "adam": ("Adam", 2e-3, {}), "adamw": ("AdamW", 2e-3, {}),
              "nadam": ("NAdam", 2e-3, {}), "rmsprop": ("RMSprop", 1e-3, {}), "adagrad": ("Adagrad", 0.05, {})}
SCHEDULES = ("none", "cosine", "step", "exponential", "plateau", "onecycle")
EPOCH_SHAPED = ("cosine", "step", "onecycle")  # their learning rates depend on the planned number of epochs
TRAIN_DEFAULTS = {"dataset": "digits", "model": "mlp", "optimizer": "adam", "lr": None, "schedule": "cosine",
                  "epochs": 30, "batch_size": 32, "seed": 0, "format": "npz", "device": "cpu", "checkpoint_every": None,
                  "nproc": 1}
CONFIG_NAME = "config.json"
CHECKPOINT_NAME = "checkpoint.npz"
VALIDATION = 0.2  # share of the training set `shenjing sweep` holds out to score its points
SHARPNESS_SAMPLES = 256  # training samples `shenjing lr-find` measures the Hessian's λ_max on


class UsageError(Exception):
    """A bad combination of options; reported as ``shenjing <cmd>: error: ...`` with exit status 2."""


# ----- data and models ----------------------------------------------------------------------------
def load_data(name: str) -> tuple:
    from .data import datasets

    if name not in DATASETS:
        raise UsageError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    return datasets.DATASETS[name]()


def input_shape(dataset: str, model: str, n_features: int) -> tuple:
    """Per-sample input shape for a model: MLPs take flat features, CNNs images (C, H, W) or
    signals (C, L), GRUs sequences (L, features)."""
    if model == "mlp":
        return (n_features,)
    shapes = {"digits": {"cnn": (1, 8, 8), "gru": (8, 8)}, "mnist1d": {"cnn": (1, n_features), "gru": (n_features, 1)}}
    if dataset not in shapes:
        raise UsageError(f"model {model!r} needs image or sequence data (digits or mnist1d); "
                         f"use --model mlp for {dataset}")
    return shapes[dataset][model]


def _gru_classifier(nn, features: int, hidden: int, classes: int):
    class GRUClassifier(nn.Module):
        """GRU over the sequence, a linear head on the last hidden state."""

        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(features, hidden, batch_first=True)
            self.head = nn.Linear(hidden, classes)

        def forward(self, x):
            _, h = self.gru(x)
            return self.head(h[-1])

    return GRUClassifier()


def build_model(kind: str, shape: tuple, classes: int, dataset: str = "digits"):
    """The default architectures of ``shenjing train --model {mlp,cnn,gru}`` (MNIST-1D's: shenjing/recipes.py)."""
    from . import nn

    if dataset == "mnist1d" and kind in MODELS:
        from .recipes import mnist1d_model

        return mnist1d_model(kind, math.prod(shape), classes)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(shape[0], 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, classes))
    if kind == "cnn" and len(shape) == 3:
        flat = 64 * (shape[1] // 4) * (shape[2] // 4)
        return nn.Sequential(nn.Conv2d(shape[0], 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Dropout(0.2), nn.Linear(flat, classes))
    if kind == "cnn":
        flat = 64 * (shape[1] // 4)
        return nn.Sequential(nn.Conv1d(shape[0], 32, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
                             nn.Conv1d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten(),
                             nn.Dropout(0.2), nn.Linear(flat, classes))
    if kind == "gru":
        return _gru_classifier(nn, shape[1], 64, classes)
    raise UsageError(f"unknown model {kind!r}; choose from {', '.join(MODELS)}")


def build_optimizer(name: str, params, lr: float | None):
    from . import optim

    if name not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    cls, default_lr, extra = OPTIMIZERS[name]
    lr = default_lr if lr is None else lr
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be a positive number, got {lr}")
    return getattr(optim, cls)(params, lr=lr, **extra)


def build_schedule(name: str, optimizer, epochs: int, steps_per_epoch: int) -> tuple:
    """(scheduler stepped per epoch or None, extra callbacks)."""
    from .optim import lr_scheduler as S
    from .train import LRSchedulerCallback

    if name not in SCHEDULES:
        raise UsageError(f"unknown schedule {name!r}; choose from {', '.join(SCHEDULES)}")
    per_epoch = {
        "none": lambda: None,
        "cosine": lambda: S.CosineAnnealingLR(optimizer, T_max=max(epochs, 1)),
        "step": lambda: S.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1),
        "exponential": lambda: S.ExponentialLR(optimizer, gamma=0.95),
        "plateau": lambda: S.ReduceLROnPlateau(optimizer, factor=0.5, patience=3),
    }
    if name in per_epoch:
        return per_epoch[name](), []
    one_cycle = S.OneCycleLR(optimizer, max_lr=optimizer.param_groups[0]["lr"],
                             total_steps=max(epochs * steps_per_epoch, 2))
    return None, [LRSchedulerCallback(one_cycle, interval="batch")]


# ----- reports ---------------------------------------------------------------------------------------
def classification_report(y_true, y_pred) -> tuple[str, np.ndarray]:
    """Accuracy, per-class precision/recall/F1 with support, and the confusion matrix, as text."""
    from . import metrics as M

    classes = np.unique(np.concatenate([y_true, y_pred]))
    kw = dict(labels=classes, average=None, zero_division=0)
    p, r, f = (np.asarray(fn(y_true, y_pred, **kw)) for fn in (M.precision, M.recall, M.f1_score))
    support = np.array([(y_true == c).sum() for c in classes])
    cm = np.asarray(M.confusion_matrix(y_true, y_pred, labels=classes))
    lines = [f"test accuracy: {M.accuracy(y_true, y_pred):.4f} ({int((y_true == y_pred).sum())}/{len(y_true)})", "",
             f"{'class':>7} {'precision':>10} {'recall':>8} {'f1':>8} {'support':>8}"]
    rows = zip(classes, p, r, f, support)
    lines += [f"{c:>7} {pi:>10.4f} {ri:>8.4f} {fi:>8.4f} {si:>8}" for c, pi, ri, fi, si in rows]
    macro = M.f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)
    lines += [f"{'macro':>7} {p.mean():>10.4f} {r.mean():>8.4f} {macro:>8.4f} {support.sum():>8}", "",
              "confusion matrix (rows: true class, columns: predicted class):"]
    width = max(len(str(cm.max())), len(str(classes.max()))) + 1
    lines.append(" " * 7 + "".join(f"{c:>{width}}" for c in classes))
    lines += [f"{c:>7}" + "".join(f"{v:>{width}}" for v in row) for c, row in zip(classes, cm)]
    return "\n".join(lines), cm


def _reshape(X, shape: tuple):
    return X.reshape((X.shape[0],) + tuple(shape))


def _out_dir(out, dataset: str, model: str, prefix: str = "") -> Path:
    if out is not None:
        return Path(out)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{prefix}{dataset}-{model}-{stamp}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


# ----- train -------------------------------------------------------------------------------------------
def _with_recipe(given: dict) -> dict:
    """The defaults, then the dataset's tuned recipe for the model (shenjing/recipes.py), then ``given``."""
    from .recipes import recipe

    dataset, model = given.get("dataset", TRAIN_DEFAULTS["dataset"]), given.get("model", TRAIN_DEFAULTS["model"])
    return {**TRAIN_DEFAULTS, **recipe(dataset, model), **given}


def _train_config(args) -> dict:
    config = dict(TRAIN_DEFAULTS)
    if args.resume is not None:
        saved = Path(args.resume).parent / CONFIG_NAME
        if not saved.exists():
            raise UsageError(f"--resume: {saved} not found; resume from the checkpoint.npz of a `shenjing train` run")
        config.update({k: v for k, v in json.loads(saved.read_text()).items() if k in TRAIN_DEFAULTS})
    given = {k: getattr(args, k) for k in TRAIN_DEFAULTS if getattr(args, k) is not None}
    if args.resume is not None:
        fixed = {k: v for k, v in given.items() if k not in ("epochs", "device", "format") and v != config[k]}
        if fixed:
            raise UsageError(f"--resume continues the saved run; these options differ from it: {fixed}")
        if config["schedule"] in EPOCH_SHAPED and given.get("epochs", config["epochs"]) != config["epochs"]:
            raise UsageError(f"the {config['schedule']} schedule is laid out over the {config['epochs']} epochs it "
                             "was made for; --resume cannot change --epochs (schedules none, exponential and "
                             "plateau can be extended)")
    config = _with_recipe(given) if args.resume is None else {**config, **given}
    for key in ("epochs", "batch_size"):
        if config[key] < 1:
            raise UsageError(f"--{key.replace('_', '-')} must be a positive integer, got {config[key]}")
    return config


def _launched_by_mpiexec() -> bool:
    """True in a process that mpiexec started (MPICH's and Open MPI's process-manager variables)."""
    return any(name in os.environ for name in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK"))


def _mpiexec() -> str:
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        raise UsageError('--nproc needs mpiexec: pip install "shenjing[distributed]" (mpi4py and the mpich wheel)')
    return found


def _launch_ranks(argv: list, nproc: int, out: Path) -> int:
    """Run this same command on ``nproc`` processes through mpiexec, all writing into one run folder."""
    command = [_mpiexec(), "-n", str(nproc), sys.executable, "-m", "shenjing", *argv, "--out", str(out)]
    return subprocess.run(command).returncode


def _join_process_group(config: dict, resuming: bool) -> None:
    """Under mpiexec, join the process group (NCCL on GPUs) and record its size as the run's ``nproc``."""
    if not _launched_by_mpiexec():
        return
    from . import distributed as dist

    dist.init_process_group("nccl" if config["device"] == "cuda" else "mpi")
    world = dist.get_world_size()
    if resuming and world != config["nproc"]:
        raise UsageError(f"--resume: the run was trained on {config['nproc']} processes; resume it on as many "
                         f"(this is {world})")
    config["nproc"] = world


def hold_out(X, y, fraction: float, seed: int = 0) -> tuple:
    """Split a training set into (train, validation), the last ``fraction`` of a seeded permutation
    held out; the same split for every run, so sweeps choose on it and never on the test set."""
    order = np.random.default_rng(seed).permutation(len(X))
    held = max(1, round(fraction * len(X)))
    return (X[order[held:]], y[order[held:]]), (X[order[:held]], y[order[:held]])


def _setup(config: dict, progress: bool = True, validation: float = 0.0):
    """Data, model, optimiser, schedule and Trainer for a config (seeded). With ``validation`` > 0
    that share of the training set is held out and returned in place of the test split."""
    import shenjing as sj

    from .train import Trainer

    sj.manual_seed(config["seed"])
    (X, y), (Xt, yt) = load_data(config["dataset"])
    if validation:
        (X, y), (Xt, yt) = hold_out(X, y, validation)
    shape = input_shape(config["dataset"], config["model"], X.shape[1])
    X, Xt = _reshape(X, shape), _reshape(Xt, shape)
    classes = int(max(y.max(), yt.max())) + 1
    model = build_model(config["model"], shape, classes, config["dataset"])
    optimizer = build_optimizer(config["optimizer"], model.parameters(), config["lr"])
    steps = math.ceil(math.ceil(len(X) / config["nproc"]) / config["batch_size"])  # per process
    scheduler, callbacks = build_schedule(config["schedule"], optimizer, config["epochs"], steps)
    trainer = Trainer(model, sj.nn.CrossEntropyLoss(), optimizer, scheduler=scheduler, metrics=["accuracy"],
                      callbacks=callbacks, device=config["device"], progress=progress, seed=config["seed"])
    config.update(input_shape=list(shape), classes=classes)
    return trainer, (X, y), (Xt, yt)


def _describe(config: dict, trainer, train, test, out: Path) -> str:
    params = trainer.model.num_parameters()
    opt_lr = trainer.optimizer.param_groups[0]["lr"]
    return (f"dataset {config['dataset']}: {len(train[0])} train / {len(test[0])} test samples, input "
            f"{tuple(config['input_shape'])}, {config['classes']} classes\n"
            f"model {config['model']}: {params:,} parameters; optimizer {config['optimizer']} (lr {opt_lr:g}), "
            f"schedule {config['schedule']}, {config['epochs']} epochs, batch size {config['batch_size']}, "
            f"seed {config['seed']}\noutput folder: {out}")


def _write_outputs(trainer, config: dict, test, out: Path) -> str:
    from . import io
    from .train import to_labels
    from .viz.metrics import plot_confusion_matrix

    y_pred = to_labels(trainer.predict(test[0]))
    report, cm = classification_report(test[1], y_pred)
    model_path = out / f"model.{config['format']}"
    io.save(trainer.model, model_path)
    trainer.history.plot(out / "curves.png", title=f"{config['dataset']} / {config['model']}")
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    plot_confusion_matrix(cm, out=out / "confusion_matrix.png",
                          title=f"{config['dataset']} test set (accuracy {accuracy:.2%})")
    files = [model_path, out / "curves.png", out / "confusion_matrix.png", out / "history.csv", out / CHECKPOINT_NAME]
    (out / "report.txt").write_text(report + "\n")
    return report + "\n\nsaved: " + ", ".join(str(p) for p in files + [out / "report.txt"])


def cmd_train(args) -> int:
    from .train import CSVLogger, Diagnostics, ModelCheckpoint

    config = _train_config(args)
    out = Path(args.out) if args.out else (Path(args.resume).parent if args.resume else
                                           _out_dir(None, config["dataset"], config["model"]))
    if config["nproc"] > 1 and not _launched_by_mpiexec():
        return _launch_ranks(args.argv, config["nproc"], out)
    _join_process_group(config, resuming=args.resume is not None)
    trainer, train, test = _setup(config, progress=not args.no_progress)
    checkpoint = out / CHECKPOINT_NAME
    trainer.callbacks += [ModelCheckpoint(checkpoint), CSVLogger(out / "history.csv")]
    if config["checkpoint_every"]:
        trainer.callbacks.append(ModelCheckpoint(out / "checkpoint-step{step}.npz",
                                                 every_n_train_steps=config["checkpoint_every"]))
    diagnostics = Diagnostics(out) if args.diagnose else None
    trainer.callbacks += [diagnostics] if diagnostics else []
    if args.resume:
        trainer.load_checkpoint(args.resume)
    from .distributed import is_main_process

    if is_main_process():
        out.mkdir(parents=True, exist_ok=True)
        (out / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
        print(_describe(config, trainer, train, test, out), flush=True)
    start = time.perf_counter()
    trainer.fit(train, val=test, epochs=config["epochs"], batch_size=config["batch_size"],
                interrupt_checkpoint=checkpoint)
    if not is_main_process():
        return 0
    if trainer.interrupted:
        print(f"\ninterrupted: state saved to {checkpoint}; continue with\n  shenjing train --resume {checkpoint}",
              flush=True)
        return 130
    print(f"trained to epoch {trainer.epoch} in {time.perf_counter() - start:.2f}s\n")
    print(_write_outputs(trainer, config, test, out))
    if diagnostics:
        warnings = diagnostics.warnings() or ["no problems found"]
        print("\ndiagnostics (diagnostics.png, diagnostics.csv):\n" + "\n".join(f"  {w}" for w in warnings))
    if args.onnx:
        print(f"saved: {_write_onnx(trainer.model, test[0], out)}")
    return 0


def _write_onnx(model, X, out: Path) -> Path:
    """``model.onnx``: the model traced on two samples (a batch of one would read as a fixed size-1
    axis), with a dynamic batch axis."""
    import shenjing as sj

    from . import onnx

    weight = next(model.parameters())
    example = sj.Tensor(X[:2], dtype=weight.dtype, device=weight.device)
    path = out / "model.onnx"
    onnx.export(model, example, path, input_names=["input"], output_names=["logits"],
                dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    return path


# ----- evaluate ------------------------------------------------------------------------------------------
def _model_state(path: Path) -> dict:
    from . import io
    from .train.checkpoint import META_KEY, load_state

    arrays = io.load(path)
    if META_KEY in arrays:
        return load_state(path)["model"]
    return arrays


def cmd_evaluate(args) -> int:
    path = Path(args.model_path)
    if not path.is_file():
        raise UsageError(f"model file {str(path)!r} does not exist")
    config = dict(TRAIN_DEFAULTS)
    saved = path.parent / CONFIG_NAME
    if saved.exists():
        config.update(json.loads(saved.read_text()))
    elif args.dataset is None or args.model is None:
        raise UsageError(f"{saved} not found: pass --dataset and --model to say how the model was built")
    config.update({k: v for k, v in (("dataset", args.dataset), ("model", args.model)) if v is not None})
    trainer, _, test = _setup(config, progress=False)
    trainer.model.load_state_dict(_model_state(path))
    metrics = trainer.evaluate(test)
    from .train import to_labels

    report, _ = classification_report(test[1], to_labels(trainer.predict(test[0])))
    print(f"{path}: {config['model']} on the {config['dataset']} test set, loss {metrics['loss']:.4f}\n")
    print(report)
    return 0


# ----- lr-find ---------------------------------------------------------------------------------------------
def cmd_lr_find(args) -> int:
    from .train import lr_find

    config = dict(TRAIN_DEFAULTS, dataset=args.dataset, model=args.model, optimizer=args.optimizer,
                  batch_size=args.batch_size, seed=args.seed, schedule="none")
    trainer, train, _ = _setup(config, progress=False)
    out = _out_dir(args.out, config["dataset"], config["model"], prefix="lr-find-")
    result = lr_find(trainer.model, trainer.loss_fn, trainer.optimizer, train, start_lr=args.start_lr,
                     min_lr=args.min_lr, steps=args.steps, batch_size=args.batch_size, seed=args.seed)
    print(f"learning-rate sweep: {config['model']} on {config['dataset']}, optimizer {config['optimizer']}, "
          f"batch size {args.batch_size}, {args.steps} steps per rate\n")
    print(f"{'lr':>10} {'final loss':>12} {'oscillation':>12}")
    for lr, loss, wiggle in zip(result.lrs, result.final_losses, result.oscillation):
        mark = "  <- suggested" if lr == result.suggestion else ""
        shown = "diverged" if not math.isfinite(loss) else f"{loss:.4f}"
        print(f"{lr:>10g} {shown:>12} {wiggle if math.isfinite(wiggle) else float('nan'):>12.3f}{mark}")
    path = out / "lr_find.png"
    result.plot(path)
    lam, stable_lr = _sharpness_at_init(trainer, train)
    print(f"\nsuggested lr: {result.suggestion:g}\nsharpness at initialisation: Hessian λ_max {lam:.4g} on "
          f"{SHARPNESS_SAMPLES} training samples; plain gradient descent is stable below 2/λ_max = {stable_lr:.4g}"
          f"\nplot: {path}")
    return 0


def _sharpness_at_init(trainer, train) -> tuple[float, float]:
    """λ_max of the loss Hessian at the initial weights (a float64 copy of the model in eval mode, so
    dropout does not make the loss random) on the first training samples."""
    import copy

    from . import tensor
    from .diagnostics import sharpness

    model = copy.deepcopy(trainer.model).double().eval()
    X = tensor(np.asarray(train[0][:SHARPNESS_SAMPLES], dtype=np.float64))
    y = tensor(np.asarray(train[1][:SHARPNESS_SAMPLES]))
    return sharpness(lambda: trainer.loss_fn(model(X), y), list(model.parameters()))


# ----- sweep -------------------------------------------------------------------------------------------------
SWEEP_METRIC = "val_accuracy"


def sweep_point(**options) -> dict:
    """Train one point of ``shenjing sweep`` and score it on the held-out validation split."""
    config = _with_recipe(options)
    trainer, train, val = _setup(config, progress=False, validation=VALIDATION)
    trainer.fit(train, epochs=config["epochs"], batch_size=config["batch_size"], interrupt_checkpoint=None)
    scores = trainer.evaluate(val)
    return {"train_loss": trainer.history["loss"][-1], "val_loss": scores["loss"],
            SWEEP_METRIC: scores.get("accuracy", math.nan), "parameters": trainer.model.num_parameters()}


def cmd_sweep(args) -> int:
    from . import tune
    from .viz.diagnostics import plot_sweep

    grid = {dest: getattr(args, dest) for dest in (flag[2:].replace("-", "_") for flag in TRAIN_OPTIONS)
            if getattr(args, dest) is not None}
    out = _out_dir(args.out, "-".join(grid.get("dataset", ["digits"])), "-".join(grid.get("model", ["mlp"])),
                   prefix="sweep-")
    points = math.prod(len(v) for v in grid.values())
    print(f"sweep: {points} points, {args.n_jobs} job(s); scored on {VALIDATION:.0%} of the training set held out",
          flush=True)
    rows = tune.sweep(sweep_point, grid or {"seed": [TRAIN_DEFAULTS["seed"]]}, n_jobs=args.n_jobs)
    out.mkdir(parents=True, exist_ok=True)
    keys = list(rows[0])
    lines = [",".join(keys)] + [",".join(str(r[k]) for k in keys) for r in rows]
    _write_text(out / "sweep.csv", "\n".join(lines) + "\n")
    plot_sweep(rows, list(grid), SWEEP_METRIC, out / "sweep.png")
    print("\n".join(f"{', '.join(f'{k}={r[k]}' for k in grid)}: {SWEEP_METRIC} {r[SWEEP_METRIC]:.4f}, "
                    f"val_loss {r['val_loss']:.4f}" for r in rows))
    best = max(rows, key=lambda r: r[SWEEP_METRIC])
    print(f"\nbest: {', '.join(f'{k}={best[k]}' for k in grid)} ({SWEEP_METRIC} {best[SWEEP_METRIC]:.4f})\n"
          f"saved: {out / 'sweep.csv'}, {out / 'sweep.png'}")
    return 0


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# ----- viz and bench ------------------------------------------------------------------------------------------
def cmd_viz(args) -> int:
    from . import viz

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.what == "optimizers":
        for surface in ("beale", "rosenbrock", "saddle"):
            viz.optimizer_paths(surface, out=out)
    else:
        viz.schedule_curves(out=out)
        viz.ema_figure(out=out)
    written = sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".gif"))
    print(f"wrote {len(written)} files to {out}: {', '.join(written)}")
    return 0


def cmd_bench(args) -> int:
    candidates = [Path.cwd() / "benchmarks" / "run.py", Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"]
    script = next((p for p in candidates if p.is_file()), None)
    if script is None:
        raise UsageError("benchmarks/run.py not found; the benchmarks ship with the source checkout")
    return subprocess.call([sys.executable, os.fspath(script), *args.bench_args])


# ----- parser --------------------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _one_of(options) -> dict:
    """argparse keywords for a choice given as a type, so that ``shenjing sweep`` can parse comma lists of it."""
    def parse(text: str) -> str:
        if text not in options:
            raise argparse.ArgumentTypeError(f"invalid choice {text!r} (choose from {', '.join(options)})")
        return text

    return {"type": parse, "metavar": "{" + ",".join(options) + "}"}


# the options `shenjing train` and `shenjing sweep` share: flag -> (argparse keywords, help)
TRAIN_OPTIONS = {
    "--dataset": (_one_of(DATASETS), "dataset (default digits)"),
    "--model": (_one_of(MODELS), "architecture (default mlp; MNIST-1D's are tuned, see shenjing/recipes.py)"),
    "--optimizer": (_one_of(tuple(OPTIMIZERS)), "optimiser (default adam)"),
    "--lr": ({"type": _positive_float}, "learning rate (default per optimiser: sgd 0.05, adam 2e-3)"),
    "--schedule": (_one_of(SCHEDULES), "learning-rate schedule (default cosine)"),
    "--epochs": ({"type": _positive_int}, "train up to this epoch (default 30)"),
    "--batch-size": ({"type": _positive_int}, "mini-batch size (default 32)"),
    "--seed": ({"type": int}, "random seed (default 0)"),
}


def _comma_list(parse):
    def parse_list(text: str) -> list:
        return [parse(item.strip()) for item in text.split(",")]

    return parse_list


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shenjing", description="shenjing (神经): train and inspect neural "
                                     "networks built on NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser("train", help="train a model and write a report, the model and plots",
                           description="Train a model (default: an MLP on the handwritten digits) and write "
                           "model, curves, confusion matrix and report into an output folder.")
    for flag, (parse, text) in TRAIN_OPTIONS.items():
        train.add_argument(flag, dest=flag[2:].replace("-", "_"), help=text, **parse)
    train.add_argument("--format", choices=("npz", "safetensors"), help="model file format (default npz)")
    train.add_argument("--device", choices=("cpu", "cuda"), help="device (default cpu)")
    train.add_argument("--out", help="output folder (default runs/<dataset>-<model>-<time>)")
    train.add_argument("--resume", metavar="PATH", help="continue from a checkpoint.npz of an earlier run")
    train.add_argument("--checkpoint-every", dest="checkpoint_every", type=_positive_int, metavar="STEPS",
                       help="also save the state every STEPS updates, mid-epoch, to checkpoint-step<N>.npz "
                            "(--resume goes on with the next batch)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar or per-epoch lines")
    train.add_argument("--diagnose", action="store_true", help="watch every layer (dead ReLUs, saturation, "
                       "gradient norms): diagnostics.png, diagnostics.csv and warnings in the report")
    train.add_argument("--nproc", type=_positive_int, help="data-parallel processes, started through mpiexec "
                       "(default 1; --batch-size is per process)")
    train.add_argument("--onnx", action="store_true", help="also write model.onnx (needs the onnx extra)")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="evaluate a saved model on its dataset's test split")
    evaluate.add_argument("model_path", metavar="MODEL_PATH", help="model.npz / model.safetensors / checkpoint.npz")
    evaluate.add_argument("--dataset", choices=DATASETS, help="dataset (default: from the run's config.json)")
    evaluate.add_argument("--model", choices=MODELS, help="architecture (default: from the run's config.json)")
    evaluate.set_defaults(func=cmd_evaluate)

    finder = sub.add_parser("lr-find", help="sweep the learning rate down by factors of ten (seed 002)")
    finder.add_argument("--dataset", choices=DATASETS, default="digits")
    finder.add_argument("--model", choices=MODELS, default="mlp")
    finder.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="sgd")
    finder.add_argument("--batch-size", dest="batch_size", type=_positive_int, default=32)
    finder.add_argument("--steps", type=_positive_int, default=100, help="updates per learning rate")
    finder.add_argument("--start-lr", dest="start_lr", type=_positive_float, default=1.0)
    finder.add_argument("--min-lr", dest="min_lr", type=_positive_float, default=1e-5)
    finder.add_argument("--seed", type=int, default=0)
    finder.add_argument("--out", help="output folder for lr_find.png (default runs/lr-find-<dataset>-<model>-<time>)")
    finder.set_defaults(func=cmd_lr_find)

    sweep = sub.add_parser("sweep", help="train over a grid of `shenjing train` options (comma lists), in parallel",
                           description="Grid search: each option of `shenjing train` takes a comma list; every "
                           "combination is trained and scored on 20% of the training set held out (never the "
                           "test set). Writes sweep.csv and sweep.png.")
    for flag, (parse, text) in TRAIN_OPTIONS.items():
        sweep.add_argument(flag, dest=flag[2:].replace("-", "_"), type=_comma_list(parse["type"]),
                           metavar=flag[2:].upper().replace("-", "_") + "[,...]", help=text)
    sweep.add_argument("--n-jobs", dest="n_jobs", type=int, default=1, help="parallel jobs (-1: all cores)")
    sweep.add_argument("--out", help="output folder (default runs/sweep-<dataset>-<model>-<time>)")
    sweep.set_defaults(func=cmd_sweep)

    viz = sub.add_parser("viz", help="draw the optimiser-path or schedule figures")
    viz.add_argument("what", choices=("optimizers", "schedules"))
    viz.add_argument("--out", required=True, help="output folder")
    viz.set_defaults(func=cmd_viz)

    bench = sub.add_parser("bench", help="run benchmarks/run.py (speed and memory against PyTorch); further "
                           "arguments are passed on to it")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``shenjing`` console script and ``python -m shenjing``; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.command == "bench":
        args.bench_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UsageError as err:
        print(f"shenjing {args.command}: error: {err}", file=sys.stderr)
        return 2

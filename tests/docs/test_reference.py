"""The API reference (docs/api/*.rst) documents every public name: DESIGN.md §1-9 and every module's ``__all__``.

autodoc documents a module's ``__all__`` (``.. automodule::``) or one named object (``.. autoclass::``,
``.. autofunction::``), and leaves out objects and methods without a docstring; these tests read the same
directives and ask the same questions of the live package, without building the site.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import shenjing

API = Path(__file__).resolve().parents[2] / "docs" / "api"
DIRECTIVE = re.compile(r"^\.\. (automodule|autoclass|autofunction|py:data)::\s+(\S+)((?:\n {13}\S+)*)", re.M)
# methods bound without a docstring of their own, described by hand in the class's entry
DESCRIBED_METHOD = re.compile(r"^ +\.\. py:method:: (\w+)\(|^ {18,}(\w+)\(", re.M)
PRIVATE_MODULES = ("shenjing.cli", "shenjing.__main__")

# DESIGN.md §1-9: public module -> names users call (the porting names of §8 are checked where they live).
DESIGN = {
    "shenjing": """Tensor tensor zeros ones randn rand arange no_grad manual_seed float32 float64 nn optim metrics data
        exp log sqrt tanh sigmoid relu maximum minimum where cat concatenate stack split einsum dot matmul clip abs
        sum mean""",
    "shenjing.autograd": "Function gradcheck detect_anomaly grad",
    "shenjing.nn.functional": """linear sigmoid tanh relu relu6 leaky_relu prelu rrelu elu gelu softplus hardtanh abs
        softmax log_softmax conv1d conv2d deform_conv2d max_pool1d max_pool2d avg_pool1d avg_pool2d
        adaptive_avg_pool2d global_max_pool global_avg_pool kmax_pool1d kavg_pool1d chunk_max_pool1d
        chunk_avg_pool1d squash roi_pool batch_norm layer_norm instance_norm group_norm dropout rnn_cell lstm_cell
        gru_cell scaled_dot_product_attention embedding mse_loss l1_loss smooth_l1_loss binary_cross_entropy
        binary_cross_entropy_with_logits cross_entropy nll_loss kl_div focal_loss dice_loss zero_one_loss
        multi_exit_loss""",
    "shenjing.nn": """Linear Maxout RBF Sigmoid Tanh ReLU ReLU6 LeakyReLU PReLU RReLU ELU GELU Softplus Hardtanh Abs
        Softmax LogSoftmax Conv1d Conv2d DepthwiseSeparableConv2d DeformConv2d MaxPool1d MaxPool2d AvgPool1d
        AvgPool2d KMaxPool1d ChunkMaxPool1d AttentionPooling CapsulePooling RoIPool2d DeformRoIPool2d BatchNorm1d
        BatchNorm2d LayerNorm InstanceNorm2d GroupNorm Dropout MultiSampleDropout RNN LSTM GRU RNNCell LSTMCell
        GRUCell MultiheadAttention TransformerEncoderLayer Embedding MSELoss L1Loss SmoothL1Loss BCELoss
        BCEWithLogitsLoss CrossEntropyLoss NLLLoss KLDivLoss FocalLoss DiceLoss Module Parameter Sequential
        ModuleList ModuleDict Flatten Identity Residual MultiExit summary""",
    "shenjing.nn.init": """zeros_ ones_ constant_ uniform_ normal_ xavier_uniform_ xavier_normal_ kaiming_uniform_
        kaiming_normal_ lecun_normal_ orthogonal_ trunc_normal_ calculate_gain""",
    "shenjing.nn.utils": "l1_penalty l2_penalty clip_grad_norm_ clip_grad_value_ param_groups_no_decay receptive_field",
    "shenjing.optim": """SGD Adagrad Adadelta RMSprop Adam AdamW Adamax NAdam Rprop LBFGS DeltaBarDelta Newton
        ConjugateGradient SWATS ema lr_scheduler swa_utils""",
    "shenjing.optim.lr_scheduler": """LambdaLR StepLR MultiStepLR ExponentialLR CosineAnnealingLR
        CosineAnnealingWarmRestarts CyclicLR OneCycleLR ReduceLROnPlateau LinearWarmupDecay InverseSqrtWarmup
        MomentumSchedule""",
    "shenjing.optim.swa_utils": "AveragedModel SWALR update_bn",
    "shenjing.data": """Dataset TensorDataset DataLoader RandomSampler SequentialSampler WeightedRandomSampler
        ClassBalancedSampler check_finite transforms datasets""",
    "shenjing.data.transforms": """Compose Normalize RandomShift RandomRotation RandomScale RandomHorizontalFlip
        GaussianNoise""",
    "shenjing.data.datasets": "digits breast_cancer mnist1d moons spirals xor",
    "shenjing.train": """Trainer History EarlyStopping ModelCheckpoint LRSchedulerCallback GradientClipping
        SnapshotCollector NaNGuard CSVLogger lr_find adversarial""",
    "shenjing.train.adversarial": "fgsm fgm pgd AdversarialTraining",
    "shenjing.ensemble": "average rank_average vote StackingClassifier Bagging SnapshotEnsemble FastGeometricEnsemble",
    "shenjing.sklearn": "NeuralNetClassifier NeuralNetRegressor",
    "shenjing.classic": "BPNetwork",
    "shenjing.metrics": """accuracy top_k_accuracy confusion_matrix precision recall fpr f1_score fbeta_score roc_curve
        roc_auc_score precision_recall_curve average_precision dice_coefficient perplexity entropy cross_entropy
        kl_divergence mutual_information conditional_entropy joint_entropy box_iou detection_ap
        mean_average_precision average_recall""",
    "shenjing.viz": "optimizer_paths",
    "shenjing.io": "save load",
}
# DESIGN.md §2, §3, §4, §5: the methods users call on these classes.
METHODS = {
    "shenjing.Tensor": """numpy item tolist detach to backward zero_ size numel reshape view transpose permute
        swapaxes squeeze unsqueeze expand flatten sum mean var std max min prod logsumexp argmax argmin exp log
        sqrt tanh sigmoid relu clip double float""",
    "shenjing.nn.Module": """parameters named_parameters buffers children modules train eval zero_grad to state_dict
        load_state_dict register_forward_hook register_full_backward_hook apply""",
    "shenjing.nn.Embedding": "from_pretrained",
    "shenjing.optim.Optimizer": "zero_grad step state_dict load_state_dict add_param_group",
    "shenjing.train.Trainer": "fit evaluate predict save_checkpoint load_checkpoint lr_find",
    "shenjing.classic.BPNetwork": "forward gradients fit predict_proba predict",
}


def _directives() -> list[tuple[str, str]]:
    found = []
    for page in sorted(API.glob("*.rst")):
        for kind, name, more in DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            found += [(kind, name)] + [(kind, extra.strip()) for extra in more.split("\n") if extra.strip()]
    return found


def _resolve(dotted: str):
    """The object at a dotted path, importing modules along the way."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attr in parts[split:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _described_methods() -> set[str]:
    text = "".join(page.read_text(encoding="utf-8") for page in API.glob("*.rst"))
    return {a or b for a, b in DESCRIBED_METHOD.findall(text)}


def _documented() -> tuple[set, set, set]:
    """(ids of documented objects, documented module names, names given by py:data)."""
    objects, modules, data = set(), set(), set()
    for kind, name in _directives():
        if kind == "py:data":
            data.add(name)
        elif kind == "automodule":
            module = importlib.import_module(name)
            modules.add(name)
            names = getattr(module, "__all__", None)
            assert names is not None, f"docs/api: automodule {name} has no __all__ to say what is public"
            objects.update(id(getattr(module, n)) for n in names if inspect.getdoc(getattr(module, n)))
        else:
            obj = _resolve(name)
            if inspect.getdoc(obj):
                objects.add(id(obj))
    return objects, modules, data


DOCUMENTED, DOCUMENTED_MODULES, DATA = _documented()


def _is_documented(module_name: str, name: str) -> bool:
    obj = getattr(importlib.import_module(module_name), name)
    if inspect.ismodule(obj):
        return any(m == obj.__name__ or m.startswith(obj.__name__ + ".") for m in DOCUMENTED_MODULES)
    return id(obj) in DOCUMENTED or f"{module_name}.{name}" in DATA


def _public_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(shenjing.__path__, "shenjing."):
        if info.name in PRIVATE_MODULES or any(p.startswith("_") for p in info.name.split(".")):
            continue
        names.append(info.name)
    return names


@pytest.mark.parametrize("module_name", sorted(DESIGN))
def test_every_design_name_is_in_the_reference(module_name):
    module = importlib.import_module(module_name)
    names = DESIGN[module_name].split()
    missing_from_package = [n for n in names if not hasattr(module, n)]
    assert not missing_from_package, f"{module_name} lacks {missing_from_package}"
    undocumented = [n for n in names if not _is_documented(module_name, n)]
    assert not undocumented, (f"{module_name}: {undocumented} are not in docs/api (no automodule/autoclass "
                              f"directive covers them, or they have no docstring)")


@pytest.mark.parametrize("class_path", sorted(METHODS))
def test_design_methods_have_docstrings_so_autodoc_lists_them(class_path):
    cls = _resolve(class_path)
    assert id(cls) in DOCUMENTED, f"{class_path} is not in docs/api"
    described = _described_methods()
    bare = [m for m in METHODS[class_path].split() if not inspect.getdoc(getattr(cls, m)) and m not in described]
    assert not bare, f"{class_path}: methods without a docstring (autodoc leaves them out): {bare}"


@pytest.mark.parametrize("module_name", _public_modules())
def test_every_name_of_every_all_is_in_the_reference(module_name):
    module = importlib.import_module(module_name)
    names = [n for n in getattr(module, "__all__", ()) if not inspect.ismodule(getattr(module, n))]
    undocumented = [n for n in names if not _is_documented(module_name, n)]
    assert not undocumented, (f"{module_name}.__all__: {undocumented} are not in docs/api; give them a docstring, "
                              f"and a new module a page with an '.. automodule::' line")


def test_methods_described_by_hand_have_no_docstring_of_their_own():
    """A method that gains a docstring is listed by autodoc; describing it by hand too duplicates it."""
    tensor_methods = [m for m in _described_methods() if hasattr(shenjing.Tensor, m)]
    documented_twice = [m for m in tensor_methods if inspect.getdoc(getattr(shenjing.Tensor, m))]
    assert not documented_twice, f"docs/api/shenjing.rst describes {documented_twice} by hand: remove them there"


def test_directives_name_real_objects():
    for kind, name in _directives():
        if kind != "py:data":
            assert _resolve(name) is not None, f"docs/api: {kind} {name} does not exist"

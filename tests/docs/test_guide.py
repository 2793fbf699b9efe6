"""The guide (docs/guide/00N_*.rst) gives every implemented section of each note its heading, its formula, a
link into the API reference and lines that run when the site is built."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide"
SECTION = re.compile(r"^(\S[^\n]*)\n-{3,}\n", re.M)
API_LINK = re.compile(r":(?:func|class|meth|mod|attr):`")

# The sections of each note that shenjing implements, by the note's own numbering or heading.
NOTE_SECTIONS = {
    "000": ["1.1 张量介绍", "1.2.1 逐元素运算", "1.2.2 广播", "1.2.3 张量点积", "BP 网络", "累计误差逆传播",
            "带动量的SGD", "Nesterov 动量", "自适应学习率", "3.3 算法可视化", "常见的激活函数", "Maxout",
            "批标准化", "L1/L2正则", "Dropout"],
    "001": ["过拟合与欠拟合", "小批量 SGD 的更新过程", "动量（Momentum）方法", "ReLU 的拓展", "L1/L2 范数正则化",
            "Dropout 与 Bagging 集成方法", "参数初始化"],
    "002": ["梯度下降法", "牛顿下降法", "反向传播算法", "优化算法", "常用的激活函数及其对应的 loss 函数",
            "神经网络调参: 第一步", "神经网络调参: 第二步", "循环神经网络"],
    "003": ["4.2 人工神经元模型", "4.3 FFN", "4.3.1 BP", "BGD, SGD and M-SGD", "4.3.2 Optimization", "参数初始化方法",
            "梯度消失问题", "梯度爆炸问题"],
    "004": ["1.1 IOU", "二分类检验指标", "精确率与召回率", "F-score", "1.5 Average Precision", "1.6 Area Under Curve",
            "1.7 Perplexity", "2.1 神经网络", "2.2 卷积技术", "2.3 池化技术", "过拟合问题", "2.4.2 归一正则化",
            "随机正则化", "范数正则化", "3 激活函数", "4.2 分类任务损失函数", "4.3 样本平衡优化", "5.1.2 指数平滑原理",
            "5.2 优化方法", "AdamL", "BERT 中的 AdamW", "6 超参优化", "7 模型集成"],
}


def _page(seed: str) -> str:
    (path,) = GUIDE.glob(f"{seed}_*.rst")
    return path.read_text(encoding="utf-8")


def _sections(text: str) -> dict[str, str]:
    heads = list(SECTION.finditer(text))
    return {h.group(1): text[h.end():(heads[i + 1].start() if i + 1 < len(heads) else len(text))]
            for i, h in enumerate(heads)}


@pytest.mark.parametrize("seed", sorted(NOTE_SECTIONS))
def test_every_implemented_section_of_the_note_has_a_heading(seed):
    headings = "\n".join(_sections(_page(seed)))
    missing = [s for s in NOTE_SECTIONS[seed] if s not in headings]
    assert not missing, f"guide page {seed}: no section for {missing}"


@pytest.mark.parametrize("seed", sorted(NOTE_SECTIONS))
def test_every_section_has_formula_code_link_and_runnable_lines(seed):
    for heading, body in _sections(_page(seed)).items():
        assert API_LINK.search(body), f"{seed} {heading!r}: no link into the API reference"
        assert ":math:`" in body or ".. math::" in body, f"{seed} {heading!r}: no formula"
        assert ".. runblock::" in body or ".. plot::" in body, f"{seed} {heading!r}: no lines run at build time"

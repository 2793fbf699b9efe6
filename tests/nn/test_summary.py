"""nn.summary: per-layer shapes and parameter counts, total returned (the notes' n1·n2 + n2)."""

from shenjing import nn


def test_mlp_784_512_256_10_has_535818_parameters():
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    lines = []
    total = nn.summary(model, (784,), print_fn=lines.append)
    assert total == 535_818 == sum(a * b + b for a, b in ((784, 512), (512, 256), (256, 10)))
    text = "\n".join(lines)
    assert "(-1, 512)" in text and "(-1, 10)" in text
    assert "401,920" in text and "Total params: 535,818" in text


def test_summary_restores_mode_and_counts_frozen_parameters():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 2))
    model[0].weight.requires_grad = False
    lines = []
    assert nn.summary(model, 3, print_fn=lines.append) == 12 + 4 + 8 + 10
    assert model.training and model[1].training
    assert "Trainable params: 22" in "\n".join(lines)
    assert int(model[1].num_batches_tracked.item()) == 0

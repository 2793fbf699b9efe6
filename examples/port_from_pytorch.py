"""PyTorch's quickstart, ported to shenjing by changing the imports only.

A custom Dataset over scikit-learn's 8×8 handwritten digits, DataLoaders, an nn.Module with
Flatten and Sequential, the train and test loops, and saving and loading the state dict: every line
below the imports is PyTorch code as its tutorial writes it (swap the three imports back to
``torch``, ``torch.nn`` and ``torch.utils.data`` and it runs under PyTorch too).

    python examples/port_from_pytorch.py [--epochs 10] [--out model.npz]
"""

import argparse

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import shenjing as torch
from shenjing import nn
from shenjing.data import DataLoader, Dataset


class Digits(Dataset):
    """One split of the digits as (image (1, 8, 8) in [0, 1], label) pairs."""

    def __init__(self, train: bool):
        digits = load_digits()
        split = train_test_split(digits.images, digits.target, test_size=0.25, random_state=0,
                                 stratify=digits.target)
        self.images, self.labels = (split[0], split[2]) if train else (split[1], split[3])

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = torch.tensor(self.images[idx] / 16.0, dtype=torch.float32).unsqueeze(0)
        return image, int(self.labels[idx])


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(8 * 8, 128),
            nn.ReLU(),
            nn.Linear(128, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def train(dataloader, model, loss_fn, optimizer, device):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        pred = model(X)
        loss = loss_fn(pred, y)

        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 20 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn, device):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default="model.npz", help="where to save the state dict")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train_dataloader = DataLoader(Digits(train=True), batch_size=32, shuffle=True)
    test_dataloader = DataLoader(Digits(train=False), batch_size=64)

    model = NeuralNetwork().to(device)
    print(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    for t in range(args.epochs):
        print(f"Epoch {t + 1}\n-------------------------------")
        train(train_dataloader, model, loss_fn, optimizer, device)
        accuracy = test(test_dataloader, model, loss_fn, device)
    print("Done!")

    torch.save(model.state_dict(), args.out)
    print(f"Saved PyTorch Model State to {args.out}")

    model = NeuralNetwork().to(device)
    model.load_state_dict(torch.load(args.out, weights_only=True))
    reloaded = test(test_dataloader, model, loss_fn, device)
    return accuracy, reloaded


if __name__ == "__main__":
    main()

"""Trains networks in PyTorch's float64 nn and optim, step by step as described on stdin,
for the tests that compare this library's training with PyTorch's (test/support/torch.ts).

Each run gives its network (layers with weights out × in, as nn.Linear keeps them), its
data, the rows of every step's batch, the optimizer, the learning-rate schedule, gradient
clipping and dropout masks. Every op is PyTorch's own: nn.LeakyReLU, nn.GELU, nn.HuberLoss,
optim.AdamW, lr_scheduler.StepLR, nn.utils.clip_grad_norm_ and so on. Dropout's masks come
from the run (they are the library's, drawn by its counter-based generator): PyTorch's own
generator would draw others. Prints each run's parameters and per-step losses as JSON.
"""

import json
import sys

import torch
from torch import nn
from torch.nn import functional as F

torch.set_default_dtype(torch.float64)

ACTIVATIONS = {
    "sigmoid": lambda layer: nn.Sigmoid(),
    "tanh": lambda layer: nn.Tanh(),
    "relu": lambda layer: nn.ReLU(),
    "linear": lambda layer: nn.Identity(),
    "softmax": lambda layer: nn.Softmax(dim=1),
    "leaky-relu": lambda layer: nn.LeakyReLU(negative_slope=layer.get("negativeSlope", 0.01)),
    "elu": lambda layer: nn.ELU(alpha=1.0),
    "gelu": lambda layer: nn.GELU(approximate="tanh"),
    "silu": lambda layer: nn.SiLU(),
    "softplus": lambda layer: nn.Softplus(beta=1.0),
}


def loss_of(name, activation, net, out, target):
    """The batch's loss: the mean over its samples of each sample's loss."""
    if name == "half-sse":
        return 0.5 * F.mse_loss(out, target, reduction="none").sum(dim=1).mean()
    if name == "sse":
        return F.mse_loss(out, target, reduction="none").sum(dim=1).mean()
    if name == "mse":
        return nn.MSELoss()(out, target)
    if name == "huber":
        return nn.HuberLoss(delta=1.0)(out, target)
    if name == "cross-entropy" and activation == "softmax":
        return nn.CrossEntropyLoss()(net, target)
    if name == "cross-entropy":
        return nn.BCEWithLogitsLoss(reduction="none")(net, target).sum(dim=1).mean()
    raise ValueError(f"no loss {name}")


def optimizer_of(spec, parameters, lr):
    kind = spec["kind"]
    decay = spec.get("weightDecay", 0.0)
    if kind == "sgd":
        return torch.optim.SGD(parameters, lr=lr, weight_decay=decay)
    if kind == "momentum":
        return torch.optim.SGD(parameters, lr=lr, momentum=spec["momentum"], weight_decay=decay)
    betas = (spec.get("beta1", 0.9), spec.get("beta2", 0.999))
    if kind == "adam":
        return torch.optim.Adam(parameters, lr=lr, betas=betas, eps=spec["epsilon"], weight_decay=decay)
    if kind == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, betas=betas, eps=spec["epsilon"], weight_decay=decay)
    if kind == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr, alpha=spec["alpha"], eps=spec["epsilon"], weight_decay=decay)
    raise ValueError(f"no optimizer {kind}")


def scheduler_of(run, optimizer):
    schedulers = []
    warmup = run.get("warmup") or 0
    if warmup > 1:
        schedulers.append(torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0 / warmup, end_factor=1.0, total_iters=warmup - 1))
    schedule = run.get("schedule")
    if schedule and schedule["kind"] == "step":
        schedulers.append(torch.optim.lr_scheduler.StepLR(optimizer, step_size=schedule["every"], gamma=schedule["gamma"]))
    elif schedule and schedule["kind"] == "exponential":
        schedulers.append(torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=schedule["gamma"]))
    elif schedule and schedule["kind"] == "cosine":
        schedulers.append(torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=schedule["steps"]))
    return torch.optim.lr_scheduler.ChainedScheduler(schedulers) if schedulers else None


def train(run):
    linears = []
    for layer in run["layers"]:
        weights = torch.tensor(layer["weights"], dtype=torch.float64)
        linear = nn.Linear(weights.shape[1], weights.shape[0])
        with torch.no_grad():
            linear.weight.copy_(weights)
            linear.bias.copy_(torch.tensor(layer["biases"], dtype=torch.float64))
        linear.bias.requires_grad_(run["trainBiases"])
        linears.append(linear)
    activations = [ACTIVATIONS[layer["activation"]](layer) for layer in run["layers"]]
    output = run["layers"][-1]["activation"]
    trained = [p for linear in linears for p in linear.parameters() if p.requires_grad]
    optimizer = optimizer_of(run["optimizer"], trained, run["learningRate"])
    scheduler = scheduler_of(run, optimizer)
    inputs = torch.tensor(run["inputs"], dtype=torch.float64)
    targets = torch.tensor(run["targets"], dtype=torch.float64)
    masks = run.get("masks")
    losses = []
    for step, rows in enumerate(run["batches"]):
        x = inputs[rows]
        net = x
        for l, (linear, activation) in enumerate(zip(linears, activations)):
            net = linear(x)
            x = activation(net)
            if masks and masks[step][l] is not None:
                x = x * torch.tensor(masks[step][l], dtype=torch.float64)
        loss = loss_of(run["loss"], output, net, x, targets[rows])
        optimizer.zero_grad()
        loss.backward()
        if run.get("clipNorm"):
            nn.utils.clip_grad_norm_(trained, run["clipNorm"])
        optimizer.step()
        if scheduler:
            scheduler.step()
        losses.append(loss.item())
    return {
        "layers": [{"weights": linear.weight.tolist(), "biases": linear.bias.tolist()} for linear in linears],
        "losses": losses,
    }


def main():
    runs = json.load(sys.stdin)["runs"]
    json.dump({"runs": [train(run) for run in runs]}, sys.stdout)


if __name__ == "__main__":
    main()

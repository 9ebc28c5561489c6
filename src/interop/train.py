#!/usr/bin/env python3
"""Trains the network of a webgpu-backprop model file with PyTorch DistributedDataParallel.

Written by "webgpu-backprop export --format pytorch" beside model.json (the network: its
layers, activations, loss and weights, as a webgpu-backprop model file) and defaults.json
(the defaults of the flags, as exported). The script is the same for every network: it
builds the network from the model file, as nn.Sequential(Linear, activation, ...), and
--model names another to start from. It trains the network with PyTorch's
DistributedDataParallel the way webgpu-backprop trains it: the same per-sample loss
averaged over each batch, the same optimizer, the same batch schedule (data order with
wrap-around, or webgpu-backprop's own shuffle from --seed), and writes the trained network
back as a model file (--out) that webgpu-backprop reads.

Every global batch of --batch-size rows is split into contiguous shares, one per process;
DistributedDataParallel averages the processes' gradients, and each process scales its
loss so that this average is the gradient of the mean over the whole global batch. gloo
runs on CPUs, NCCL on GPUs (--backend).

One machine, N processes:
    python3 train.py --data D.json --procs N --out trained.json
Several machines, N processes on each (R = 0 ... K-1; HOST: the address of machine 0):
    torchrun --nnodes K --node_rank R --nproc_per_node N --master_addr HOST \
        --master_port 29500 train.py --data D.json --out trained.json
or, where torchrun fails (Debian's PyTorch 1.13 on Python 3.11), the same through spawn:
    python3 train.py --nnodes K --node-rank R --procs N --master-addr HOST \
        --master-port 29500 --data D.json --out trained.json

In float64 on CPUs (--dtype float64) the result equals webgpu-backprop's float64 reference
trained on the same schedule to rounding (about 1e-15 relative per step): the sums run in
another order, nothing else differs. float32 (the default; what GPUs run) agrees to float32
rounding, as webgpu-backprop's WebGPU trainer does.
"""

import argparse
import csv
import hashlib
import json
import math
import os
import sys
import tempfile
from typing import Callable, NamedTuple, Optional

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

# Its twins in webgpu-backprop: read_data ↔ src/io/data-file.ts, BatchSchedule and
# SeedRandom ↔ src/data/batches.ts and the seedrandom package, LOSSES ↔
# src/reference/losses.ts, OPTIMIZERS ↔ src/reference/optimizers.ts, read_model_file ↔
# src/io/model-file.ts, the checkpoint and --resume ↔ src/io/checkpoint.ts.

# The files beside this script (src/interop/pytorch.ts writes them).
MODEL_FILE = "model.json"
DEFAULTS_FILE = "defaults.json"

CHECKPOINT_FORMAT = "webgpu-backprop pytorch checkpoint 1"


class InputError(Exception):
    """Bad input: printed as one line naming the file, field or flag; exit status 2."""


class Diverged(Exception):
    """Training produced a non-finite loss; exit status 1."""


# The ops ----------------------------------------------------------------------------------
# Each op by the name webgpu-backprop gives it in model files and options; a test checks
# that these tables name the library's ops. Adding an op is adding an entry.


class Activation(NamedTuple):
    module: Optional[Callable]  # makes its nn.Module from the layer's parameter, after the layer's Linear (None: nothing)
    function: Callable  # out from net and the layer's parameter, (B, K) -> (B, K)
    parameter: Optional[tuple] = None  # the layer field of its parameter, and its default


ACTIVATIONS = {
    "sigmoid": Activation(lambda p: nn.Sigmoid(), lambda net, p: torch.sigmoid(net)),
    "linear": Activation(None, lambda net, p: net),
    "tanh": Activation(lambda p: nn.Tanh(), lambda net, p: torch.tanh(net)),
    "relu": Activation(lambda p: nn.ReLU(), lambda net, p: torch.relu(net)),
    "softmax": Activation(lambda p: nn.Softmax(dim=1), lambda net, p: torch.softmax(net, dim=1)),
    "silu": Activation(lambda p: nn.SiLU(), lambda net, p: F.silu(net)),
    "gelu": Activation(lambda p: nn.GELU(approximate="tanh"), lambda net, p: F.gelu(net, approximate="tanh")),
    "elu": Activation(lambda p: nn.ELU(), lambda net, p: F.elu(net)),
    "softplus": Activation(lambda p: nn.Softplus(), lambda net, p: F.softplus(net)),
    "leaky-relu": Activation(lambda p: nn.LeakyReLU(p), lambda net, p: F.leaky_relu(net, p), ("negativeSlope", 0.01)),
}


def squared_errors(net, target, output):
    """(t_k − out_k)², (B, K), out from the output layer's net and its activation."""
    return (target - output_out(net, output)) ** 2


def output_out(net, output):
    """The output layer's out from its net: its activation, with its parameter."""
    return ACTIVATIONS[output.activation].function(net, output.parameter)


def cross_entropy(net, target, output):
    """From net, so that it stays exact when an output saturates. After softmax,
    −Σ_k t_k log softmax(net)_k, with log softmax(net) = net − log Σ_j e^net_j; after
    sigmoid the binary −Σ_k [t_k log σ(net_k) + (1 − t_k) log(1 − σ(net_k))]."""
    if output.activation == "softmax":
        return -(target * torch.log_softmax(net, dim=1)).sum(dim=1)
    return F.binary_cross_entropy_with_logits(net, target, reduction="none").sum(dim=1)


class Loss(NamedTuple):
    function: Callable  # (net (B, K), target (B, K), the output Layer) -> each sample's loss (B)
    outputs: Optional[tuple] = None  # the output activations it is defined after (None: any)


LOSSES = {
    # ½ Σ_k (t_k − out_k)², the articles' E_total
    "half-sse": Loss(lambda net, target, output: 0.5 * squared_errors(net, target, output).sum(dim=1)),
    # Σ_k (t_k − out_k)²
    "sse": Loss(lambda net, target, output: squared_errors(net, target, output).sum(dim=1)),
    # (1/K) Σ_k (t_k − out_k)²
    "mse": Loss(lambda net, target, output: squared_errors(net, target, output).mean(dim=1)),
    "cross-entropy": Loss(cross_entropy, ("softmax", "sigmoid")),
    # nn.HuberLoss(delta=1), the mean over the outputs
    "huber": Loss(lambda net, target, output: F.huber_loss(output_out(net, output), target, reduction="none", delta=1.0).mean(dim=1)),
}


class Optimizer(NamedTuple):
    hyperparameters: dict  # its flags besides --lr and --weight-decay: name -> help (their defaults are in defaults.json)
    make: Callable  # (parameters, settings) -> the torch.optim optimizer with the reference's update rule
    weight_decay: float = 0.0  # its default weight decay (PyTorch's weight_decay; decoupled for AdamW)


ADAM_CONSTANTS = {"beta1": "Adam's beta1", "beta2": "Adam's beta2", "epsilon": "Adam's epsilon"}

OPTIMIZERS = {
    # w ← w − η·g
    "sgd": Optimizer({}, lambda parameters, s: torch.optim.SGD(parameters, lr=s.lr, weight_decay=s.weight_decay)),
    # v ← μ·v + g; w ← w − η·v: PyTorch's momentum without dampening, as the reference's
    "momentum": Optimizer({"momentum": "momentum's mu"}, lambda parameters, s: torch.optim.SGD(parameters, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay)),
    # Adam with bias correction, ε added after the square root of the corrected v, as the reference's
    "adam": Optimizer(ADAM_CONSTANTS, lambda parameters, s: torch.optim.Adam(parameters, lr=s.lr, betas=(s.beta1, s.beta2), eps=s.epsilon, weight_decay=s.weight_decay)),
    # v ← α·v + (1 − α)·g²; w ← w − η·g/(√v + ε): not centred, no momentum
    "rmsprop": Optimizer({"alpha": "RMSprop's alpha", "epsilon": "RMSprop's (and Adam's) epsilon"}, lambda parameters, s: torch.optim.RMSprop(parameters, lr=s.lr, alpha=s.alpha, eps=s.epsilon, weight_decay=s.weight_decay)),
    # Adam with decoupled weight decay: w ← w·(1 − η·λ) before Adam's step
    "adamw": Optimizer(ADAM_CONSTANTS, lambda parameters, s: torch.optim.AdamW(parameters, lr=s.lr, betas=(s.beta1, s.beta2), eps=s.epsilon, weight_decay=s.weight_decay), 0.01),
}


def learning_rate(args, step):
    """The learning rate of step s (0-based), as webgpu-backprop's src/model/schedule.ts:
    step:S:G gives lr·G^⌊s/S⌋, exponential:G lr·G^s, cosine:T lr·(1 + cos(π·min(s, T)/T))/2,
    and a warmup of W multiplies any of them by min(1, (s + 1)/W)."""
    rate = args.lr
    kind, *numbers = args.lr_schedule.split(":") if args.lr_schedule else [None]
    if kind == "step":
        rate *= float(numbers[1]) ** (step // int(numbers[0]))
    elif kind == "exponential":
        rate *= float(numbers[0]) ** step
    elif kind == "cosine":
        steps = int(numbers[0])
        rate *= (1 + math.cos(math.pi * min(step, steps) / steps)) / 2
    if args.lr_warmup:
        rate *= min(1.0, (step + 1) / args.lr_warmup)
    return rate


def check_schedule(text):
    """A --lr-schedule: step:S:G, exponential:G or cosine:T (S and T positive whole numbers, G positive)."""
    kind, *numbers = text.split(":")
    expected = {"step": (int, float), "exponential": (float,), "cosine": (int,)}.get(kind)
    try:
        values = [convert(number) for convert, number in zip(expected, numbers, strict=True)] if expected else None
    except ValueError:
        values = None
    if values is None or not all(value > 0 and math.isfinite(value) for value in values):
        raise InputError(f"--lr-schedule: expected step:S:G, exponential:G or cosine:T with S, T positive whole numbers and G a positive number, got {text!r}")

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def hyperparameters():
    """Every optimizer's flags besides --lr, each once: name -> help."""
    return {name: text for optimizer in OPTIMIZERS.values() for name, text in optimizer.hyperparameters.items()}


# The network ------------------------------------------------------------------------------


class Layer(NamedTuple):
    """One layer of a model file: its units, its activation and the activation's parameter
    (its default where the file gives none), and its dropout probability."""

    units: int
    activation: str
    parameter: Optional[float] = None
    dropout: float = 0.0


class ModelSpec(NamedTuple):
    """The network a model file describes (src/model/model.ts's ModelSpec), and its input
    scaling (src/data/scaling.ts), where the model file has one."""

    input_size: int
    layers: list  # a Layer each
    loss: str  # per sample; the loss of a batch is the mean over its rows
    train_biases: bool
    input_scaling: Optional[dict] = None  # {"mean": [IN], "std": [IN]}: x' = (x - mean) / std
    classes: Optional[list] = None  # [OUT] the class each output unit stands for, carried through to --out


def describe(spec):
    """The network in a few words, as webgpu-backprop writes it: 3-5 tanh, 2 sigmoid, half-sse."""
    layers = ", ".join(f"{layer.units} {layer.activation}" + (f" (dropout {layer.dropout})" if layer.dropout else "") for layer in spec.layers)
    frozen = "" if spec.train_biases else ", biases frozen"
    scaled = ", inputs standardised" if spec.input_scaling else ""
    return f"{spec.input_size}-{layers}, {spec.loss}{frozen}{scaled}"


class Standardize(nn.Module):
    """The model file's inputScaling, x' = (x - mean) / std, as webgpu-backprop applies it
    to every input: a fixed step before the first layer. Its mean and std are buffers, not
    parameters, so no optimizer trains them."""

    def __init__(self, scaling):
        super().__init__()
        self.register_buffer("mean", torch.tensor(scaling["mean"], dtype=torch.float64))
        self.register_buffer("std", torch.tensor(scaling["std"], dtype=torch.float64))

    def forward(self, x):
        return (x - self.mean) / self.std


def build_network(spec, parameters=None):
    """The network as nn.Sequential in float64: the input scaling where the model file has
    one, then Linear layers (weight out x in, as webgpu-backprop stores it: weight[j][i] is
    the weight from input i into neuron j), activations and dropout (PyTorch's nn.Dropout,
    in training only; its masks are PyTorch's own, not the ones webgpu-backprop draws);
    with the model file's weights and biases, where given."""
    modules, inputs = ([Standardize(spec.input_scaling)] if spec.input_scaling else []), spec.input_size
    for layer in spec.layers:
        modules.append(nn.Linear(inputs, layer.units, dtype=torch.float64))
        if ACTIVATIONS[layer.activation].module:
            modules.append(ACTIVATIONS[layer.activation].module(layer.parameter))
        if layer.dropout:
            modules.append(nn.Dropout(layer.dropout))
        inputs = layer.units
    network = nn.Sequential(*modules)
    if parameters is not None:
        with torch.no_grad():
            for linear, (weights, biases) in zip(linear_layers(network), parameters):
                linear.weight.copy_(torch.tensor(weights, dtype=torch.float64))
                linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
    return network


def linear_layers(network):
    return [module for module in network if isinstance(module, nn.Linear)]


class OutputNetInput(nn.Module):
    """The network up to its output layer's net input (before the output activation): the
    loss starts from there, as webgpu-backprop's does, so cross-entropy stays exact when an
    output saturates. DistributedDataParallel wraps this module."""

    def __init__(self, network):
        super().__init__()
        self.network = network
        self.output_linear = max(k for k, module in enumerate(network) if isinstance(module, nn.Linear))

    def forward(self, x):
        return self.network[: self.output_linear + 1](x)


def sample_losses(spec, net, target):
    """Each sample's loss, (B), from the output layer's net input (B, K) and the targets
    (B, K), as webgpu-backprop's reference computes it (src/reference/losses.ts)."""
    return LOSSES[spec.loss].function(net, target, spec.layers[-1])


# Model files ------------------------------------------------------------------------------


def reject_constant(name):
    raise ValueError(f"{name} is not a number in JSON: expected a finite number")


def read_json(path, what):
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file, parse_constant=reject_constant)
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: line {error.lineno}, column {error.colno}: not valid JSON ({error.msg})") from None
    except ValueError as error:
        raise InputError(f"{path}: {error}") from None


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def matrix_shape(rows):
    """(rows, columns) of a non-empty list of equally long lists of finite numbers; else None."""
    if not isinstance(rows, list) or not rows or not all(isinstance(row, list) and row for row in rows):
        return None
    if any(len(row) != len(rows[0]) or not all(is_number(value) for value in row) for row in rows):
        return None
    return len(rows), len(rows[0])


def read_model_file(path):
    """The network a webgpu-backprop model file describes (src/io/model-file.ts) and its
    parameters, (weights out x in, biases) per layer, checked as far as training it here
    needs. Raises InputError naming the file and the field."""
    model = read_json(path, "model file")
    if not isinstance(model, dict):
        raise InputError(f"{path}: expected a model file: an object with loss and layers")
    loss, train_biases, layers = model.get("loss"), model.get("trainBiases", True), model.get("layers")
    if loss not in LOSSES:
        raise InputError(f"{path}: loss: expected one of {', '.join(LOSSES)}, got {loss!r}")
    if not isinstance(train_biases, bool):
        raise InputError(f"{path}: trainBiases: expected true or false, got {train_biases!r}")
    if not isinstance(layers, list) or not layers:
        raise InputError(f"{path}: layers: expected a list of layers with weights")
    shapes, parameters = [], []
    for l, layer in enumerate(layers):
        where = f"{path}: layers[{l}]"
        activation = layer.get("activation") if isinstance(layer, dict) else None
        if activation not in ACTIVATIONS:
            raise InputError(f"{where}.activation: expected one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        if activation == "softmax" and l < len(layers) - 1:
            raise InputError(f"{where}.activation: softmax is allowed on the output layer only")
        shape = matrix_shape(layer.get("weights"))
        if shape is None or (shapes and shape[1] != shapes[-1][0]):
            rows = f"rows of {shapes[-1][0]} finite numbers" if shapes else "rows of finite numbers, all as long"
            columns = f"a column per unit of layers[{l - 1}]" if shapes else "a column per input"
            raise InputError(f"{where}.weights: expected {rows} (out x in: a row per unit, {columns})")
        biases = layer.get("biases", [0] * shape[0])
        if not isinstance(biases, list) or len(biases) != shape[0] or not all(is_number(value) for value in biases):
            raise InputError(f"{where}.biases: expected {shape[0]} finite numbers, one per unit")
        shapes.append(shape)
        parameters.append((layer["weights"], biases))
    scaling = read_input_scaling(model.get("inputScaling"), shapes[0][1], path) if "inputScaling" in model else None
    classes = model.get("classes")
    if classes is not None and not (isinstance(classes, list) and len(classes) == shapes[-1][0] and all(isinstance(name, str) for name in classes) and len(set(classes)) == len(classes)):
        raise InputError(f"{path}: classes: expected {shapes[-1][0]} distinct class names (one per unit of the output layer)")
    spec = ModelSpec(shapes[0][1], [read_layer(layer, units, f"{path}: layers[{l}]") for l, ((units, _), layer) in enumerate(zip(shapes, layers))], loss, train_biases, scaling, classes)
    outputs = LOSSES[loss].outputs
    if outputs and spec.layers[-1].activation not in outputs:
        raise InputError(f"{path}: layers[{len(layers) - 1}].activation: {loss} needs a {' or '.join(outputs)} output layer, got {spec.layers[-1].activation}")
    if spec.layers[-1].dropout:
        raise InputError(f"{path}: layers[{len(layers) - 1}].dropout: dropout applies to hidden layers only")
    return spec, parameters


def read_layer(layer, units, where):
    """A Layer from a model file's layer: its activation's parameter (or default) and its dropout, checked."""
    activation = ACTIVATIONS[layer["activation"]]
    parameter = None
    if activation.parameter:
        field, default = activation.parameter
        parameter = layer.get(field, default)
        if not is_number(parameter) or parameter < 0:
            raise InputError(f"{where}.{field}: expected a number >= 0, got {parameter!r}")
    dropout = layer.get("dropout", 0.0)
    if not is_number(dropout) or not 0 <= dropout < 1:
        raise InputError(f"{where}.dropout: expected a probability p with 0 <= p < 1, got {dropout!r}")
    return Layer(units, layer["activation"], parameter, dropout)


FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_MIN_NORMAL = 2.0**-126


def read_input_scaling(scaling, width, path):
    """The model file's inputScaling, checked as webgpu-backprop checks it: width means and
    standard deviations, each std a positive number float32 holds as a normal number."""
    if not isinstance(scaling, dict) or set(scaling) != {"mean", "std"}:
        raise InputError(f"{path}: inputScaling: expected {{\"mean\": [...], \"std\": [...]}}")
    for key in ("mean", "std"):
        values = scaling[key]
        if not isinstance(values, list) or len(values) != width:
            raise InputError(f"{path}: inputScaling.{key}: expected {width} values (one per input), got {len(values) if isinstance(values, list) else values!r}")
        for c, value in enumerate(values):
            good = is_number(value) and abs(value) <= FLOAT32_MAX and (key == "mean" or value >= FLOAT32_MIN_NORMAL)
            if not good:
                expected = "a finite number" if key == "mean" else f"a positive number float32 can hold ({FLOAT32_MIN_NORMAL} to {FLOAT32_MAX})"
                raise InputError(f"{path}: inputScaling.{key}[{c}]: expected {expected}, got {value!r}")
    return {"mean": list(scaling["mean"]), "std": list(scaling["std"])}


def model_file(network, spec):
    """The network as a webgpu-backprop model file (weights out x in). JSON numbers carry
    float64 exactly, and float32 values are float64 values too."""
    file = {
        "loss": spec.loss,
        "trainBiases": spec.train_biases,
        "layers": [layer_file(layer, linear) for layer, linear in zip(spec.layers, linear_layers(network))],
    }
    if spec.input_scaling:
        file["inputScaling"] = spec.input_scaling
    if spec.classes is not None:
        file["classes"] = spec.classes
    return file


def layer_file(layer, linear):
    """One layer of a model file: its activation (with its parameter, where it takes one), dropout, weights and biases."""
    written = {"activation": layer.activation}
    parameter = ACTIVATIONS[layer.activation].parameter
    if parameter and layer.parameter != parameter[1]:
        written[parameter[0]] = layer.parameter
    if layer.dropout:
        written["dropout"] = layer.dropout
    return {**written, "weights": linear.weight.detach().double().cpu().tolist(), "biases": linear.bias.detach().double().cpu().tolist()}


def write_text(path, text):
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)


def running(pid):
    """Whether process pid is running (PermissionError: it is, as another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_atomically(path, write):
    """Writes a file through a temporary one and a rename: never half-written. Temporary
    files of earlier writes whose process is gone (killed between writing and renaming)
    are removed first: none outlives the next write of the same file."""
    folder, name = os.path.split(os.path.abspath(path))
    for other in os.listdir(folder):
        pid = other[len(name) + 4 :] if other.startswith(f"{name}.tmp") else ""
        if pid.isdigit() and int(pid) != os.getpid() and not running(int(pid)):
            os.remove(os.path.join(folder, other))
    temporary = f"{path}.tmp{os.getpid()}"
    write(temporary)
    os.replace(temporary, path)


# Data files -------------------------------------------------------------------------------


def read_data(path, target_columns):
    """Rows of inputs and targets from a webgpu-backprop data file (src/io/data-file.ts):
    JSON {"inputs": [[...]], "targets": [[...]]}, or CSV with a header row in which
    target_columns name the targets and every other column is an input."""
    if path.lower().endswith(".csv"):
        return read_csv(path, target_columns or [])
    if target_columns:
        raise InputError("--targets: names CSV columns; a JSON data file gives its targets itself")
    data = read_json(path, "data file")
    if not isinstance(data, dict) or "inputs" not in data or "targets" not in data:
        raise InputError(f'{path}: expected {{"inputs": [[...]], "targets": [[...]]}}')
    inputs = check_rows(data["inputs"], path, "inputs")
    targets = check_rows(data["targets"], path, "targets")
    if len(targets) != len(inputs):
        raise InputError(f"{path}: targets: expected {len(inputs)} rows (one per row of inputs), got {len(targets)}")
    return inputs, targets


def check_rows(rows, path, field):
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], list) or not rows[0]:
        raise InputError(f"{path}: {field}: expected an array of rows of numbers")
    width = len(rows[0])
    for r, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise InputError(f"{path}: {field}[{r}]: expected {width} values like {field}[0]")
        for value in row:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(f"{path}: {field}[{r}]: expected finite numbers, got {value!r}")
    return rows


def read_csv(path, target_columns):
    try:
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.reader(file)
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except FileNotFoundError:
        raise InputError(f"{path}: no such data file") from None
    if len(rows) < 2:
        raise InputError(f"{path}: expected a header row and at least one row of data")
    names = [name.strip() for name in rows[0][1]]
    for c, name in enumerate(names):
        if name in names[:c]:
            raise InputError(f'{path}: line {rows[0][0]}: columns {names.index(name) + 1} and {c + 1} are both named "{name}": each column needs a name of its own')
    for name in target_columns:
        if name not in names:
            raise InputError(f'{path}: line 1: no column named "{name}" (columns: {", ".join(names)})')
    target_index = [names.index(name) for name in target_columns]
    input_index = [c for c in range(len(names)) if c not in target_index]
    if not input_index:
        raise InputError(f"{path}: line 1: every column is a target: no inputs left")
    inputs, targets = [], []
    for line, row in rows[1:]:
        if len(row) != len(names):
            raise InputError(f"{path}: line {line}: expected {len(names)} values (one per column of the header), got {len(row)}")
        values = []
        for name, cell in zip(names, row):
            try:
                value = float(cell.strip())
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise InputError(f"{path}: line {line}, column {name}: expected a finite number, got {cell!r}")
            values.append(value)
        inputs.append([values[c] for c in input_index])
        targets.append([values[c] for c in target_index])
    if not target_index:
        raise InputError(f"{path}: training needs targets: name their columns with --targets")
    return inputs, targets


def fingerprint(inputs, targets):
    """Identifies the data a checkpoint was written for."""
    digest = hashlib.sha256(json.dumps([inputs, targets]).encode()).hexdigest()[:16]
    return f"{len(inputs)}x{len(inputs[0])}+{len(targets[0])}:{digest}"


# The batch schedule -----------------------------------------------------------------------


class SeedRandom:
    """The seedrandom package's default generator (ARC4 keyed by the seed string, with its
    first 256 bytes dropped), which webgpu-backprop shuffles with: the same seed gives the
    same numbers here as there, so shuffled batches hold the same rows."""

    def __init__(self, seed):
        key = []
        smear = 0
        for j, code in enumerate(seed.encode("utf-16-le")[0::2]):
            k = j & 255
            smear ^= (key[k] if k < len(key) else 0) * 19
            value = (smear + code) & 255
            if k < len(key):
                key[k] = value
            else:
                key.append(value)
        key = key or [0]
        s = list(range(256))
        j = 0
        for i in range(256):
            t = s[i]
            j = (j + key[i % len(key)] + t) & 255
            s[i] = s[j]
            s[j] = t
        self.s, self.i, self.j = s, 0, 0
        self.next_bytes(256)

    def next_bytes(self, count):
        """The next count bytes of the ARC4 stream as one big-endian integer."""
        s, i, j, r = self.s, self.i, self.j, 0
        for _ in range(count):
            i = (i + 1) & 255
            t = s[i]
            j = (j + t) & 255
            s[i] = s[j]
            s[j] = t
            r = r * 256 + s[(s[i] + s[j]) & 255]
        self.i, self.j = i, j
        return r

    def random(self):
        """A float in [0, 1) with 52 random bits, in seedrandom's integer steps."""
        n, d, x = self.next_bytes(6), 256**6, 0
        while n < 2**52:
            n, d, x = (n + x) * 256, d * 256, self.next_bytes(1)
        while n >= 2**53:
            n, d, x = n // 2, d // 2, x >> 1
        return (n + x) / d


class BatchSchedule:
    """Which rows make up each step's batch (src/data/batches.ts): a function of the step
    and the seed alone, so a resumed run sees the same batches as an uninterrupted one.
    In data order, step s takes rows sB ... sB+B-1 modulo N, wrapping around. Shuffled,
    the same stream runs through a fresh permutation of the rows each epoch."""

    def __init__(self, size, batch_size, shuffle, seed):
        self.size, self.batch_size, self.shuffle, self.seed = size, batch_size, shuffle, seed
        self.epoch, self.order = -1, []

    def rows(self, step):
        rows = []
        for k in range(self.batch_size):
            epoch, row = divmod(step * self.batch_size + k, self.size)
            rows.append(self.permutation(epoch)[row] if self.shuffle else row)
        return rows

    def permutation(self, epoch):
        if epoch != self.epoch:
            random = SeedRandom(f"{self.seed}:epoch{epoch}")
            order = list(range(self.size))
            for k in range(self.size - 1, 0, -1):  # Fisher-Yates
                pick = math.floor(random.random() * (k + 1))
                order[k], order[pick] = order[pick], order[k]
            self.epoch, self.order = epoch, order
        return self.order

    def steps_for_epochs(self, epochs):
        return -(-epochs * self.size // self.batch_size)


def share(batch_size, rank, world):
    """The contiguous part of a global batch that process rank of world trains on: the
    shares differ by at most one row when world does not divide the batch."""
    return slice(rank * batch_size // world, (rank + 1) * batch_size // world)


# Settings ---------------------------------------------------------------------------------


def read_defaults(path):
    """The flags' defaults as exported (defaults.json), checked. Raises InputError."""
    defaults = read_json(path, "defaults file")
    if not isinstance(defaults, dict):
        raise InputError(f"{path}: expected an object of the flags' defaults")

    def optional(test):
        return lambda value: value is None or test(value)

    def whole(least):
        return lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= least

    def positive(value):
        return is_number(value) and value > 0

    checks = [
        ("data", optional(lambda value: isinstance(value, str)), "a file name or null"),
        ("targets", optional(lambda value: isinstance(value, list) and all(isinstance(name, str) for name in value)), "a list of column names or null"),
        ("optimizer", lambda value: value in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
        ("lr", optional(positive), "a positive number or null"),
        ("learning_rates", lambda value: isinstance(value, dict) and all(positive(value.get(name)) for name in OPTIMIZERS), f"a positive learning rate for each of {', '.join(OPTIMIZERS)}"),
        ("batch_size", optional(whole(1)), "a positive whole number or null"),
        ("steps", optional(whole(1)), "a positive whole number or null"),
        ("epochs", optional(whole(1)), "a positive whole number or null"),
        ("shuffle", lambda value: isinstance(value, bool), "true or false"),
        ("seed", whole(0), "a whole number >= 0"),
        ("dtype", lambda value: value in DTYPES, f"one of {', '.join(DTYPES)}"),
        ("weight_decay", optional(lambda value: is_number(value) and value >= 0), "a number >= 0 or null"),
        ("clip_norm", optional(positive), "a positive number or null"),
        ("lr_schedule", optional(lambda value: isinstance(value, str)), "a schedule such as step:10:0.5, or null"),
        ("lr_warmup", optional(whole(1)), "a positive whole number or null"),
    ] + [(name, is_number, "a number") for name in hyperparameters()]
    for key, test, expected in checks:
        if not test(defaults.get(key)):
            raise InputError(f"{path}: {key}: expected {expected}, got {json.dumps(defaults[key]) if key in defaults else 'nothing'}")
    return defaults


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a bad flag refused in one line (exit status 2) rather than usage and all."""

    def error(self, message):
        raise InputError(f"{message} (train.py --help lists the flags)")


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    defaults = read_defaults(os.path.join(here, DEFAULTS_FILE))
    rates = ", ".join(f"{name} {rate}" for name, rate in defaults["learning_rates"].items() if name in OPTIMIZERS)
    parser = OneLineParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(learning_rates=defaults["learning_rates"], default_steps=defaults["steps"], default_epochs=defaults["epochs"])
    parser.add_argument("--model", default=os.path.join(here, MODEL_FILE), help=f"the model file to start from (default: {MODEL_FILE} beside this script)")
    parser.add_argument("--data", default=defaults["data"], help='data file: JSON {"inputs", "targets"} or CSV (default: %(default)s)')
    parser.add_argument("--targets", default=defaults["targets"], type=lambda text: [name.strip() for name in text.split(",")], help="CSV: the target columns, comma-separated")
    parser.add_argument("--optimizer", default=defaults["optimizer"], choices=list(OPTIMIZERS), help="the update rule (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=defaults["lr"], help=f"learning rate (default: %(default)s; None: the optimizer's, {rates})")
    for name, text in hyperparameters().items():
        parser.add_argument(f"--{name}", type=float, default=defaults[name], help=f"{text} (default %(default)s)")
    parser.add_argument("--weight-decay", type=float, default=defaults["weight_decay"], help="weight decay, PyTorch's weight_decay (default: %(default)s; None: 0.01 with adamw, else 0)")
    parser.add_argument("--clip-norm", type=float, default=defaults["clip_norm"], help="clip the gradient to this global norm, as clip_grad_norm_ (default: %(default)s)")
    parser.add_argument("--lr-schedule", default=defaults["lr_schedule"], help="step:S:G, exponential:G or cosine:T (default: %(default)s)")
    parser.add_argument("--lr-warmup", type=int, default=defaults["lr_warmup"], help="raise the rate over the first W steps (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=defaults["batch_size"], help="rows per step, across all processes (default: %(default)s; None: 32, or the data if smaller)")
    parser.add_argument("--steps", type=int, help=f"training steps, one global batch each (default: {defaults['steps']})" if defaults["steps"] else "training steps, one global batch each")
    parser.add_argument("--epochs", type=int, help=f"passes over the data (default: {defaults['epochs']} unless --steps)" if defaults["epochs"] else "passes over the data")
    parser.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=defaults["shuffle"], help="shuffle each epoch (--no-shuffle: data order, wrapping around)")
    parser.add_argument("--seed", type=int, default=defaults["seed"], help="seed of the shuffling (default: %(default)s)")
    parser.add_argument("--dtype", choices=list(DTYPES), default=defaults["dtype"], help="float32 (what GPUs run) or float64 (the reference's precision); default: %(default)s")
    parser.add_argument("--out", help="write the trained network here as a webgpu-backprop model file")
    parser.add_argument("--checkpoint-every", type=int, help="write a checkpoint (torch.save) every n steps")
    parser.add_argument("--checkpoint", help="the checkpoint file (default: beside --out)")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint file")
    parser.add_argument("--procs", type=int, default=1, help="processes on this machine, started through torch.multiprocessing.spawn")
    parser.add_argument("--nnodes", type=int, default=1, help="machines taking part (with --procs)")
    parser.add_argument("--node-rank", type=int, default=0, help="this machine's number, 0 ... nnodes-1 (with --procs)")
    parser.add_argument("--master-addr", help="address of machine 0 (with --nnodes)")
    parser.add_argument("--master-port", type=int, default=29500, help="a free port on machine 0 (with --nnodes)")
    parser.add_argument("--backend", choices=["auto", "gloo", "nccl"], default="auto", help="auto: nccl where CUDA GPUs are, else gloo")
    return parser.parse_args(argv)


def check_settings(args):
    """Checks the flags and the files they name; returns the network and the data. Raises InputError."""
    for flag, value in [("--lr", args.lr), ("--batch-size", args.batch_size), ("--steps", args.steps), ("--epochs", args.epochs), ("--checkpoint-every", args.checkpoint_every), ("--procs", args.procs), ("--nnodes", args.nnodes), ("--clip-norm", args.clip_norm), ("--lr-warmup", args.lr_warmup)]:
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise InputError(f"{flag}: expected a positive number, got {value}")
    if args.weight_decay is None:
        args.weight_decay = OPTIMIZERS[args.optimizer].weight_decay
    if not (args.weight_decay >= 0 and math.isfinite(args.weight_decay)):
        raise InputError(f"--weight-decay: expected a number >= 0, got {args.weight_decay}")
    if args.lr_schedule:
        check_schedule(args.lr_schedule)
    if args.steps is not None and args.epochs is not None:
        raise InputError("--steps, --epochs: give one or the other, not both")
    if args.steps is None and args.epochs is None:
        args.steps, args.epochs = args.default_steps, args.default_epochs
    if args.lr is None:
        args.lr = args.learning_rates[args.optimizer]
    if not args.data:
        raise InputError("--data: name the data file to train on")
    if args.nnodes > 1 and not args.master_addr and not launched_by_torchrun():
        raise InputError("--master-addr: name machine 0's address (needed with --nnodes)")
    if not 0 <= args.node_rank < args.nnodes:
        raise InputError(f"--node-rank: expected 0 ... {args.nnodes - 1}, got {args.node_rank}")
    if args.backend == "nccl" and not torch.cuda.is_available():
        raise InputError("--backend: nccl needs CUDA GPUs, and PyTorch sees none (use gloo)")
    if use_cuda(args) and not launched_by_torchrun() and args.procs > torch.cuda.device_count():
        raise InputError(f"--procs: {args.procs} processes but {torch.cuda.device_count()} GPUs here; NCCL takes one GPU a process (or use --backend gloo)")
    spec, _ = read_model_file(args.model)
    inputs, targets = read_data(args.data, args.targets)
    if len(inputs[0]) != spec.input_size:
        raise InputError(f"{args.data}: inputs: expected {spec.input_size} values per row (the model's inputs), got {len(inputs[0])}")
    if len(targets[0]) != spec.layers[-1].units:
        raise InputError(f"{args.data}: targets: expected {spec.layers[-1].units} values per row (the model's outputs), got {len(targets[0])}")
    if args.batch_size is None:
        args.batch_size = min(32, len(inputs))
    if args.batch_size > len(inputs):
        raise InputError(f"--batch-size: {args.batch_size} is more than the {len(inputs)} rows in {args.data}")
    world = world_size(args)
    if args.batch_size < world:
        raise InputError(f"--batch-size: {args.batch_size} rows cannot be shared among {world} processes (each needs at least one)")
    if args.checkpoint is None and args.out:
        args.checkpoint = f"{args.out}.checkpoint.pt"
    if (args.checkpoint_every or args.resume) and not args.checkpoint:
        raise InputError("--checkpoint: name the checkpoint file (or give --out, and it goes beside it)")
    return spec, (inputs, targets)


def training_settings(args, spec, data):
    """What a checkpoint must agree on with the run that resumes from it."""
    settings = {key: getattr(args, key) for key in ["lr", "batch_size", "shuffle", "seed", "optimizer", "dtype", "weight_decay", "clip_norm", "lr_schedule", "lr_warmup"]}
    settings.update({key: getattr(args, key) for key in OPTIMIZERS[args.optimizer].hyperparameters})
    settings["data"] = fingerprint(*data)
    settings["network"] = describe(spec)
    return settings


def trained_parameters(network, spec):
    """The parameters the optimizer trains, in its order: every Linear's weight, and its
    bias unless the biases are frozen."""
    if not spec.train_biases:
        for linear in linear_layers(network):
            linear.bias.requires_grad_(False)
    return [p for p in network.parameters() if p.requires_grad]


def read_checkpoint(args, settings, device, spec):
    """The checkpoint, checked in full before anything of it is used: written by a run of
    these settings and this network, and its state of this network's names and shapes,
    every value finite, Adam's second moments never negative. Raises InputError."""
    try:
        checkpoint = torch.load(args.checkpoint, map_location=device)
    except FileNotFoundError:
        raise InputError(f"{args.checkpoint}: no such checkpoint") from None
    except Exception as error:
        raise InputError(f"{args.checkpoint}: not a checkpoint ({first_line(error)})") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{args.checkpoint}: not a checkpoint of this train.py")
    for key in ("step", "settings", "network", "optimizer"):
        if key not in checkpoint:
            raise InputError(f"{args.checkpoint}: {key}: missing")
    if not isinstance(checkpoint["settings"], dict):
        raise InputError(f"{args.checkpoint}: settings: expected the run's settings")
    for key, value in settings.items():
        if checkpoint["settings"].get(key) != value:
            raise InputError(f"{args.checkpoint}: settings.{key} is {checkpoint['settings'].get(key)!r}; this run has {value!r} (resume with the flags the run began with)")
    step = checkpoint["step"]
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise InputError(f"{args.checkpoint}: step: expected a whole number >= 0, got {step!r}")
    # Loaded into a network and an optimizer of this run's: every name and shape is checked.
    network = build_network(spec)
    parameters = trained_parameters(network, spec)
    optimizer = OPTIMIZERS[args.optimizer].make(parameters, args)
    try:
        network.load_state_dict(checkpoint["network"])
        optimizer.load_state_dict(checkpoint["optimizer"])
    except Exception as error:
        raise InputError(f"{args.checkpoint}: its state does not fit this network ({first_line(error)})") from None
    for name, tensor in network.state_dict().items():
        if not torch.isfinite(tensor).all():
            raise InputError(f"{args.checkpoint}: network.{name}: expected finite numbers")
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            if not torch.is_tensor(value) or value.dim() == 0:
                continue
            where = f"{args.checkpoint}: optimizer.state[{index}].{key}"
            if tuple(value.shape) != tuple(parameters[index].shape):
                raise InputError(f"{where}: expected shape {tuple(parameters[index].shape)}, got {tuple(value.shape)}")
            if not torch.isfinite(value).all():
                raise InputError(f"{where}: expected finite numbers")
            if key == "exp_avg_sq" and (value < 0).any():
                raise InputError(f"{where}: expected numbers >= 0 (an average of squares)")
    return checkpoint


def first_line(error):
    """An exception's message on one line (PyTorch's go on over several), at most 400 characters."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return (text[:400] + "...") if len(text) > 400 else (text or type(error).__name__)


# Processes --------------------------------------------------------------------------------


def unexpected(error):
    """An error no check foresaw: one line, exit status 1; the traceback too where
    TRAIN_PY_DEBUG is set."""
    print(f"train.py: {type(error).__name__}: {first_line(error)}", file=sys.stderr)
    if os.environ.get("TRAIN_PY_DEBUG"):
        import traceback

        traceback.print_exception(error)
    return 1


def launched_by_torchrun():
    return "TORCHELASTIC_RUN_ID" in os.environ or ("RANK" in os.environ and "WORLD_SIZE" in os.environ and "LOCAL_RANK" in os.environ)


def world_size(args):
    return int(os.environ["WORLD_SIZE"]) if launched_by_torchrun() else args.nnodes * args.procs


def use_cuda(args):
    return args.backend == "nccl" or (args.backend == "auto" and torch.cuda.is_available())


def run_process(local_rank, args, init_method):
    """One process of the run: joins the process group, trains its shares, and cleans up."""
    if launched_by_torchrun():
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local_rank, local_world = int(os.environ["LOCAL_RANK"]), int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    else:
        rank, world, local_world = args.node_rank * args.procs + local_rank, world_size(args), args.procs
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    cuda = use_cuda(args)
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo", init_method=init_method, rank=rank, world_size=world)
    try:
        train(args, rank, world, device)
    except Diverged as error:
        if rank == 0:
            print(f"train.py: {error}", file=sys.stderr)
        sys.exit(1)
    except InputError as error:
        if rank == 0:
            print(f"train.py: {error}", file=sys.stderr)
        sys.exit(2)
    except Exception as error:
        sys.exit(unexpected(error) if rank == 0 else 1)
    finally:
        dist.destroy_process_group()


def log(rank, message):
    if rank == 0:
        print(message, flush=True)


def global_mean(value, count):
    """The sum over all processes of value, divided by count."""
    total = value.detach().clone()
    dist.all_reduce(total)
    return total.item() / count


def train(args, rank, world, device):
    dtype = DTYPES[args.dtype]
    spec, parameters = read_model_file(args.model)
    data = read_data(args.data, args.targets)
    inputs = torch.tensor(data[0], dtype=dtype, device=device)  # (N, IN)
    targets = torch.tensor(data[1], dtype=dtype, device=device)  # (N, K)
    network = build_network(spec, parameters).to(device=device, dtype=dtype)
    trained_parameters(network, spec)
    model = DistributedDataParallel(OutputNetInput(network), device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = OPTIMIZERS[args.optimizer].make([p for p in model.parameters() if p.requires_grad], args)

    schedule = BatchSchedule(len(data[0]), args.batch_size, args.shuffle, args.seed)
    total = args.steps if args.steps is not None else schedule.steps_for_epochs(args.epochs)
    settings = training_settings(args, spec, data)
    step = 0
    if args.resume:
        checkpoint = read_checkpoint(args, settings, device, spec)
        if checkpoint["step"] > total:
            raise InputError(f"{args.checkpoint}: is at step {checkpoint['step']}, past the {total} steps of this run")
        network.load_state_dict(checkpoint["network"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        step = checkpoint["step"]
        log(rank, f"resuming from step {step} ({args.checkpoint})")
    log(rank, f"network {describe(spec)}")
    log(rank, f"training {total} steps of {args.batch_size} rows on {world} process{'es' if world > 1 else ''} over {dist.get_backend()}, {args.dtype}")

    trained = [p for p in model.parameters() if p.requires_grad]
    network.train()  # dropout, where the network has it, in training only
    mine = share(args.batch_size, rank, world)
    # DistributedDataParallel averages the processes' gradients: scaling each process's loss
    # sum by world / B makes that average the gradient of the mean over all B rows.
    scale = world / args.batch_size
    report_every = max(1, total // 10)
    last_loss = math.nan
    while step < total:
        rows = torch.tensor(schedule.rows(step)[mine], device=device)
        loss = sample_losses(spec, model(inputs[rows]), targets[rows]).sum() * scale
        optimizer.zero_grad()
        loss.backward()
        # The gradients are every process's average by now: each clips the same global gradient.
        if args.clip_norm:
            nn.utils.clip_grad_norm_(trained, args.clip_norm)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(args, step)
        optimizer.step()
        step += 1
        if step % report_every == 0 or step == total:
            last_loss = global_mean(loss, world)
            if not math.isfinite(last_loss):
                raise Diverged(f"training diverged: the loss of step {step} is {last_loss} (try a smaller --lr)")
            log(rank, f"step {step}/{total}: loss {last_loss:.6g}")
        if args.checkpoint_every and step % args.checkpoint_every == 0 and rank == 0:
            state = {"format": CHECKPOINT_FORMAT, "step": step, "settings": settings, "network": network.state_dict(), "optimizer": optimizer.state_dict()}
            write_atomically(args.checkpoint, lambda path: torch.save(state, path))

    network.eval()
    with torch.no_grad():
        mine_all = share(len(data[0]), rank, world)
        data_loss = global_mean(sample_losses(spec, OutputNetInput(network)(inputs[mine_all]), targets[mine_all]).sum(), len(data[0]))
    log(rank, f"trained {total} steps")
    log(rank, f"final loss {last_loss} (the last step's batch); {data_loss} over the whole data file")
    if args.out and rank == 0:
        text = json.dumps(model_file(network, spec), allow_nan=False) + "\n"
        write_atomically(args.out, lambda path: write_text(path, text))
        log(rank, f"wrote {args.out}")


def main(argv=None):
    try:
        args = parse_args(argv)
        spec, data = check_settings(args)
        if args.resume:
            read_checkpoint(args, training_settings(args, spec, data), "cpu", spec)
    except InputError as error:
        if not launched_by_torchrun() or os.environ.get("RANK") == "0":
            print(f"train.py: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        return unexpected(error)
    if launched_by_torchrun():
        run_process(int(os.environ["LOCAL_RANK"]), args, "env://")
        return 0
    if args.nnodes > 1:
        return launch(args, f"tcp://{args.master_addr}:{args.master_port}")
    # On one machine the processes meet through a file: quicker to set up than a TCP store.
    with tempfile.TemporaryDirectory() as rendezvous:
        return launch(args, f"file://{rendezvous}/store")


def launch(args, init_method):
    """Runs this machine's --procs processes: in this one, or through spawn."""
    if args.procs == 1 and args.nnodes == 1:
        try:
            run_process(0, args, init_method)
        except SystemExit as exit:
            return exit.code
        return 0
    try:
        mp.spawn(run_process, args=(args, init_method), nprocs=args.procs, join=True)
    except mp.ProcessExitedException as error:
        return error.exit_code if error.exit_code in (1, 2) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

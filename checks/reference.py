"""What the checks and the reference generator share.

- The reference answers file and a reader that records which keys were read.
- Fixed weights: every layer that has parameters gets values drawn from its own
  seeded generator, so a student's network and the solution's compute the same
  function when they have the same architecture, however the modules are
  written or ordered. The weights are too big to store, so they are redrawn
  here from their seed; a checksum in the reference file proves they match.
- A trace: the input reaching each layer, and the output, for a fixed batch.
  Comparing traces layer by layer tells *where* a network differs.
- Expectations: every comparison of a student's value with a reference answer
  goes through `ref.expect(...)`. With the full reference (`make check`) it is
  decided at once. While autograding, the student's code runs in a worker that
  holds a BlindReference (the inputs, never the answers): there `expect` only
  records the value, and the grader's own process decides (checks/verdict.py).
"""

import re
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn


# The public reference files' settings; the file records its own (meta_weights_seed,
# meta_batch), so a hidden reference made with other ones is checked the same way.
WEIGHTS_SEED = 231
BATCH = 5  # an odd batch size: catches networks that assume the training batch size

NORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)
PARAM_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, *NORM_LAYERS)


# Values per example stored of a layer's input or a network's output: beyond this, an evenly spaced
# sample (every k-th value of the flattened example). A wrong layer changes nearly every value, so a
# sample finds it as surely as the whole, and a 64 x 64 network's reference stays small.
SAMPLE_LIMIT = 2048


def sampled(values):
    """`values` (N, ...) as (N, m): each example flattened, every k-th value kept, m <= SAMPLE_LIMIT."""
    flat = values.reshape(len(values), -1)
    stride = -(-flat.shape[1] // SAMPLE_LIMIT)   # ceil: the same k for the same size, here and in the check
    return flat[:, ::stride]


class CheckFailure(AssertionError):
    """A check found a difference; the message tells the student what to fix."""


# Keys of the answers (what a correct function computes), as opposed to inputs and settings.
ANSWER_KEY = re.compile(r"_(output|classic_output|extreme_output|layer_input_\d+|grad_[a-z_]+|step)$")


def is_answer(key):
    return bool(ANSWER_KEY.search(key)) and not key.startswith("meta_")


@dataclass
class Expectation:
    """One comparison of a student's value with a reference answer, as plain data.

    - key: the answer's key in the reference; arrays: {"got": the student's value}
      (or, for a judged measurement, {name: array} read by the judge `kind`);
    - rows: which rows of the answer to compare with (a repeated reference batch);
    - kind: "close" (arrays, relative error), "value" (one number), "stable"
      (one number, absolute error), or the name of a judge (checks/verdict.py);
    - message: what to say if it differs: a template with {error}, {value}, {expected}, {hint};
      hint: ("name", *args) of a hint function that needs the expected value;
    - advice: a note template with {reason}: a difference here is a note, not a failure;
      block: advice expectations of one block give at most one note.
    """
    key: str
    arrays: dict
    kind: str = "close"
    message: str = "{key} differs from the reference (relative error {error:.1e})"
    rows: object = None
    hint: tuple = ()
    advice: str = None
    block: int = 0


class ReferenceAnswers:
    """The reference file, read lazily; remembers every key a check asked for."""

    def __init__(self, path=None, arrays=None):
        self.path = Path(path) if path else None
        if arrays is None:
            with np.load(self.path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        self._arrays = arrays
        self.used = set()
        self._context = {"advice": None, "suffix": "", "block": 0}
        self._blocks = 0

    def keys(self):
        return set(self._arrays)

    def shape(self, key):
        return tuple(self[key].shape)

    @contextmanager
    def advice(self, note):
        """Expectations inside are advice: if one differs, `note` (with {reason}) is a note, not a failure.

        Decided at once here, the CheckFailure still propagates (the check turns it into
        its note); a BlindReference records the note for the grader instead.
        """
        self._blocks += 1
        saved = dict(self._context)
        self._context.update(advice=note, block=self._blocks)
        try:
            yield
        finally:
            self._context = saved

    @contextmanager
    def suffix(self, text):
        """A difference found inside fails with `text` added to its message."""
        saved = dict(self._context)
        self._context["suffix"] += text
        try:
            yield
        finally:
            self._context = saved

    def expect(self, key, got, message, kind="close", rows=None, hint=()):
        """Compare the student's `got` (a tensor, array or number) with the answer `key`; raise CheckFailure
        with `message` filled in if it differs (see Expectation)."""
        arrays = got if isinstance(got, dict) else {"got": got}
        arrays = {k: _plain(v) for k, v in arrays.items()}
        expectation = Expectation(key, arrays, kind, message + self._context["suffix"],
                                  None if rows is None else np.asarray(rows), tuple(hint),
                                  self._context["advice"], self._context["block"])
        self._record(expectation)

    def _record(self, expectation):
        from checks.verdict import judge_one

        failure = judge_one(expectation, self)
        if failure:
            raise CheckFailure(failure)

    @property
    def weights_seed(self):
        return int(self["meta_weights_seed"])

    @property
    def batch(self):
        return int(self["meta_batch"])

    def __getitem__(self, key):
        self.used.add(key)
        return self._arrays[key]

    def tensor(self, key, requires_grad=False):
        """The array under `key` as a float64 tensor (a fresh copy each time)."""
        return torch.tensor(self[key], dtype=torch.float64, requires_grad=requires_grad)

    def strings(self, key):
        return [str(s) for s in self[key]]


def _plain(value):
    """A student's value as a numpy array (float64 for floating tensors), detached and on the CPU."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return (value.double() if value.is_floating_point() else value).numpy()
    return np.asarray(value)


class BlindReference(ReferenceAnswers):
    """A reference without its answers, for the worker that runs a student's code while autograding.

    It holds the inputs and settings, and the shapes of the answers; `expect`
    records the student's values (`take()` hands them over) and never decides.
    Reading an answer raises: only the grader's process may see them.
    """

    def __init__(self, arrays, shapes):
        super().__init__(arrays=arrays)
        self._shapes = shapes
        self.recorded = []

    @classmethod
    def of(cls, reference):
        """The blind copy of a full ReferenceAnswers: inputs, settings, and the answers' shapes only."""
        arrays = {k: v for k, v in reference._arrays.items() if not is_answer(k)}
        shapes = {k: v.shape for k, v in reference._arrays.items() if is_answer(k)}
        return cls(arrays, shapes)

    def save(self, path):
        """Write the blind reference (np.savez; the answers' shapes under `shape_of_<key>`)."""
        np.savez(path, **self._arrays, **{f"shape_of_{k}": np.array(v, dtype=np.int64)
                                          for k, v in self._shapes.items()})

    @classmethod
    def load(cls, path):
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if not k.startswith("shape_of_")}
            shapes = {k[len("shape_of_"):]: tuple(int(d) for d in data[k]) for k in data.files
                      if k.startswith("shape_of_")}
        return cls(arrays, shapes)

    def keys(self):
        return set(self._arrays) | set(self._shapes)

    def shape(self, key):
        return self._shapes[key] if key in self._shapes else super().shape(key)

    def __getitem__(self, key):
        if key in self._shapes:
            raise KeyError(f"{key} is an answer: a check compares with it through ref.expect(), never reads it")
        return super().__getitem__(key)

    def _record(self, expectation):
        self.recorded.append(expectation)

    def take(self):
        """The expectations recorded since the last call."""
        taken, self.recorded = self.recorded, []
        return taken


def param_layers(model):
    """The modules of `model` that own weights, in registration order."""
    return [m for m in model.modules() if isinstance(m, PARAM_LAYERS)]


def signature(layer):
    """A layer's type and weight shape, e.g. 'Linear(784 -> 256)' or 'Conv2d(1 -> 32, 5x5)'.

    The type is the PyTorch class it is (a subclass of BatchNorm2d counts as BatchNorm2d).
    """
    name = next(kind.__name__ for kind in PARAM_LAYERS if isinstance(layer, kind))
    if isinstance(layer, nn.Linear):
        return f"{name}({layer.in_features} -> {layer.out_features})"
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        k = "x".join(map(str, layer.kernel_size))
        return f"{name}({layer.in_channels} -> {layer.out_channels}, {k})"
    if isinstance(layer, nn.LayerNorm):
        return f"{name}({', '.join(map(str, layer.normalized_shape))})"
    return f"{name}({layer.num_features})"


def fixed_weights(layer, index, seed):
    """Deterministic values for every parameter of `layer`, the `index`-th of its network.

    Weights are uniform with variance 1/fan_in (activations keep their scale
    through the network), biases are small and of both signs (so activations
    see negative inputs and a wrong slope shows), BatchNorm scales are around 1.
    """
    g = torch.Generator().manual_seed(seed * 1000 + index)

    def uniform(shape, low, high):
        return torch.rand(shape, generator=g, dtype=torch.float64) * (high - low) + low

    if isinstance(layer, NORM_LAYERS):
        return {"weight": uniform(layer.weight.shape, 0.5, 1.5),
                "bias": uniform(layer.bias.shape, -0.5, 0.5)}
    fan_in = layer.weight[0].numel() if not isinstance(layer, nn.ConvTranspose2d) \
        else layer.weight.shape[0] * layer.weight[0, 0].numel() // 4  # stride 2: a quarter of the taps
    bound = (3.0 / fan_in) ** 0.5
    values = {"weight": uniform(layer.weight.shape, -bound, bound)}
    if layer.bias is not None:
        values["bias"] = uniform(layer.bias.shape, -0.2, 0.2)
    return values


def load_fixed_weights(layers, seed):
    """Overwrite the parameters of `layers` (in reference order) with the fixed weights for `seed`.

    Returns the sum of all values written: the checksum stored in the reference file.
    """
    total = 0.0
    with torch.no_grad():
        for index, layer in enumerate(layers):
            for name, value in fixed_weights(layer, index, seed).items():
                getattr(layer, name).copy_(value)
                total += float(value.sum())
    return total


class NetworkCrashed(Exception):
    """The student's network raised while running; `reached` is the last layer it got to (or None)."""

    def __init__(self, error, reached, seen):
        super().__init__(str(error))
        self.error, self.reached, self.seen = error, reached, seen


def trace(model, layers, x, ran=None):
    """Run `model` on `x`; return (the input each of `layers` received, the output).

    Layers that never ran have None as input. Everything is returned as float64
    CPU tensors, detached. `x` goes to the device of the model's parameters (a
    student's code may have moved them to the GPU). If the model raises,
    NetworkCrashed says which layer it had reached. `ran`, a list, receives
    (module, output) for every module without children, in the order they ran:
    what the student's network did between two layers, in their own terms.
    """
    seen = [None] * len(layers)
    reached = [None]

    def hook(index):
        def record(_module, args):
            reached[0] = index
            if seen[index] is None:
                seen[index] = args[0].detach().double().cpu().clone()
        return record

    def log(module, _args, output):
        if isinstance(output, torch.Tensor):
            ran.append((module, output.detach().double().cpu().clone()))   # clone: an in-place op may follow

    device = next((p.device for p in model.parameters()), x.device)
    handles = [layer.register_forward_pre_hook(hook(i)) for i, layer in enumerate(layers)]
    if ran is not None:
        handles += [m.register_forward_hook(log) for m in model.modules() if not list(m.children())]
    try:
        output = model(x.to(device))
    except (RuntimeError, ValueError, TypeError, IndexError, AttributeError, AssertionError) as e:
        raise NetworkCrashed(e, reached[0], seen) from e
    finally:
        for h in handles:
            h.remove()
    if not isinstance(output, torch.Tensor):
        raise CheckFailure(f"the network returned a {type(output).__name__}, not a tensor")
    return seen, output.detach().double().cpu()


def needs_gpu(error):
    """True when `error` is PyTorch saying that CUDA is missing (code written for a GPU, run without one)."""
    text = str(error)
    return (not torch.cuda.is_available()
            and any(s in text for s in ("NVIDIA driver", "not compiled with CUDA", "No CUDA GPUs",
                                        "CUDA driver", "cuda.FloatTensor", "CUDA error")))


def describe_error(error, path):
    """'ValueError: msg (gan_pytorch.py line 57: `code`)', pointing into the file at `path` if possible.

    Code that needs a GPU, run where there is none, is said so in words.
    """
    path = Path(path).resolve()
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve() == path]
    where = f"{path.name} line {frames[-1].lineno}: `{(frames[-1].line or '').strip()}`" if frames else None
    if needs_gpu(error):
        return ("your code needs a GPU (CUDA) and this machine has none"
                + (f" ({where})" if where else "")
                + ". Create tensors on the CPU or on the device of the inputs (torch.ones_like(x), "
                "device=x.device) instead of torch.cuda.FloatTensor or .cuda(); the notebook moves the "
                "networks to the GPU when there is one")
    return f"{type(error).__name__}: {error}" + (f" ({where})" if where else "")

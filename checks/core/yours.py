"""What the student's network does, said in the student's own terms.

A failing network check compares the values reaching each weight layer with the
reference's. To be useful, its message must also say what the student's code
did there: which of *their* modules it is (`[3]`, the 4th of their 6, not
"weight layer 2 of 3") and what their network applied between two layers
(`ReLU()` where the reference applies `LeakyReLU(negative_slope=0.01)`), even
when forward() calls a function such as F.relu instead of a module.
"""

import torch
import torch.nn.functional as F

from checks.core.networks import PARAM_LAYERS

# Elementwise functions a student plausibly applies between two layers, tried in this order.
ACTIVATIONS = {
    "nothing (the values pass unchanged)": lambda a: a,
    "ReLU()": F.relu,
    "LeakyReLU(negative_slope=0.01)": lambda a: F.leaky_relu(a, 0.01),
    "LeakyReLU(negative_slope=0.2)": lambda a: F.leaky_relu(a, 0.2),
    "Tanh()": torch.tanh,
    "Sigmoid()": torch.sigmoid,
}
RESHAPES = ("Flatten", "Unflatten", "Identity")  # change no value: the references list them only as layout


def leaves(model):
    """(name, module) of every module of `model` without children, in the order they were registered."""
    return [(name, m) for name, m in model.named_modules() if not list(m.children())]


def label(model, module):
    """How the student finds `module` in their network: '[3], the 4th of your 6 modules' or 'fc2, ...'."""
    found = leaves(model)
    index = next((i for i, (_, m) in enumerate(found) if m is module), None)
    if index is None:
        return "a module of yours"
    name = found[index][0]
    # nn.Sequential numbers its children: model[3] is what the student types to reach it.
    shown = "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in name.split(".")).lstrip(".")
    return f"your module {shown}, the {_ordinal(index + 1)} of your {len(found)}"


def _ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def applied_between(ran, before, after, arrived=None):
    """What the student's network applied after the module `before` ran and before `after` did.

    `ran`: (module, output) in running order (checks.core.networks.trace). `after` None: up to
    the network's output, `arrived` (the values that reached `after`, or the output).
    Returns the modules that ran in between, as the references write them, or, when no
    module ran, the elementwise function that turns `before`'s output into `arrived`
    (F.relu in forward() shows as "ReLU()"); None if nothing can be said.
    """
    start = next((i for i, (m, _) in enumerate(ran) if m is before), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(ran)) if ran[i][0] is after), len(ran)) if after is not None \
        else len(ran)
    modules = [m for m, _ in ran[start + 1:end] if not isinstance(m, PARAM_LAYERS)]
    shown = [_short_repr(m) for m in modules if type(m).__name__ not in RESHAPES]
    if shown:
        return ", ".join(shown)
    if any(isinstance(m, PARAM_LAYERS) for m, _ in ran[start + 1:end]):
        return None
    if arrived is None:
        return None
    return _acts_like(ran[start][1], arrived)


def _short_repr(module):
    return repr(module).replace(", padding=0, dilation=1, ceil_mode=False", "")


def _acts_like(before, after):
    """The name of the elementwise function mapping `before` onto `after`, or a description."""
    if before.numel() != after.numel():
        return None
    before, after = before.reshape(-1), after.reshape(-1).to(before.dtype)
    scale = before.abs().max().clamp(min=1e-12)
    for name, function in ACTIVATIONS.items():
        if torch.allclose(function(before), after, rtol=1e-5, atol=1e-6 * float(scale)):
            return name + ("" if name.startswith("nothing") else " (in forward(): no module)")
    return "something that is none of ReLU, LeakyReLU, Tanh or Sigmoid (in forward(): no module)"

"""The checks see what the student's GPU and the lab's notebook will do, not only what a CPU check batch shows.

Four blind spots, each with plausible mistakes that used to pass here and then
failed or misled in the notebook, and correct variants that must keep passing:

1. devices: a tensor made on the CPU and mixed with the inputs crashes on a GPU.
   The checks run each function once more on PyTorch's meta device (no GPU needed;
   on the GPU too when there is one), checks/core/device.py;
2. sizes: a rule about batching is checked on more rows than one batch;
3. networks as the notebook passes them: with BatchNorm and Dropout, in eval mode,
   left in their mode, without hooks;
4. every input shape the docstring promises (the gradient penalty on flat vectors).
"""

import pytest

from checks.core import device
from checks.registry import LABS
from checks.runner import run_checks
from tests.conftest import check_in_lab, edit_function, replace_function, shown

FUNCTION_LAB = {f: lab for lab in LABS.values() for f in lab.functions}
DEVICE = "mixes devices"

MISTAKES = [
    # function, what the student did, (old, new) edit of the solution or a whole new definition, hint in the message
    # 1. devices
    ("discriminator_loss", "targets made on the CPU", ("torch.ones_like(logits_real)", "torch.ones(logits_real.shape)"),
     DEVICE),
    ("generator_loss", "targets from a size, on the CPU", ("torch.ones_like(logits_fake)",
                                                           "torch.ones(logits_fake.size())"), DEVICE),
    ("conditional_generator", "a one-hot from torch.eye(n)[labels]",
     ("F.one_hot(labels, num_classes).to(z.dtype)", "torch.eye(num_classes, dtype=z.dtype)[labels]"), DEVICE),
    ("cgan_discriminator_loss", "targets made on the CPU",
     ("torch.ones_like(logits_real)", "torch.ones(len(logits_real), 1, dtype=logits_real.dtype)"), DEVICE),
    ("gradient_penalty", "grad_outputs=torch.ones(scores.size())", (
        "torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)",
        "torch.autograd.grad(critic(x_hat), x_hat, grad_outputs=torch.ones(len(x_hat), 1, dtype=x_hat.dtype), "
        "create_graph=True)"), DEVICE),
    ("saliency_map", "grad_outputs made on the CPU", ("torch.autograd.grad(scores.sum(), x)",
                                                      "torch.autograd.grad(scores, x, torch.ones(scores.shape))"),
     DEVICE),
    ("latent_saliency", "a direction from torch.zeros(z.shape)", ("torch.zeros_like(z)", "torch.zeros(z.shape)"),
     DEVICE),
    ("encoder_step", "the squared error weighted by a tensor made on the CPU",
     ("loss = F.mse_loss(E(x), z)", "loss = ((E(x) - z) ** 2 * torch.ones(z.shape[1], dtype=z.dtype)).mean()"), DEVICE),
    ("slerp", "White's numpy slerp, row by row", '''
def slerp(z0, z1, t):
    import numpy as np
    low, high = z0.numpy(), z1.numpy()
    omega = np.arccos(np.clip(np.dot(low / np.linalg.norm(low), high / np.linalg.norm(high)), -1, 1))
    so = np.sin(omega)
    rows = []
    for val in t.tolist():
        if so == 0:
            rows.append((1.0 - val) * low + val * high)
        else:
            rows.append(np.sin((1.0 - val) * omega) / so * low + np.sin(val * omega) / so * high)
    return torch.tensor(np.stack(rows), dtype=z0.dtype)
''', "calls .numpy() on a tensor"),
    # 2. sizes
    ("fit_linear_probe", "random minibatches of 64", (
        "loss = F.cross_entropy(probe(features), labels)",
        "batch = torch.randperm(len(features))[:64]\n        loss = F.cross_entropy(probe(features[batch]), labels[batch])"),
     "full-batch"),
    # 3. networks as the notebook passes them
    ("saliency_map", "D put in training mode", ("scores = D(x)", "D.train()\n    scores = D(x)"),
     "put D in training mode"),
    ("latent_saliency", "G put in training mode", ("direction = torch.zeros_like(z)",
                                                   "G.train()\n    direction = torch.zeros_like(z)"),
     "put G in training mode"),
    ("discriminator_features", "D put in training mode", ("captured = []", "captured = []\n    D.train()"),
     "put D in training mode"),
    ("saliency_map", "a hook left on D", ("scores = D(x)",
                                          "D.register_forward_hook(lambda m, i, o: None)\n    scores = D(x)"),
     "left a hook registered on D"),
    # 4. every shape the docstring promises
    ("gradient_penalty", "epsilon hard-coded for images", ("epsilon.reshape(-1, *[1] * (real.dim() - 1))",
                                                           "epsilon.view(-1, 1, 1, 1)"), "flat examples (N, 8)"),
    ("optimal_discriminator", "written for one row of points", '''
def optimal_discriminator(p_data, p_g):
    return torch.stack([torch.tensor(0.5, dtype=p_data.dtype) if a + b == 0 else a / (a + b)
                        for a, b in zip(p_data.reshape(-1), p_g.reshape(-1))])
''', "a grid of points"),
]

VARIANTS = [
    ("discriminator_loss", "targets with device= and dtype=", ("torch.ones_like(logits_real)", (
        "torch.ones(logits_real.shape, device=logits_real.device, dtype=logits_real.dtype)"))),
    ("generator_loss", "targets from x.new_ones", ("torch.ones_like(logits_fake)",
                                                   "logits_fake.new_ones(logits_fake.shape)")),
    ("conditional_generator", "torch.eye moved to the labels' device",
     ("F.one_hot(labels, num_classes).to(z.dtype)", "torch.eye(num_classes, dtype=z.dtype, device=z.device)[labels]")),
    ("gradient_penalty", "grad_outputs made with torch.ones_like", (
        "torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)",
        "torch.autograd.grad(critic(x_hat), x_hat, grad_outputs=torch.ones_like(critic(x_hat)), create_graph=True)")),
    ("saliency_map", "D.eval() first (it is in eval mode already)", ("scores = D(x)", "D.eval()\n    scores = D(x)")),
    ("latent_saliency", "a direction made with device=z.device", ("torch.zeros_like(z)",
                                                                 "torch.zeros(z.shape, device=z.device, dtype=z.dtype)")),
    ("slerp", "an assert on the inputs' values (meta has none: the probe must not fail it)",
     ("t = t.to(z0.dtype)[:, None]", "assert torch.isfinite(z0).all() and torch.isfinite(z1).all()\n"
                                     "    t = t.to(z0.dtype)[:, None]")),
    # the notebook runs these on the CPU (cpu_only): CPU tensors are right there
    ("diversity", "the diagonal masked with torch.eye, on the CPU",
     ("distances.sum()", "(distances * (1 - torch.eye(n, dtype=x.dtype))).sum()")),
    ("algorithm1_step", "BCE with targets made on the CPU",
     ("-torch.log(scores).mean()", "F.binary_cross_entropy(scores, torch.ones(len(scores), 1, dtype=scores.dtype))")),
    ("optimal_discriminator", "a Python 0.5 in torch.where", ("torch.full_like(total, 0.5)", "0.5")),
]


def _source(function, change):
    source = FUNCTION_LAB[function].solution_file.read_text()
    if isinstance(change, tuple):
        source = edit_function(source, function, *change)
    else:
        source = replace_function(source, function, change)
    return "import torch.nn.functional as F\n" + source


def _check(tmp_path, function, source):
    lab = FUNCTION_LAB[function]
    return check_in_lab(tmp_path, lab, lab.answers(), source, function)


@pytest.mark.parametrize("function, mistake, change, hint", MISTAKES, ids=[f"{m[0]}: {m[1]}" for m in MISTAKES])
def test_mistake_fails_with_what_to_fix(tmp_path, function, mistake, change, hint):
    result = _check(tmp_path, function, _source(function, change))
    assert result.status == "FAIL", f"{mistake} should fail: {shown(result)}"
    assert hint in result.message, f"{mistake}: the message should say {hint!r}, it says: {result.message}"
    if hint == DEVICE:
        assert "line" in result.message and "device=x.device" in result.message, result.message


@pytest.mark.parametrize("function, variant, change", VARIANTS, ids=[f"{v[0]}: {v[1]}" for v in VARIANTS])
def test_correct_variant_passes(tmp_path, function, variant, change):
    result = _check(tmp_path, function, _source(function, change))
    assert result.status == "PASS", f"{variant}: {shown(result)}"


def test_the_2017_2023_device_switch_passes_with_a_note(tmp_path):
    """`dtype = torch.FloatTensor` (torch.cuda.FloatTensor on a GPU) and `device = torch.device("cpu")` at the
    top of the module were the course's way: a student who follows it switches them on a GPU."""
    source = _source("discriminator_loss", ("torch.ones_like(logits_real)", "torch.ones(len(logits_real)).type(dtype)"))
    source = edit_function(source, "generator_loss", "torch.ones_like(logits_fake)",
                           "torch.ones(logits_fake.shape, device=device)")
    source = source.replace("import torch\n", "import torch\ndtype = torch.FloatTensor\ndevice = torch.device('cpu')\n", 1)
    for function, switch in (("discriminator_loss", "dtype = torch.FloatTensor"),
                             ("generator_loss", "device = device(type='cpu')")):
        result = _check(tmp_path, function, source)
        assert result.status == "PASS", shown(result)
        assert any("runs on a GPU only once" in n and switch in n for n in result.notes), result.notes


def test_every_solution_is_probed_on_the_meta_device(tmp_path):
    """Each probe decides on the solutions (none skipped for want of values), so a device mistake shows."""
    device.SKIPPED.clear()
    for lab in LABS.values():
        failing = [shown(r) for r in run_checks(lab.solution_file, lab=lab, reference=lab.answers()) if not r.passed]
        assert not failing, failing
    assert not device.SKIPPED, f"probes that could not decide on the solutions: {device.SKIPPED}"

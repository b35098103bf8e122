"""The three labs on what a trained GAN learned (d_probe, latent_walks, saliency): plausible mistakes fail with
the fix in the message, correct variants written the ways students and tutorials write them pass, and what the
notebooks show holds with the solutions."""

import pytest
import torch
import torch.nn as nn

from checks.registry import LABS

D_PROBE, LATENT_WALKS, SALIENCY = LABS["d_probe"], LABS["latent_walks"], LABS["saliency"]
from gan_assignment.provided.modules import load_module
from gan_assignment.provided import d_probe as learned
from tests.conftest import check_in_lab, edit_function, grade_guarded, replace_function, shown

LABS = {lab.name: lab for lab in (D_PROBE, LATENT_WALKS, SALIENCY)}
FUNCTION_LAB = {f: lab for lab in LABS.values() for f in lab.functions}

MISTAKES = [
    # function, what the student did, (old, new) edit of the solution or a whole new definition, hint in the message
    ("discriminator_features", "D unfrozen: features keep D's graph", '''
def discriminator_features(D, images, batch_size=1000):
    return torch.cat([D[:-1](chunk) for chunk in images.split(batch_size)])
''', "D is not frozen"),
    ("discriminator_features", "the hook never removed", ("        hook.remove()", "        pass"),
     "left a hook registered"),
    ("discriminator_features", "the Linear's output before the activation", '''
def discriminator_features(D, images, batch_size=1000):
    with torch.no_grad():
        return D[:-2](images)
''', "before the last activation"),
    ("discriminator_features", "a hard-coded slice of the classic network", '''
def discriminator_features(D, images, batch_size=1000):
    with torch.no_grad():
        return D[:9](images)
''', "what D's last Linear receives"),
    ("discriminator_features", "every image at once, batch_size ignored", '''
def discriminator_features(D, images, batch_size=1000):
    with torch.no_grad():
        return D[:-1](images)
''', "D ran on 17 images at once"),
    ("discriminator_features", "only the last chunk kept", '''
def discriminator_features(D, images, batch_size=1000):
    with torch.no_grad():
        for chunk in images.split(batch_size):
            features = D[:-1](chunk)
    return features
''', "expected (17, 32)"),
    ("fit_linear_probe", "a new Adam every step", ('''    optimizer = torch.optim.Adam(probe.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
''', '''    losses = []
    for _ in range(steps):
        optimizer = torch.optim.Adam(probe.parameters(), lr=lr)
'''), "ONE torch.optim.Adam"),
    ("fit_linear_probe", "softmax before the cross-entropy", ("F.cross_entropy(probe(features), labels)",
                                                              "F.cross_entropy(F.softmax(probe(features), dim=1), labels)"),
     "softmax applied before F.cross_entropy"),
    ("fit_linear_probe", "MSE on one-hot labels", ("F.cross_entropy(probe(features), labels)",
                                                    "F.mse_loss(probe(features), F.one_hot(labels, 4).double())"),
     "mean squared error against one-hot"),
    ("fit_linear_probe", "SGD instead of Adam", ("optimizer = torch.optim.Adam(probe.parameters(), lr=lr)",
                                                  "optimizer = torch.optim.SGD(probe.parameters(), lr=lr)"),
     "the later ones differ"),
    ("fit_linear_probe", "the optimizer never steps", ("        optimizer.step()\n", ""), "have not changed"),
    ("slerp", "lerp instead of slerp", '''
def slerp(z0, z1, t):
    t = t[:, None]
    return (1 - t) * z0 + t * z1
''', "that is lerp"),
    ("slerp", "no guard where sin(omega) = 0", ('''    if sin.abs() < 1e-6:
        return lerp(z0, z1, t[:, 0])
''', ""), "0 / 0"),
    ("slerp", "arccos without the clamp", ("torch.dot(z0 / z0.norm(), z1 / z1.norm()).clamp(-1.0, 1.0)",
                                           "torch.dot(z0 / z0.norm(), z1 / z1.norm())"), "clamp"),
    ("slerp", "lerp for every pair closer than 30 degrees", ("if sin.abs() < 1e-6:", "if omega < 0.5:"),
     "Switch to lerp only where sin(omega) is tiny"),
    ("slerp", "the normalised vectors interpolated", ('''    return torch.sin((1 - t) * omega) / sin * z0 + torch.sin(t * omega) / sin * z1''',
                                                      '''    z0, z1 = z0 / z0.norm(), z1 / z1.norm()
    return torch.sin((1 - t) * omega) / sin * z0 + torch.sin(t * omega) / sin * z1'''),
     "all have length 1"),
    ("slerp", "the angle without normalising", ("torch.dot(z0 / z0.norm(), z1 / z1.norm())", "torch.dot(z0, z1)"),
     "that is lerp"),
    ("class_mean_direction", "the direction reversed", ("return means[1] - means[0]", "return means[0] - means[1]"),
     "That is the direction from 7 to 1"),
    ("class_mean_direction", "the mean of every number, not of the vectors", ("chosen.mean(dim=0)", "chosen.mean()"),
     "dim=0"),
    ("class_mean_direction", "an empty target class not checked", '''
def class_mean_direction(z, predicted, source, target):
    if (predicted == source).sum() == 0:
        raise ValueError(f"no sample is classified as {source}")
    return z[predicted == target].mean(0) - z[predicted == source].mean(0)
''', "check the target class too"),
    ("class_mean_direction", "IndexError instead of ValueError", '''
def class_mean_direction(z, predicted, source, target):
    counts = torch.bincount(predicted)
    if counts[source] == 0 or counts[target] == 0:
        raise ValueError("a class has no sample")
    return z[predicted == target].mean(0) - z[predicted == source].mean(0)
''', "raised IndexError"),
    ("class_mean_direction", "nan for a digit nobody drew", ('''        if len(chosen) == 0:
            raise ValueError(f"no sample is classified as {digit}: draw more samples")
''', ""), "raise ValueError"),
    ("saliency_map", "no absolute value", ("gradient.abs().amax(dim=1)", "gradient.amax(dim=1)"), "negative values"),
    ("saliency_map", "the gradient of the mean score", ("scores.sum()", "scores.mean()"),
     "the gradient of the MEAN score"),
    ("saliency_map", "the gradient of sigmoid(score)", ("scores = D(x)", "scores = torch.sigmoid(D(x))"),
     "the gradient of sigmoid(score)"),
    ("saliency_map", "the channels summed", ("gradient.abs().amax(dim=1)", "gradient.abs().sum(dim=1)"),
     "the largest over the channels"),
    ("saliency_map", "the gradient with respect to D's weights", '''
def saliency_map(D, images):
    scores = D(images)
    first = next(D.parameters())
    (gradient,) = torch.autograd.grad(scores.sum(), first)
    return gradient.abs()
''', "with respect to the input images"),
    ("saliency_map", "float32 inside, the gradient of the mean", '''
def saliency_map(D, images):
    x = images.float().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(D.float()(x).mean(), x)
    return g.abs().amax(1)
''', "the gradient of the MEAN score"),
    ("saliency_map", "torch.max's (values, indices) returned", ("gradient.abs().amax(dim=1)", "gradient.abs().max(dim=1)"),
     "keep its .values"),
    ("saliency_map", "one channel kept as a dimension", ("gradient.abs().amax(dim=1)", "gradient.abs()"),
     "one map (H, W) per image"),
    ("latent_saliency", "the gradient of the summed image with respect to z", '''
def latent_saliency(G, z, coordinate):
    z = z.detach().clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(G(z).sum(), z)
    return gradient.abs()
''', "the shape of z"),
    ("latent_saliency", "no absolute value", ("return change.abs()", "return change"), "negative values"),
    ("latent_saliency", "a coarse finite difference", '''
def latent_saliency(G, z, coordinate):
    step = torch.zeros_like(z)
    step[:, coordinate] = 0.1
    with torch.no_grad():
        return ((G(z + step) - G(z)) / 0.1).abs()
''', "torch.func.jvp"),
]


@pytest.fixture(scope="module")
def references():
    return {name: lab.answers() for name, lab in LABS.items()}


def _check(tmp_path, references, source, function):
    lab = FUNCTION_LAB[function]
    return check_in_lab(tmp_path, lab, references[lab.name], source, function)


def _source(function, change):
    source = FUNCTION_LAB[function].solution_file.read_text()
    if isinstance(change, tuple):
        return "import torch.nn.functional as F\n" + edit_function(source, function, *change)
    return "import torch.nn.functional as F\n" + replace_function(source, function, change)


@pytest.mark.parametrize("function, mistake, change, hint", MISTAKES, ids=[f"{m[0]}: {m[1]}" for m in MISTAKES])
def test_mistake_fails_with_a_helpful_message(tmp_path, references, function, mistake, change, hint):
    result = _check(tmp_path, references, _source(function, change), function)
    assert result.status == "FAIL", f"{mistake} should fail: {shown(result)}"
    assert hint in result.message, f"{mistake}: the message should say {hint!r}, it says: {result.message}"


VARIANTS = [
    ("discriminator_features", "slicing and .detach(), a list comprehension", '''
def discriminator_features(D, images, batch_size=1000):
    return torch.cat([D[:-1](b).detach() for b in images.split(batch_size)])
'''),
    ("discriminator_features", "a forward hook on the layer before the last, children list", '''
def discriminator_features(D, images, batch_size=1000):
    layers = list(D.children())
    out = []
    handle = layers[-2].register_forward_hook(lambda m, i, o: out.append(o))
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            D(images[start:start + batch_size])
    handle.remove()
    return torch.cat(out, dim=0)
'''),
    ("discriminator_features", "D frozen with requires_grad_(False), inference mode", '''
def discriminator_features(D, images, batch_size=1000):
    D.requires_grad_(False)
    with torch.inference_mode():
        feats = [torch.nn.Sequential(*list(D)[:-1])(b) for b in torch.split(images, batch_size)]
    return torch.cat(feats)
'''),
    ("fit_linear_probe", "nn.CrossEntropyLoss, probe.zero_grad, a tensor of losses", '''
def fit_linear_probe(probe, features, labels, steps=300, lr=0.01):
    criterion = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(probe.parameters(), lr)
    history = []
    for step in range(steps):
        probe.zero_grad()
        loss = criterion(probe(features), labels)
        loss.backward()
        opt.step()
        history.append(loss.detach())
    return torch.stack(history)
'''),
    ("fit_linear_probe", "log_softmax and nll_loss", '''
def fit_linear_probe(probe, features, labels, steps=300, lr=0.01):
    optimizer = torch.optim.Adam(params=probe.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = F.nll_loss(F.log_softmax(probe(features), dim=-1), labels)
        losses.append(float(loss))
        loss.backward()
        optimizer.step()
    return losses
'''),
    ("discriminator_features", "float32 features from float32 chunks", '''
def discriminator_features(D, images, batch_size=1000):
    with torch.no_grad():
        return torch.cat([D[:-1](chunk.float()) for chunk in images.split(batch_size)])
'''),
    ("latent_saliency", "a float32 direction for torch.func.jvp, made on z's device", '''
def latent_saliency(G, z, coordinate):
    v = torch.zeros(z.shape, device=z.device)
    v[:, coordinate] = 1.0
    return torch.func.jvp(G, (z.float(),), (v,))[1].abs()
'''),
    ("slerp", "torch.where guard, acos of a clamped cosine", '''
def slerp(z0, z1, t):
    cos = (z0 @ z1) / (z0.norm() * z1.norm())
    omega = torch.acos(torch.clamp(cos, -1, 1))
    t = t.reshape(-1, 1)
    so = torch.sin(omega)
    safe = torch.where(so > 1e-8, so, torch.ones_like(so))
    arc = torch.sin((1 - t) * omega) / safe * z0 + torch.sin(t * omega) / safe * z1
    return torch.where(so > 1e-8, arc, (1 - t) * z0 + t * z1)
'''),
    ("class_mean_direction", "masks and sums, its own error message", '''
def class_mean_direction(z, predicted, source, target):
    a, b = (predicted == source), (predicted == target)
    if a.sum() == 0 or b.sum() == 0:
        raise ValueError("a class is missing")
    return z[b].sum(0) / b.sum() - z[a].sum(0) / a.sum()
'''),
    ("saliency_map", "backward() and .grad, the caller's images untouched", '''
def saliency_map(D, images):
    x = images.clone().detach()
    x.requires_grad = True
    D(x).sum().backward()
    return x.grad.abs().max(dim=1)[0]
'''),
    ("saliency_map", "torch.func.vjp, one image at a time", '''
def saliency_map(D, images):
    maps = []
    for image in images:
        _, pullback = torch.func.vjp(lambda x: D(x[None]).sum(), image)
        (g,) = pullback(torch.ones((), dtype=image.dtype))
        maps.append(g.abs().amax(0))
    return torch.stack(maps)
'''),
    ("latent_saliency", "torch.autograd.functional.jacobian, column picked", '''
def latent_saliency(G, z, coordinate):
    rows = []
    for zi in z:
        jac = torch.autograd.functional.jacobian(lambda v: G(v[None])[0], zi)
        rows.append(jac[..., coordinate].abs())
    return torch.stack(rows)
'''),
    ("latent_saliency", "the double-backward trick", '''
def latent_saliency(G, z, coordinate):
    z = z.detach().requires_grad_(True)
    out = G(z)
    u = torch.zeros_like(out, requires_grad=True)
    (g,) = torch.autograd.grad(out, z, u, create_graph=True)
    v = torch.zeros_like(z)
    v[:, coordinate] = 1
    (jv,) = torch.autograd.grad(g, u, v)
    return jv.abs()
'''),
]


@pytest.mark.parametrize("function, variant, code", VARIANTS, ids=[f"{v[0]}: {v[1]}" for v in VARIANTS])
def test_correct_variant_passes(tmp_path, references, function, variant, code):
    result = _check(tmp_path, references, _source(function, code), function)
    assert result.status == "PASS", f"{variant}: {shown(result)}"


def test_a_saliency_that_fills_d_gradients_and_the_callers_images_passes_with_notes(tmp_path, references):
    code = '''
def saliency_map(D, images):
    images.requires_grad_(True)
    D(images).sum().backward()
    return images.grad.abs().amax(dim=1)
'''
    result = _check(tmp_path, references, _source("saliency_map", code), "saliency_map")
    assert result.status == "PASS", shown(result)
    notes = " ".join(result.notes)
    assert "requires_grad on the caller's images" in notes and "torch.autograd.grad" in notes, result.notes


def test_the_guarded_autograder_grades_the_three_labs(tmp_path):
    """Visible and hidden tests as `make autograde` runs them (sandboxed worker, blind references)."""
    wrong = {"d_probe": ("fit_linear_probe", ("F.cross_entropy(probe(features), labels)",
                                              "F.cross_entropy(F.softmax(probe(features), dim=1), labels)"),
                         "softmax applied before"),
             "latent_walks": ("class_mean_direction", ("return means[1] - means[0]", "return means[0] - means[1]"),
                              "from 7 to 1"),
             "saliency": ("saliency_map", ("scores.sum()", "scores.mean()"), "MEAN score")}
    for name, lab in LABS.items():
        function, change, hint = wrong[name]
        grade_guarded(tmp_path, lab, _source(function, change), function, hint)


# ---------------------------------------------------------------------------
# What the labs show, with the solutions (small networks, no data needed)
# ---------------------------------------------------------------------------

def test_slerp_keeps_noise_on_its_shell_where_lerp_cuts_inside():
    walks = load_module(LATENT_WALKS.solution_file)
    gen = torch.Generator().manual_seed(0)
    z0, z1 = torch.rand(2, 96, generator=gen) * 2 - 1
    t = torch.linspace(0, 1, 11)
    arc, line = walks.slerp(z0, z1, t), walks.lerp(z0, z1, t)
    ends = (z0.norm() + z1.norm()) / 2
    assert (arc.norm(dim=1) > 0.97 * ends.clamp(max=min(z0.norm(), z1.norm()))).all()
    assert line[5].norm() < 0.8 * ends, "lerp's midpoint of two independent noise vectors is about 1/sqrt(2) as long"


def test_a_linear_probe_reads_classes_from_features_that_separate_them():
    probe_lab = load_module(D_PROBE.solution_file)
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(600) % 3
    centres = torch.randn(3, 20, generator=gen) * 3
    features = centres[labels] + torch.randn(600, 20, generator=gen)
    noise = torch.randn(600, 20, generator=gen)
    results = {}
    for name, x in (("separated", features), ("noise", noise)):
        x_train, x_test = learned.standardize(x[:300], x[300:])
        probe = nn.Linear(20, 3)
        probe_lab.fit_linear_probe(probe, x_train, labels[:300], steps=200, lr=0.05)
        results[name] = learned.accuracy(probe, x_test, labels[300:])
    assert results["separated"] > 0.95 and results["noise"] < 0.5, results


def test_saliency_finds_the_only_pixel_a_discriminator_looks_at():
    saliency = load_module(SALIENCY.solution_file)
    D = nn.Sequential(nn.Flatten(), nn.Linear(784, 1))
    with torch.no_grad():
        D[1].weight.zero_()
        D[1].weight[0, 3 * 28 + 5] = -2.0
    maps = saliency.saliency_map(D, torch.rand(4, 1, 28, 28))
    assert maps.shape == (4, 28, 28) and torch.equal(maps.flatten(1).argmax(1), torch.full((4,), 3 * 28 + 5))
    assert float(maps.max()) == 2.0 and float(maps.sum()) == 8.0


def test_balanced_subsets_take_the_same_number_of_each_class():
    labels = torch.arange(1000) % 10
    chosen = learned.balanced_subset(labels, 100)
    assert len(chosen) == 100 and torch.equal(torch.bincount(labels[chosen]), torch.full((10,), 10))

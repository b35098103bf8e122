"""The theory lab: plausible mistakes fail with the fix in the message, correct variants written the way
students and textbooks write them pass, and the 1-D GAN shows what the paper says it shows."""

import math

import pytest
import torch

from checks.registry import LABS

LAB = LABS["gan_theory"]
from gan_assignment.provided.modules import load_module
from gan_assignment.provided import gan_theory as theory
from tests.conftest import check_in_lab, edit_function, replace_function, shown

SOLUTION = LAB.solution_file.read_text()

# One iteration of Algorithm 1 written as a student would, with the slip of each mistake below.
LOOP = '''
def algorithm1_step(D, G, d_optimizer, g_optimizer, sample_data, sample_noise, batch_size, k=1, g_steps=1,
                    saturating=False):
{body}
    return d_loss.item(), g_loss.item()
'''

G_INSIDE_K_LOOP = LOOP.format(body='''    for _ in range(k):
        z, x = sample_noise(batch_size), sample_data(batch_size)
        d_loss = -(torch.log(D(x)).mean() + torch.log(1 - D(G(z).detach())).mean())
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        for _ in range(g_steps):
            scores = D(G(sample_noise(batch_size)))
            g_loss = torch.log(1 - scores).mean() if saturating else -torch.log(scores).mean()
            g_optimizer.zero_grad()
            g_loss.backward()
            g_optimizer.step()''')

D_GRADIENTS_LEFT_ON = LOOP.format(body='''    for _ in range(k):
        z, x = sample_noise(batch_size), sample_data(batch_size)
        d_loss = -(torch.log(D(x)).mean() + torch.log(1 - D(G(z).detach())).mean())
        d_loss.backward()          # zeroed after the step instead: G's step leaves its gradients in D
        d_optimizer.step()
        d_optimizer.zero_grad()
    for _ in range(g_steps):
        scores = D(G(sample_noise(batch_size)))
        g_loss = torch.log(1 - scores).mean() if saturating else -torch.log(scores).mean()
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()''')

NOISE_REUSED = LOOP.format(body='''    for _ in range(k):
        z, x = sample_noise(batch_size), sample_data(batch_size)
        d_loss = -(torch.log(D(x)).mean() + torch.log(1 - D(G(z).detach())).mean())
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
    for _ in range(g_steps):
        scores = D(G(z))           # the D step's noise again, as PyTorch's dcgan example does
        g_loss = torch.log(1 - scores).mean() if saturating else -torch.log(scores).mean()
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()''')

D_LEFT_FROZEN = LOOP.format(body='''    for _ in range(k):
        z, x = sample_noise(batch_size), sample_data(batch_size)
        d_loss = -(torch.log(D(x)).mean() + torch.log(1 - D(G(z).detach())).mean())
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
    D.requires_grad_(False)        # never turned back on
    for _ in range(g_steps):
        scores = D(G(sample_noise(batch_size)))
        g_loss = torch.log(1 - scores).mean() if saturating else -torch.log(scores).mean()
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()''')

MISTAKES = [
    # function, what the student did, (old, new) to edit the solution or whole code, hint the message must contain
    ("optimal_discriminator", "densities swapped", ("p_data / torch.where", "p_g / torch.where"), "swapped"),
    ("optimal_discriminator", "0 / 0 left as nan", "def optimal_discriminator(p_data, p_g):\n"
     "    return p_data / (p_data + p_g)\n", "must be 1/2"),
    ("js_divergence", "mixture without the 1/2", ("m = (p + q) / 2", "m = p + q"), "with the 1/2"),
    ("js_divergence", "KL instead of JS", "def js_divergence(p, q, x):\n"
     "    return torch.trapezoid(torch.xlogy(p, p) - torch.xlogy(p, q), x)\n", "Is it KL(p || q)?"),
    ("js_divergence", "log base 2", ("return (kl_pm + kl_qm) / 2", "return (kl_pm + kl_qm) / 2 / math.log(2)"),
     "in bits"),
    ("js_divergence", "the two KL terms added, not averaged", ("return (kl_pm + kl_qm) / 2",
                                                               "return kl_pm + kl_qm"), "twice the JSD"),
    ("js_divergence", "0 * log 0 computed as written", ("torch.xlogy(p, p) - torch.xlogy(p, m)",
                                                         "p * torch.log(p / m)"), "torch.xlogy"),
    ("js_divergence", "a sum without dx", "def js_divergence(p, q, x):\n    m = (p + q) / 2\n"
     "    return ((torch.xlogy(p, p / m) + torch.xlogy(q, q / m)) / 2).sum()\n", "without dx"),
    ("algorithm1_step", "the G step inside the k loop", G_INSIDE_K_LOOP, "inside the k loop"),
    ("algorithm1_step", "D's gradients left on in the G step", D_GRADIENTS_LEFT_ON, "gradients left in D's .grad"),
    ("algorithm1_step", "the D step's noise reused for G", NOISE_REUSED, "draw a fresh minibatch"),
    ("algorithm1_step", "D left frozen after G's step", D_LEFT_FROZEN, "leave D frozen"),
    ("algorithm1_step", "D's loss averaged instead of summed",
     ("-(torch.log(D(x)).mean() + torch.log(1 - D(fake)).mean())",
      "-(torch.log(D(x)).mean() + torch.log(1 - D(fake)).mean()) / 2"), "the SUM of the two means"),
    ("algorithm1_step", "fakes not detached, G's gradients not zeroed",
     ("        g_optimizer.zero_grad()\n", ""), "D's parameters match but G's differ"),
    ("algorithm1_step", "the saturating switch inverted", ("if saturating else", "if not saturating else"),
     "G's differ"),
    ("algorithm1_step", "losses of the first step returned", ("return d_loss.item(), g_loss.item()",
                                                              "return 0.0, 0.0"), "the losses returned differ"),
    ("encoder_step", "summed over the latent coordinates", ("loss = F.mse_loss(E(x), z)",
                                                            "loss = ((E(x) - z) ** 2).sum(1).mean()"),
     "3 times too big"),
    ("encoder_step", "gradients never zeroed", ("    optimizer.zero_grad()\n", ""), "zero E's gradients first?"),
    ("encoder_step", "images made from another draw of noise than the target",
     ("        x = G(z)", "        x = G(sample_noise(batch_size))"), "draw one, sample_noise(batch_size)"),
]


@pytest.fixture(scope="module")
def reference():
    return LAB.answers()


def _check(tmp_path, reference, source, function):
    return check_in_lab(tmp_path, LAB, reference, source, function)


def _source(function, change, source=SOLUTION):
    """The solution with `function` edited ((old, new)) or replaced (code); math is imported for the edits."""
    if isinstance(change, tuple):
        return "import math\n" + edit_function(source, function, *change)
    return "import math\n" + replace_function(source, function, change)


@pytest.mark.parametrize("function, mistake, change, hint", MISTAKES, ids=[f"{m[0]}: {m[1]}" for m in MISTAKES])
def test_mistake_fails_with_a_helpful_message(tmp_path, reference, function, mistake, change, hint):
    source = _source(function, change)
    result = _check(tmp_path, reference, source, function)
    assert result.status == "FAIL", f"{mistake} should fail: {shown(result)}"
    assert hint in result.message, f"{mistake}: the message should say {hint!r}, it says: {result.message}"


VARIANTS = [
    ("optimal_discriminator", "nan_to_num", '''
def optimal_discriminator(p_data, p_g):
    return torch.nan_to_num(p_data / (p_data + p_g), nan=0.5)
'''),
    ("optimal_discriminator", "where with a Python number", '''
def optimal_discriminator(p_data, p_g):
    total = p_data + p_g
    return torch.where(total > 0, p_data / total, 0.5)
'''),
    ("js_divergence", "a Riemann sum with masks", '''
def js_divergence(p, q, x):
    m = 0.5 * (p + q)
    dx = x[1] - x[0]
    kl_p = torch.where(p > 0, p * torch.log(p / m), torch.zeros_like(p)).sum() * dx
    kl_q = torch.where(q > 0, q * torch.log(q / m), torch.zeros_like(q)).sum() * dx
    return 0.5 * kl_p + 0.5 * kl_q
'''),
    ("js_divergence", "numpy, returning a float", '''
def js_divergence(p, q, x):
    import numpy as np
    p, q, x = p.numpy(), q.numpy(), x.numpy()
    m = (p + q) / 2
    def kl(a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.trapezoid(np.where(a > 0, a * np.log(a / m), 0.0), x)
    return float(0.5 * kl(p) + 0.5 * kl(q))
'''),
    ("js_divergence", "the entropy form H(M) - (H(p) + H(q)) / 2", '''
def js_divergence(p, q, x):
    def entropy(d):
        return -torch.trapezoid(torch.special.xlogy(d, d), x)
    return entropy((p + q) / 2) - (entropy(p) + entropy(q)) / 2
'''),
    ("algorithm1_step", "BCE with float32 targets, data drawn first", LOOP.format(body='''    bce = torch.nn.BCELoss()
    for _ in range(k):
        real = sample_data(batch_size)
        fake = G(sample_noise(batch_size)).detach()
        d_optimizer.zero_grad()
        d_loss = bce(D(real), torch.ones(batch_size, 1)) + bce(D(fake), torch.zeros(batch_size, 1))
        d_loss.backward()
        d_optimizer.step()
    for _ in range(g_steps):
        g_optimizer.zero_grad()
        out = D(G(sample_noise(batch_size)))
        if saturating:
            g_loss = -bce(out, torch.zeros(batch_size, 1))
        else:
            g_loss = bce(out, torch.ones(batch_size, 1))
        g_loss.backward()
        g_optimizer.step()''')),
    ("algorithm1_step", "D frozen during G's step, module zero_grad, log1p, tensors returned", '''
def algorithm1_step(D, G, d_optimizer, g_optimizer, sample_data, sample_noise, batch_size, k=1, g_steps=1,
                    saturating=False):
    for step in range(k):
        D.zero_grad()
        noise = sample_noise(batch_size)
        with torch.no_grad():
            fake = G(noise)
        loss_d = -torch.log(D(sample_data(batch_size))).mean() - torch.log1p(-D(fake)).mean()
        loss_d.backward()
        d_optimizer.step()
    for p in D.parameters():
        p.requires_grad = False
    for step in range(g_steps):
        G.zero_grad()
        d_fake = D(G(sample_noise(batch_size)))
        loss_g = torch.log1p(-d_fake).mean() if saturating else -torch.log(d_fake).mean()
        loss_g.backward()
        g_optimizer.step()
    for p in D.parameters():
        p.requires_grad = True
    return loss_d.detach(), loss_g.detach()
'''),
    ("encoder_step", "nn.MSELoss and G(z).detach()", '''
def encoder_step(E, G, optimizer, sample_noise, batch_size):
    z = sample_noise(batch_size)
    x = G(z).detach()
    optimizer.zero_grad()
    loss = torch.nn.MSELoss()(E(x), z)
    loss.backward()
    optimizer.step()
    return loss
'''),
]


@pytest.mark.parametrize("function, variant, code", VARIANTS, ids=[f"{v[0]}: {v[1]}" for v in VARIANTS])
def test_correct_variant_passes(tmp_path, reference, function, variant, code):
    result = _check(tmp_path, reference, replace_function(SOLUTION, function, code), function)
    assert result.status == "PASS", f"{variant} should pass: {shown(result)}"


def test_an_encoder_step_that_tracks_the_generators_gradients_passes_with_a_note(tmp_path, reference):
    source = edit_function(SOLUTION, "encoder_step", "    with torch.no_grad():\n        x = G(z)\n",
                           "    x = G(z)\n")
    result = _check(tmp_path, reference, source, "encoder_step")
    assert result.status == "PASS", shown(result)
    assert any("torch.no_grad()" in note for note in result.notes), result.notes


def test_the_guarded_autograder_grades_the_lab(tmp_path):
    """Visible and hidden tests as `make autograde` runs them (sandboxed worker, blind references)."""
    import numpy as np

    from checks.isolated import grade_file
    from checks.sandbox import Sandbox, available
    from tools.make_reference import HIDDEN, build_reference

    hidden = tmp_path / "hidden.npz"
    np.savez_compressed(hidden, **build_reference(LAB, **HIDDEN))
    references = {"visible": LAB.reference_file, "hidden": hidden}
    sandbox = Sandbox() if available() else None
    solution = grade_file(LAB.solution_file, references, lab=LAB, sandbox=sandbox)
    assert solution["error"] is None, solution
    for label, results in solution["report"].items():
        assert [r["status"] for r in results] == ["PASS"] * len(LAB.functions), (label, results)
    stubs = grade_file(LAB.student_file, references, lab=LAB, sandbox=sandbox)
    assert {r["status"] for r in stubs["report"]["visible"]} == {"NOT IMPLEMENTED"}
    wrong = tmp_path / "gan_theory.py"
    wrong.write_text(_source("js_divergence", ("m = (p + q) / 2", "m = p + q"),
                             _source("algorithm1_step", G_INSIDE_K_LOOP)))
    graded = {r["name"]: r for r in grade_file(wrong, references, lab=LAB, sandbox=sandbox)["report"]["hidden"]}
    assert graded["algorithm1_step"]["status"] == "FAIL" and "inside the k loop" in graded["algorithm1_step"]["message"]
    assert graded["js_divergence"]["status"] == "FAIL" and "with the 1/2" in graded["js_divergence"]["message"]
    assert graded["optimal_discriminator"]["status"] == "PASS"


# ---------------------------------------------------------------------------
# What the lab shows, with the solutions
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def solution():
    return load_module(LAB.solution_file)


def test_the_value_at_the_optimal_discriminator_is_twice_the_jsd_minus_log_4(solution):
    x, data = theory.grid(), theory.Mixture()
    p_data = data.density(x)
    for s in (0.0, 0.5, 0.9, 1.0):
        p_g = theory.Mixture(tuple(m * s for m in data.means), data.std).density(x)
        v_star = theory.value(solution.optimal_discriminator(p_data, p_g), p_data, p_g, x)
        assert v_star == pytest.approx(2 * float(solution.js_divergence(p_data, p_g, x)) - theory.LOG4, abs=1e-6)
    assert v_star == pytest.approx(-math.log(4), abs=1e-9), "p_g = p_data is the optimum, -log 4"


def test_algorithm1_learns_every_mode_and_too_many_generator_steps_collapse_it(solution):
    healthy = theory.train_1d(solution, theory.Setting("k = 1"), iterations=700, every=700, seed=231)
    collapsed = theory.train_1d(solution, theory.Setting("G x 5", g_steps=5), iterations=700, every=700, seed=231)
    assert healthy.modes_covered == 3 and healthy.jsd[-1] < 0.2, (healthy.modes_covered, healthy.jsd)
    assert collapsed.modes_covered < 3 and collapsed.jsd[-1] > healthy.jsd[-1]
    for run in (healthy, collapsed):
        assert all(v_d <= v_star + 1e-6 for v_d, v_star in zip(run.v_d, run.v_star)), "V(D, G) <= V(D*, G)"


def test_the_non_saturating_loss_pushes_the_generator_harder_at_the_start(solution):
    start = theory.generator_gradient_at_start(solution, d_steps=300, seed=231)
    assert start["D(G(z))"] < 0.3 and start["non-saturating"] > 3 * start["saturating"], start


def test_an_encoder_learns_to_recover_the_noise_of_a_fixed_generator(solution):
    torch.manual_seed(0)
    G = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 64), torch.nn.Tanh())
    E = theory.make_encoder(4, image_dim=64, hidden=(64,), seed=0)
    before = theory.recovery_error(E, G, 4).mean()
    losses = theory.train_encoder(solution, E, G, 4, steps=400, progress=False)
    after = theory.recovery_error(E, G, 4).mean()
    assert len(losses) == 400 and after < before / 5, (before, after)

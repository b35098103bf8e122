"""Correct solutions written the way students of every course year wrote them pass, and train.

`tests/student_styles/` holds complete files written independently of the checks,
in the styles of public CS231n solutions from 2017 to 2024: the course's own
Flatten (which unpacks N, C, H, W) and view-based Unflatten, batch sizes built
into reshapes, the 2017-2019 signatures without `seed` or `batch_size`,
`dtype = torch.FloatTensor`, the 2022 `BCEWithLogitsLoss()(input.squeeze(), target)`
with (N,) targets, `.mean(dim=0)` losses, nn.Module subclasses. Each must pass
every check (`make check`), the guarded autograder, and then train with the
project's trainer and be sampled by the quality report: what passes also trains.
"""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from checks.isolated import grade_file
from checks.registry import MAIN
from checks.runner import run_checks
from gan_assignment.provided.modules import load_module
from gan_assignment import call_classic, initialize_weights, run_a_gan
from gan_assignment.provided.config import BATCH_SIZE, NOISE_DIM
from gan_assignment.provided.quality import generate
from tests.conftest import shown

STYLES_DIR = Path(__file__).resolve().parent / "student_styles"
GPU_ONLY = STYLES_DIR / "gpu_hardcoded.py"
STYLES = sorted(p for p in STYLES_DIR.glob("*.py") if p != GPU_ONLY)
# Styles that are right on a CPU only: their losses make targets on the CPU (torch.full(shape, 1.0)), which a
# GPU's logits cannot meet. The checks try every function on another device and fail these, naming the line.
CPU_ONLY = {"y2019_numpy_math.py": {"discriminator_loss", "generator_loss"}}
DEVICE = "mixes devices"


def _unexpected(path, failing):
    """The failures among {name: message} that are not the CPU-only style's device failures; fails when one of
    those is missing."""
    expected = CPU_ONLY.get(path.name, set())
    caught = {name for name, message in failing.items() if name in expected and DEVICE in message}
    assert caught == expected, f"{path.name}: the CPU-only targets of {sorted(expected - caught)} went unnoticed"
    return [f"{name}: {message}" for name, message in failing.items() if name not in caught]


def test_the_corpus_is_there():
    assert len(STYLES) >= 10, "the student-style corpus is missing files"


@pytest.mark.parametrize("path", STYLES, ids=[p.stem for p in STYLES])
def test_every_year_style_passes_every_check(path, reference):
    results = run_checks(path, reference=reference)
    failing = _unexpected(path, {r.name: r.message for r in results if not r.passed})
    assert not failing, f"{path.name}: correct code was rejected:\n" + "\n".join(failing)


def _build(impl, model):
    """The networks as the notebook builds them."""
    torch.manual_seed(0)
    if model == "dcgan":
        D = call_classic(impl.build_dc_classifier, batch_size=BATCH_SIZE).apply(initialize_weights)
        G = impl.build_dc_generator(NOISE_DIM).apply(initialize_weights)
        return D, G, impl.discriminator_loss, impl.generator_loss
    D, G = impl.discriminator(), impl.generator(NOISE_DIM)
    if model == "lsgan":
        return D, G, impl.ls_discriminator_loss, impl.ls_generator_loss
    return D, G, impl.discriminator_loss, impl.generator_loss


@pytest.mark.parametrize("path", STYLES, ids=[p.stem for p in STYLES])
def test_every_year_style_trains_and_is_sampled(path):
    impl = load_module(path)
    images = torch.rand(2 * BATCH_SIZE, 1, 28, 28)   # two classic batches, in [0, 1] like a loader's
    for model in ("vanilla", "lsgan", "dcgan"):
        D, G, d_loss, g_loss = _build(impl, model)
        history = {}
        snapshots = run_a_gan(D, G, impl.get_optimizer(D), impl.get_optimizer(G), d_loss, g_loss, images,
                              show_every=1, batch_size=BATCH_SIZE, noise_size=NOISE_DIM, num_epochs=1,
                              device="cpu", history=history, seed=0, progress=False)
        assert history["stopped"] is None, f"{path.name} {model}: {history['stopped']}"
        assert len(history["d_loss"]) == 2 and all(math.isfinite(v) for v in history["d_loss"] + history["g_loss"])
        assert snapshots[0].shape == (16, 784)
    samples = generate(G, num_samples=200)     # the quality report's sampler, in batches of 128
    assert samples.shape == (200, 1, 28, 28) and torch.isfinite(samples).all()


def test_the_guarded_autograder_accepts_every_year_style(tmp_path):
    """Visible and hidden tests as `make autograde` runs them: the student's code in the sandboxed worker
    with blind references, the verdict decided by the grader (other weights, inputs and batch size)."""
    from checks.sandbox import Sandbox, available
    from tools.make_reference import HIDDEN, build_reference

    hidden = tmp_path / "hidden.npz"
    np.savez_compressed(hidden, **build_reference(MAIN, **HIDDEN))
    for path in STYLES:
        graded = grade_file(path, {"visible": MAIN.reference_file, "hidden": hidden}, MAIN,
                            sandbox=Sandbox() if available() else None)
        assert graded["error"] is None, graded
        for label, results in graded["report"].items():
            failing = _unexpected(path, {r["name"]: r["message"] for r in results if r["status"] != "PASS"})
            assert not failing, f"{path.name} ({label} tests): {failing}"
        # The grader decides the advice too: the same notes as `make check` gives the student.
        local = {r.name: r.notes for r in run_checks(path, reference=MAIN.answers())}
        assert {r["name"]: r["notes"] for r in graded["report"]["visible"]} == local, path.name


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: such code runs")
def test_code_written_for_a_gpu_fails_with_one_line_naming_it(reference):
    results = {r.name: r for r in run_checks(GPU_ONLY, reference=reference)}
    failing = [r for r in results.values() if not r.passed]
    assert failing, "hard-coded CUDA cannot run on this machine"
    for r in failing:
        assert r.message.startswith("your code needs a GPU (CUDA)") and "gpu_hardcoded.py line" in r.message, shown(r)

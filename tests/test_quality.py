"""The quality report tells real digits from collapsed generators and noise; the coverage check grades it."""

import math
import types

import numpy as np
import pytest
import torch
import torch.nn as nn

from checks.coverage import coverage_result
from checks.registry import MAIN
from gan_assignment.provided.weights import save_generator
from checks.core.status import FAIL, PASS
from gan_assignment.provided import quality
from gan_assignment.provided.data import dataset_tensors, load_dataset
from tests.data import mnist_stand_in

COVERAGE = MAIN.task("dcgan_coverage")   # the lab's "weights" task


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """The real MNIST test split (images in [-1, 1], labels) and a quickly trained classifier for it."""
    folder = tmp_path_factory.mktemp("mnist")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GAN_DATA_FROM", str(mnist_stand_in(folder)))
        env.setenv("GAN_DATA_DIR", str(folder / "torchvision"))
        images, labels = dataset_tensors(load_dataset("mnist", train=False))
        classifier = quality.get_classifier("mnist", max_images=4000, epochs=2, log=None)
        yield images[5000:] * 2 - 1, labels[5000:], classifier, folder


def test_frechet_distance_matches_the_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 2, 6), rng.uniform(0.5, 2, 6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert quality.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-9)
    x = rng.normal(size=(500, 6))
    cov = np.cov(x, rowvar=False)
    assert quality.frechet_distance(mu1, cov, mu1, cov) == pytest.approx(0, abs=1e-8)


def test_real_digits_beat_a_collapsed_generator_and_noise(digits):
    images, labels, classifier, _ = digits
    real = quality.measure(images[:2500], classifier=classifier)
    ones = quality.measure(images[labels == 1], classifier=classifier)
    noise = quality.measure(torch.rand(2500, 784) * 2 - 1, classifier=classifier)

    assert real.classes_covered == 10 and real.kl_from_uniform < 0.05 and real.mean_confidence > 0.7
    assert ones.classes_covered == 1 and ones.kl_from_uniform > 0.8 * math.log(10)
    assert real.fid < ones.fid / 5 and real.fid < noise.fid / 20, (real.fid, ones.fid, noise.fid)
    assert sum(real.shares) == pytest.approx(1)
    text = str(ones)
    assert "coverage 1/10" in text and "rare: 0, 2, 3" in text


def test_a_generator_report_is_reproducible_and_leaves_the_generator_alone(digits):
    _, _, classifier, _ = digits
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(96, 784), nn.BatchNorm1d(784), nn.Tanh())
    before = {k: v.clone() for k, v in G.state_dict().items()}
    first = quality.quality_report(G, num_samples=600, classifier=classifier)
    second = quality.quality_report(G, num_samples=600, classifier=classifier)
    assert first == second and first.num_samples == 600
    assert all(torch.equal(before[k], v) for k, v in G.state_dict().items()), "BatchNorm statistics changed"


def test_the_classifier_is_cached_next_to_the_data(digits):
    _, _, _, folder = digits
    path = quality.classifier_path("mnist", folder / "torchvision", max_images=4000, epochs=2)
    assert path.exists()
    model, info = quality.get_classifier("mnist", root=folder / "torchvision", max_images=4000, epochs=2,
                                         log=lambda *a: pytest.fail("trained again instead of loading the cache"))
    assert 0.9 < info["accuracy"] <= 1


def test_the_class_share_chart_marks_uncovered_classes(digits, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    images, labels, classifier, _ = digits
    report = quality.measure(images[labels < 3], classifier=classifier)
    fig = quality.show_class_shares(report, save_to=tmp_path / "classes.png")
    bars = fig.axes[0].patches
    assert len(bars) == 10 and (tmp_path / "classes.png").stat().st_size > 2000
    assert [b.get_facecolor()[0] > 0.5 for b in bars] == [False] * 3 + [True] * 7, "uncovered digits are red"


class _Replay(nn.Module):
    """A stand-in for a trained generator: the noise picks one of some stored digits."""

    def __init__(self, n=1000):
        super().__init__()
        self.register_buffer("digits", torch.zeros(n, 784))

    def forward(self, z):
        pick = ((z[:, 0] + 1) / 2 * len(self.digits)).long().clamp(0, len(self.digits) - 1)
        return self.digits[pick]


def _module():
    return types.SimpleNamespace(build_dc_generator=lambda noise_dim=96: _Replay())


def test_the_coverage_check_passes_all_ten_digits_and_names_the_missing_ones(digits, tmp_path, monkeypatch):
    images, labels, classifier, _ = digits
    monkeypatch.setattr(quality, "get_classifier", lambda *a, **k: classifier)
    G = _Replay()
    G.digits.copy_(images[:1000].reshape(1000, 784))
    save_generator(G, tmp_path / "all.pt")
    status, message, report = coverage_result(_module(), tmp_path / "all.pt", COVERAGE)
    assert status == PASS and message.startswith("10/10 digits covered"), message

    sevens = images[labels == 7].reshape(-1, 784)
    G.digits.copy_(sevens[torch.arange(1000) % len(sevens)])
    save_generator(G, tmp_path / "sevens.pt")
    status, message, report = coverage_result(_module(), tmp_path / "sevens.pt", COVERAGE)
    assert status == FAIL and "1/10 digits covered" in message and "0 (" in message and "7 (" not in message
    assert "collapsed" in message and report["classes_covered"] == 1


def test_the_coverage_check_says_what_to_do_without_usable_weights(tmp_path):
    status, message, _ = coverage_result(_module(), tmp_path / "dcgan_generator.pt", COVERAGE)
    assert status == FAIL and "missing: run the DCGAN training cell" in message
    torch.save({"noise_dim": 96, "state_dict": {"other": torch.zeros(3)}}, tmp_path / "wrong.pt")
    status, message, _ = coverage_result(_module(), tmp_path / "wrong.pt", COVERAGE)
    assert status == FAIL and "does not fit your build_dc_generator" in message


@pytest.mark.slow
def test_a_dcgan_trained_on_real_digits_passes_the_graded_coverage_check(tmp_path, monkeypatch):
    """The classic DCGAN schedule (1,950 iterations) on the 10,000 real test digits: about 20 min on 2 CPU cores.

    Measured so: 10/10 digits covered (shares 6.5 % to 15.4 %), FID 13.7, mean confidence 0.93.
    """
    from checks.isolated import grade_file
    from checks.registry import MAIN
    from gan_assignment.provided.data import classic_loaders
    from gan_assignment.provided.training import run_a_gan
    from tests.conftest import SOLUTION_FILE
    from bench.speed import build

    monkeypatch.setenv("GAN_DATA_FROM", str(mnist_stand_in(tmp_path)))
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "data"))
    loader, _ = classic_loaders(load_dataset("mnist"))
    D, G, D_solver, G_solver, d_loss, g_loss = build("dcgan")
    run_a_gan(D, G, D_solver, G_solver, d_loss, g_loss, loader, num_epochs=25, seed=0,   # 25 x 78 batches = 1,950
              device=torch.device("cpu"), progress=False)
    save_generator(G, tmp_path / "dcgan_generator.pt")
    graded = grade_file(SOLUTION_FILE, {"visible": MAIN.reference_file}, MAIN, weights=tmp_path / "dcgan_generator.pt")
    assert graded["coverage"]["status"] == PASS, graded["coverage"]["message"]

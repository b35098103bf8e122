"""The provided helpers and the training loop behave as their docstrings say."""

import math

import numpy as np
import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

import gan_assignment as ga
from gan_assignment.provided.modules import load_module
from tests.conftest import SOLUTION_FILE


@pytest.fixture(scope="module")
def solution():
    return load_module(SOLUTION_FILE)


def test_flatten_and_unflatten_round_trip_for_any_batch_size():
    x = torch.randn(3, 128, 7, 7)
    flat = ga.Flatten()(x)
    assert flat.shape == (3, 6272)
    assert torch.equal(ga.Unflatten(-1, 128, 7, 7)(flat), x)
    assert ga.Unflatten(-1, 1, 28, 28)(torch.zeros(5, 1, 28, 28)).shape == (5, 1, 28, 28)


def test_initialize_weights_is_xavier_uniform_for_linear_and_transposed_conv_only():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(100, 300), nn.ConvTranspose2d(8, 4, 3), nn.Conv2d(2, 2, 3))
    conv_before = model[2].weight.clone()
    model.apply(ga.initialize_weights)
    bound = math.sqrt(6 / (100 + 300))
    assert model[0].weight.abs().max() <= bound and model[0].weight.abs().max() > 0.9 * bound
    assert torch.all(model[0].bias == 0) and torch.all(model[1].bias == 0)
    assert torch.equal(model[2].weight, conv_before), "Conv2d keeps PyTorch's default initialisation"


def test_image_scaling_round_trips():
    x = torch.rand(10)
    assert float(ga.preprocess_img(torch.tensor(0.0))) == -1 and float(ga.preprocess_img(torch.tensor(1.0))) == 1
    assert torch.allclose(ga.deprocess_img(ga.preprocess_img(x)), x)


def test_rel_error_and_count_params():
    assert ga.rel_error(np.array([1.0, 2.0]), torch.tensor([1.0, 2.0])) == 0
    assert 0.3 < ga.rel_error(1.0, 2.0) < 0.34
    assert ga.count_params(nn.Linear(3, 2)) == 8


def test_show_images_draws_a_grid_and_saves_it(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    fig = ga.show_images(torch.rand(16, 784) * 2 - 1, title="samples", save_to=tmp_path / "grid.png")
    assert len([ax for ax in fig.axes if ax.images]) == 16
    assert (tmp_path / "grid.png").stat().st_size > 1000


def test_run_a_gan_trains_on_the_cpu_and_returns_snapshots(solution):
    torch.manual_seed(0)
    images = torch.rand(7 * 16 + 5, 1, 28, 28)        # 7 full batches of 16, then a partial one to skip
    loader = DataLoader(TensorDataset(images, torch.zeros(len(images))), batch_size=16)
    D, G = solution.discriminator(), solution.generator(noise_dim=8)
    before = [p.clone() for p in G.parameters()]
    history = {}
    snapshots = ga.run_a_gan(D, G, solution.get_optimizer(D), solution.get_optimizer(G),
                             solution.discriminator_loss, solution.generator_loss, loader,
                             show_every=3, batch_size=16, noise_size=8, num_epochs=2,
                             device=torch.device("cpu"), history=history)
    assert len(history["d_loss"]) == len(history["g_loss"]) == 14   # 2 epochs x 7 full batches
    assert history["snapshot_iters"] == [0, 3, 6, 9, 12]
    assert len(snapshots) == 5 and all(s.shape == (16, 784) for s in snapshots)
    assert all(np.abs(s).max() <= 1 for s in snapshots)
    assert all(math.isfinite(v) for v in history["d_loss"] + history["g_loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters())), "the generator was never updated"

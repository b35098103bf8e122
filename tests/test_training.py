"""The fast trainer: the classic behaviour, plus what a student relies on when a run goes wrong."""

import math

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Subset, TensorDataset

import gan_assignment as ga
from gan_assignment.provided.modules import load_module
from gan_assignment.provided.data import dataset_tensors
from gan_assignment.provided.layers import initialize_weights
from gan_assignment.provided.training import resident_images
from tests.conftest import SOLUTION_FILE

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def solution():
    return load_module(SOLUTION_FILE)


def _images(n=6 * 16, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def _train(solution, images, model="vanilla", seed=0, **options):
    torch.manual_seed(seed)
    if model == "dcgan":
        D = solution.build_dc_classifier(16).apply(initialize_weights)
        G = solution.build_dc_generator(8).apply(initialize_weights)
    else:
        D, G = solution.discriminator(), solution.generator(noise_dim=8)
    history = {}
    options = {"show_every": 3, "num_epochs": 2, "progress": False, "seed": seed, **options}
    snapshots = ga.run_a_gan(D, G, solution.get_optimizer(D), solution.get_optimizer(G),
                             solution.discriminator_loss, solution.generator_loss, images,
                             batch_size=16, noise_size=8, device=CPU, history=history, **options)
    return D, G, snapshots, history


def test_history_holds_losses_snapshots_and_speed(solution):
    _, _, snapshots, history = _train(solution, _images())
    assert len(history["d_loss"]) == len(history["g_loss"]) == 12
    assert history["snapshot_iters"] == [0, 3, 6, 9]
    assert len(snapshots) == 4 and all(s.shape == (16, 784) for s in snapshots)
    assert history["seconds"] > 0 and history["iterations_per_second"] > 0
    assert history["stopped"] is None and history["precision"] == "fp32"


def test_a_seed_makes_a_run_reproducible_and_another_seed_differs(solution):
    _, G1, snaps1, h1 = _train(solution, _images(), seed=5)
    _, G2, snaps2, h2 = _train(solution, _images(), seed=5)
    _, _, snaps3, h3 = _train(solution, _images(), seed=6)
    assert h1["d_loss"] == h2["d_loss"] and np.array_equal(snaps1[-1], snaps2[-1])
    assert all(torch.equal(a, b) for a, b in zip(G1.state_dict().values(), G2.state_dict().values()))
    assert h1["d_loss"] != h3["d_loss"]


def test_snapshots_use_one_fixed_noise_batch(solution):
    """Snapshots show one set of samples evolving, not a new random batch each time."""
    _, _, snaps, _ = _train(solution, _images(), seed=1, num_epochs=1, show_every=1)
    # Consecutive snapshots of a training generator differ only through its weights:
    # with the learning rates at zero they are identical.
    torch.manual_seed(1)
    D, G = solution.discriminator(), solution.generator(noise_dim=8)
    frozen_d, frozen_g = torch.optim.Adam(D.parameters(), lr=0.0), torch.optim.Adam(G.parameters(), lr=0.0)
    frozen = ga.run_a_gan(D, G, frozen_d, frozen_g, solution.discriminator_loss, solution.generator_loss,
                          _images(), batch_size=16, noise_size=8, num_epochs=1, show_every=1, device=CPU,
                          progress=False)
    assert all(np.array_equal(frozen[0], s) for s in frozen[1:]), "snapshots must all use the same noise"
    assert not all(np.array_equal(snaps[0], s) for s in snaps[1:])


@pytest.mark.parametrize("shuffle", [False, True])
def test_resuming_from_a_checkpoint_gives_the_same_result_as_one_run(solution, tmp_path, shuffle):
    data = _images()
    images = DataLoader(TensorDataset(data, torch.zeros(len(data))), batch_size=16, shuffle=True) if shuffle else data
    _, G_full, snaps_full, h_full = _train(solution, images, seed=3)
    ckpt = tmp_path / "run.pt"
    _train(solution, images, seed=3, num_epochs=1, checkpoint=ckpt)         # half the schedule, then stop
    _, G_resumed, snaps_resumed, h_resumed = _train(solution, images, seed=99, checkpoint=ckpt)
    assert h_resumed["d_loss"] == pytest.approx(h_full["d_loss"], rel=1e-6)
    assert h_resumed["snapshot_iters"] == h_full["snapshot_iters"]
    for a, b in zip(G_full.state_dict().values(), G_resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6)


def test_a_nan_loss_stops_training_and_restores_the_last_good_state(solution):
    torch.manual_seed(0)
    D, G = solution.discriminator(), solution.generator(noise_dim=8)
    calls = {"n": 0}

    def exploding_loss(logits_real, logits_fake):   # fine for 60 steps, then NaN
        calls["n"] += 1
        loss = solution.discriminator_loss(logits_real, logits_fake)
        return loss * float("nan") if calls["n"] > 60 else loss

    history = {}
    with pytest.warns(UserWarning, match="NaN or infinite at iteration 60"):
        ga.run_a_gan(D, G, solution.get_optimizer(D), solution.get_optimizer(G), exploding_loss,
                     solution.generator_loss, _images(16 * 20), batch_size=16, noise_size=8, num_epochs=5,
                     show_every=25, device=CPU, history=history, progress=False)
    assert history["stopped"] == "diverged"
    assert len(history["d_loss"]) == 50, "the losses up to the last check with finite values are kept"
    assert all(math.isfinite(v) for v in history["d_loss"] + history["g_loss"])
    assert all(torch.isfinite(p).all() for p in list(D.parameters()) + list(G.parameters()))
    assert history["snapshot_iters"] == [0, 25, 50]


def test_the_dcgan_trains_in_bf16_with_fp32_losses_and_weights(solution):
    D, G, snaps, history = _train(solution, _images(2 * 16), model="dcgan", num_epochs=1, precision="bf16")
    assert history["precision"] == "bf16" and len(history["d_loss"]) == 2
    assert all(math.isfinite(v) for v in history["d_loss"])
    assert all(p.dtype == torch.float32 for p in G.parameters())
    with pytest.raises(ValueError, match="precision"):
        _train(solution, _images(), precision="fp16")


def test_resident_images_are_exactly_what_the_loader_gives_scaled_to_minus_one_one():
    from torchvision.transforms import ToTensor

    class FakeMNIST(torch.utils.data.Dataset):      # torchvision's layout: uint8 data, targets, ToTensor
        data = torch.randint(0, 256, (40, 28, 28), dtype=torch.uint8)
        targets = torch.arange(40) % 10
        transform = ToTensor()

        def __len__(self):
            return len(self.data)

        def __getitem__(self, i):
            return self.transform(self.data[i].numpy()), int(self.targets[i])

    subset = Subset(Subset(FakeMNIST(), range(5, 35)), range(2, 20))
    loader = DataLoader(subset, batch_size=6)
    expected = torch.cat([x for x, _ in loader]) * 2 - 1
    assert torch.equal(resident_images(loader, CPU), expected)
    images, labels = dataset_tensors(subset)
    assert torch.equal(labels, FakeMNIST.targets[7:25])
    other = DataLoader(TensorDataset(expected, torch.zeros(len(expected))), batch_size=6)   # any other loader
    assert torch.allclose(resident_images(other, CPU), expected * 2 - 1)


def test_an_interrupt_keeps_what_was_done_and_the_checkpoint_resumes_it(solution, tmp_path):
    torch.manual_seed(0)
    D, G = solution.discriminator(), solution.generator(noise_dim=8)
    calls = {"n": 0}

    def interrupted_loss(logits_fake):   # the student presses "interrupt" during iteration 7
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        return solution.generator_loss(logits_fake)

    history, ckpt = {}, tmp_path / "run.pt"
    snapshots = ga.run_a_gan(D, G, solution.get_optimizer(D), solution.get_optimizer(G), solution.discriminator_loss,
                             interrupted_loss, _images(), batch_size=16, noise_size=8, num_epochs=2, show_every=3,
                             device=CPU, history=history, checkpoint=ckpt, progress=False)
    assert history["stopped"] == "interrupted" and len(history["d_loss"]) == 7
    assert history["snapshot_iters"] == [0, 3, 6] and len(snapshots) == 3
    _, _, _, resumed = _train(solution, _images(), checkpoint=ckpt)
    assert len(resumed["d_loss"]) == 12 and resumed["stopped"] is None


def test_adam_left_at_its_defaults_runs_fused_and_trains_to_the_same_weights(solution):
    """The trainer switches a default Adam to its one-pass fused kernel: rounding differences only.
    An Adam whose implementation the student chose is left as it is."""
    torch.manual_seed(0)
    D1, G1 = solution.discriminator(), solution.generator(noise_dim=8)
    D2, G2 = solution.discriminator(), solution.generator(noise_dim=8)
    D2.load_state_dict(D1.state_dict())
    G2.load_state_dict(G1.state_dict())
    optimisers = {"default": [solution.get_optimizer(D1), solution.get_optimizer(G1)],
                  "chosen": [torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.5, 0.999), foreach=False)
                             for m in (D2, G2)]}
    for (D, G), (Ds, Gs) in zip([(D1, G1), (D2, G2)], optimisers.values()):
        ga.run_a_gan(D, G, Ds, Gs, solution.discriminator_loss, solution.generator_loss, _images(),
                     batch_size=16, noise_size=8, num_epochs=2, device=CPU, progress=False, seed=0)
    assert all(g["fused"] for o in optimisers["default"] for g in o.param_groups)
    assert not any(g["fused"] for o in optimisers["chosen"] for g in o.param_groups)
    for a, b in zip(list(D1.parameters()) + list(G1.parameters()), list(D2.parameters()) + list(G2.parameters())):
        assert torch.allclose(a, b, atol=1e-5), "the fused kernel must compute the same update"


@pytest.mark.parametrize("flags, expected", [(["avx2", "avx512f"], "fp32"), (["avx2", "avx512_bf16"], "bf16"),
                                             (["amx_bf16"], "bf16")])
def test_auto_precision_is_bf16_only_on_a_cpu_that_computes_it_natively(solution, monkeypatch, flags, expected):
    """Emulated bf16 is many times slower than fp32: "auto" must not pick it on a CPU without the instructions."""
    import gan_assignment.provided.utils as utils
    monkeypatch.setattr(utils, "cpu_model_and_flags", lambda: ("a CPU", flags))
    _, _, _, history = _train(solution, _images(2 * 16), num_epochs=1, precision="auto")
    assert history["precision"] == expected


def test_fused_adam_is_left_out_where_it_would_not_be_the_same_optimiser(solution, tmp_path):
    """A subclass may change the update, MPS has no fused kernel; a resumed run stays fused."""
    from gan_assignment.provided.training import fuse_adam

    class MyAdam(torch.optim.Adam):
        pass

    net = torch.nn.Linear(2, 2)
    mine, default = MyAdam(net.parameters()), torch.optim.Adam(net.parameters())
    fuse_adam(mine, CPU)
    fuse_adam(default, torch.device("mps"))
    assert mine.param_groups[0]["fused"] is None and default.param_groups[0]["fused"] is None
    checkpoint = tmp_path / "run.pt"
    for epochs in (1, 2):   # the second run resumes from the first one's checkpoint, with fresh optimisers
        D, G, _, _ = _train(solution, _images(), num_epochs=epochs, checkpoint=checkpoint)
    saved = torch.load(checkpoint, weights_only=False)
    assert saved["parts"]["D_solver"]["param_groups"][0]["fused"] and saved["parts"]["G_solver"]["param_groups"][0]["fused"]


@pytest.mark.parametrize("capability, expected", [((7, 5), False), ((8, 0), True), ((9, 0), True)])
def test_auto_precision_on_a_gpu_is_bf16_from_ampere_on(monkeypatch, capability, expected):
    """A T4 (Colab's free GPU, sm_75) only emulates bf16: 'auto' must keep it in fp32."""
    from gan_assignment.provided.utils import native_bf16
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.version, "hip", None)
    assert native_bf16("cuda") is expected


def test_a_checkpoint_of_an_earlier_trainer_is_refused_with_what_to_do(solution, tmp_path):
    checkpoint = tmp_path / "old.pt"
    torch.save({"D": {}, "G": {}, "iteration": 3}, checkpoint)   # the layout before the shared training loop
    with pytest.raises(ValueError, match="earlier version of the course's trainer"):
        _train(solution, _images(), num_epochs=1, checkpoint=checkpoint)

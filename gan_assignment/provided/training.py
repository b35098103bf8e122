"""The GAN training loop (provided, not student work).

`run_a_gan` trains exactly as the classic assignment does (same batches in the
same order, one D step then one G step on fresh noise, the last partial batch
skipped); you pass it the networks, optimisers and loss functions you wrote.

It is fast because of how it does the work, not because it does less:
- the training images sit in memory once, as one tensor on the training device,
  already scaled to [-1, 1]; a batch is a slice of it (no DataLoader, no
  per-image ToTensor, no copy to the GPU per batch);
- the fake batch of the D step is made under `no_grad` (it is detached anyway);
- when D has no batch statistics (no BatchNorm), real and fake go through D as
  one batch of 2N: the same numbers, one larger matrix product instead of two;
- in the G step D's weights are frozen, so backward skips D's weight gradients
  (the classic loop computes them and throws them away at the next zero_grad);
- loss values stay on the device and are read back every 50 iterations
  (on a GPU, each read waits for all queued work: gan_assignment/provided/loop.py);
- convolutional networks use the channels-last memory layout.
"""

import contextlib
import copy
import functools
from dataclasses import dataclass

import torch
import torch.nn as nn

from gan_assignment.provided.config import BATCH_SIZE, IMAGE_SIZE, NOISE_DIM, SHOW_EVERY
from gan_assignment.provided.data import dataset_tensors
from gan_assignment.provided.loop import TrainingLoop, floats
from gan_assignment.provided.utils import get_device, native_bf16

NUM_SNAPSHOT_IMAGES = 16
NOISE_KINDS = ("uniform", "normal")
PRECISIONS = ("fp32", "bf16", "auto")


@dataclass
class TrainOptions:
    """What run_a_gan can do beyond the classic loop; every default trains the classic way.

    - device: torch.device to train on; default: CUDA, MPS or CPU, whichever exists.
    - history: a dict; it receives what happened (see run_a_gan's Returns).
    - seed: an int fixes the noise and the shuffling: with the same initial networks,
      the run is reproducible on one device.
    - precision: "fp32" (default) or "bf16": mixed precision, the networks run in
      bfloat16 under autocast while the losses and weights stay in fp32. Fast on
      GPUs and on CPUs with native bf16 (AVX-512 BF16, AMX); very slow elsewhere.
      "auto": bf16 where the hardware has it natively, fp32 elsewhere (the classic
      notebook's choice for LSGAN and DCGAN: config.CLASSIC_PRECISION).
    - checkpoint: a file path. The training state is saved there at every snapshot
      and at the end; if the file exists, training resumes from it.
    - progress: show a progress bar with the current losses.
    - noise: "uniform" (in [-1, 1], the classic assignment's) or "normal" (standard
      normal, as in the DCGAN paper's code and PyTorch-GAN).
    - num_iterations: train this many iterations instead of num_epochs epochs.
    - seconds: stop after this much wall time (with num_epochs=None: train until then).
    - shuffle: reshuffle the images every epoch (default: as the loader does; a
      tensor is read in order, like the classic assignment's loader).
    - snapshot_images: how many images a snapshot keeps (16; PyTorch-GAN shows 25).
    - on_snapshot: a function on_snapshot(iteration, images, losses_so_far), called at
      every snapshot with the images as a CPU tensor (N, C, H, W) in [-1, 1] and a dict
      of the losses so far: to write grids and loss curves to disk as training goes.
    """
    device: object = None
    history: dict = None
    seed: int = None
    precision: str = "fp32"
    checkpoint: object = None
    progress: bool = True
    noise: str = "uniform"
    num_iterations: int = None
    seconds: float = None
    shuffle: bool = None
    snapshot_images: int = NUM_SNAPSHOT_IMAGES
    on_snapshot: object = None

    @classmethod
    def of(cls, options):
        """The options given to run_a_gan as keywords, checked: a wrong name or value says what is allowed."""
        unknown = sorted(set(options) - set(cls.__dataclass_fields__))
        if unknown:
            raise TypeError(f"run_a_gan got unknown options {', '.join(unknown)}; its options are: "
                            f"{', '.join(cls.__dataclass_fields__)} (see TrainOptions)")
        chosen = cls(**options)
        if chosen.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, not {chosen.precision!r}")
        if chosen.noise not in NOISE_KINDS:
            raise ValueError(f"noise must be one of {', '.join(NOISE_KINDS)}, not {chosen.noise!r}")
        return chosen


def run_a_gan(D, G, D_solver, G_solver, discriminator_loss, generator_loss, loader_train,
              show_every=SHOW_EVERY, batch_size=BATCH_SIZE, noise_size=NOISE_DIM, num_epochs=10, **options):
    """Train a GAN and return snapshots of what the generator makes.

    Per batch of real images: one discriminator step on the real batch (scaled
    to [-1, 1]) and a detached fake batch, then one generator step on fresh
    noise (`gan_step`, below). Batches smaller than `batch_size` (the last one
    of an epoch) are skipped, as in the classic assignment.

    Inputs:
    - D, G: discriminator and generator (nn.Module); moved to the training device.
    - D_solver, G_solver: their optimisers (from get_optimizer).
    - discriminator_loss, generator_loss: your loss functions.
    - loader_train: a DataLoader yielding (images, labels) with images (N, 1, 28, 28)
      in [0, 1] (its images are read once, in its order; a shuffling loader is
      reshuffled every epoch), or such an image tensor directly: float in [0, 1],
      or uint8 in [0, 255] (kept as bytes and scaled batch by batch: a large set
      of colour images fits in memory 4 times over). A 4-D tensor keeps its shape
      (e.g. (N, 3, 64, 64)); anything else is read as 28 x 28 MNIST images.
    - show_every: keep a snapshot of 16 generated images every this many iterations.
      Snapshots all use the same fixed noise, so they show one set of samples evolving.
    - batch_size, noise_size, num_epochs: as named (num_epochs=None: until the `seconds` option runs out).
    - options: device=, seed=, precision=, checkpoint=, history= and the rest of
      TrainOptions (above), by name.

    Returns:
    - A list of numpy arrays of shape (16, 784), one per snapshot, values in [-1, 1].
      `history` (an option) then holds: 'd_loss', 'g_loss' (one float per iteration),
      'snapshot_iters', 'seconds', 'iterations_per_second', 'stopped' (None, or why
      training ended early: "diverged" or "interrupted"), 'device', 'precision'.

    If a loss becomes NaN or infinite, training stops with a message, D, G and
    their optimisers go back to their state at the last check (at most
    50 iterations earlier) and the losses up to there are kept.
    Ctrl-C (interrupting the kernel) stops the same way, saving the checkpoint.
    """
    opts = TrainOptions.of(options)
    device = torch.device(opts.device) if opts.device is not None else get_device()
    precision = opts.precision if opts.precision != "auto" else ("bf16" if native_bf16(device) else "fp32")
    # The trainer's own random stream (noise, shuffling). Without a seed it is drawn from
    # the global one, so torch.manual_seed(...) before the call also fixes the run.
    rng = torch.Generator(device=device)
    rng.manual_seed(opts.seed if opts.seed is not None else int(torch.randint(2 ** 62, (1,))))
    data = Batches(loader_train, batch_size, device, rng, opts.shuffle)
    autocast, joint_d_batch = prepare(D, G, D_solver, G_solver, data.first(), noise_size, device, precision)

    def draw(n):
        return draw_noise(n, noise_size, opts.noise, device=device, generator=rng)

    snapshots = Snapshots(G, draw(max(batch_size, opts.snapshot_images)), opts.snapshot_images, autocast,
                          data.image_shape, opts.on_snapshot)
    total = opts.num_iterations if opts.num_iterations is not None else \
        num_epochs * data.per_epoch if num_epochs is not None else None
    loop = TrainingLoop({"D": D, "G": G, "D_solver": D_solver, "G_solver": G_solver}, total, rng, show_every,
                        opts.checkpoint, seconds=opts.seconds, progress=opts.progress)
    saved = loop.resume(device)
    snapshots.restore(saved)
    data.begin(saved)   # the order of the batches: resumed, or drawn now (after the snapshots' noise, as ever)

    def step(it):
        d_loss, g_loss = gan_step(D, G, D_solver, G_solver, discriminator_loss, generator_loss, data.batch(it), draw,
                                  joint_d_batch=joint_d_batch, autocast=autocast)
        data.after(it)
        return {"d_loss": d_loss, "g_loss": g_loss}

    result = loop.run(step, on_show=lambda it: snapshots.take(it, loop.losses),
                      extra=lambda: {**data.state(), **snapshots.state()})
    explain_stop(result, snapshots, opts.checkpoint)
    history = opts.history if opts.history is not None else {}
    done = result.iterations - result.start
    history.update(d_loss=result.losses.get("d_loss", []), g_loss=result.losses.get("g_loss", []),
                   snapshot_iters=list(snapshots.iterations), seconds=result.seconds,
                   iterations_per_second=done / max(result.seconds, 1e-9), stopped=result.stopped,
                   device=str(device), precision=precision, image_shape=data.image_shape)
    return list(snapshots.images)


def explain_stop(result, snapshots, checkpoint):
    """After a divergence (which the loop warned of), keep only the snapshots before it; after Ctrl-C, say how
    to go on."""
    if result.stopped == "diverged":
        snapshots.keep_until(result.iterations)
    elif result.stopped == "interrupted":
        print(f"Interrupted at iteration {result.iterations}."
              + (f" Run again with the same checkpoint to resume: {checkpoint}" if checkpoint else ""))


class Batches:
    """The training images, resident on the training device, served a batch per iteration in the classic order
    (or reshuffled every epoch)."""

    def __init__(self, loader, batch_size, device, rng, shuffle=None):
        self.images = resident_images(loader, device)
        self.batch_size, self.rng = batch_size, rng
        self.shuffle = shuffles(loader) if shuffle is None else shuffle
        self.per_epoch = len(self.images) // batch_size
        if self.per_epoch == 0:
            raise ValueError(f"{len(self.images)} training images make no full batch of {batch_size}")
        self.order = None
        self.image_shape = tuple(self.images.shape[1:])

    def _draw_order(self):
        return torch.randperm(len(self.images), device=self.images.device, generator=self.rng)

    def first(self):
        return as_real(self.images[:self.batch_size])

    def batch(self, it):
        """The real batch of iteration `it`, as D takes it: float in [-1, 1]."""
        b = it % self.per_epoch
        rows = slice(b * self.batch_size, (b + 1) * self.batch_size)
        return as_real(self.images[rows] if self.order is None else self.images[self.order[rows]])

    def after(self, it):
        """After iteration `it`: at the end of an epoch, a new order (drawn before a checkpoint can save it, so
        a resumed run goes on with the same batches)."""
        if self.shuffle and (it + 1) % self.per_epoch == 0:
            self.order = self._draw_order()

    def state(self):
        return {"order": self.order}

    def begin(self, saved):
        """Start from a resumed checkpoint's order (`saved`), or from a new one when the images are shuffled."""
        order = saved.get("order")
        if order is not None and len(order) == len(self.images):
            self.order = order.to(self.images.device)
        elif self.shuffle:
            self.order = self._draw_order()


class Snapshots:
    """What G makes of one fixed noise batch, every `show_every` iterations: one set of samples evolving."""

    def __init__(self, G, fixed_noise, keep, autocast, image_shape, on_snapshot=None):
        self.G, self.fixed_noise, self.keep, self.autocast = G, fixed_noise, keep, autocast
        self.image_shape, self.on_snapshot = image_shape, on_snapshot
        self.images, self.iterations = [], []

    def take(self, iteration, losses):
        # the noise is a full batch: BatchNorm sees the statistics it trains with
        with torch.no_grad(), self.autocast:
            samples = self.G(self.fixed_noise)[:self.keep].float().cpu()
        self.images.append(samples.reshape(len(samples), -1).numpy())
        self.iterations.append(iteration)
        if self.on_snapshot is not None:
            so_far = {"d_loss": [], "g_loss": [], **floats(losses)}
            self.on_snapshot(iteration, samples.reshape(len(samples), *self.image_shape), so_far)

    def keep_until(self, iteration):
        kept = [i for i, at in enumerate(self.iterations) if at <= iteration]
        self.images[:], self.iterations[:] = [self.images[i] for i in kept], [self.iterations[i] for i in kept]

    def state(self):
        return {"fixed_noise": self.fixed_noise, "snapshots": self.images, "snapshot_iters": self.iterations}

    def restore(self, saved):
        if "fixed_noise" in saved:
            self.fixed_noise = saved["fixed_noise"].to(self.fixed_noise.device)
            self.images, self.iterations = list(saved["snapshots"]), list(saved["snapshot_iters"])


def gan_step(D, G, D_solver, G_solver, discriminator_loss, generator_loss, real, noise,
             joint_d_batch=False, autocast=contextlib.nullcontext()):
    """One iteration of GAN training: a discriminator step, then a generator step.

    - real: a batch of real images, shaped as D takes them.
    - noise(n): draws n noise vectors for G.
    - joint_d_batch: run real and fake through D as one batch of 2N (the same numbers,
      faster; only for a D without batch statistics).
    - autocast: a torch.autocast context for the networks (mixed precision), or none.
    Returns the two losses (detached).
    """
    n = len(real)

    # 1. Discriminator step: real images should score "real", a batch of fakes "fake".
    D_solver.zero_grad(set_to_none=True)
    with torch.no_grad(), autocast:            # the fakes are constants here: no gradient flows into G
        fake = G(noise(n)).reshape(real.shape).to(real.dtype)
    with autocast:
        if joint_d_batch:
            logits = D(torch.cat([real, fake]))
            logits_real, logits_fake = logits[:n], logits[n:]
        else:
            logits_real, logits_fake = D(real), D(fake)
    d_loss = discriminator_loss(logits_real.float(), logits_fake.float())
    d_loss.backward()
    D_solver.step()

    # 2. Generator step on fresh noise: G wants D to call its new fakes real.
    G_solver.zero_grad(set_to_none=True)
    with frozen(D), autocast:                  # only G's gradients are needed: D's weights stay fixed
        logits_fake = D(G(noise(n)).reshape(real.shape))
    g_loss = generator_loss(logits_fake.float())
    g_loss.backward()
    G_solver.step()
    return d_loss.detach(), g_loss.detach()


def prepare(D, G, D_solver, G_solver, real, noise_size, device, precision="fp32"):
    """Get networks and optimisers ready to train on `device`, the fast way they allow.

    Moves D and G to `device` in training mode, takes the speed-ups their code
    allows (see _fast_paths) and switches Adam to its fused kernel. Returns
    (autocast, joint_d_batch) for gan_step.
    """
    D.to(device).train()
    G.to(device).train()
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    channels_last, joint_d_batch = _fast_paths(D, G, real, noise_size, autocast)
    if channels_last:
        D.to(memory_format=torch.channels_last)
        G.to(memory_format=torch.channels_last)
    for solver in (D_solver, G_solver):
        fuse_adam(solver, device)
    return autocast, joint_d_batch


def fuse_adam(optimizer, device):
    """Let a torch.optim.Adam (or AdamW) left at its default implementation use the fused kernel.

    The same update, computed in one pass over each weight tensor instead of a
    dozen (the default multi-tensor kernel reads and writes the weights, the
    gradients and both moment estimates once per elementwise operation); the
    result differs from it by rounding only (about 1e-7). An optimiser whose
    implementation was chosen (foreach=, fused=, differentiable=) is left alone.
    """
    if type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW) or not _fused_adam_runs_on(device.type):
        return
    groups = optimizer.param_groups
    if any(g.get("fused") is not None or g.get("foreach") is not None or g.get("differentiable")
           or any(p.device.type != device.type or not p.is_floating_point() for p in g["params"])
           for g in groups):
        return
    steps = [s["step"] for s in optimizer.state.values() if isinstance(s.get("step"), torch.Tensor)]
    if any(s.device.type != device.type for s in steps):
        return   # state made by the default kernel on another device (its step counts stay on the CPU)
    for g in groups:
        g["fused"] = True
    optimizer._step_supports_amp_scaling = True   # as Adam(fused=True) sets it


@functools.lru_cache(maxsize=None)
def _fused_adam_runs_on(device_type):
    """Whether this PyTorch has Adam's fused kernel for `device_type` (CUDA from 2.0, the CPU from 2.4): tried once."""
    if device_type not in ("cpu", "cuda"):
        return False
    try:
        weight = torch.zeros(1, device=device_type, requires_grad=True)
        weight.grad = torch.ones_like(weight)
        torch.optim.Adam([weight], fused=True).step()
        return True
    except Exception:  # noqa: BLE001 - no fused kernel here: the default one trains the same
        return False


@contextlib.contextmanager
def frozen(model):
    """Within this block `model`'s weights get no gradients (backward skips them; they stay as they are)."""
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p in params:
            p.requires_grad_(True)


def draw_noise(n, size, kind="uniform", device=None, generator=None):
    """n noise vectors (n, size): uniform in [-1, 1] (the classic assignment's) or standard normal."""
    if kind == "normal":
        return torch.randn(n, size, device=device, generator=generator)
    return torch.rand(n, size, device=device, generator=generator) * 2 - 1


def resident_images(loader, device):
    """All training images as one tensor on `device`: float in [-1, 1], or uint8 (see as_real).

    A torchvision MNIST-style data set (or a Subset of one) is read straight from
    its uint8 `data` tensor; anything else is read once through the loader. A
    4-D tensor keeps its shape; anything else becomes (N, 1, 28, 28).
    """
    if isinstance(loader, torch.Tensor):
        images = loader
    else:
        tensors = dataset_tensors(getattr(loader, "dataset", None))
        images = tensors[0] if tensors else torch.cat([x for x, _ in _unshuffled(loader)])
    if images.dim() != 4:
        images = images.reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
    if images.dtype == torch.uint8:
        return images.to(device)   # bytes: a quarter of the memory; scaled per batch by as_real
    return images.to(device=device, dtype=torch.float32) * 2 - 1   # the classic preprocess_img, once for all


def as_real(batch):
    """A batch of resident images as D takes them: float in [-1, 1] (uint8 pixels are scaled here)."""
    if batch.dtype == torch.uint8:
        return batch.float() / 127.5 - 1
    return batch


def _unshuffled(loader):
    """The loader's batches in data set order (the trainer does its own shuffling)."""
    if shuffles(loader):
        return torch.utils.data.DataLoader(loader.dataset, batch_size=loader.batch_size or 1)
    return loader


def shuffles(loader):
    return isinstance(getattr(loader, "sampler", None), torch.utils.data.RandomSampler)


def _fast_paths(D, G, real, noise_size, autocast):
    """Which speed-ups these networks can take: (channels-last layout, real and fake as one D batch).

    Networks written against the classic API may reshape with `.view` (which fails
    on channels-last tensors) or have the batch size built into a reshape (which
    fails on a batch of 2N); they train the plain way. Tried on copies, so
    BatchNorm statistics are untouched.
    """
    channels_last = _has_conv(D) or _has_conv(G)
    joint = not _has_batch_statistics(D)
    n = len(real)
    z = torch.zeros(n, noise_size, device=real.device)   # a shape probe: draws no random numbers
    d = copy.deepcopy(D)
    with torch.no_grad(), autocast:
        if channels_last:
            try:
                d.to(memory_format=torch.channels_last)
                d(copy.deepcopy(G).to(memory_format=torch.channels_last)(z).reshape(real.shape))
                d(real)
            except Exception:  # noqa: BLE001 - any failure means: keep the standard layout
                channels_last, d = False, copy.deepcopy(D)
        if joint:
            try:
                d(torch.cat([real, real]))
            except Exception:  # noqa: BLE001
                joint = False
    return channels_last, joint


def _has_conv(model):
    return any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())


def _has_batch_statistics(model):
    # BatchNorm normalises over the batch: real and fake together would change what D computes.
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())

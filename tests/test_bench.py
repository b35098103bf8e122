"""`make bench` runs end to end, and the tables of docs/performance.md and docs/quality.md come from its result files."""

import json

import pytest
import torch

from tests.data import mnist_stand_in
from bench import speed as bench


def test_bench_times_both_trainers_on_every_model_against_its_floor(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_DATA_FROM", str(mnist_stand_in(tmp_path)))
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(bench, "WARMUP", 1)
    monkeypatch.setattr(bench, "PEAK_N", 256)
    monkeypatch.setattr(bench, "ROUNDS", 1)
    result = bench.speed("mnist", 2, torch.device("cpu"))
    assert [r["model"] for r in result["rows"]] == bench.MODELS
    kinds = bench.precisions(torch.device("cpu"))
    assert set(result["machine"]["peak_gflops"]) == set(kinds)
    for row in result["rows"]:
        assert row["textbook"]["s_per_it"] > 0 and set(row["ours"]) == set(kinds)
        for ours in row["ours"].values():
            assert ours["ratio"] == pytest.approx(ours["s_per_it"] / row["textbook"]["s_per_it"])
            assert ours["achieved_gflops"] == pytest.approx(ours["gflop"] / ours["s_per_it"])
            assert 0 < ours["floor_s"] and ours["share"] == pytest.approx(ours["floor_s"] / ours["s_per_it"])
    assert bench.FULL_ITERATIONS == {"vanilla": 3900, "lsgan": 3900, "dcgan": 1950}
    assert result["full_schedule_s"]["fp32"] == pytest.approx(
        sum(r["ours"]["fp32"]["s_per_it"] * r["full_iterations"] for r in result["rows"]))


def test_the_floor_counts_every_product_of_an_iteration_forward_and_backward():
    """Counted by hand for the vanilla GAN (batch N = 128): per sample, a layer in -> out costs 2 in out
    FLOP forward, as much for its weight gradient and as much for its input gradient.

    D step: G forward (no gradients); D forward on real and fake together (2N), D's weight gradients,
    and input gradients of D's layers 2 and 3 (the images need none). G step: G and D forward, D's input
    gradients only (D is frozen), G's weight gradients and input gradients of G's layers 2 and 3.
    """
    g_layers, d_layers = [(96, 1024), (1024, 1024), (1024, 784)], [(784, 256), (256, 256), (256, 1)]
    g, d = sum(i * o for i, o in g_layers), sum(i * o for i, o in d_layers)
    g_inner, d_inner = sum(i * o for i, o in g_layers[1:]), sum(i * o for i, o in d_layers[1:])
    n = bench.BATCH_SIZE
    d_step = n * g + 2 * n * (d + d + d_inner)
    g_step = n * (g + d + d + g + g_inner)
    floor = bench.iteration_floor("vanilla", torch.device("cpu"), "fp32")
    assert floor.flop == 2 * (d_step + g_step) == 2_414_346_240
    assert floor.seconds > 0


def test_the_docs_tables_are_rebuilt_from_the_result_files(tmp_path):
    ours = {"fp32": {"s_per_it": 0.05, "peak_mb": 30, "gflop": 2.4, "achieved_gflops": 48.0, "rate_gflops": 120.0,
                     "share": 0.4, "floor_s": 0.02, "ratio": 0.5},
            "bf16": {"s_per_it": 0.025, "peak_mb": 31, "gflop": 2.4, "achieved_gflops": 96.0, "rate_gflops": 320.0,
                     "share": 0.3, "floor_s": 0.0075, "ratio": 0.25}}
    speed = {"kind": "speed", "dataset": "mnist",
             "machine": {"name": "test machine", "device": "cpu", "torch": "x", "flags": ["avx512_bf16"],
                         "peak_gflops": {"fp32": 150.0, "bf16": 400.0}},
             "rows": [{"model": m, "iterations_timed": 10, "full_iterations": bench.FULL_ITERATIONS[m],
                       "textbook": {"s_per_it": 0.1, "peak_mb": 20}, "ours": ours} for m in bench.MODELS],
             "full_schedule_s": {"textbook": 975.0, "fp32": 487.5, "bf16": 243.75}}
    (tmp_path / "speed-cpu.json").write_text(json.dumps(speed))
    readme = tmp_path / "performance.md"
    readme.write_text("intro\n<!-- bench:speed-cpu -->\nold table\n<!-- /bench:speed-cpu -->\nend\n")
    assert bench.update_tables(readme, tmp_path)
    text = readme.read_text()
    assert "old table" not in text and "test machine (CPU flags: avx512_bf16)" in text
    assert "| dcgan | 2.40 | 100.0 | 50.0 | 48 / 120 (**40%**) | **0.50** | 25.0 | 96 / 320 (**30%**) | **0.25** |" in text
    assert "fp32 150, bf16 400 GFLOP/s" in text and "| **0.25** |" in text.split("full classic schedule")[1]
    assert text.startswith("intro\n") and text.endswith("end\n")
    assert not bench.update_tables(readme, tmp_path), "a second run changes nothing"


def test_the_committed_docs_match_the_committed_results(tmp_path):
    tables = [name for page in bench.PAGES for name in bench.re.findall(r"<!-- bench:([\w.-]+) -->", page.read_text())]
    assert {"speed-cpu", "calibration-fashion", "calibration-mnist-offline", "quality-fashion-cpu-precision"} <= set(tables)
    for page in bench.PAGES:
        copy = tmp_path / page.name
        copy.write_text(page.read_text())
        assert not bench.update_tables(copy, bench.RESULTS_DIR), \
            f"the tables of docs/{page.name} differ from bench/*.json: run `python -m bench --tables`"


def test_quality_runs_add_up_over_seeds_and_the_table_shows_their_means(tmp_path):
    def row(model, precision, seed, fid):
        return {"model": model, "trainer": "ours", "precision": precision, "seed": seed, "seconds": 1.0, "fid": fid,
                "classes_covered": 10, "kl_from_uniform": 0.01, "mean_confidence": 0.8}
    path = tmp_path / "quality-fashion-cpu-precision.json"
    path.write_text(json.dumps({"rows": [row("vanilla", "fp32", 0, 40.0), row("dcgan", "fp32", 0, 20.0)]}))
    kept = bench._earlier_rows(path, models=["vanilla"], seeds=[0, 1])
    assert kept == [row("dcgan", "fp32", 0, 20.0)], "a model and seed trained again replaces its earlier row"
    result = {"machine": {"name": "m"}, "dataset": "fashion",
              "rows": [row("vanilla", "fp32", 0, 40.0), row("vanilla", "fp32", 1, 50.0), row("vanilla", "bf16", 0, 60.0)]}
    table = bench.quality_table(result)
    assert "| **vanilla** | **ours** | **fp32** | **mean of 2** | **45.00** |" in table
    assert "mean of 1" not in table


def test_the_floor_replays_expanded_and_optional_arguments():
    """A loss ending in .sum() hands backward an expanded gradient (stride 0); a bias may be None."""
    from bench import roofline
    layer, conv = torch.nn.Linear(16, 8), torch.nn.Conv2d(1, 4, 3, bias=False)
    x, images = torch.randn(4, 16), torch.randn(2, 1, 8, 8, requires_grad=True)
    calls = roofline.record(lambda: (layer(x).sum() + conv(images).sum()).backward())
    assert any(0 in spec.stride for _, args, _ in calls for spec in args if isinstance(spec, roofline.TensorSpec))
    floor = roofline.replay(calls, min_seconds=0.001)
    assert floor.flop == 2 * 4 * 16 * 8 * 2 + 2 * 2 * (4 * 6 * 6 * 9) * 3   # linear: forward, weight grad;
    assert floor.seconds > 0                                              # conv: forward, both grads

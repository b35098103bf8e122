"""`make bench` runs end to end, and the README tables come from its result files."""

import json

import pytest
import torch

from tests.data import mnist_stand_in
from tools import bench


def test_bench_times_both_trainers_on_every_model(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_DATA_FROM", str(mnist_stand_in(tmp_path)))
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(bench, "WARMUP", 1)
    result = bench.speed("mnist", 2, torch.device("cpu"))
    assert [r["model"] for r in result["rows"]] == bench.MODELS
    for row in result["rows"]:
        assert row["textbook"]["s_per_it"] > 0 and row["ours"]["s_per_it"] > 0
        assert row["ratio"] == pytest.approx(row["ours"]["s_per_it"] / row["textbook"]["s_per_it"])
    assert bench.FULL_ITERATIONS == {"vanilla": 3900, "lsgan": 3900, "dcgan": 1950}
    assert result["full_schedule_s"]["ours"] == pytest.approx(
        sum(r["ours"]["s_per_it"] * r["full_iterations"] for r in result["rows"]))


def test_the_readme_tables_are_rebuilt_from_the_result_files(tmp_path):
    speed = {"kind": "speed", "machine": {"name": "test machine", "device": "cpu", "torch": "x"}, "dataset": "mnist",
             "rows": [{"model": m, "iterations_timed": 10, "full_iterations": bench.FULL_ITERATIONS[m],
                       "textbook": {"s_per_it": 0.1, "peak_mb": 20}, "ours": {"s_per_it": 0.05, "peak_mb": 30},
                       "ratio": 0.5} for m in bench.MODELS],
             "full_schedule_s": {"textbook": 975.0, "ours": 487.5}, "ratio": 0.5}
    (tmp_path / "speed-cpu.json").write_text(json.dumps(speed))
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- bench:speed-cpu -->\nold table\n<!-- /bench:speed-cpu -->\nend\n")
    assert bench.update_readme(readme, tmp_path)
    text = readme.read_text()
    assert "old table" not in text and "test machine" in text and "| dcgan | 10 | 0.1000 | 0.0500 | **0.50** |" in text
    assert text.startswith("intro\n") and text.endswith("end\n")
    assert not bench.update_readme(readme, tmp_path), "a second run changes nothing"


def test_the_committed_readme_matches_the_committed_results():
    before = bench.README.read_text()
    tables = bench.re.findall(r"<!-- bench:([\w.-]+) -->", before)
    assert {"speed-cpu", "calibration-fashion", "calibration-mnist-offline"} <= set(tables)
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "README.md"
        copy.write_text(before)
        assert not bench.update_readme(copy, bench.RESULTS_DIR), \
            "README tables differ from bench/*.json: run `python -m tools.bench --readme`"

"""The notebooks: generated from one source, no leaked answers, and they run headless in quick mode."""

import json

import nbformat
import pytest

from tests.conftest import ROOT
from tests.data import FASHION_MNIST, mnist_stand_in, require_data
from tools.release import SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK, solution_lines, student_versions
from tools.run_notebook import run_notebook

FIGURES = ["real", "vanilla_snapshots", "vanilla_final", "vanilla_losses", "lsgan_snapshots", "lsgan_final",
           "lsgan_losses", "dcgan_snapshots", "dcgan_final", "dcgan_losses", "minmax_trajectory"]


def _text(cell):
    """Everything a cell showed, as text."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
        elif "text/plain" in out.get("data", {}):
            parts.append(out.data["text/plain"])
    return "\n".join(parts)


def _env(tmp_path, dataset, data_from, **extra):
    return {"GAN_QUICK": "1", "GAN_DATASET": dataset, "GAN_DATA_FROM": str(data_from),
            "GAN_DATA_DIR": str(tmp_path / "data"), "GAN_OUTPUT_DIR": str(tmp_path / "outputs"), **extra}


def test_student_notebook_is_generated_from_the_instructor_notebook():
    assert STUDENT_NOTEBOOK.read_text() == student_versions()[STUDENT_NOTEBOOK], (
        "notebooks/GAN.ipynb is stale: run `make stubs`")


def test_student_notebook_holds_no_answers():
    student = STUDENT_NOTEBOOK.read_text()
    instructor = nbformat.read(SOLUTION_NOTEBOOK, as_version=4)
    for cell in instructor.cells:
        for line in solution_lines(cell.source):
            assert json.dumps(line)[1:-1] not in student, f"answer text leaked into the student notebook: {line!r}"
    assert "BEGIN SOLUTION" not in student


@pytest.mark.parametrize("path", [SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK], ids=lambda p: p.parent.name)
def test_committed_notebooks_carry_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in notebook.cells if c.cell_type == "code"), f"clear the outputs of {path.name} before committing"


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_instructor_notebook_runs_end_to_end_and_saves_every_figure(tmp_path, dataset):
    data_from = mnist_stand_in(tmp_path) if dataset == "mnist" else \
        require_data(FASHION_MNIST, "apt-get install dataset-fashion-mnist")
    env = _env(tmp_path, dataset, data_from, GAN_IMPL=str(ROOT / "solutions" / "gan_pytorch.py"))
    notebook = run_notebook(SOLUTION_NOTEBOOK, tmp_path / "executed.ipynb", timeout=600, env=env)

    checks = [_text(c) for c in notebook.cells if c.cell_type == "code" and c.source.startswith("check")]
    assert len(checks) == 12 and all(t.startswith("PASS") for t in checks), checks
    for name in FIGURES:
        png = tmp_path / "outputs" / dataset / f"{name}.png"
        assert png.exists() and png.stat().st_size > 2000, f"{png} was not written"
    assert (tmp_path / "executed.ipynb").exists()


def test_student_notebook_with_stubs_says_not_implemented_and_stops_cleanly_at_training(tmp_path):
    env = _env(tmp_path, "mnist", mnist_stand_in(tmp_path), GAN_IMPL="")
    notebook = run_notebook(STUDENT_NOTEBOOK, tmp_path / "executed.ipynb", timeout=600, allow_errors=True, env=env)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    first_training = next(i for i, c in enumerate(code) if "training" in c.metadata.get("tags", []))

    for cell in code[:first_training]:
        assert not any(o.output_type == "error" for o in cell.outputs), f"error before training:\n{_text(cell)}"
        if cell.source.startswith("check("):
            assert _text(cell).startswith("NOT IMPLEMENTED"), _text(cell)

    for cell in code[first_training:]:
        text = _text(cell)
        if "training" in cell.metadata.get("tags", []):
            assert "needs these functions to pass their checks first" in text
            assert "Traceback" not in text and "File " not in text, f"a traceback wall:\n{text}"
        elif cell.source.startswith("check_minmax"):
            assert text.startswith("NOT ANSWERED")
        elif cell.source.startswith("check("):
            assert text.startswith("NOT IMPLEMENTED")
        else:
            assert not any(o.output_type == "error" for o in cell.outputs), f"unexpected error:\n{text}"

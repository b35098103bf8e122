"""The notebooks: generated from one source, no leaked answers, and they run headless in quick mode."""

import json

import nbformat
import pytest

from tests.conftest import ROOT
from tests.data import FASHION_MNIST, mnist_stand_in, notebook_env, require_data
from checks.registry import LABS, MAIN

MODE_COLLAPSE = LABS["mode_collapse"]
from tools.release import solution_lines, student_versions
from tools.run_notebook import run_notebook

SOLUTION_NOTEBOOK, STUDENT_NOTEBOOK = MAIN.solution_notebook, MAIN.student_notebook
LAB_IDS = list(LABS)

FIGURES = ["real", "minmax_trajectory"] + [f"{model}_{figure}" for model in ("vanilla", "lsgan", "dcgan")
                                           for figure in ("snapshots", "final", "losses", "classes")]


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


@pytest.mark.parametrize("lab", LABS.values(), ids=LAB_IDS)
def test_student_notebook_is_generated_from_the_instructor_notebook(lab):
    assert lab.student_notebook.read_text() == student_versions()[lab.student_notebook], (
        f"notebooks/{lab.notebook} is stale: run `make stubs`")


@pytest.mark.parametrize("lab", LABS.values(), ids=LAB_IDS)
def test_student_notebook_holds_no_answers(lab):
    student = lab.student_notebook.read_text()
    instructor = nbformat.read(lab.solution_notebook, as_version=4)
    for cell in instructor.cells:
        for line in solution_lines(cell.source):
            assert json.dumps(line)[1:-1] not in student, f"answer text leaked into the student notebook: {line!r}"
    assert "BEGIN SOLUTION" not in student


@pytest.mark.parametrize("path", [p for lab in LABS.values() for p in (lab.solution_notebook, lab.student_notebook)],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_notebooks_carry_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in notebook.cells if c.cell_type == "code"), f"clear the outputs of {path.name} before committing"


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_instructor_notebook_runs_end_to_end_and_saves_every_figure(tmp_path, dataset):
    data_from = mnist_stand_in(tmp_path) if dataset == "mnist" else \
        require_data(FASHION_MNIST, "apt-get install dataset-fashion-mnist")
    env = notebook_env(tmp_path, dataset, data_from, GAN_IMPL=str(ROOT / "solutions"))
    notebook = run_notebook(SOLUTION_NOTEBOOK, tmp_path / "executed.ipynb", timeout=600, env=env)

    code = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith("check")]
    coverage = _text(next(c for c in code if c.source.startswith("check_dcgan_coverage")))
    checks = [_text(c) for c in code if not c.source.startswith("check_dcgan_coverage")]
    assert len(checks) == 12 and all(t.startswith("PASS") for t in checks), checks
    text = "\n".join(_text(c) for c in notebook.cells if c.cell_type == "code")
    assert text.count("Quality of 1000 samples") == 3, "a quality report after each model"
    if dataset == "mnist":   # a few quick steps draw a few digits at best: the check must say so, and how many
        assert coverage.startswith("FAIL             trained DCGAN:") and "digits covered" in coverage, coverage
        assert (tmp_path / "dcgan_generator.pt").exists() and (tmp_path / "dcgan_discriminator.pt").exists()
        # The labs on what the GAN learned look inside this DCGAN instead of training their own.
        saliency = run_notebook(LABS["saliency"].solution_notebook, tmp_path / "saliency.ipynb", timeout=600, env=env)
        shown = "\n".join(_text(c) for c in saliency.cells if c.cell_type == "code")
        assert f"the classic notebook's DCGAN, from {tmp_path}" in shown and "Traceback" not in shown, shown
    else:
        assert "graded on MNIST digits" in coverage
    for name in FIGURES:
        png = tmp_path / "outputs" / dataset / f"{name}.png"
        assert png.exists() and png.stat().st_size > 2000, f"{png} was not written"
    assert (tmp_path / "executed.ipynb").exists()


def test_student_notebook_with_stubs_runs_top_to_bottom_without_a_traceback(tmp_path):
    env = notebook_env(tmp_path, "mnist", mnist_stand_in(tmp_path), GAN_IMPL="")
    notebook = run_notebook(STUDENT_NOTEBOOK, tmp_path / "executed.ipynb", timeout=600, env=env)  # raises on any error
    code = [c for c in notebook.cells if c.cell_type == "code"]
    checks = [c for c in code if c.source.startswith("check(")]
    training = [c for c in code if "training" in c.metadata.get("tags", [])]
    assert len(checks) == 11 and all(_text(c).startswith("NOT IMPLEMENTED") for c in checks)
    assert len(training) == 3
    for cell in training:
        assert "trains once these functions pass their checks" in _text(cell) and "NOT IMPLEMENTED" in _text(cell)
    assert _text(next(c for c in code if c.source.startswith("check_minmax"))).startswith("NOT ANSWERED")
    assert "Traceback" not in "".join(_text(c) for c in code)


def test_mode_collapse_notebook_runs_with_the_solutions_and_measures_every_cure(tmp_path):
    env = notebook_env(tmp_path, "mnist", mnist_stand_in(tmp_path), GAN_IMPL=str(ROOT / "solutions"))
    notebook = run_notebook(MODE_COLLAPSE.solution_notebook, tmp_path / "executed.ipynb", timeout=600, env=env)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    checks = [_text(c) for c in code if c.source.startswith("check(")]
    assert len(checks) == len(MODE_COLLAPSE.functions) and all(t.startswith("PASS") for t in checks), checks
    text = "\n".join(_text(c) for c in code)
    assert "D's loss:" in text and "QUICK mode" in text
    for name in ("naive: MSE, SGD", "+ BCE", "+ Adam", "+ LeakyReLU, LayerNorm", "+ 100 normal inputs", "real images"):
        assert name in text, f"the table of cures should have a row {name!r}"
    for figure in ("discriminator_alone", "cures_samples", "cures_losses"):
        png = tmp_path / "outputs" / "mode_collapse" / "mnist" / f"{figure}.png"
        assert png.exists() and png.stat().st_size > 2000, f"{png} was not written"


def test_mode_collapse_notebook_with_stubs_says_what_is_missing(tmp_path):
    env = notebook_env(tmp_path, "mnist", mnist_stand_in(tmp_path), GAN_IMPL="")
    notebook = run_notebook(MODE_COLLAPSE.student_notebook, tmp_path / "executed.ipynb", timeout=600, env=env)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(_text(c).startswith("NOT IMPLEMENTED") for c in code if c.source.startswith("check("))
    assert "trains once these functions pass their checks" in "".join(_text(c) for c in code)
    assert "Traceback" not in "".join(_text(c) for c in code)


OTHER_GANS = {  # lab: (the figures its instructor notebook must save, text its outputs must show)
    "mlp_gan": (["mlp_gan_snapshots", "mlp_gan_losses", "mlp_gan_classes", "grid_00010", "classic_fc_final",
                 "train_vs_eval"], ["BatchNorm MLP GAN", "classic FC GAN", "train mode", "eval mode"]),
    "dcgan": (["dcgan_paper_snapshots", "dcgan_paper_classes", "classic_dcgan_final", "dcgan64_000000",
               "dcgan64_final", "dcgan64_losses"], ["paper's DCGAN", "classic DCGAN", "tinted digits"]),
}


@pytest.mark.parametrize("lab", list(OTHER_GANS))
def test_other_gan_notebook_runs_with_the_solutions_and_compares_with_the_classic_gan(tmp_path, lab):
    env = notebook_env(tmp_path, "mnist", mnist_stand_in(tmp_path), GAN_IMPL=str(ROOT / "solutions"))
    notebook = run_notebook(LABS[lab].solution_notebook, tmp_path / "executed.ipynb", timeout=600, env=env)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    checks = [_text(c) for c in code if c.source.startswith("check(")]
    assert len(checks) == len(LABS[lab].functions) and all(t.startswith("PASS") for t in checks), checks
    text = "\n".join(_text(c) for c in code)
    figures, phrases = OTHER_GANS[lab]
    for phrase in phrases:
        assert phrase in text, f"the {lab} notebook should show {phrase!r}"
    assert "Traceback" not in text
    for name in figures:
        png = tmp_path / "outputs" / lab / "mnist" / f"{name}.png"
        assert png.exists() and png.stat().st_size > 1000, f"{png} was not written"


THEORY_FIGURES = ["optimal_discriminator.png", "figure1.png", "figure1.gif", "value_of_the_game.png",
                  "generator_losses.png", "helvetica.png", "inference_error.png", "inference_real.png",
                  "inference_fake.png"]


def test_theory_notebook_runs_its_full_1d_schedule_and_draws_figure_1(tmp_path):
    env = notebook_env(tmp_path, "mnist", mnist_stand_in(tmp_path), GAN_IMPL=str(ROOT / "solutions"))
    notebook = run_notebook(LABS["gan_theory"].solution_notebook, tmp_path / "executed.ipynb", timeout=600, env=env)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    checks = [_text(c) for c in code if c.source.startswith("check(")]
    assert len(checks) == len(LABS["gan_theory"].functions) and all(t.startswith("PASS") for t in checks), checks
    text = "\n".join(_text(c) for c in code)
    assert "Traceback" not in text
    table = text[text.index("G makes modes at"):]
    assert "-2, 0, 2    -1.3863        -1.3863  0.0000" in table and "collapsed" in table, "at p_g = p_data, V(D*, G) = -log 4 and JSD = 0"
    assert "modes covered: 3 of 3" in text and "1500 iterations" in text, "the main run's full schedule"
    for row in ("k = 1 (the paper)", "k = 5", "G steps = 5", "G steps = 10", "saturating loss"):
        assert row in text, f"the mode-coverage table should have a row {row!r}"
    assert "times harder at the start" in text and "training the classic vanilla GAN instead" in text
    for name in THEORY_FIGURES:
        path = tmp_path / "outputs" / "gan_theory" / name
        assert path.exists() and path.stat().st_size > 5000, f"{path} was not written"


LEARNED = {  # lab: (the figures its instructor notebook must save, text its outputs must show)
    "d_probe": (["probe"], ["trained D", "random D (same net)", "pixels", "100 labels", "1,000 labels"]),
    "latent_walks": (["walks", "norms", "arithmetic", "coordinate_sweep"],
                     ["near the middle of the walk: lerp", "a random direction, same length",
                      "the coordinate that changes the images most"]),
    "saliency": (["saliency_real", "saliency_generated", "latent_saliency", "latent_moved"],
                 ["saliency on the strokes", "real", "generated"]),
}


def test_the_labs_on_what_the_gan_learned_share_one_trained_dcgan_and_draw_their_pictures(tmp_path):
    env = notebook_env(tmp_path, "mnist", mnist_stand_in(tmp_path), GAN_IMPL=str(ROOT / "solutions"))
    for i, (lab, (figures, phrases)) in enumerate(LEARNED.items()):
        notebook = run_notebook(LABS[lab].solution_notebook, tmp_path / f"{lab}.ipynb", timeout=600, env=env)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        checks = [_text(c) for c in code if c.source.startswith("check(")]
        assert len(checks) == len(LABS[lab].functions) and all(t.startswith("PASS") for t in checks), checks
        text = "\n".join(_text(c) for c in code)
        assert "Traceback" not in text and "Warning" not in text, text
        # the first lab trains the DCGAN (no classic notebook's weights here); the others reuse it
        assert ("training the classic DCGAN for 30 iterations" if i == 0 else "the DCGAN trained earlier") in text
        for phrase in phrases:
            assert phrase in text, f"the {lab} notebook should show {phrase!r}"
        for name in figures:
            png = tmp_path / "outputs" / lab / f"{name}.png"
            assert png.exists() and png.stat().st_size > 5000, f"{png} was not written"


def test_wgan_gp_notebook_trains_against_the_classic_dcgan_for_the_same_time(tmp_path):
    env = notebook_env(tmp_path, "mnist", mnist_stand_in(tmp_path), GAN_IMPL=str(ROOT / "solutions"))
    notebook = run_notebook(LABS["wgan_gp"].solution_notebook, tmp_path / "executed.ipynb", timeout=600, env=env)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    checks = [_text(c) for c in code if c.source.startswith("check(")]
    assert len(checks) == len(LABS["wgan_gp"].functions) and all(t.startswith("PASS") for t in checks), checks
    text = "\n".join(_text(c) for c in code)
    assert "Traceback" not in text and "Warning" not in text, text
    assert "3.0        40.000               40.000" in text, "a critic of gradient norm 3 pays lambda (3 - 1)^2"
    assert "generator iterations" in text and "last Wasserstein estimate" in text
    table = text[text.index("after the same wall time"):]
    assert "WGAN-GP" in table and "classic DCGAN" in table
    for name in ("wasserstein", "wgan_gp_samples", "dcgan_samples"):
        png = tmp_path / "outputs" / "wgan_gp" / f"{name}.png"
        assert png.exists() and png.stat().st_size > 5000, f"{png} was not written"


def test_conditional_gan_notebook_draws_a_row_per_digit_and_tables_the_classifiers_verdict(tmp_path):
    env = notebook_env(tmp_path, "mnist", mnist_stand_in(tmp_path), GAN_IMPL=str(ROOT / "solutions"))
    notebook = run_notebook(LABS["cgan"].solution_notebook, tmp_path / "executed.ipynb", timeout=600, env=env)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    checks = [_text(c) for c in code if c.source.startswith("check(")]
    assert len(checks) == len(LABS["cgan"].functions) and all(t.startswith("PASS") for t in checks), checks
    text = "\n".join(_text(c) for c in code)
    assert "Traceback" not in text and "Warning" not in text, text
    table = text[text.index("made for digit"):]
    assert "fully-connected D" in table and "label-map DCGAN D" in table and "mean" in table
    for name in ("grid_fully_connected", "grid_label_map"):
        png = tmp_path / "outputs" / "cgan" / f"{name}.png"
        assert png.exists() and png.stat().st_size > 5000, f"{png} was not written"


@pytest.mark.parametrize("lab", [*OTHER_GANS, "gan_theory", *LEARNED, "wgan_gp", "cgan"])
def test_other_gan_notebook_with_stubs_says_what_is_missing(tmp_path, lab):
    env = notebook_env(tmp_path, "mnist", mnist_stand_in(tmp_path), GAN_IMPL="")
    notebook = run_notebook(LABS[lab].student_notebook, tmp_path / "executed.ipynb", timeout=600, env=env)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    checks = [_text(c) for c in code if c.source.startswith("check(")]
    assert len(checks) == len(LABS[lab].functions) and all(t.startswith("NOT IMPLEMENTED") for t in checks), checks
    assert "trains once these functions pass their checks" in "".join(_text(c) for c in code)
    assert "Traceback" not in "".join(_text(c) for c in code)

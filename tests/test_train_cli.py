"""`python -m gan_assignment` (gan_assignment/provided/train.py): every model trains from the command line, writes its pictures as it
goes, resumes, and says what to do instead of a traceback when something is missing."""

import json

import pytest

from gan_assignment.provided import train as cli
from tests.data import FASHION_MNIST, image_folder, mnist_stand_in, require_data


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GAN_DATA_FROM", str(mnist_stand_in(tmp_path)))
    monkeypatch.delenv("GAN_IMPL", raising=False)
    return tmp_path


def test_the_64x64_dcgan_trains_on_a_folder_of_images_writes_grids_and_resumes(data_env, capsys):
    folder = image_folder(data_env)
    out = data_env / "runs"
    args = ["dcgan64", "--images", str(folder), "--solutions", "--batch-size", "8", "--sample-every", "2",
            "--out", str(out)]
    assert cli.main(args + ["--iterations", "4"]) == 0
    run = out / "dcgan64"
    for name in ("samples_000000.png", "samples_000002.png", "losses.png", "final.png", "checkpoint.pt",
                 "generator.pt"):
        assert (run / name).exists() and (run / name).stat().st_size > 500, f"{name} was not written"
    assert json.loads((run / "summary.json").read_text())["iterations"] == 4
    from PIL import Image
    with Image.open(run / "final.png") as grid:
        assert grid.size == (8 * 66 + 2, 8 * 66 + 2), "an 8 x 8 grid of 64 x 64 colour images"
        assert grid.mode == "RGB"
    assert "skipped 1 unreadable file" in capsys.readouterr().out

    assert cli.main(args + ["--iterations", "6"]) == 2, "an earlier run's checkpoint is never overwritten silently"
    assert "--resume" in capsys.readouterr().err
    assert cli.main(args + ["--iterations", "6", "--resume"]) == 0
    assert "Resuming from" in capsys.readouterr().out
    assert json.loads((run / "summary.json").read_text())["iterations"] == 6


@pytest.mark.parametrize("model", ["vanilla", "lsgan", "classic_dcgan", "mlp_gan", "dcgan"])
def test_every_mnist_model_trains_from_the_command_line(data_env, model):
    out = data_env / "runs"
    assert cli.main([model, "--solutions", "--iterations", "3", "--batch-size", "16", "--limit", "200",
                     "--sample-every", "2", "--no-quality", "--out", str(out)]) == 0
    summary = json.loads((out / model / "summary.json").read_text())
    assert summary["iterations"] == 3 and summary["stopped"] is None
    assert (out / model / "samples_000002.png").exists() and (out / model / "final.png").exists()


@pytest.mark.parametrize("model", ["collapse_naive", "collapse_cured"])
def test_the_mode_collapse_gans_train_from_the_command_line(data_env, model):
    out = data_env / "runs"
    assert cli.main([model, "--solutions", "--iterations", "5", "--limit", "200", "--no-quality",
                     "--out", str(out)]) == 0
    summary = json.loads((out / model / "summary.json").read_text())
    assert summary["iterations"] == 5 and summary["diversity"] >= 0
    assert (out / model / "final.png").exists() and (out / model / "losses.png").exists()


def test_fashion_mnist_and_a_learning_rate_override(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GAN_DATA_FROM", str(require_data(FASHION_MNIST, "apt-get install dataset-fashion-mnist")))
    assert cli.main(["dcgan64", "--dataset", "fashion", "--solutions", "--iterations", "2", "--batch-size", "4",
                     "--limit", "64", "--lr", "1e-4", "--out", str(tmp_path / "runs")]) == 0


def test_unwritten_functions_and_missing_folders_are_explained_not_raised(data_env, capsys):
    # The student's file as released: stubs that raise NotImplementedError.
    assert cli.main(["mlp_gan", "--iterations", "2", "--out", str(data_env / "runs")]) == 2
    err = capsys.readouterr().err
    assert "not implemented yet" in err and "make check LAB=mlp_gan" in err and "--solutions" in err
    assert cli.main(["dcgan64", "--images", str(data_env / "nowhere"), "--solutions",
                     "--out", str(data_env / "runs2")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert cli.main(["mlp_gan", "--images", str(data_env), "--solutions", "--out", str(data_env / "runs3")]) == 2
    assert "--images is for dcgan64" in capsys.readouterr().err


def test_list_names_every_model():
    assert cli.main(["--list"]) == 0


def test_quick_mode_comes_from_the_flag_or_from_gan_quick_and_what_is_given_wins(data_env, monkeypatch):
    out = data_env / "runs"
    assert cli.main(["vanilla", "--solutions", "--quick", "--out", str(out / "flag")]) == 0
    summary = json.loads((out / "flag" / "vanilla" / "summary.json").read_text())
    assert summary["quick"] and summary["iterations"] == cli.QUICK["iterations"], summary
    assert summary["quality"]["num_samples"] == cli.QUICK_QUALITY["num_samples"], "a small quality report"
    monkeypatch.setenv("GAN_QUICK", "1")   # as the README's table of settings says, for the notebooks and here
    assert cli.main(["lsgan", "--solutions", "--iterations", "7", "--no-quality", "--out", str(out / "env")]) == 0
    summary = json.loads((out / "env" / "lsgan" / "summary.json").read_text())
    assert summary["quick"] and summary["iterations"] == 7, summary


def test_offline_the_coverage_check_says_how_to_give_it_mnist(tmp_path, monkeypatch):
    """Without internet and without a copy of MNIST, the coverage check's classifier cannot train: the message
    says how to give it the instructor's local copy (GAN_DATA_FROM), here and in `make autograde`."""
    from checks.coverage import ensure_classifier
    from gan_assignment.provided.data import DataUnavailable
    from tools.autograde import coverage_classifier

    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "nothing-here"))
    monkeypatch.delenv("GAN_DATA_FROM", raising=False)
    with pytest.raises(DataUnavailable, match="GAN_DATA_FROM=/folder/with/the/files"):
        ensure_classifier()
    with pytest.raises(SystemExit, match="GAN_DATA_FROM"):
        coverage_classifier()

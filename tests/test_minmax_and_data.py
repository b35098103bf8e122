"""The min-max table's check (an answer table, checks/core/table.py), and loading real data through torchvision."""

import pytest
import torchvision

from checks.core.table import read_table
from checks.registry import MAIN
from gan_assignment.provided.data import DataUnavailable, classic_loaders, load_dataset
from tests.data import FASHION_MNIST, mnist_stand_in, require_data


def minmax_status(x_values, y_values):
    """(status, message) of a min-max table, as the notebook's check and the grader judge it."""
    return MAIN.task("minmax").spec.status("minmax", {"x_values": x_values, "y_values": y_values}, MAIN.answers())


def minmax_trajectory(steps=6):
    """x and y after each step of alternating updates on f(x, y) = x * y from (1, 1), step size 1:
    y ascends first (df/dy = x), then x descends with the new y (df/dx = y). Worked out here, independently
    of the solution notebook whose answer cell the reference digest is made from."""
    x, y, xs, ys = 1, 1, [], []
    for _ in range(steps):
        y = y + x
        x = x - y
        xs.append(x)
        ys.append(y)
    return xs, ys


def test_minmax_accepts_the_right_table_as_ints_or_floats():
    xs, ys = minmax_trajectory()
    assert minmax_status(xs, ys)[0] == "PASS"
    assert minmax_status([float(v) for v in xs], [float(v) for v in ys])[0] == "PASS"


@pytest.mark.parametrize("change", ["swap x and y", "one value off", "y and x updated simultaneously"])
def test_minmax_rejects_a_wrong_table(change):
    xs, ys = minmax_trajectory()
    if change == "swap x and y":
        xs, ys = ys, xs
    elif change == "one value off":
        xs = xs[:-1] + [xs[-1] + 1]
    else:  # the classic mistake: x uses the old y
        x, y, xs, ys = 1, 1, [], []
        for _ in range(6):
            x, y = x - y, y + x
            xs.append(x)
            ys.append(y)
    status, message = minmax_status(xs, ys)
    assert status == "FAIL" and "first y moves UP" in message


def test_minmax_unanswered_and_malformed():
    assert minmax_status([None] * 6, [None] * 6)[0] == "NOT ANSWERED"
    assert "exactly 6" in minmax_status([1] * 5, [1] * 6)[1]
    assert minmax_status(["a"] * 6, [1] * 6)[0] == "FAIL"
    assert minmax_status("123456", [1] * 6)[0] == "FAIL"


def test_a_number_too_large_for_a_float_is_a_wrong_answer_not_a_crash():
    """An integer of 1,100 hex digits in the answer cell once crashed the grader (OverflowError)."""
    huge = int("f" * 1100, 16)
    status, message = minmax_status([huge] * 6, [1] * 6)
    assert status == "FAIL" and "too large" in message


@pytest.mark.parametrize("source, said", [
    ("x_values = [1, 2, 3, 4, 5, 6]\ny_values = [1] * 6\n", "y_values must be a list of plain numbers"),
    ("x_values = [1] * 6\ny_values = [2] * 6\n", "x_values must be a list of plain numbers"),
    ("x_values = " + "[" * 200_000 + "]" * 200_000 + "\ny_values = []\n", "no cell assigns"),
])
def test_an_answer_cell_that_is_not_literal_numbers_is_said_so(source, said):
    import nbformat

    with pytest.raises(ValueError, match=said):
        read_table([nbformat.v4.new_code_cell(source)], ("x_values", "y_values"))


def test_fashion_mnist_loads_through_torchvision_with_the_classic_split(tmp_path):
    source = require_data(FASHION_MNIST, "apt-get install dataset-fashion-mnist")
    dataset = load_dataset("fashion", root=tmp_path, local_files=source)
    assert len(dataset) == 60000
    image, _ = dataset[0]
    assert image.shape == (1, 28, 28) and 0 <= float(image.min()) and float(image.max()) <= 1
    train, val = classic_loaders(dataset)
    assert len(train.dataset) == 50000 and len(val.dataset) == 5000
    assert next(iter(train))[0].shape == (128, 1, 28, 28)


def test_real_mnist_digits_load_through_torchvision(tmp_path):
    dataset = load_dataset("mnist", root=tmp_path / "data", local_files=mnist_stand_in(tmp_path))
    assert len(dataset) == 10000 and dataset[0][1] == 7   # the first test digit is a 7


def test_a_failed_download_says_how_to_use_a_local_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # refused at once
    monkeypatch.delenv("GAN_DATA_FROM", raising=False)
    with pytest.raises(DataUnavailable, match="GAN_DATA_FROM"):
        load_dataset("mnist", root=tmp_path)

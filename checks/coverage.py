"""The trained-DCGAN check: does your generator draw all ten digits?

After training, the notebook saves your DCGAN generator's weights to
`dcgan_generator.pt` beside the notebook (gan_assignment.provided.weights:
`save_generator`). The check rebuilds the network with your `build_dc_generator`
(while autograding: the instructor's, once yours has passed its check, so the
network is the same), loads those weights, draws
10,000 samples on fixed noise and asks the project's digit classifier which
digit each one is (gan_assignment.provided.quality). It passes when every digit gets at
least 5 % of the samples: a generator that collapsed onto a few digits fails,
however sharp those digits look.

The grade is measured from the weights, never taken from what a notebook
printed, so it cannot be typed in.
"""

from pathlib import Path

from checks.core.status import FAIL, NOT_IMPLEMENTED, PASS, Result
from checks.feedback import fail_under_nbgrader, show, validating
from checks.registry import lab_of
from gan_assignment.provided.data import DataUnavailable
from gan_assignment.provided.modules import ImplementationImportError, implementation_path, load_module
from gan_assignment.provided.quality import MIN_SHARE, classifier_path, get_classifier, quality_report
from gan_assignment.provided.weights import WEIGHTS_FILE, WeightsError, load_generator, missing_weights

DATASET = "mnist"      # the assignment's data set: coverage is graded on digits
OFFLINE_HINT = ("offline? Give it your copy of MNIST's four IDX files: GAN_DATA_FROM=/folder/with/the/files "
                "(the same setting as for training)")


def ensure_classifier():
    """Train the coverage check's digit classifier if it is not cached yet (needs MNIST); otherwise do nothing.

    Raises DataUnavailable, saying how to give it a local copy of MNIST, when MNIST can be neither found nor
    downloaded."""
    if classifier_path(DATASET).exists():
        return
    print(f"The DCGAN coverage check needs a {DATASET} digit classifier: training it once (about 2 to 6 minutes "
          "on a CPU).")
    try:
        get_classifier(DATASET)
    except DataUnavailable as e:
        raise DataUnavailable(f"{e}\nThe coverage check's classifier trains on MNIST: {OFFLINE_HINT}") from None


def coverage_result(module, path, task):
    """(status, message, report dict or None) of the coverage check: the generator that `module`'s builder makes,
    with the weights saved at `path`, must draw every class in at least MIN_SHARE of 10,000 samples.

    `task`: the lab's "weights" task (its spec names the builder and the number of classes)."""
    builder, classes = task.spec.builder, task.spec.classes
    try:
        G = load_generator(module, path, builder)
    except NotImplementedError:
        return NOT_IMPLEMENTED, f"{builder} is not implemented yet", None
    except WeightsError as e:
        return FAIL, str(e), None
    report = quality_report(G, DATASET, classifier=get_classifier(DATASET, log=None))
    summary = (f"{report.classes_covered}/{classes} digits covered, FID {report.fid:.1f}, "
               f"mean confidence {report.mean_confidence:.2f}")
    if report.classes_covered >= classes:
        return PASS, summary, report.as_dict()
    rare = [f"{d} ({share:.1%})" for d, share in enumerate(report.shares) if share < MIN_SHARE]
    return FAIL, (f"{summary}. Digits drawn in less than {MIN_SHARE:.0%} of {report.num_samples} samples: "
                  f"{', '.join(rare)}. The generator has (partly) collapsed onto a few digits, or is not trained "
                  "enough: train for the full schedule, and check the samples and the class-share chart."), \
        report.as_dict()


def not_measurable_here(weights):
    """Why the coverage cannot be measured quickly here, or None.

    Under nbgrader (the Validate button, with its per-cell time limit) nothing may
    train: a missing weights file or an untrained classifier fails at once, saying what to do.
    """
    if not Path(weights).exists():
        return missing_weights(weights)
    if validating() and not classifier_path(DATASET).exists():
        return ("cannot be measured during validation: the digit classifier that judges the samples is not "
                "trained yet. Run the notebook's DCGAN cell first (its quality report trains the classifier once, "
                "about 2 minutes), then validate again")
    return None


def check_dcgan_coverage(weights=WEIGHTS_FILE, task_name="dcgan_coverage"):
    """Show PASS or FAIL (with what to do) for the saved DCGAN generator (under nbgrader a FAIL fails the cell)."""
    lab = lab_of(task_name)
    reason = not_measurable_here(weights)
    if reason:
        status, message = FAIL, reason
    else:
        try:
            status, message, _ = coverage_result(load_module(implementation_path(lab.module)), weights,
                                                 lab.task(task_name))
        except ImplementationImportError as e:
            status, message = FAIL, str(e)
    fail_under_nbgrader(show([Result("trained DCGAN", status, message)]))

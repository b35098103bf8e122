"""The trained-DCGAN check: does your generator draw all ten digits?

After training, the notebook saves your DCGAN generator's weights to
`dcgan_generator.pt` beside the notebook (`save_generator`). The check rebuilds
the network with your `build_dc_generator` (while autograding: the instructor's,
once yours has passed its check, so the network is the same), loads those weights, draws
10,000 samples on fixed noise and asks the project's digit classifier which
digit each one is (gan_assignment.quality). It passes when every digit gets at
least 5 % of the samples: a generator that collapsed onto a few digits fails,
however sharp those digits look.

The grade is measured from the weights, never taken from what a notebook
printed, so it cannot be typed in.
"""

from pathlib import Path

import torch

from gan_assignment.config import NOISE_DIM

WEIGHTS_FILE = "dcgan_generator.pt"
DATASET = "mnist"      # the assignment's data set: coverage is graded on digits
REQUIRED_CLASSES = 10


def ensure_classifier():
    """Train the coverage check's digit classifier if it is not cached yet (needs MNIST); otherwise do nothing."""
    from gan_assignment.quality import classifier_path, get_classifier

    if not classifier_path(DATASET).exists():
        print(f"The DCGAN coverage check needs a {DATASET} digit classifier: training it once (about 2 minutes).")
        get_classifier(DATASET)


def save_generator(G, path=WEIGHTS_FILE):
    """Save a trained generator's weights for the coverage check (float16: half the size, same samples)."""
    state = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in G.state_dict().items()}
    torch.save({"noise_dim": NOISE_DIM, "state_dict": state}, path)
    size = Path(path).stat().st_size / 2 ** 20
    print(f"Saved the generator's weights to {path} ({size:.1f} MB): submit this file with your notebook.")


def missing_weights(path):
    """What to do when the saved generator at `path` is not there."""
    return (f"{Path(path).name} is missing: run the DCGAN training cell (it saves the trained generator there), "
            "then submit that file with your notebook")


def load_generator(impl_module, path):
    """Your build_dc_generator(NOISE_DIM) with the saved weights loaded (raises ValueError with what to do)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(missing_weights(path))
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        state = saved["state_dict"]
    except Exception as e:  # noqa: BLE001 - any unreadable file means the same to the student
        raise ValueError(f"{path.name} cannot be read ({type(e).__name__}); train the DCGAN again to rewrite it")
    G = impl_module.build_dc_generator(NOISE_DIM)
    try:
        G.load_state_dict(_fitted(G, {k: v.float() if v.is_floating_point() else v for k, v in state.items()}))
    except (RuntimeError, AttributeError, TypeError) as e:
        raise ValueError(f"{path.name} does not fit your build_dc_generator (was it changed after training? "
                         f"train again): {str(e).splitlines()[0][:200]}")
    return G


def _fitted(G, state):
    """`state` with G's names: the same names, or the same tensors' shapes in the same order.

    (The grader loads a student's weights into the instructor's generator, whose
    layers may be named differently: an nn.Sequential numbers them, a class names them.)
    """
    wanted = G.state_dict()
    if set(state) == set(wanted):
        return state
    if [tuple(v.shape) for v in state.values()] == [tuple(v.shape) for v in wanted.values()]:
        return dict(zip(wanted, state.values()))
    return state   # load_state_dict says what does not fit


def coverage_result(impl_module, path, root=None):
    """(status, message, report dict or None) of the coverage check for the saved generator at `path`."""
    from checks.runner import FAIL, NOT_IMPLEMENTED, PASS
    from gan_assignment.quality import MIN_SHARE, get_classifier, quality_report

    try:
        G = load_generator(impl_module, path)
    except NotImplementedError:
        return NOT_IMPLEMENTED, "build_dc_generator is not implemented yet", None
    except ValueError as e:
        return FAIL, str(e), None
    report = quality_report(G, DATASET, root=root, classifier=get_classifier(DATASET, root=root, log=None))
    summary = (f"{report.classes_covered}/10 digits covered, FID {report.fid:.1f}, "
               f"mean confidence {report.mean_confidence:.2f}")
    if report.classes_covered >= REQUIRED_CLASSES:
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
    from checks.feedback import validating
    from gan_assignment.quality import classifier_path

    if not Path(weights).exists():
        return missing_weights(weights)
    if validating() and not classifier_path(DATASET).exists():
        return ("cannot be measured during validation: the digit classifier that judges the samples is not "
                "trained yet. Run the notebook's DCGAN cell first (its quality report trains the classifier once, "
                "about 2 minutes), then validate again")
    return None


def check_dcgan_coverage(weights=WEIGHTS_FILE):
    """Show PASS or FAIL (with what to do) for the saved DCGAN generator (under nbgrader a FAIL fails the cell)."""
    from checks.feedback import fail_under_nbgrader, show
    from checks.runner import FAIL, ImplementationImportError, Result, implementation_path, load_impl

    reason = not_measurable_here(weights)
    if reason:
        status, message = FAIL, reason
    else:
        try:
            status, message, _ = coverage_result(load_impl(implementation_path()), weights)
        except ImplementationImportError as e:
            status, message = FAIL, str(e)
    fail_under_nbgrader(show([Result("trained DCGAN", status, message)]))

"""Every lab of the course and every graded task in it: the one table.

A **lab** is a notebook and the student module it imports, released as one
nbgrader assignment. A **task** is one graded thing in a lab:

- "function": a function the student writes, with its check (checks/<lab>.py)
  and its spec (checks/specs.py: how it is called, and the recipe of its
  reference answers);
- "weights": the trained DCGAN's digit coverage (checks/coverage.py);
- "table": an answer table read from a notebook cell (checks/minmax.py);
- "written": a free-text answer, graded by hand.

Everything reads this table and nothing else lists tasks: the checks
(`make check`), the reference answers (`make refs`), the student files
(`make stubs`), the nbgrader course (`make release`), the autograder
(`make autograde`) and the tests' synthetic class.

**Where a score is decided**: `points_for(task, visible, hidden)` at the end of
this file. A task earns all its points when its visible and hidden tests both
pass, and nothing otherwise.

Adding a task: write its check, add one Task below. Adding a lab: write its
solution module and notebook (solutions/), its checks (checks/<lab>.py), and
one Lab below; `make stubs refs` makes the rest.
"""

from dataclasses import dataclass
from pathlib import Path

from checks import functions as classic
from checks import cgan, dcgan
from checks import gan_theory as theory
from checks import learned
from checks import wgan_gp
from checks import mode_collapse as collapse
from checks.specs import Judged, Loss, Network, Optimizer, Table, Value, Variants

ROOT = Path(__file__).resolve().parent.parent
PASS = "PASS"


@dataclass(frozen=True)
class Task:
    name: str
    points: int
    kind: str = "function"      # "function", "weights", "table" or "written"
    check: object = None        # check(impl, ref, task) -> notes; raises CheckFailure (functions only)
    spec: object = None         # how it is called and its reference answers (checks/specs.py)
    builds_on: tuple = ()       # tasks whose failure probably explains this one's
    required: bool = True


@dataclass(frozen=True)
class Lab:
    name: str                   # what `make check LAB=...` takes
    title: str
    assignment: str             # the nbgrader assignment id
    module: str                 # the student module: gan_assignment/<module>.py, solutions/<module>.py
    notebook: str               # solutions/<notebook> (instructor) -> notebooks/<notebook> (student)
    tasks: tuple
    required: bool = True
    reference: str = None       # checks/<reference>: default <module>_reference.npz
    hidden_reference: str = None  # checks/<hidden_reference>: default <module>_hidden_reference.npz

    @property
    def student_file(self):
        return ROOT / "gan_assignment" / f"{self.module}.py"

    @property
    def solution_file(self):
        return ROOT / "solutions" / f"{self.module}.py"

    @property
    def student_notebook(self):
        return ROOT / "notebooks" / self.notebook

    @property
    def solution_notebook(self):
        return ROOT / "solutions" / self.notebook

    @property
    def reference_file(self):
        """The public reference answers (released to students)."""
        return ROOT / "checks" / (self.reference or f"{self.module}_reference.npz")

    @property
    def hidden_reference_file(self):
        """The hidden tests' answers: other weights, inputs and batch size. Instructors only, never released."""
        return ROOT / "checks" / (self.hidden_reference or f"{self.module}_hidden_reference.npz")

    @property
    def functions(self):
        """The names of the student functions, in the order the notebook introduces them."""
        return [t.name for t in self.tasks if t.kind == "function"]

    def task(self, name):
        found = [t for t in self.tasks if t.name == name]
        if not found:
            raise KeyError(f"{self.name} has no task {name!r}; its tasks are: {', '.join(t.name for t in self.tasks)}")
        return found[0]

    @property
    def max_points(self):
        return sum(t.points for t in self.tasks)


CLASSIC = Lab(
    name="classic", title="GANs on MNIST: vanilla GAN, LSGAN and DCGAN", assignment="gan",
    module="gan_pytorch", notebook="GAN.ipynb",
    reference="reference_answers.npz", hidden_reference="hidden_reference.npz", tasks=(
        Task("sample_noise", 1, check=classic.check_sample_noise, spec=Judged()),
        Task("discriminator", 2, check=classic.check_network, spec=Network("discriminator", "images", seeded=True)),
        Task("generator", 2, check=classic.check_network,
             spec=Network("generator", "noise", noise_dim=4, default_size=True, seeded=True)),
        Task("bce_loss", 2, check=classic.check_loss,
             # the classic callers pass (N,) logits and targets; (N, 1) targets are advice
             spec=Loss(("input", "target"), shapes=("N",), advice_shapes=("N1",), extreme=True,
                       extreme_hint="use the identity in the docstring")),
        Task("discriminator_loss", 1, check=classic.check_loss, builds_on=("bce_loss",), spec=Loss(
            ("logits_real", "logits_fake"), extreme=True,
            hint="real images have target 1 and fake images target 0, and the loss is the SUM of the two mean losses")),
        Task("generator_loss", 1, check=classic.check_loss, builds_on=("bce_loss",), spec=Loss(
            ("logits_fake",), extreme=True, hint="the generator wants its fakes called real: use target 1 (the non-saturating loss)")),
        Task("get_optimizer", 1, check=classic.check_get_optimizer, spec=Optimizer()),
        Task("ls_discriminator_loss", 1, check=classic.check_loss, spec=Loss(
            ("scores_real", "scores_fake"), hint="each of the two terms is 0.5 times a mean over the batch")),
        Task("ls_generator_loss", 1, check=classic.check_loss, spec=Loss(
            ("scores_fake",), hint="the loss is 0.5 times a mean over the batch")),
        Task("build_dc_classifier", 2, check=classic.check_network,
             spec=Network("build_dc_classifier", "images", batch_size_arg=True)),
        Task("build_dc_generator", 2, check=classic.check_network,
             spec=Network("build_dc_generator", "noise", noise_dim=4, per_sample=False, default_size=True)),
        Task("dcgan_coverage", 2, kind="weights", builds_on=("build_dc_generator",)),
        Task("minmax", 2, kind="table", spec=Table(("x_values", "y_values"))),
        Task("inline_question_2", 2, kind="written"),
        Task("inline_question_3", 2, kind="written"),
    ))



def _improved(spec, **fields):
    """The naive and the improved configuration of a mode-collapse network."""
    return Variants(tuple((label, Network(kwargs=(("improved", improved),), **fields, **spec))
                          for label, improved in (("naive", False), ("improved", True))))


MODE_COLLAPSE = Lab(
    name="mode_collapse", title="Mode collapse and its cures (Make Your Own GAN)", assignment="mode_collapse",
    module="mode_collapse", notebook="ModeCollapse.ipynb", required=False, tasks=(
        Task("make_discriminator", 2, check=collapse.check_network_variants,
             spec=_improved({"function": "make_discriminator"}, takes="flat", low=0.0, seeded=True)),
        Task("make_generator", 2, check=collapse.check_network_variants, spec=_improved(
            {"function": "make_generator"}, takes="noise", noise_dim=4, default_size=True, low=0.0, seeded=True)),
        Task("gan_loss", 2, check=collapse.check_loss_variants, spec=Variants(tuple(
            (kind, Loss(("scores", "target"), kwargs=(("kind", kind),), probabilities=True, function="gan_loss",
                        hint=hint))
            for kind, hint in (("mse", "the mean of (scores - target)^2"),
                               ("bce", "-mean(target * log(scores) + (1 - target) * log(1 - scores))"))))),
        Task("make_optimizer", 1, check=collapse.check_optimizer_variants, spec=Variants(tuple(
            (kind, Optimizer(kwargs=(("kind", kind),), function="make_optimizer")) for kind in ("sgd", "adam")))),
        Task("diversity", 2, check=collapse.check_diversity, spec=Value((("images", ("N", 784)),))),
        Task("equilibrium_question", 2, kind="written"),
    ))


MLP_GAN = Lab(
    name="mlp_gan", title="The BatchNorm MLP GAN (PyTorch-GAN's gan.py)", assignment="mlp_gan",
    module="mlp_gan", notebook="MLPGAN.ipynb", required=False, tasks=(
        Task("mlp_generator", 3, check=classic.check_network, spec=Network(
            "mlp_generator", "noise", noise_dim=4, per_sample=False, default_size=True, seeded=True,
            makes=(1, 28, 28), norm_settings=True)),
        Task("mlp_discriminator", 2, check=classic.check_network,
             spec=Network("mlp_discriminator", "images", seeded=True, low=-1.0, flat_advice=False)),
        Task("mlp_discriminator_loss", 1, check=classic.check_loss, spec=Loss(
            ("scores_real", "scores_fake"), target_args=(), probabilities=True,
            hint="real scores have target 1, fake scores target 0, and the loss is the AVERAGE of the two BCEs")),
        Task("mlp_generator_loss", 1, check=classic.check_loss, spec=Loss(
            ("scores_fake",), target_args=(), probabilities=True,
            hint="the generator wants its fakes called real: BCE against target 1")),
        Task("mlp_optimizer", 1, check=classic.check_get_optimizer, spec=Optimizer()),
        Task("batchnorm_question", 2, kind="written"),
    ))


def _dcgan_networks(prefix, image_shape):
    """The paper's generator and discriminator at one image size, as two tasks."""
    return (
        Task(f"{prefix}_generator", 2, check=classic.check_network, spec=Network(
            f"{prefix}_generator", "noise", noise_dim=4, per_sample=False, default_size=True, seeded=True,
            makes=image_shape, norm_settings=True)),
        Task(f"{prefix}_discriminator", 2, check=classic.check_network, spec=Network(
            f"{prefix}_discriminator", "images", per_sample=False, seeded=True, image_shape=image_shape,
            flat_advice=False, norm_settings=True)),
    )


DCGAN = Lab(
    name="dcgan", title="The DCGAN of the paper, on MNIST and on your own 64x64 images", assignment="dcgan",
    module="dcgan", notebook="DCGAN.ipynb", required=False, tasks=(
        Task("dcgan_weights_init", 2, check=dcgan.check_weights_init, spec=Judged("statistics", "init")),
        *_dcgan_networks("dcgan", (1, 28, 28)),
        *_dcgan_networks("dcgan64", (3, 64, 64)),
        Task("guidelines_question", 2, kind="written"),
    ))

GAN_THEORY = Lab(
    name="gan_theory", title="The GAN paper's theory in one dimension, and an inference network",
    assignment="gan_theory", module="gan_theory", notebook="GANTheory.ipynb", required=False, tasks=(
        Task("optimal_discriminator", 2, check=theory.check_optimal_discriminator,
             spec=theory.Densities(("mixtures", "apart", "empty"))),
        Task("js_divergence", 2, check=theory.check_js_divergence,
             spec=theory.Densities(("mixtures", "apart"), with_grid=True)),
        Task("algorithm1_step", 3, check=theory.check_algorithm1_step, spec=theory.Algorithm1()),
        Task("encoder_step", 2, check=theory.check_encoder_step, spec=theory.EncoderStep()),
        Task("theory_question", 2, kind="written"),
    ))

# Three short labs on what a trained GAN learned; all three look inside the classic DCGAN (gan_assignment/learned.py).
D_PROBE = Lab(
    name="d_probe", title="The discriminator as a feature extractor: a linear probe", assignment="d_probe",
    module="d_probe", notebook="DProbe.ipynb", required=False, tasks=(
        Task("discriminator_features", 3, check=learned.check_discriminator_features, spec=learned.Features()),
        Task("fit_linear_probe", 3, check=learned.check_fit_linear_probe, spec=learned.Probe()),
        Task("probe_question", 2, kind="written"),
    ))

LATENT_WALKS = Lab(
    name="latent_walks", title="Latent walks and vector arithmetic", assignment="latent_walks",
    module="latent_walks", notebook="LatentWalks.ipynb", required=False, tasks=(
        Task("slerp", 3, check=learned.check_slerp, spec=learned.Slerp()),
        Task("class_mean_direction", 2, check=learned.check_class_mean_direction, spec=learned.Direction()),
        Task("walks_question", 2, kind="written"),
    ))

SALIENCY = Lab(
    name="saliency", title="What D looks at: saliency maps", assignment="saliency",
    module="saliency", notebook="Saliency.ipynb", required=False, tasks=(
        Task("saliency_map", 3, check=learned.check_saliency_map, spec=learned.Saliency()),
        Task("latent_saliency", 2, check=learned.check_latent_saliency, spec=learned.LatentSaliency()),
        Task("saliency_question", 2, kind="written"),
    ))

WGAN_GP = Lab(
    name="wgan_gp", title="WGAN-GP: a critic, the gradient penalty and a Wasserstein estimate", assignment="wgan_gp",
    module="wgan_gp", notebook="WGANGP.ipynb", required=False, tasks=(
        Task("gradient_penalty", 3, check=wgan_gp.check_gradient_penalty, spec=wgan_gp.Penalty()),
        Task("wgan_critic_loss", 2, check=wgan_gp.check_wgan_critic_loss, builds_on=("gradient_penalty",),
             spec=wgan_gp.Penalty("wgan_critic_loss")),
        Task("wgan_generator_loss", 1, check=classic.check_loss, spec=Loss(
            ("scores_fake",), target_args=(), hint="G wants the critic to score its fakes high: -mean(scores_fake)")),
        Task("wgan_question", 2, kind="written"),
    ))

CGAN = Lab(
    name="cgan", title="A conditional GAN: ask for a digit, get that digit", assignment="cgan",
    module="cgan", notebook="ConditionalGAN.ipynb", required=False, tasks=(
        Task("conditional_generator", 2, check=cgan.check_conditional_network, spec=cgan.Conditional(
            "conditional_generator", "noise", ("noise_dim + num_classes", cgan.NOISE_DIM + cgan.NUM_CLASSES))),
        Task("conditional_discriminator", 2, check=cgan.check_conditional_network, spec=cgan.Conditional(
            "conditional_discriminator", "images", ("784 pixels + num_classes", 784 + cgan.NUM_CLASSES))),
        Task("conditional_dc_discriminator", 2, check=cgan.check_conditional_network, spec=cgan.Conditional(
            "conditional_dc_discriminator", "images", ("1 image channel + num_classes label maps",
                                                       1 + cgan.NUM_CLASSES))),
        Task("cgan_discriminator_loss", 2, check=cgan.check_conditional_loss,
             spec=cgan.ConditionalLoss("cgan_discriminator_loss")),
        Task("cgan_generator_loss", 1, check=cgan.check_conditional_loss, spec=cgan.ConditionalLoss("cgan_generator_loss")),
        Task("cgan_question", 2, kind="written"),
    ))

LABS = {lab.name: lab for lab in (CLASSIC, MODE_COLLAPSE, MLP_GAN, DCGAN, GAN_THEORY, D_PROBE, LATENT_WALKS,
                                  SALIENCY, WGAN_GP, CGAN)}


def lab_of(task_name):
    """The lab that holds the task `task_name` (task names are unique across labs)."""
    for lab in LABS.values():
        if any(t.name == task_name for t in lab.tasks):
            return lab
    raise KeyError(f"no lab has a task {task_name!r}")


def points_for(task, visible, hidden=None):
    """The points `task` earns: all of them when the visible result and the hidden one (if any) pass.

    `visible`, `hidden`: the statuses ("PASS", "FAIL", "NOT IMPLEMENTED", ...).
    """
    passed = visible == PASS and (hidden is None or hidden == PASS)
    return task.points if passed else 0


def _unique_names():
    names = [t.name for lab in LABS.values() for t in lab.tasks]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"task names must be unique across labs: {duplicated}")


_unique_names()

"""The mlp_gan lab (PyTorch-GAN's BatchNorm MLP GAN): its tasks, all checked by the generic checks.

The generator's BatchNorm1d(out_feat, 0.8) sets eps, not momentum: its spec pins
every BatchNorm's settings (norm_settings), so the check can tell a student who
wrote momentum=0.8 exactly that.
"""

from checks.core.generic import check_loss, check_network, check_optimizer
from checks.core.lab import Lab, Task
from checks.core.specs import Loss, Network, Optimizer


LAB = Lab(
    name="mlp_gan", title="The BatchNorm MLP GAN (PyTorch-GAN's gan.py)", uses=("gan_pytorch",), tasks=(
        Task("mlp_generator", 3, check=check_network, spec=Network(
            "mlp_generator", "noise", noise_dim=4, per_sample=False, default_size=True, seeded=True,
            makes=(1, 28, 28), norm_settings=True)),
        Task("mlp_discriminator", 2, check=check_network,
             spec=Network("mlp_discriminator", "images", seeded=True, low=-1.0, flat_advice=False)),
        Task("mlp_discriminator_loss", 1, check=check_loss, spec=Loss(
            ("scores_real", "scores_fake"), target_args=(), probabilities=True,
            hint="real scores have target 1, fake scores target 0, and the loss is the AVERAGE of the two BCEs")),
        Task("mlp_generator_loss", 1, check=check_loss, spec=Loss(
            ("scores_fake",), target_args=(), probabilities=True,
            hint="the generator wants its fakes called real: BCE against target 1")),
        Task("mlp_optimizer", 1, check=check_optimizer, spec=Optimizer()),
        Task("batchnorm_question", 2, kind="written"),
    ))

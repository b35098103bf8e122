"""Every hyper-parameter of the assignment, in one place.

Notebooks, the training loop, the solutions and the checks import these names
instead of repeating the numbers, so changing one here changes it everywhere
(and `make refs` then rebuilds the reference answers to match).
"""

NOISE_DIM = 96          # length of the noise vector z fed to every generator
IMAGE_SIZE = 28         # MNIST images are 28 x 28 pixels, one channel
IMAGE_DIM = IMAGE_SIZE * IMAGE_SIZE  # 784: a flattened image

BATCH_SIZE = 128        # images per training step (the classic assignment's value)
NUM_TRAIN = 50000       # the classic split: the first 50,000 MNIST training images ...
NUM_VAL = 5000          # ... and the next 5,000 held out

LEARNING_RATE = 1e-3    # Adam step size for both D and G
ADAM_BETAS = (0.5, 0.999)  # beta1 = 0.5 instead of 0.9: less momentum keeps GAN training stable

SHOW_EVERY = 250        # iterations between two snapshots of generated images
NUM_EPOCHS = {"vanilla": 10, "lsgan": 10, "dcgan": 5}  # the classic schedule

# Precision of the classic notebook's models. "auto": bf16 where the hardware computes it natively (CPUs with
# AVX-512 BF16 or AMX, recent GPUs), fp32 elsewhere. Chosen per model from full schedules in both precisions
# (README, "bf16"): LSGAN and DCGAN came out no worse in bf16 and train 1.7 to 1.9 times faster; the vanilla
# GAN lost a class and about 9 FID points in bf16 (mean of 4 seeds), so it stays in fp32.
CLASSIC_PRECISION = {"vanilla": "fp32", "lsgan": "auto", "dcgan": "auto"}

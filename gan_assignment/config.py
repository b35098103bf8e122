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

"""The course's provided code: nothing here is yours to edit (your files are gan_assignment/<lab>.py).

Core: `config` (every hyper-parameter, once), `layers`, `images`, `utils`,
`data` (MNIST and folders of images), `loop` (the training loop every training
shares), `training` (`run_a_gan` and the one GAN step it repeats), `quality`
(the quality report), `report` (training figures), `weights` (saving and loading
trained networks), `modules` (finding and importing your file), `train`
(`python -m gan_assignment`), `colab` (Google Colab's first cell), `packaging`
(`make colab`, `make submission`).

Each lab's experiments and figures, in the module of the lab's name:
`mode_collapse`, `gan_theory`, `d_probe`, `latent_walks`, `saliency`,
`wgan_gp`, `cgan`; `trained_dcgan` holds the trained classic DCGAN the
d_probe, latent_walks and saliency labs share.
"""

"""Small building blocks the networks are made of (provided, not student work)."""

import torch.nn as nn


class Flatten(nn.Module):
    """Reshape (N, C, H, W) or any (N, ...) input to (N, C*H*W)."""

    def forward(self, x):
        return x.reshape(x.shape[0], -1)


class Unflatten(nn.Module):
    """Reshape (N, C*H*W) back to (N, C, H, W).

    N defaults to -1 so the same module works for any batch size; it also
    accepts input that already has the target shape.
    """

    def __init__(self, N=-1, C=128, H=7, W=7):
        super().__init__()
        self.N, self.C, self.H, self.W = N, C, H, W

    def forward(self, x):
        return x.reshape(self.N, self.C, self.H, self.W)

    def extra_repr(self):
        return f"N={self.N}, C={self.C}, H={self.H}, W={self.W}"


def initialize_weights(m):
    """Xavier-uniform weights and zero biases for Linear and ConvTranspose2d layers.

    Use it with `model.apply(initialize_weights)`; other layers keep PyTorch's
    default initialisation (as in the classic assignment).
    """
    if isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
        nn.init.xavier_uniform_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)

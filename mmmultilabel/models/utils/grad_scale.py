"""Scale the gradient that flows back through a tensor."""

import torch
from torch import Tensor


class ScaleGradient(torch.autograd.Function):
    """Identity forward; backward multiplies the gradient by ``scale``."""

    @staticmethod
    def forward(ctx, x: Tensor, scale: float) -> Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad * ctx.scale, None


def scale_grad(x: Tensor, scale: float) -> Tensor:
    """``x`` unchanged, its gradient multiplied by ``scale`` on the way back.

    What is computed from the result learns at the full rate; what computed
    ``x`` receives ``scale`` times the gradient. ``scale=1`` returns ``x``
    itself (the graph is unchanged), ``scale=0`` stops the gradient.

    Args:
        x (Tensor): Any shape.
        scale (float): Multiplier of the gradient.

    Returns:
        Tensor: ``x``'s values, same shape.
    """
    if scale == 1:
        return x
    if scale == 0:
        return x.detach()
    return ScaleGradient.apply(x, float(scale))

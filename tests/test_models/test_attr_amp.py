"""Mixed precision: training steps under autocast stay finite.

mmengine's ``AmpOptimWrapper`` needs a GPU on this stack, so the steps run
under ``torch.autocast('cpu', dtype=torch.bfloat16)``, the context that
wrapper opens around the forward pass (on a GPU, with float16).
"""

import pytest
import torch

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric


def test_training_steps_under_bfloat16_autocast(attr_model, make_batch):
    head = attr_model.panoptic_head
    attr_dtypes = []
    head.attr_embed.register_forward_hook(
        lambda module, args, out: attr_dtypes.append(out.dtype)
    )
    optimizer = torch.optim.AdamW(attr_model.parameters(), lr=1e-4)
    for step in range(2):
        batch = make_batch(seed=step, sizes=((45, 37), (37, 45)))
        data = attr_model.data_preprocessor(batch, True)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            losses = attr_model(**data, mode='loss')
        for name, loss in losses.items():
            assert torch.isfinite(loss).all(), (step, name)
            if 'loss_attr' in name:
                # the attribute losses are computed in float32
                assert loss.dtype == torch.float32, name
        optimizer.zero_grad()
        sum(losses.values()).backward()
        for name, param in attr_model.named_parameters():
            if param.grad is not None:
                assert torch.isfinite(param.grad).all(), (step, name)
        assert head.attr_embed.weight.grad.abs().sum() > 0
        optimizer.step()
    # the attribute classifier did run in reduced precision
    assert set(attr_dtypes) == {torch.bfloat16}

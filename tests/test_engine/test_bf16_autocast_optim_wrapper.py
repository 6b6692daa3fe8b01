"""BF16AutocastOptimWrapper: the forward of a training step in bfloat16 on
the CPU, float32 weights and updates, float32 outside the step."""
import copy

import pytest
import torch
from torch import nn

from mmpose.registry import OPTIM_WRAPPERS


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(8, 2, 1))


def _wrapper(model, type_):
    return OPTIM_WRAPPERS.build(
        dict(type=type_,
             optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))


def test_forward_is_bfloat16_inside_the_step_only():
    model = _model()
    wrapper = _wrapper(model, 'BF16AutocastOptimWrapper')
    x = torch.randn(2, 3, 8, 8)
    with wrapper.optim_context(model):
        assert model(x).dtype == torch.bfloat16
    assert model(x).dtype == torch.float32


def test_step_matches_float32_step_to_bfloat16_precision():
    """One SGD step under autocast against the same step in float32: the
    weights stay float32 and move by the same update within bfloat16's
    8-bit mantissa."""
    x = torch.randn(4, 3, 8, 8)
    target = torch.randn(4, 2, 8, 8)
    results = {}
    for type_ in ('OptimWrapper', 'BF16AutocastOptimWrapper'):
        model = _model()
        before = copy.deepcopy(model[0].weight.data)
        wrapper = _wrapper(model, type_)
        with wrapper.optim_context(model):
            loss = ((model(x).float() - target)**2).mean()
        wrapper.update_params(loss)
        assert model[0].weight.dtype == torch.float32
        results[type_] = (loss.item(), model[0].weight.data - before)
    loss32, step32 = results['OptimWrapper']
    loss16, step16 = results['BF16AutocastOptimWrapper']
    assert loss16 == pytest.approx(loss32, rel=2e-2)
    assert step16.abs().sum() > 0
    rel = (step16 - step32).norm() / step32.norm()
    assert rel < 0.05


def test_head_outputs_reach_the_loss_in_float32():
    """A model with a ``head`` (mmpose's layout): the head's output is
    float32 inside the step, its own forward is back after it."""
    model = nn.Module()
    model.backbone = nn.Conv2d(3, 4, 1)
    model.head = nn.Conv2d(4, 2, 1)
    wrapper = _wrapper(model, 'BF16AutocastOptimWrapper')
    x = torch.randn(1, 3, 4, 4)
    with wrapper.optim_context(model):
        assert model.backbone(x).dtype == torch.bfloat16
        # as mmpose's heads call it from their loss
        assert model.head.forward(model.backbone(x)).dtype == torch.float32
    assert 'forward' not in vars(model.head)
    assert model.head.forward(x.new_ones(1, 4, 4, 4)).dtype == torch.float32


def test_to_float32_walks_containers():
    from rht_mmpose.engine.optim_wrappers.bf16_autocast_optim_wrapper \
        import to_float32
    b = torch.ones(2, dtype=torch.bfloat16)
    i = torch.ones(2, dtype=torch.int64)
    out = to_float32((b, [b, i], dict(h=b), 'x'))
    assert out[0].dtype == torch.float32 and out[1][0].dtype == torch.float32
    assert out[1][1].dtype == torch.int64 and out[2]['h'].dtype == \
        torch.float32 and out[3] == 'x'

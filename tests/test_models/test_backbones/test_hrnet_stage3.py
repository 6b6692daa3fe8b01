import torch
from mmpose.models.backbones import HRNet

from rht_mmpose.models.backbones import HRNetStage3

TINY_EXTRA = dict(
    stage1=dict(
        num_modules=1,
        num_branches=1,
        block='BOTTLENECK',
        num_blocks=(1, ),
        num_channels=(8, )),
    stage2=dict(
        num_modules=1,
        num_branches=2,
        block='BASIC',
        num_blocks=(1, 1),
        num_channels=(4, 8)),
    stage3=dict(
        num_modules=2,
        num_branches=3,
        block='BASIC',
        num_blocks=(1, 1, 1),
        num_channels=(4, 8, 16)),
    stage4=dict(
        num_modules=1,
        num_branches=4,
        block='BASIC',
        num_blocks=(1, 1, 1, 1),
        num_channels=(4, 8, 16, 32)))


def test_output_and_checkpoint_names():
    net = HRNetStage3(TINY_EXTRA)
    (out, ) = net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 4, 8, 8)

    full = HRNet(TINY_EXTRA)
    ours, theirs = net.state_dict(), full.state_dict()
    # every parameter loads from a stock HRNet checkpoint
    assert set(ours) <= set(theirs)
    assert all(ours[k].shape == theirs[k].shape for k in ours)
    extra = set(theirs) - set(ours)
    assert all(
        k.startswith(('transition3.', 'stage4.', 'stage3.1.fuse_layers.1.',
                      'stage3.1.fuse_layers.2.')) for k in extra), extra
    result = net.load_state_dict(theirs, strict=False)
    assert result.missing_keys == []


def test_every_parameter_gets_a_gradient():
    extra = {k: v for k, v in TINY_EXTRA.items() if k != 'stage4'}
    net = HRNetStage3(extra)
    net(torch.randn(2, 3, 32, 32))[0].sum().backward()
    assert all(p.grad is not None for p in net.parameters())

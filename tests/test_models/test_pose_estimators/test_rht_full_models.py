"""Paper-size RHT-R and RHT-H (300W: 68 landmarks + 13 boundaries) at
256x256, batch 2, one forward/backward each on CPU."""
import pytest
import torch

from mmpose.registry import MODELS
from .test_rht_pose_estimator import PREPROCESSOR, make_samples

CODEC = dict(
    type='LandmarkBoundaryHeatmap',
    input_size=(256, 256),
    heatmap_size=(128, 128),
    boundary_scheme='300w')

HRNET_W48_STAGE3 = dict(
    stage1=dict(
        num_modules=1,
        num_branches=1,
        block='BOTTLENECK',
        num_blocks=(4, ),
        num_channels=(64, )),
    stage2=dict(
        num_modules=1,
        num_branches=2,
        block='BASIC',
        num_blocks=(4, 4),
        num_channels=(48, 96)),
    stage3=dict(
        num_modules=4,
        num_branches=3,
        block='BASIC',
        num_blocks=(4, 4, 4),
        num_channels=(48, 96, 192)))


def rht_cfg(arch):
    if arch == 'R':
        backbone = dict(
            type='ResNet',
            depth=50,
            num_stages=2,
            strides=(1, 2),
            dilations=(1, 1),
            out_indices=(1, ))
        neck = dict(type='TransREncoder')
        head_arch = dict(in_channels=256, in_scale=1)
    else:
        backbone = dict(type='HRNetStage3', extra=HRNET_W48_STAGE3)
        neck = dict(type='TransHEncoder')
        head_arch = dict(in_channels=64, in_scale=2)
    return dict(
        type='RHTPoseEstimator',
        data_preprocessor=PREPROCESSOR,
        backbone=backbone,
        neck=neck,
        head=dict(
            type='RHTHead',
            num_keypoints=68,
            num_boundaries=13,
            decoder=CODEC,
            **head_arch),
        test_cfg=dict(flip_test=False))


@pytest.mark.parametrize('arch', ['R', 'H'])
def test_full_model_forward_backward(arch):
    torch.manual_seed(0)
    model = MODELS.build(rht_cfg(arch))
    model.train()
    samples = make_samples(2, 81, 68, 256, 128, 128)
    inputs = torch.randn(2, 3, 256, 256)
    shapes = []
    model.head.neck.register_forward_hook(
        lambda module, args, out: shapes.append(tuple(out.shape)))
    losses = model.loss(inputs, samples)
    assert shapes == [(2, 81, 128, 128)]
    assert torch.isfinite(losses['loss_kpt'])
    assert torch.isfinite(losses['loss_trans'])
    (losses['loss_kpt'] + losses['loss_trans']).backward()
    assert model.backbone.conv1.weight.grad is not None
    assert model.head.htm.theta_fc.weight.grad.abs().sum() > 0

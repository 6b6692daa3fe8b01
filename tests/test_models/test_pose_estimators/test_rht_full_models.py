"""Paper-size RHT-R, RHT-R-lite and RHT-H (300W: 68 landmarks + 13 boundaries) at
256x256, batch 2, one forward/backward each on CPU."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmpose.registry import MODELS
from tests.conftest import REPO_ROOT
from .test_rht_pose_estimator import PREPROCESSOR, make_samples

CONFIGS = {
    'R': 'experiments/rht_res50_300w_subset.py',
    'R-lite': 'experiments/rht_res50_lite_300w_subset.py',
    'H': 'experiments/rht_hrnet_w48_300w_subset.py'
}


def rht_cfg(arch):
    """The model dict of the repo's RHT-R / RHT-H config (68 + 13 maps,
    backbones from random init), flip test off."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', CONFIGS[arch]))
    model = cfg.model.to_dict()
    model['data_preprocessor'] = PREPROCESSOR
    model['test_cfg'] = dict(flip_test=False)
    return model


@pytest.mark.parametrize('arch', ['R', 'R-lite', 'H'])
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
    # every fusion block got a gradient (1x1 ones in RHT-R-lite)
    for blocks in model.head.neck.fuse_blocks:
        for block in blocks:
            assert block.conv.conv.weight.grad.abs().sum() > 0

"""OpenMMLab model-zoo weights load into RHT's backbones unchanged.

No network: the checkpoints are written here in the zoo's formats from
mmpose's own models (random weights), then loaded the way the configs load
them (``init_cfg=dict(type='Pretrained', checkpoint=...)`` and
``init_weights()``):

- ``torchvision://resnet50``: a plain state_dict with torchvision keys (no
  ``backbone.`` prefix), layer1-4 and fc; RHT-R keeps the stem, layer1 and
  layer2, so layer3 / layer4 / fc must be reported as unexpected.
- mmpose's ``hrnet_w48-8ef0771d.pth``: a plain HRNet-W48 state_dict (stages
  1-4 and an ImageNet head); RHT-H (HRNetStage3) must report transition3,
  stage4, the head and the last stage-3 module's fusions into the low
  resolution branches as unexpected.
- an mmpose face model (``TopdownPoseEstimator`` checkpoint, keys
  ``backbone.*`` / ``head.*`` under ``state_dict``) with
  ``prefix='backbone.'``.
"""
import logging
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

import rht_mmpose  # noqa: F401
from mmpose.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

HRNET_W48_FULL = dict(
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
        num_channels=(48, 96, 192)),
    stage4=dict(
        num_modules=3,
        num_branches=4,
        block='BASIC',
        num_blocks=(4, 4, 4, 4),
        num_channels=(48, 96, 192, 384)))


class _Capture(logging.Handler):

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.text = []

    def emit(self, record):
        self.text.append(record.getMessage())


def init_and_capture(module):
    """``module.init_weights()``; returns what mmengine logged."""
    logger = MMLogger.get_current_instance()
    handler = _Capture()
    logger.addHandler(handler)
    try:
        module.init_weights()
    finally:
        logger.removeHandler(handler)
    return '\n'.join(handler.text)


def reported_keys(log, kind):
    """Keys listed after mmengine's 'unexpected key' / 'missing keys'."""
    for line in log.splitlines():
        if line.startswith(f'{kind} in source state_dict:'):
            return [k.strip() for k in line.split(':', 1)[1].split(',')]
    return []


def randomise(module, seed):
    """Distinct non-default values everywhere, BN buffers included."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            if t.dtype.is_floating_point:
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)


def config_backbone(name, checkpoint, **extra):
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    backbone = cfg.model.backbone.to_dict()
    assert backbone['init_cfg']['type'] == 'Pretrained'
    backbone['init_cfg'] = dict(
        type='Pretrained', checkpoint=checkpoint, **extra)
    return backbone


def assert_arrived(target, source_sd, prefix=''):
    target_sd = target.state_dict()
    assert target_sd, 'empty target'
    for k, v in target_sd.items():
        if k.endswith('num_batches_tracked'):
            continue
        assert prefix + k in source_sd, k
        torch.testing.assert_close(v, source_sd[prefix + k], rtol=0, atol=0)


@pytest.fixture(scope='module')
def resnet50_ckpt(tmp_path_factory):
    """A torchvision-format ResNet-50 checkpoint from mmpose's ResNet."""
    init_default_scope('mmpose')
    net = MODELS.build(dict(type='ResNet', depth=50))
    randomise(net, 1)
    sd = net.state_dict()
    fc = torch.nn.Linear(2048, 1000)
    sd['fc.weight'], sd['fc.bias'] = fc.weight.detach(), fc.bias.detach()
    assert 'conv1.weight' in sd and 'bn1.running_mean' in sd
    assert 'layer1.0.downsample.0.weight' in sd  # torchvision names
    path = str(tmp_path_factory.mktemp('zoo') / 'resnet50-torchvision.pth')
    torch.save(sd, path)
    return path, sd


def test_torchvision_resnet50_into_rht_r(resnet50_ckpt):
    init_default_scope('mmpose')
    path, sd = resnet50_ckpt
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'rht_res50_300w.py'))
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=path)
    model = MODELS.build(cfg.model)
    before_head = {
        k: v.clone()
        for k, v in model.head.state_dict().items()
    }
    log = init_and_capture(model)
    assert_arrived(model.backbone, sd)
    unexpected = reported_keys(log, 'unexpected key')
    assert unexpected, log
    assert {k.split('.')[0]
            for k in unexpected} == {'layer3', 'layer4', 'fc'}
    assert set(unexpected) == {
        k
        for k in sd if k.split('.')[0] in ('layer3', 'layer4', 'fc')
    }
    assert not reported_keys(log, 'missing keys'), log
    # the head is initialised by its own init_cfg, not by the checkpoint
    changed = [
        k for k, v in model.head.state_dict().items()
        if not torch.equal(v, before_head[k])
    ]
    assert changed


def test_mmpose_hrnet_w48_into_rht_h(tmp_path):
    init_default_scope('mmpose')
    net = MODELS.build(dict(type='HRNet', extra=HRNET_W48_FULL))
    randomise(net, 2)
    sd = net.state_dict()
    # the ImageNet classifier that the zoo file also holds
    sd['classifier.weight'] = torch.rand(1000, 2048)
    sd['classifier.bias'] = torch.rand(1000)
    path = str(tmp_path / 'hrnet_w48-imagenet.pth')
    torch.save(sd, path)

    backbone = MODELS.build(config_backbone('rht_hrnet_w48_300w.py', path))
    log = init_and_capture(backbone)
    assert_arrived(backbone, sd)
    unexpected = set(reported_keys(log, 'unexpected key'))
    # transition3, stage4, the classifier, and the last stage-3 module's
    # fusions into the 1/8 and 1/16 branches (HRNetStage3 keeps only the
    # 1/4 output)
    last = f'stage3.{HRNET_W48_FULL["stage3"]["num_modules"] - 1}'
    expected = {
        k
        for k in sd
        if k.startswith(('transition3.', 'stage4.', 'classifier.',
                         f'{last}.fuse_layers.1.', f'{last}.fuse_layers.2.'))
    }
    assert unexpected == expected, unexpected ^ expected
    assert not reported_keys(log, 'missing keys'), log


def test_mmpose_face_model_backbone_with_prefix(tmp_path):
    """Start RHT-R from an mmpose face model (here the Table V ResNet-50
    heatmap baseline) with ``prefix='backbone.'``."""
    init_default_scope('mmpose')
    face_cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'baselines', 'res50_300w.py'))
    face_cfg.model.backbone.init_cfg = None
    face = MODELS.build(face_cfg.model)
    assert type(face).__name__ == 'TopdownPoseEstimator'
    randomise(face, 3)
    sd = face.state_dict()
    assert all(k.startswith(('backbone.', 'head.')) for k in sd)
    path = str(tmp_path / 'td-hm_res50_300w.pth')
    torch.save(dict(meta=dict(epoch=60), state_dict=sd), path)

    backbone = MODELS.build(
        config_backbone('rht_res50_300w.py', path, prefix='backbone.'))
    log = init_and_capture(backbone)
    assert_arrived(backbone, sd, prefix='backbone.')
    unexpected = reported_keys(log, 'unexpected key')
    assert {k.split('.')[0] for k in unexpected} == {'layer3', 'layer4'}
    assert not any(k.startswith('head') for k in unexpected)

    # without the prefix nothing matches: every key is reported
    backbone = MODELS.build(config_backbone('rht_res50_300w.py', path))
    log = init_and_capture(backbone)
    assert reported_keys(log, 'missing keys')

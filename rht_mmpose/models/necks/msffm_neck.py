"""Multi-Scale Feature Fusion Module (MSFFM), eqs. 5-6 of RHT."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import Tensor, nn

from mmpose.registry import MODELS


class FeatureFusionBlock(nn.Module):
    """``F'_G = F_G + Conv(Concat(F_E, F_S, F_G))`` (eq. 5).

    Args:
        fg_channels (int): channels of F_G
        ref_channels (int): channels of each transformed feature
        num_refs (int): how many transformed features are concatenated
            (2 = F_E and F_S, 1 in the single-module ablations)
        kernel_size (int): of the fusion conv, odd. Defaults to 3
    """

    def __init__(self,
                 fg_channels: int,
                 ref_channels: int,
                 num_refs: int,
                 kernel_size: int = 3):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'fusion kernel_size is {kernel_size}, '
                             'expected a positive odd int')
        self.conv = ConvModule(
            fg_channels + num_refs * ref_channels,
            fg_channels,
            kernel_size=kernel_size,
            padding=kernel_size // 2,
            norm_cfg=dict(type='BN'))

    def forward(self, fg: Tensor, refs: Sequence[Tensor]) -> Tensor:
        """fg (B, C_G, h, w), refs each (B, C_s, h, w) -> (B, C_G, h, w)."""
        return fg + self.conv(torch.cat([*refs, fg], dim=1))


@MODELS.register_module()
class MSFFMNeck(nn.Module):
    """Multi-Scale Feature Fusion Module.

    A chain of Feature Fusion blocks from the coarsest to the finest scale
    (eq. 5), a transposed convolution (x2, eq. 6) between scales, and a final
    1x1 convolution to the M + P heatmaps.

    Scales are counted relative to the 1x grid of the transformed features
    (32x32 for RHT). The global feature F_G enters at ``in_scale``:

    - Trans-R: F_G (256, 32, 32), ``in_scale=1``: fusion at 1x, 2x and 4x.
    - Trans-H: F_G (64, 64, 64), ``in_scale=2``: the 1x transformed
      features are upsampled (bilinear) to 2x and fused there in their own
      block, then the 2x features, then 4x; every scale contributes.

    With ``with_reference=False`` no fusion happens (the plain Trans-R /
    Trans-H baseline: deconvolutions and the final conv only).

    Note:
        - B: batch size
        - C_G: channels of F_G at its scale (``fg_channels``)
        - C_s: channels of the transformed features at scale s
        - H, W: height and width of the 1x grid
        - K, P: landmark and boundary heatmaps, ``out_channels = K + P``

    Args:
        out_channels (int): heatmap channels K + P
        in_scale (int): scale of the incoming F_G. Defaults to 1
        fg_channels (Sequence[int]): channels of F_G at every scale from
            ``in_scale`` to the finest ref scale (one entry per x2 step);
            ``fg_channels[0]`` is the encoder's output channels. Defaults to
            ``(256, 128, 64)``
        ref_scales (Sequence[int]): scales of the transformed features,
            coarse to fine. Defaults to ``(1, 2, 4)``
        ref_channels (Sequence[int]): their channels. Defaults to
            ``(256, 128, 64)``
        with_reference (bool): fuse the transformed features. Defaults to
            True
        use_stm (bool): fuse F_S. Defaults to True
        use_htm (bool): fuse F_E. Defaults to True
        fuse_scales (Sequence[int], optional): the ref scales that are
            fused; ``None`` fuses all (MSFFM). ``(1, )`` is the paper's
            "without MSFFM" ablation: the transformed features enter once,
            at the coarsest scale, and the rest of the path is plain
            deconvolutions. Defaults to None
        fusion_kernel_size (int): of the fusion convs. Defaults to 3
        lateral_channels (Sequence[int]): channels of backbone features
            added after each deconvolution, one per finer F_G scale
            (``fg_scales[1:]``, coarse to fine), each through a 1x1 conv
            (FPN-style lateral connections: detail the stride-16 grid
            lacks). Not in the paper. Defaults to () (none)
    """

    def __init__(self,
                 out_channels: int,
                 in_scale: int = 1,
                 fg_channels: Sequence[int] = (256, 128, 64),
                 ref_scales: Sequence[int] = (1, 2, 4),
                 ref_channels: Sequence[int] = (256, 128, 64),
                 with_reference: bool = True,
                 use_stm: bool = True,
                 use_htm: bool = True,
                 fuse_scales: Optional[Sequence[int]] = None,
                 fusion_kernel_size: int = 3,
                 lateral_channels: Sequence[int] = ()):
        super().__init__()
        self.ref_scales = tuple(ref_scales)
        self.ref_channels = tuple(ref_channels)
        self.fg_channels = tuple(fg_channels)
        if len(self.ref_scales) != len(self.ref_channels):
            raise ValueError(f'ref_scales {self.ref_scales} and ref_channels '
                             f'{self.ref_channels} differ in length')
        self.out_scale = self.ref_scales[-1]
        self.fg_scales = tuple(in_scale * 2**i
                               for i in range(len(self.fg_channels)))
        if self.fg_scales[-1] != self.out_scale:
            raise ValueError(
                f'fg_channels {self.fg_channels} starting at scale '
                f'{in_scale} end at scale {self.fg_scales[-1]}, expected to '
                f'end at the finest ref scale {self.out_scale}')
        if with_reference and not (use_stm or use_htm):
            raise ValueError('with_reference=True needs use_stm or use_htm')
        self.in_scale = in_scale
        self.with_reference = with_reference
        self.use_stm = use_stm
        self.use_htm = use_htm
        num_refs = int(use_stm) + int(use_htm)
        if fuse_scales is None:
            fuse_scales = self.ref_scales
        unknown = set(fuse_scales) - set(self.ref_scales)
        if unknown or not fuse_scales:
            raise ValueError(f'fuse_scales {tuple(fuse_scales)}, expected a '
                             f'non-empty subset of ref_scales '
                             f'{self.ref_scales}')
        self.fuse_scales = tuple(fuse_scales)

        # which ref scales are fused at each F_G scale: coarser ones than
        # in_scale are brought up to in_scale and fused there first
        self.fuse_plan = [[
            i for i, s in enumerate(self.ref_scales)
            if (s == fg_scale or (fg_scale == in_scale and s < in_scale))
            and s in self.fuse_scales
        ] for fg_scale in self.fg_scales]
        self.fuse_blocks = nn.ModuleList()
        if with_reference:
            for fg_ch, plan in zip(self.fg_channels, self.fuse_plan):
                self.fuse_blocks.append(
                    nn.ModuleList([
                        FeatureFusionBlock(fg_ch, self.ref_channels[i],
                                           num_refs, fusion_kernel_size)
                        for i in plan
                    ]))
        self.deconvs = nn.ModuleList([
            nn.Sequential(
                nn.ConvTranspose2d(
                    c_in, c_out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))
            for c_in, c_out in zip(self.fg_channels[:-1],
                                   self.fg_channels[1:])
        ])
        self.final_layer = nn.Conv2d(self.fg_channels[-1], out_channels, 1)
        self.lateral_channels = tuple(lateral_channels)
        if self.lateral_channels and \
                len(self.lateral_channels) != len(self.deconvs):
            raise ValueError(
                f'lateral_channels {self.lateral_channels}: expected none or '
                f'one per F_G scale after {in_scale}, '
                f'{self.fg_scales[1:]}')
        self.laterals = nn.ModuleList([
            nn.Conv2d(c_in, c_out, 1)
            for c_in, c_out in zip(self.lateral_channels, self.fg_channels[1:])
        ])

    def forward(self,
                fg: Tensor,
                soft: Optional[Sequence[Tensor]] = None,
                hard: Optional[Sequence[Tensor]] = None,
                laterals: Sequence[Tensor] = ()) -> Tensor:
        """Fuse and predict heatmaps.

        Args:
            fg (Tensor): F_G, (B, C_G, in_scale*H, in_scale*W)
            soft (Sequence[Tensor], optional): F_S per ref scale s, each
                (B, C_s, s*H, s*W); needed when ``use_stm``
            hard (Sequence[Tensor], optional): F_E per ref scale, same shapes;
                needed when ``use_htm``
            laterals (Sequence[Tensor]): one per ``lateral_channels``,
                (B, C_l, s*H, s*W) at F_G scale s (coarse to fine)

        Returns:
            Tensor: heatmaps, (B, K + P, out_scale*H, out_scale*W)
        """
        if fg.dim() != 4 or fg.shape[1] != self.fg_channels[0]:
            raise ValueError(f'F_G has shape {tuple(fg.shape)}, expected '
                             f'(B, {self.fg_channels[0]}, h, w)')
        self._check_laterals(fg, laterals)
        if self.with_reference:
            ref_feats = self._check_refs(fg, soft, hard)
        x = fg
        for i, fg_scale in enumerate(self.fg_scales):
            if self.with_reference:
                for block, ref_idx in zip(self.fuse_blocks[i],
                                          self.fuse_plan[i]):
                    x = block(x, [self._resize(r, x.shape[-2:])
                                  for r in ref_feats[ref_idx]])
            if i < len(self.deconvs):
                x = self.deconvs[i](x)
                if self.laterals:
                    x = x + self.laterals[i](laterals[i])
        return self.final_layer(x)

    def _check_laterals(self, fg: Tensor, laterals: Sequence[Tensor]):
        if len(laterals) != len(self.lateral_channels):
            raise ValueError(f'got {len(laterals)} lateral features, '
                             f'expected {len(self.lateral_channels)} '
                             f'(lateral_channels {self.lateral_channels})')
        self._check_shapes('lateral', fg, laterals, self.fg_scales[1:],
                           self.lateral_channels)

    def _check_shapes(self, name: str, fg: Tensor, feats: Sequence[Tensor],
                      scales: Sequence[int], channels: Sequence[int]):
        """Each of ``feats`` is (B, C, s*H, s*W) at its scale s of the 1x
        grid (H, W) of F_G."""
        b, _, hg, wg = fg.shape
        h, w = hg // self.in_scale, wg // self.in_scale
        for s, c, feat in zip(scales, channels, feats):
            expected = (b, c, s * h, s * w)
            if tuple(feat.shape) != expected:
                raise ValueError(
                    f'{name} features at scale {s}x have shape '
                    f'{tuple(feat.shape)}, expected {expected} for F_G of '
                    f'{hg}x{wg} at scale {self.in_scale}')

    @staticmethod
    def _resize(x: Tensor, size) -> Tensor:
        if tuple(x.shape[-2:]) == tuple(size):
            return x
        return F.interpolate(
            x, size=tuple(size), mode='bilinear', align_corners=False)

    def _check_refs(self, fg: Tensor, soft, hard) -> List[List[Tensor]]:
        """Validate the transformed features; returns per scale the list of
        tensors to concatenate (F_E before F_S)."""
        used = []
        if self.use_htm:
            used.append(('hard (F_E)', hard))
        if self.use_stm:
            used.append(('soft (F_S)', soft))
        hg, wg = fg.shape[-2:]
        if hg % self.in_scale or wg % self.in_scale:
            raise ValueError(f'F_G size {hg}x{wg} is not a multiple of '
                             f'in_scale {self.in_scale}')
        for name, feats in used:
            if feats is None or len(feats) != len(self.ref_scales):
                raise ValueError(
                    f'{name} features: got '
                    f'{None if feats is None else len(feats)} maps, expected '
                    f'{len(self.ref_scales)} (scales {self.ref_scales})')
            self._check_shapes(name, fg, feats, self.ref_scales,
                               self.ref_channels)
        return [[feats[i] for _, feats in used]
                for i in range(len(self.ref_scales))]

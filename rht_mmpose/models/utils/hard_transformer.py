"""Hard Transformation Module (HTM), eq. 4 of RHT (Wan et al., TIP 2023)."""
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import Tensor, nn

from mmpose.registry import MODELS


def exact_affine_grid(theta: Tensor, size: Tuple[int, int]) -> Tensor:
    """Sampling grid of a 2D affine map, like ``F.affine_grid`` with
    ``align_corners=False``.

    ``F.affine_grid`` builds its base grid with ``linspace`` and a matmul, so
    the identity map is off by ~1e-7 and ``grid_sample`` of the identity is
    not the input. Here the base coordinates ``(2i + 1) / W - 1`` are computed
    directly and mapped elementwise; for power-of-two sizes (RHT's 32, 64,
    128) the identity map then samples every pixel exactly.

    Args:
        theta (Tensor): affine matrices, (B, 2, 3)
        size (tuple): output (H, W)

    Returns:
        Tensor: normalised sampling positions (x, y), (B, H, W, 2)
    """
    h, w = size
    xs = (torch.arange(w, device=theta.device, dtype=theta.dtype) * 2 + 1) / w
    ys = (torch.arange(h, device=theta.device, dtype=theta.dtype) * 2 + 1) / h
    y, x = torch.meshgrid(ys - 1, xs - 1, indexing='ij')  # (H, W) each
    t = theta[:, :, :, None, None]  # (B, 2, 3, 1, 1)
    grid_x = t[:, 0, 0] * x + t[:, 0, 1] * y + t[:, 0, 2]  # (B, H, W)
    grid_y = t[:, 1, 0] * x + t[:, 1, 1] * y + t[:, 1, 2]
    return torch.stack([grid_x, grid_y], dim=-1)


@MODELS.register_module()
class HardTransformer(nn.Module):
    """Hard Transformation Module: a spatial transformer (Jaderberg et al.,
    NIPS 2015) that warps the reference values with one affine map.

    A localisation net reads the concatenated target and reference features
    of the 1x scale and regresses the 6 parameters of an affine matrix
    Theta; its last layer has zero weight and the identity as bias, so at
    initialisation the module returns its input. Every value scale is warped
    with the same Theta (normalised coordinates, bilinear, zero padding,
    ``align_corners=False``).

    Note:
        - B: batch size
        - C: channels of the target / reference features at 1x
        - C_s: channels of the value features at scale s
        - H, W: height and width of the 1x grid

    Args:
        in_channels (int): channels C of the target features (the reference
            features have the same). Defaults to 256
        hidden_channels (Sequence[int]): output channels of the stride-2
            Conv-BN-ReLU layers of the localisation net. Defaults to
            ``(128, 64)``
        fc_channels (int): width of the hidden fully connected layer.
            Defaults to 64
    """

    def __init__(self,
                 in_channels: int = 256,
                 hidden_channels: Sequence[int] = (128, 64),
                 fc_channels: int = 64):
        super().__init__()
        self.in_channels = in_channels
        convs = []
        channels = 2 * in_channels
        for out_channels in hidden_channels:
            convs.append(
                ConvModule(
                    channels,
                    out_channels,
                    kernel_size=3,
                    stride=2,
                    padding=1,
                    norm_cfg=dict(type='BN')))
            channels = out_channels
        self.loc_convs = nn.Sequential(*convs)
        self.loc_fc = nn.Sequential(
            nn.Linear(channels, fc_channels), nn.ReLU(inplace=True))
        self.theta_fc = nn.Linear(fc_channels, 6)
        self.reset_theta()

    def reset_theta(self) -> None:
        """Zero weight and identity bias of the last layer."""
        nn.init.zeros_(self.theta_fc.weight)
        with torch.no_grad():
            self.theta_fc.bias.copy_(
                torch.tensor([1., 0., 0., 0., 1., 0.]))

    def init_weights(self) -> None:
        """Keep the identity start when a parent applies its init_cfg."""
        self.reset_theta()

    def localise(self, target: Tensor, reference: Tensor) -> Tensor:
        """Regress the affine matrix.

        Args:
            target (Tensor): target features at 1x, (B, C, H, W)
            reference (Tensor): reference features at 1x, (B, C, H, W)

        Returns:
            Tensor: Theta, (B, 2, 3)
        """
        if target.shape != reference.shape or target.dim() != 4 \
                or target.shape[1] != self.in_channels:
            raise ValueError(
                f'target {tuple(target.shape)} and reference '
                f'{tuple(reference.shape)} must both be (B, '
                f'{self.in_channels}, H, W)')
        x = self.loc_convs(torch.cat([target, reference], dim=1))
        x = self.loc_fc(x.mean(dim=(2, 3)))  # (B, fc_channels)
        return self.theta_fc(x).view(-1, 2, 3)

    @staticmethod
    def warp(values: Sequence[Tensor], theta: Tensor) -> List[Tensor]:
        """Warp every value map with Theta.

        Args:
            values (Sequence[Tensor]): each (B, C_s, H_s, W_s)
            theta (Tensor): (B, 2, 3)

        Returns:
            List[Tensor]: F_E, each (B, C_s, H_s, W_s)
        """
        outs = []
        for value in values:
            grid = exact_affine_grid(theta.to(value.dtype), value.shape[-2:])
            outs.append(
                F.grid_sample(
                    value,
                    grid,
                    mode='bilinear',
                    padding_mode='zeros',
                    align_corners=False))
        return outs

    def forward(self, target: Tensor, reference: Tensor,
                values: Sequence[Tensor]) -> Tuple[List[Tensor], Tensor]:
        """Warp the reference values onto the target.

        Args:
            target (Tensor): target features at 1x, (B, C, H, W)
            reference (Tensor): reference features at 1x, (B, C, H, W)
            values (Sequence[Tensor]): reference values, each
                (B, C_s, H_s, W_s)

        Returns:
            tuple:
            - warped (List[Tensor]): F_E, each (B, C_s, H_s, W_s)
            - theta (Tensor): (B, 2, 3)
        """
        theta = self.localise(target, reference)
        return self.warp(values, theta), theta

"""TransPose-style transformer encoder on a CNN feature map (Yang et al.,
ICCV 2021), shared by :class:`TransREncoder` and :class:`TransHEncoder`."""
import math
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType


def sine_position_encoding(height: int,
                           width: int,
                           embed_dims: int,
                           temperature: float = 10000.,
                           scale: float = 2 * math.pi,
                           device=None) -> Tensor:
    """2D sine position encoding as in TransPose (normalised cumulative
    coordinates, half the channels for y then half for x).

    Args:
        height (int): H
        width (int): W
        embed_dims (int): D, even

    Returns:
        Tensor: (H*W, 1, D), row-major positions
    """
    if embed_dims % 2:
        raise ValueError(f'embed_dims {embed_dims} must be even for a 2D sine '
                         'position encoding')
    half = embed_dims // 2
    eps = 1e-6
    y_embed = torch.arange(1, height + 1, dtype=torch.float32, device=device)
    x_embed = torch.arange(1, width + 1, dtype=torch.float32, device=device)
    y_embed = (y_embed / (height + eps) * scale)[:, None].expand(height, width)
    x_embed = (x_embed / (width + eps) * scale)[None, :].expand(height, width)
    dim_t = torch.arange(half, dtype=torch.float32, device=device)
    dim_t = temperature**(2 * torch.div(dim_t, 2, rounding_mode='floor') /
                          half)
    pos = torch.stack((y_embed, x_embed), dim=2)[..., None] / dim_t
    # (H, W, 2, D/4, 2): y's half before x's, sin / cos interleaved in each
    pos = torch.stack((pos[..., 0::2].sin(), pos[..., 1::2].cos()), dim=4)
    return pos.reshape(height * width, 1, embed_dims)  # (HW, 1, D)


class TransPoseEncoderLayer(nn.Module):
    """Post-norm encoder layer of TransPose / DETR: the position encoding is
    added to queries and keys (not values) in every layer.

    Args:
        embed_dims (int): D
        num_heads (int): attention heads
        feedforward_channels (int): hidden width of the FFN
        dropout (float): dropout rate
    """

    def __init__(self, embed_dims: int, num_heads: int,
                 feedforward_channels: int, dropout: float):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout)
        self.linear1 = nn.Linear(embed_dims, feedforward_channels)
        self.linear2 = nn.Linear(feedforward_channels, embed_dims)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(self, src: Tensor, pos: Tensor) -> Tensor:
        """src (HW, B, D), pos (HW, 1, D) -> (HW, B, D)."""
        q = k = src + pos
        src = self.norm1(src + self.dropout1(
            self.self_attn(q, k, value=src, need_weights=False)[0]))
        ffn = self.linear2(self.dropout(F.relu(self.linear1(src))))
        return self.norm2(src + self.dropout2(ffn))


@MODELS.register_module()
class TransPoseEncoder(BaseModule):
    """1x1 reduction of one backbone level, then a TransPose encoder.

    Note:
        - B: batch size
        - C_in: channels of the chosen backbone output
        - D: ``embed_dims``
        - H, W: its height and width (the encoder keeps them)

    Args:
        in_channels (int): C_in
        embed_dims (int): D
        num_layers (int): encoder layers
        num_heads (int): attention heads
        feedforward_channels (int): FFN width
        dropout (float): dropout rate. Defaults to 0.1
        in_index (int): which backbone output to read. Defaults to -1
        lateral_indices (Sequence[int]): backbone outputs passed on
            unchanged ahead of F_G, coarse to fine, for a head that adds
            finer detail on its way up (``MSFFMNeck(lateral_channels=...)``).
            Defaults to () (F_G only)
        init_cfg (dict, optional): initialisation config. By default the
            transformer matrices get Xavier-uniform (as TransPose) and the
            reduction conv keeps PyTorch's default.
    """

    def __init__(self,
                 in_channels: int,
                 embed_dims: int,
                 num_layers: int,
                 num_heads: int,
                 feedforward_channels: int,
                 dropout: float = 0.1,
                 in_index: int = -1,
                 lateral_indices: Sequence[int] = (),
                 init_cfg: OptConfigType = None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.in_index = in_index
        self.lateral_indices = tuple(lateral_indices)
        self.reduce = nn.Conv2d(in_channels, embed_dims, 1, bias=False)
        self.layers = nn.ModuleList([
            TransPoseEncoderLayer(embed_dims, num_heads, feedforward_channels,
                                  dropout) for _ in range(num_layers)
        ])
        self._reset_transformer()

    def _reset_transformer(self) -> None:
        for p in self.layers.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def init_weights(self) -> None:
        super().init_weights()
        if self.init_cfg is None:
            self._reset_transformer()

    def forward(self, inputs: Tuple[Tensor]) -> Tuple[Tensor]:
        """Encode.

        Args:
            inputs (Tuple[Tensor]): backbone outputs; ``inputs[in_index]`` is
                (B, C_in, H, W)

        Returns:
            Tuple[Tensor]: ``(F_G,)`` with F_G (B, D, H, W), after the
            ``lateral_indices`` outputs when there are any
        """
        if not isinstance(inputs, (tuple, list)):
            inputs = (inputs, )
        for i in (self.in_index, *self.lateral_indices):
            if not -len(inputs) <= i < len(inputs):
                raise ValueError(f'backbone output index {i} out of range: '
                                 f'the backbone gives {len(inputs)} outputs')
        x = inputs[self.in_index]
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'backbone output has shape {tuple(x.shape)}, '
                             f'expected (B, {self.in_channels}, H, W)')
        x = self.reduce(x)
        b, d, h, w = x.shape
        pos = sine_position_encoding(h, w, d, device=x.device).to(x.dtype)
        src = x.flatten(2).permute(2, 0, 1)  # (HW, B, D)
        for layer in self.layers:
            src = layer(src, pos)
        fg = src.permute(1, 2, 0).reshape(b, d, h, w)  # (B, D, H, W)
        return (*[inputs[i] for i in self.lateral_indices], fg)

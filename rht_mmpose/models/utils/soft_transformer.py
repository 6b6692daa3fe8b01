"""Soft Transformation Module (STM), eqs. 1-3 of RHT (Wan et al., TIP 2023).

Texture-transfer pattern of TTSR (Yang et al., CVPR 2020): a hard attention
index and a soft confidence from the correlation of 3x3 patches at the
coarsest (1x) scale, the same index reused to move value patches at every
finer scale.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpose.registry import MODELS


@MODELS.register_module()
class SoftTransformer(nn.Module):
    """Soft Transformation Module.

    For every target position ``i`` of the 1x grid, the 3x3 patch of the
    target query ``Q`` (zero padding 1) is compared with every 3x3 patch of
    the reference key ``K`` by the cosine of the flattened, L2-normalised
    patch vectors::

        C[i, j] = <q_i / |q_i|, k_j / |k_j|>
        D[i] = argmax_j C[i, j]        (index, eq. 2)
        A[i] = max_j C[i, j]           (confidence, eq. 3)

    Value features ``V`` of scale ``s`` (``s * H`` x ``s * W``) are cut into
    patches of size ``3s`` with stride ``s`` and padding ``s`` (one patch per
    1x position), the patch at ``D[i]`` is moved to position ``i`` and the
    patches are folded back, overlaps averaged by the fold of ones. The
    output at each scale is ``F_S = F_T * A`` with ``A`` resized bilinearly
    to that scale. The correlation only ever exists at the 1x scale.

    Note:
        - B: batch size
        - C: channels of Q and K at the 1x scale
        - C_s: channels of the value features at scale s
        - H, W: height and width of the 1x grid
        - N: number of 1x positions, ``H * W``

    Args:
        scales (Sequence[int]): scale factor of every value feature map with
            respect to the 1x grid, in the order ``values`` is given.
            Defaults to ``(1, 2, 4)``
        chunk_size (int, optional): about how many target positions have
            their correlations with all reference positions held at once
            (whole rows of the 1x grid, at least one). ``None`` builds the
            whole (N, N) matrix. Both come from a Gram matrix of per-pixel
            features (9x fewer multiply-adds than unfolded patches, see
            :meth:`_correlate_gram`); chunked memory is about
            ``B * N * chunk_size`` floats, same results.
            Defaults to ``None``
        eps (float): guard of the patch L2 normalisation. Defaults to 1e-12
    """

    def __init__(self,
                 scales: Sequence[int] = (1, 2, 4),
                 chunk_size: Optional[int] = None,
                 eps: float = 1e-12):
        super().__init__()
        scales = tuple(int(s) for s in scales)
        if len(scales) == 0 or any(s < 1 for s in scales):
            raise ValueError(f'scales {scales} must be positive integers')
        if chunk_size is not None and (not isinstance(chunk_size, int)
                                       or chunk_size < 1):
            raise ValueError(
                f'chunk_size is {chunk_size!r}, expected None or a positive '
                'int')
        self.scales = scales
        self.chunk_size = chunk_size
        self.eps = eps

    def correlate(self, query: Tensor, key: Tensor) -> Tuple[Tensor, Tensor]:
        """Index and confidence of the best reference patch per target patch.

        Args:
            query (Tensor): target features at 1x, (B, C, H, W)
            key (Tensor): reference features at 1x, (B, C, H, W)

        Returns:
            tuple:
            - confidence (Tensor): max correlation A, (B, N), float32 (or
              float64 for float64 inputs)
            - index (Tensor): argmax D (reference position), (B, N), int64
        """
        if query.dim() != 4 or query.shape != key.shape:
            raise ValueError(
                f'query {tuple(query.shape)} and key {tuple(key.shape)} must '
                'be 4-D tensors of the same shape (B, C, H, W)')
        # float32 at least, also under autocast: the argmax must not flip
        # between near-equal patches because of fp16 rounding
        dtype = torch.promote_types(query.dtype, torch.float32)
        with torch.autocast(device_type=query.device.type, enabled=False):
            return self._correlate_gram(query.to(dtype), key.to(dtype))

    def _correlate_gram(self, query: Tensor,
                        key: Tensor) -> Tuple[Tensor, Tensor]:
        """The correlation without unfolding the patches.

        The dot product of two 3x3 patches is the sum, over the 9 offsets,
        of per-pixel dot products, so one Gram matrix of the zero-padded
        per-pixel features gives every patch product by 9 shifted slices:
        9x fewer multiply-adds than the (N, 9C) x (9C, N) product, same
        result up to float rounding. Patch norms come from a 3x3 box sum of
        per-pixel squared norms. With ``chunk_size`` the target rows are
        taken a block at a time (each block's Gram rows plus a 2-row halo),
        so at most about ``chunk_size`` target positions are held against
        all reference positions.

        Args:
            query (Tensor): (B, C, H, W)
            key (Tensor): (B, C, H, W)

        Returns:
            tuple: confidence (B, N) and index (B, N), as :meth:`correlate`
        """
        b, c, h, w = query.shape
        hp, wp = h + 2, w + 2
        q_pad = F.pad(query, (1, 1, 1, 1)).flatten(2)  # (B, C, Hp*Wp)
        k_pad = F.pad(key, (1, 1, 1, 1)).flatten(2)

        q_norm, k_norm = self._patch_norm(query), self._patch_norm(key)
        rows = h if self.chunk_size is None else max(
            1, min(h, self.chunk_size // w))
        confs, idxs = [], []
        for y0 in range(0, h, rows):
            r = min(rows, h - y0)
            # (B, r+2, Wp, Hp, Wp): per-pixel dot products of the block's
            # padded target rows (with halo) x every reference pixel
            q_rows = q_pad[:, :, y0 * wp:(y0 + r + 2) * wp]
            gram = torch.bmm(q_rows.transpose(1, 2), k_pad).view(
                b, r + 2, wp, 1, hp, wp)
            # (B, r*W target, N reference)
            corr = self._patch_products(gram, r, h, w).view(b, r * w, h * w)
            corr = corr / q_norm[:, y0 * w:(y0 + r) * w, None] \
                / k_norm[:, None, :]
            conf, idx = corr.max(dim=2)
            confs.append(conf)
            idxs.append(idx)
        return torch.cat(confs, dim=1), torch.cat(idxs, dim=1)

    @staticmethod
    def _patch_products(gram: Tensor, rows: int, h: int, w: int) -> Tensor:
        """3x3 patch dot products from per-pixel ones.

        Args:
            gram (Tensor): (B, rows + 2, w + 2, M, h + 2, w + 2) dot
                products of zero-padded target and reference pixels
            rows, h, w (int): target rows, reference grid

        Returns:
            Tensor: (B, rows, w, M, h, w), the sums over the 9 offsets,
            taken as 3 shifts along x, then 3 along y (4x fewer passes
            over the large tensor than 9 shifted adds)
        """
        x0, x1, x2 = (gram[:, :, d:d + w, :, :, d:d + w] for d in range(3))
        along_x = x0 + x1 + x2
        y0, y1, y2 = (along_x[:, d:d + rows, :, :, d:d + h] for d in range(3))
        return y0 + y1 + y2

    def _patch_norm(self, x: Tensor) -> Tensor:
        """L2 norms (B, H*W) of the zero-padded 3x3 patches of x (B, C, H,
        W): a 3x3 box sum of per-pixel squared norms."""
        sq = x.pow(2).sum(1, keepdim=True)  # (B, 1, H, W)
        box = F.avg_pool2d(
            sq, 3, stride=1, padding=1, count_include_pad=True) * 9
        return box.clamp_min(0).sqrt().clamp_min(self.eps).flatten(1)

    def match_confidence(self, query: Tensor, keys: Tensor) -> Tensor:
        """How well each reference serves each target: the mean over target
        positions of STM's confidence A (:meth:`correlate` for the pair,
        averaged), for every (target, reference) pair at once.

        One Gram matrix per target against the pixels of all references,
        zero-padded after the product (not before it, as in
        :meth:`correlate`: 40 % fewer multiply-adds), gives every pair by
        the same 9 shifted slices and patch norms; this replaces one
        :meth:`correlate` call per pair and makes choosing references by
        match fast enough for the CPU path.

        Args:
            query (Tensor): targets' 1x features, (B, C, H, W)
            keys (Tensor): references' 1x features, (M, C, H, W)

        Returns:
            Tensor: (B, M) mean confidences in [-1, 1], float32 (float64
            for float64 inputs)
        """
        if query.dim() != 4 or keys.dim() != 4 or \
                query.shape[1:] != keys.shape[1:]:
            raise ValueError(
                f'query {tuple(query.shape)} and keys {tuple(keys.shape)} '
                'must be 4-D tensors (B, C, H, W) and (M, C, H, W) with the '
                'same C, H, W')
        dtype = torch.promote_types(query.dtype, torch.float32)
        with torch.autocast(device_type=query.device.type, enabled=False):
            query, keys = query.to(dtype), keys.to(dtype)
            b, c, h, w = query.shape
            m = keys.shape[0]
            q_norm = self._patch_norm(query)  # (B, H*W)
            k_norm = self._patch_norm(keys)  # (M, H*W)
            # (C, M*H*W): every pixel of every reference
            k_flat = keys.transpose(0, 1).reshape(c, m * h * w)
            scores = []
            for i in range(b):
                # (H, W, M, H, W) per-pixel dot products, zero-padded to
                # (H+2, W+2, M, H+2, W+2)
                gram = (query[i].flatten(1).t() @ k_flat).view(h, w, m, h, w)
                gram = F.pad(gram, (1, 1, 1, 1, 0, 0, 1, 1, 1, 1))
                # (H*W target, M, H*W reference) patch cosines
                corr = self._patch_products(gram[None], h, h, w).view(
                    h * w, m, h * w) \
                    / q_norm[i][:, None, None] / k_norm[None]
                scores.append(corr.max(dim=2).values.mean(dim=0))
            return torch.stack(scores)

    def transfer(self, values: Sequence[Tensor], index: Tensor,
                 grid_size: Tuple[int, int]) -> List[Tensor]:
        """Move the value patches selected by ``index`` to the target grid.

        A patch of ``3s x 3s`` pixels is 3 x 3 blocks of ``s x s``. Output
        block ``p`` is the mean, over the targets ``t = p - o`` (offsets
        ``o`` in {-1, 0, 1}^2) whose patch covers it, of reference block
        ``D[t] + o`` (zero outside the reference grid): what unfold, gather
        and fold with averaged overlaps compute. One ``embedding_bag`` sums
        the 9 blocks per output block without materialising them (about 4x
        faster on the CPU than 9 gathers and shifted sums); ONNX export
        takes the gather path (:meth:`transfer_by_gather`), which gives the
        same values.

        Args:
            values (Sequence[Tensor]): reference values, one per scale s in
                :attr:`scales`, each (B, C_s, s*H, s*W)
            index (Tensor): reference position per target position, (B, N)
            grid_size (tuple): the 1x grid (H, W)

        Returns:
            List[Tensor]: transferred features F_T, each (B, C_s, s*H, s*W)
        """
        if torch.onnx.is_in_onnx_export():
            return self.transfer_by_gather(values, index, grid_size)
        self._check_values(values, index.shape[0], grid_size)
        h, w = grid_size
        b, n = index.shape
        bags, count = self._block_bags(index, h, w)
        outs = []
        for s, value in zip(self.scales, values):
            c = value.shape[1]
            cb = c * s * s
            # rows 0 .. B*N-1: the blocks, (B, H, W, C, s, s) flattened;
            # row B*N: zeros, the block of every invalid (target, offset)
            table = value.new_zeros(b * n + 1, cb)
            table[:-1].view(b, h, w, c, s, s).copy_(
                value.reshape(b, c, h, s, w, s).permute(0, 2, 4, 1, 3, 5))
            summed = F.embedding_bag(bags, table, mode='sum')  # (B*N, cb)
            out = summed / count.to(summed.dtype)
            # (B, H, W, C, s, s) -> (B, C, s*H, s*W)
            outs.append(
                out.view(b, h, w, c, s, s).permute(0, 3, 1, 4, 2, 5).reshape(
                    b, c, s * h, s * w))
        return outs

    @staticmethod
    def _block_bags(index: Tensor, h: int, w: int) -> Tuple[Tensor, Tensor]:
        """The 9 source rows of every output block for :meth:`transfer`.

        Returns:
            tuple:
            - bags (Tensor): (B*N, 9) row of the block table (B*N blocks
              then one zero row) that each (output block, offset) reads
            - count (Tensor): (B*N, 1) targets covering each output block
              (the fold-of-ones divisor)
        """
        b, n = index.shape
        device = index.device
        pos = torch.arange(n, device=device)
        out_y, out_x = pos // w, pos % w  # (N, )
        ref_y, ref_x = index // w, index % w  # (B, N)
        zero_row = b * n
        batch_start = (torch.arange(b, device=device) * n).view(b, 1)
        bags, covered = [], []
        for oy in (-1, 0, 1):
            for ox in (-1, 0, 1):
                t_y, t_x = out_y - oy, out_x - ox
                target_ok = (t_y >= 0) & (t_y < h) & (t_x >= 0) & (t_x < w)
                target = t_y.clamp(0, h - 1) * w + t_x.clamp(0, w - 1)
                src_y = ref_y[:, target] + oy  # (B, N)
                src_x = ref_x[:, target] + ox
                src_ok = target_ok & (src_y >= 0) & (src_y < h) & \
                    (src_x >= 0) & (src_x < w)
                src = batch_start + src_y * w + src_x
                bags.append(torch.where(src_ok, src, zero_row))
                covered.append(target_ok)
        bags = torch.stack(bags, dim=-1).view(b * n, 9)
        count = torch.stack(covered, dim=-1).sum(-1)  # (N, )
        return bags, count.repeat(b).view(b * n, 1)

    def transfer_by_gather(self, values: Sequence[Tensor], index: Tensor,
                           grid_size: Tuple[int, int]) -> List[Tensor]:
        """:meth:`transfer` as 9 block gathers and shifted sums (ONNX:
        GatherElements and Pad; same values)."""
        self._check_values(values, index.shape[0], grid_size)
        h, w = grid_size
        # A patch of 3s x 3s pixels is 3 x 3 blocks of s x s. Block (a, b)
        # of the patch of target i lands on output block (y_i + a - 1,
        # x_i + b - 1) and comes from reference block (y_D + a - 1,
        # x_D + b - 1): 9 block gathers and shifted sums do what unfold,
        # gather and fold do, with a third of the memory traffic.
        ref_y, ref_x = index // w, index % w  # (B, N)
        ones = index.new_ones(1, h, w, 1).float()
        count = sum(
            F.pad(ones, (0, 0, dx, 2 - dx, dy, 2 - dy))
            for dy in range(3) for dx in range(3))[:, 1:h + 1, 1:w + 1]
        outs = []
        for s, value in zip(self.scales, values):
            b, c, hs, ws = value.shape
            cb = c * s * s
            # (B, C, H, s, W, s) -> (B, H, W, C*s*s): one row per block
            blocks = value.reshape(b, c, h, s, w, s).permute(0, 2, 4, 1, 3,
                                                          5).reshape(
                                                              b, h, w, cb)
            # zero border of one block, (B, (H+2)*(W+2), C*s*s)
            blocks = F.pad(blocks, (0, 0, 1, 1, 1, 1)).view(
                b, (h + 2) * (w + 2), cb)
            summed = None
            for dy in range(3):
                for dx in range(3):
                    src = (ref_y + dy) * (w + 2) + ref_x + dx  # (B, N)
                    moved = torch.gather(
                        blocks, 1,
                        src.unsqueeze(-1).expand(-1, -1, cb)).view(
                            b, h, w, cb)
                    # onto the padded output grid, shifted by (dy, dx)
                    moved = F.pad(moved, (0, 0, dx, 2 - dx, dy, 2 - dy))
                    summed = moved if summed is None else summed + moved
            out = summed[:, 1:h + 1, 1:w + 1] / count.to(summed.dtype)
            # (B, H, W, C, s, s) -> (B, C, s*H, s*W)
            outs.append(
                out.reshape(b, h, w, c, s, s).permute(0, 3, 1, 4, 2,
                                                      5).reshape(
                                                          b, c, hs, ws))
        return outs

    def forward(self, query: Tensor, key: Tensor, values: Sequence[Tensor]
                ) -> Tuple[List[Tensor], Tensor, Tensor]:
        """Transfer the reference values to the target.

        Args:
            query (Tensor): target query at 1x, (B, C, H, W)
            key (Tensor): reference key at 1x, (B, C, H, W)
            values (Sequence[Tensor]): reference values, one per scale s in
                :attr:`scales`, each (B, C_s, s*H, s*W)

        Returns:
            tuple:
            - soft (List[Tensor]): F_S = F_T * A per scale, each
              (B, C_s, s*H, s*W)
            - confidence (Tensor): A on the 1x grid, (B, 1, H, W)
            - index (Tensor): D, reference position of each target position
              (row-major), (B, N)
        """
        b, _, h, w = query.shape
        self._check_values(values, b, (h, w))
        conf, index = self.correlate(query, key)
        conf = conf.view(b, 1, h, w)  # (B, 1, H, W)
        transferred = self.transfer(values, index, (h, w))
        soft = [
            feat * self.resize_confidence(conf, scale).to(feat.dtype)
            for scale, feat in zip(self.scales, transferred)
        ]
        return soft, conf, index

    @staticmethod
    def resize_confidence(conf: Tensor, scale: int) -> Tensor:
        """Resize the confidence A (B, 1, H, W) to (B, 1, s*H, s*W)."""
        if scale == 1:
            return conf
        return F.interpolate(
            conf, scale_factor=scale, mode='bilinear', align_corners=False)

    def _check_values(self, values: Sequence[Tensor], batch: int,
                      grid_size: Tuple[int, int]) -> None:
        if len(values) != len(self.scales):
            raise ValueError(f'got {len(values)} value feature maps, '
                             f'expected one per scale {self.scales}')
        h, w = grid_size
        for scale, value in zip(self.scales, values):
            expected = (batch, scale * h, scale * w)
            got = (value.shape[0], ) + tuple(value.shape[-2:])
            if value.dim() != 4 or got != expected:
                raise ValueError(
                    f'value features at scale {scale}x have shape '
                    f'{tuple(value.shape)}, expected (B={batch}, C, '
                    f'{scale * h}, {scale * w}) for a {h}x{w} 1x grid')

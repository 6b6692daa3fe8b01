"""RHT head: reference branch (extractors, STM, HTM) and MSFFM fusion."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor

from mmpose.evaluation.functional import pose_pck_accuracy
from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import (ConfigType, Features, OptConfigType,
                                 OptSampleList, Predictions)
from rht_mmpose.codecs.landmark_boundary_heatmap import \
    centroids_above_threshold
from rht_mmpose.utils.face_geometry import flip_shift, fuse_flipped
from ..utils.reference_batch import ReferenceBatch, ReferenceFeatures
from ..utils.soft_transformer import SoftTransformer

OptRefs = Optional[Union[ReferenceBatch, Sequence[ReferenceBatch]]]


@MODELS.register_module()
class RHTHead(BaseHead):
    """Reference Heatmap Transformer head (Wan et al., TIP 2023).

    Owns the whole reference branch: the local feature extractors (one shared
    by the target and the reference image giving Q and K, one for the
    reference heatmaps giving V), the Soft Transformation Module (STM, F_S),
    the Hard Transformation Module (HTM, F_E) and the Multi-Scale Feature
    Fusion Module (MSFFM) that fuses them with the encoder's F_G and predicts
    K landmark + P boundary heatmaps.

    What differs from :class:`HeatmapHead`: ``forward``, ``loss`` and
    ``predict`` take ``refs``, a :class:`ReferenceBatch` built by
    :class:`RHTPoseEstimator` (the target at R, the reference image and
    heatmaps, and the features the pool cache already has; missing ones
    are extracted). ``forward`` and ``predict`` also take a list of them
    and average the heatmaps of the references. ``loss`` returns
    ``loss_kpt`` (landmark + boundary L2), ``loss_trans`` (L1 of
    ``F_E * A - F_S``) and ``acc_pose``; only the K landmark channels are
    decoded.

    With ``with_reference=False`` the reference branch is not built and the
    head is the plain Trans-R / Trans-H heatmap head (deconvolutions from
    F_G and a 1x1 conv); ``refs`` is ignored.

    Loss scale: eq. 7 sums squared errors over pixels; ``loss_kpt`` uses
    MMPose's :class:`KeypointMSELoss` (mean over pixels), i.e. eq. 7 divided
    by H*W (constant), landmark term weighted by visibility, plus the same
    for the boundary channels.

    Note:
        - B: batch size
        - K: landmarks, P: boundaries
        - R: reference branch input size (128)
        - H, W: the 1x grid of the transformed features (R / 4 = 32)

    Args:
        num_keypoints (int): K
        num_boundaries (int): P (0 for the no-boundary ablation)
        in_channels (int): channels of F_G (encoder output). Defaults to 256
        in_scale (int): F_G grid relative to the 1x grid: 1 for Trans-R
            (32x32), 2 for Trans-H (64x64). Defaults to 1
        fg_channels (Sequence[int], optional): F_G channels at every scale
            from ``in_scale`` to 4x; default ``(256, 128, 64)`` for
            ``in_scale=1`` and ``(in_channels, 64)`` for ``in_scale=2``
        ref_channels (Sequence[int]): channels of Q/K/V and the transformed
            features at 1x, 2x, 4x. Defaults to ``(256, 128, 64)``
        ref_size (int): R. Defaults to 128
        extractor_num_convs (int): Conv-BN-ReLU layers per extractor stage.
            Defaults to 2
        fusion_kernel_size (int): kernel of MSFFM's fusion convs (3; 1 in
            the light RHT-R-lite, see :class:`MSFFMNeck`). Defaults to 3
        with_reference (bool): build the reference branch. Defaults to True
        use_stm (bool): use F_S. Defaults to True
        use_htm (bool): use F_E. Defaults to True
        fuse_scales (Sequence[int], optional): ref scales fused by
            MSFFM, ``None`` = all; ``(1, )`` is "without MSFFM" (see
            :class:`MSFFMNeck`). Defaults to None
        stm_chunk_size (int, optional): see :class:`SoftTransformer`
        htm_cfg (dict, optional): extra args of :class:`HardTransformer`
        trans_loss_weight (float): lambda of eq. 9. Defaults to 0.1
        trans_loss_detach (bool): the trans loss only trains the HTM
            (F_S, A, the HTM inputs and V detached). Defaults to True
        match_loss_weight (float): weight of an auxiliary correspondence
            loss that is not in the paper (0 = off, the paper's method): at
            every landmark visible in both faces, cross-entropy of the
            target's 1x patch correlations with all reference patches
            against the reference cell of the same landmark (see
            :meth:`match_loss`). STM's index is an argmax, so without it
            Q and K learn only through the confidence A. Defaults to 0
        match_temperature (float): temperature of that softmax over the
            cosine correlations. Defaults to 0.1
        coord_loss_weight (float): weight of an auxiliary coordinate loss
            that is not in the paper (0 = off): L1, in heatmap pixels,
            between the decoder's centroid decoding of each predicted and
            target landmark heatmap (see :meth:`coord_loss`). The L2
            heatmap loss is satisfied by a ridge along a contour whose
            decoded centre sits away from the landmark; this loss trains
            the decoded point itself. Needs a decoder with
            ``centroid_threshold``. Defaults to 0
        lateral_channels (Sequence[int]): channels of the finer backbone
            features the neck adds on its way up (one per scale after
            ``in_scale``; the encoder passes them ahead of F_G with
            ``lateral_indices``). Not in the paper. Defaults to () (none)
        loss (dict): landmark heatmap loss. Defaults to
            ``KeypointMSELoss(use_target_weight=True)``
        boundary_loss (dict): boundary heatmap loss. Defaults to
            ``KeypointMSELoss()``
        decoder (dict, optional): the codec (``LandmarkBoundaryHeatmap``)
        init_cfg (dict, optional): defaults to :class:`HeatmapHead`'s
    """

    def __init__(self,
                 num_keypoints: int,
                 num_boundaries: int,
                 in_channels: int = 256,
                 in_scale: int = 1,
                 fg_channels: Optional[Sequence[int]] = None,
                 ref_channels: Sequence[int] = (256, 128, 64),
                 ref_size: int = 128,
                 extractor_num_convs: int = 2,
                 fusion_kernel_size: int = 3,
                 with_reference: bool = True,
                 use_stm: bool = True,
                 use_htm: bool = True,
                 fuse_scales: Optional[Sequence[int]] = None,
                 stm_chunk_size: Optional[int] = None,
                 htm_cfg: OptConfigType = None,
                 trans_loss_weight: float = 0.1,
                 trans_loss_detach: bool = True,
                 match_loss_weight: float = 0.,
                 match_temperature: float = 0.1,
                 coord_loss_weight: float = 0.,
                 lateral_channels: Sequence[int] = (),
                 loss: ConfigType = dict(
                     type='KeypointMSELoss', use_target_weight=True),
                 boundary_loss: ConfigType = dict(type='KeypointMSELoss'),
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None):
        if init_cfg is None:
            init_cfg = [
                dict(
                    type='Normal',
                    layer=['Conv2d', 'ConvTranspose2d'],
                    std=0.001),
                dict(type='Constant', layer='BatchNorm2d', val=1)
            ]
        super().__init__(init_cfg)
        ref_scales = (1, 2, 4)
        if fg_channels is None:
            if in_scale == 1:
                fg_channels = (in_channels, 128, 64)
            elif in_scale == 2:
                fg_channels = (in_channels, 64)
            else:
                raise ValueError(f'in_scale is {in_scale}, expected 1 or 2 '
                                 'when fg_channels is not given')
        fg_channels = tuple(fg_channels)
        if fg_channels[0] != in_channels:
            raise ValueError(f'fg_channels {fg_channels} must start with '
                             f'in_channels {in_channels}')
        if ref_size % 4:
            raise ValueError(f'ref_size {ref_size} must be divisible by 4')
        self.num_keypoints = num_keypoints
        self.num_boundaries = num_boundaries
        self.out_channels = num_keypoints + num_boundaries
        self.in_channels = in_channels
        self.in_scale = in_scale
        self.ref_channels = tuple(ref_channels)
        self.ref_size = ref_size
        self.with_reference = with_reference
        self.use_stm = use_stm and with_reference
        self.use_htm = use_htm and with_reference
        self.trans_loss_weight = trans_loss_weight
        self.trans_loss_detach = trans_loss_detach
        if match_loss_weight < 0 or match_temperature <= 0:
            raise ValueError(
                f'match_loss_weight {match_loss_weight} must be >= 0 and '
                f'match_temperature {match_temperature} > 0')
        self.match_loss_weight = match_loss_weight
        self.match_temperature = match_temperature

        self.loss_module = MODELS.build(loss)
        self.boundary_loss_module = MODELS.build(boundary_loss)
        self.decoder = None if decoder is None else KEYPOINT_CODECS.build(
            decoder)
        self._check_decoder()
        if coord_loss_weight < 0 or (coord_loss_weight > 0 and getattr(
                self.decoder, 'centroid_threshold', None) is None):
            raise ValueError(
                f'coord_loss_weight {coord_loss_weight}: expected 0, or > 0 '
                'with a decoder that has a centroid_threshold')
        self.coord_loss_weight = coord_loss_weight

        if with_reference:
            self.image_extractor = MODELS.build(
                dict(
                    type='LocalFeatureExtractor',
                    in_channels=3,
                    out_channels=self.ref_channels,
                    num_convs=extractor_num_convs))
            self.heatmap_extractor = MODELS.build(
                dict(
                    type='LocalFeatureExtractor',
                    in_channels=self.out_channels,
                    out_channels=self.ref_channels,
                    num_convs=extractor_num_convs))
            if self.use_stm:
                self.stm = MODELS.build(
                    dict(
                        type='SoftTransformer',
                        scales=ref_scales,
                        chunk_size=stm_chunk_size))
            if self.use_htm:
                self.htm = MODELS.build(
                    dict(
                        type='HardTransformer',
                        in_channels=self.ref_channels[0],
                        **(htm_cfg or {})))
        self.neck = MODELS.build(
            dict(
                type='MSFFMNeck',
                out_channels=self.out_channels,
                in_scale=in_scale,
                fg_channels=fg_channels,
                ref_scales=ref_scales,
                ref_channels=self.ref_channels,
                with_reference=with_reference,
                use_stm=self.use_stm,
                use_htm=self.use_htm,
                fuse_scales=fuse_scales,
                fusion_kernel_size=fusion_kernel_size,
                lateral_channels=lateral_channels))

    def _check_decoder(self) -> None:
        """The decoder's K and P (when it has them; no decoder passes)."""
        for part in ('keypoints', 'boundaries'):
            value = getattr(self.decoder, f'num_{part}', None)
            expected = getattr(self, f'num_{part}')
            if value is not None and value != expected:
                raise ValueError(f'decoder has {value} {part}, expected '
                                 f'num_{part}={expected}')

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def extract_query(self, images: Tensor) -> Tensor:
        """1x features of the shared image extractor (Q of a target, K of a
        reference).

        Args:
            images (Tensor): normalised images, (B, 3, R, R)

        Returns:
            Tensor: (B, C_1x, H, W)
        """
        return self.image_extractor(images)[0]

    def extract_reference(self, ref_img: Tensor,
                          ref_heatmaps: Tensor) -> ReferenceFeatures:
        """Key and values of references (what the pool cache stores).

        Args:
            ref_img (Tensor): normalised reference images, (B, 3, R, R)
            ref_heatmaps (Tensor): (B, K + P, R, R)

        Returns:
            ReferenceFeatures: K (B, C_1x, H, W) and V (1x, 2x, 4x)
        """
        return ReferenceFeatures(self.extract_query(ref_img),
                                 self.heatmap_extractor(ref_heatmaps))

    @staticmethod
    def descriptor_from_query(query: Tensor) -> Tensor:
        """:meth:`global_descriptor` from already extracted 1x features
        (B, C_1x, H, W) -> (B, C_1x)."""
        return F.normalize(query.mean(dim=(2, 3)), dim=1)

    def global_descriptor(self, images: Tensor) -> Tensor:
        """L2-normalised, globally pooled 1x query features, used to pick
        the most similar reference.

        Args:
            images (Tensor): normalised images, (B, 3, R, R)

        Returns:
            Tensor: (B, C_1x)
        """
        if not self.with_reference:
            raise RuntimeError('global_descriptor needs with_reference=True')
        return self.descriptor_from_query(self.extract_query(images))

    def _check_refs(self, refs: Optional[ReferenceBatch], batch: int) -> None:
        if not isinstance(refs, ReferenceBatch):
            raise ValueError('RHTHead(with_reference=True) needs refs, a '
                             f'ReferenceBatch, got {type(refs).__name__}')
        for name, channels in (('target_small', 3), ('ref_img', 3),
                               ('ref_heatmaps', self.out_channels)):
            shape = tuple(getattr(refs, name).shape)
            if name == 'ref_heatmaps' and len(shape) == 4 \
                    and shape[1] != channels:
                raise ValueError(
                    f'reference heatmaps have {shape[1]} channels, expected '
                    f'{channels} ({self.num_keypoints} landmarks + '
                    f'{self.num_boundaries} boundaries)')
            expected = (batch, channels, self.ref_size, self.ref_size)
            if shape != expected:
                raise ValueError(f'{name} has shape {shape}, '
                                 f'expected {expected}')

    def _forward(self, feats: Tuple[Tensor],
                 refs: Optional[ReferenceBatch]) -> Tuple[Tensor, dict]:
        """Heatmaps and the intermediate tensors the trans loss needs."""
        fg = feats[-1]  # (B, C_G, h, w)
        # outputs before F_G are the neck's laterals when it takes any
        laterals = tuple(feats[:-1]) if self.neck.lateral_channels else ()
        if not self.with_reference:
            return self.neck(fg, laterals=laterals), {}
        b = fg.shape[0]
        self._check_refs(refs, b)
        ref_hm = refs.ref_heatmaps
        # precomputed features (the estimator's pool cache) skip extractors
        query, features = refs.query, refs.features
        if query is None and features is None:
            # Q and K from one extractor, run once on both images
            qk = self.image_extractor(torch.cat([refs.target_small,
                                                 refs.ref_img]))[0]
            # Q, K: (B, C_1x, H, W) each; V: 1x, 2x, 4x
            query, features = qk[:b], ReferenceFeatures(
                qk[b:], self.heatmap_extractor(ref_hm))
        elif features is None:
            features = self.extract_reference(refs.ref_img, ref_hm)
        if query is None:
            query = self.extract_query(refs.target_small)
        heatmaps, aux = self.fuse_reference(fg, query, features, laterals)
        return heatmaps, dict(aux, ref_heatmaps=ref_hm)

    def fuse_reference(self,
                       fg: Tensor,
                       query: Tensor,
                       features: ReferenceFeatures,
                       laterals: Sequence[Tensor] = ()) -> Tuple[Tensor, dict]:
        """Heatmaps from F_G and the reference transformed by STM (F_S)
        and HTM (F_E); the ONNX head graph is this method.

        Args:
            fg (Tensor): F_G, (B, C_G, in_scale*H, in_scale*W)
            query (Tensor): Q of the targets, (B, C_1x, H, W)
            features (ReferenceFeatures): K and V of the references
            laterals (Sequence[Tensor]): the neck's lateral features
                (``lateral_channels``), if any

        Returns:
            tuple: heatmaps (B, K + P, 4H, 4W) and the intermediates the
            losses read (``query``, ``key``, ``values``, ``soft``,
            ``hard``, ``conf``)
        """
        key, values = features
        soft = hard = conf = None
        if self.use_stm:
            soft, conf, _ = self.stm(query, key, values)
        if self.use_htm:
            hard, _ = self.htm(query, key, values)
        return self.neck(fg, soft, hard, laterals), dict(
            query=query, key=key, values=values, soft=soft, hard=hard,
            conf=conf)

    def forward(self, feats: Tuple[Tensor], refs: OptRefs = None) -> Tensor:
        """Predict heatmaps.

        Args:
            feats (Tuple[Tensor]): encoder output ``(F_G,)``, F_G
                (B, C_G, in_scale*H, in_scale*W)
            refs (ReferenceBatch | list[ReferenceBatch], optional): a list
                averages the heatmaps over its references

        Returns:
            Tensor: heatmaps, (B, K + P, 4H, 4W)
        """
        if isinstance(refs, (list, tuple)):
            if len(refs) == 0:
                raise ValueError('refs is an empty list')
            outs = [self._forward(feats, r)[0] for r in refs]
            return torch.stack(outs).mean(dim=0)
        return self._forward(feats, refs)[0]

    # ------------------------------------------------------------------
    # loss
    # ------------------------------------------------------------------
    def trans_loss(self, aux: dict) -> Tensor:
        """Eq. 9: sum over scales of mean |F_E * A - F_S|.

        With ``trans_loss_detach`` F_S and A are detached and F_E is
        recomputed from detached Q, K and V, so only the HTM receives a
        gradient from this loss.
        """
        soft, conf, hard = aux['soft'], aux['conf'], aux['hard']
        if self.trans_loss_detach:
            theta = self.htm.localise(aux['query'].detach(),
                                      aux['key'].detach())
            hard = self.htm.warp([v.detach() for v in aux['values']], theta)
            soft = [s.detach() for s in soft]
            conf = conf.detach()
        loss = 0.
        for scale, f_e, f_s in zip(self.stm.scales, hard, soft):
            a = SoftTransformer.resize_confidence(conf, scale)
            loss = loss + F.l1_loss(f_e * a, f_s)
        return loss

    @staticmethod
    def heatmap_cells(heatmaps: Tensor,
                      grid_size: Tuple[int, int]) -> Tensor:
        """Flat index of the grid cell holding each heatmap's argmax.

        Args:
            heatmaps (Tensor): (B, K, Hm, Wm)
            grid_size (tuple): (H, W) of the grid, dividing (Hm, Wm)

        Returns:
            Tensor: (B, K) int64, ``row * W + col`` on the (H, W) grid
        """
        hm, wm = heatmaps.shape[-2:]
        h, w = grid_size
        flat = heatmaps.flatten(2).argmax(dim=2)  # (B, K)
        rows = torch.div(flat, wm, rounding_mode='floor') * h // hm
        cols = (flat % wm) * w // wm
        return rows * w + cols

    def match_loss(self, query: Tensor, key: Tensor, target_hm: Tensor,
                   target_weights: Tensor,
                   ref_hm: Tensor) -> Tuple[Tensor, Tensor]:
        """Correspondence loss on STM's 1x patch correlations (not in the
        paper; see ``match_loss_weight``).

        For landmark m of sample b, visible in the target (weight > 0) and
        inside the reference (peak > 0.5): ``i`` = the 1x cell of the
        target's ground-truth heatmap peak, ``j*`` = the cell of the
        reference heatmap's peak; the loss is the cross-entropy of
        ``C[i, :] / T`` (cosines of L2-normalised 3x3 patches, as in
        :meth:`SoftTransformer.correlate`) against ``j*``.

        Args:
            query (Tensor): target Q at 1x, (B, C, H, W)
            key (Tensor): reference K at 1x, (B, C, H, W)
            target_hm (Tensor): target landmark heatmaps, (B, K, Hm, Wm)
            target_weights (Tensor): (B, K)
            ref_hm (Tensor): reference landmark heatmaps, (B, K, R, R)

        Returns:
            tuple: the mean loss (0 with no valid pair) and the share of
            valid pairs whose argmax is ``j*`` (STM's index is right)
        """
        h, w = query.shape[-2:]
        q_patches = F.normalize(F.unfold(query, 3, padding=1), dim=1)
        k_patches = F.normalize(F.unfold(key, 3, padding=1), dim=1)
        # (B, 9C, N) each
        target_cells = self.heatmap_cells(target_hm, (h, w))  # (B, K)
        ref_cells = self.heatmap_cells(ref_hm, (h, w))  # (B, K)
        valid = (target_weights > 0) & (ref_hm.flatten(2).amax(2) > 0.5)
        q_sel = torch.gather(
            q_patches, 2,
            target_cells[:, None, :].expand(-1, q_patches.shape[1], -1))
        # (B, K, N): cosines of each landmark's target patch with all
        # reference patches
        logits = torch.einsum('bck,bcn->bkn', q_sel,
                              k_patches) / self.match_temperature
        if not valid.any():
            zero = logits.sum() * 0.
            return zero, zero.detach()
        ce = F.cross_entropy(
            logits[valid], ref_cells[valid], reduction='mean')
        acc = (logits[valid].argmax(1) == ref_cells[valid]).float().mean()
        return ce, acc.detach()

    def coord_loss(self, pred: Tensor, target: Tensor,
                   weights: Tensor) -> Tensor:
        """Coordinate loss (not in the paper; see ``coord_loss_weight``).

        Args:
            pred (Tensor): (B, K, 4H, 4W) predicted landmark heatmaps
            target (Tensor): (B, K, 4H, 4W) target heatmaps
            weights (Tensor): (B, K) landmark weights

        Returns:
            Tensor: mean L1 distance (heatmap pixels, per coordinate) of
            the centroid decodings, over the landmarks with a positive
            weight and a positive peak in both heatmaps
        """
        threshold = self.decoder.centroid_threshold
        pred_xy, pred_total = centroids_above_threshold(pred, threshold)
        with torch.no_grad():
            target_xy, target_total = centroids_above_threshold(
                target, threshold)
        valid = (weights > 0) & (pred_total > 0) & (target_total > 0)
        if not valid.any():
            return pred.sum() * 0.
        return (pred_xy - target_xy)[valid].abs().mean()

    def loss(self,
             feats: Tuple[Tensor],
             batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {},
             refs: Optional[ReferenceBatch] = None) -> dict:
        """Losses of a batch.

        Args:
            feats (Tuple[Tensor]): ``(F_G,)``
            batch_data_samples (List[PoseDataSample]): with
                ``gt_fields.heatmaps`` (K + P, 4H, 4W) and
                ``gt_instance_labels.keypoint_weights`` (1, K)
            train_cfg (dict): ``compute_acc`` (default True)
            refs (ReferenceBatch, optional): the references

        Returns:
            dict: ``loss_kpt``, ``loss_coord`` (with
            ``coord_loss_weight``), ``loss_trans`` (when both STM and HTM
            are used), ``loss_match`` and ``acc_match`` (with
            ``match_loss_weight``) and ``acc_pose``
        """
        pred, aux = self._forward(feats, refs)
        # under bfloat16 autocast (BF16AutocastOptimWrapper) the losses
        # and the accuracy are computed in float32
        pred = pred.float()
        gt = torch.stack([d.gt_fields.heatmaps for d in batch_data_samples])
        weights = torch.cat([
            d.gt_instance_labels.keypoint_weights for d in batch_data_samples
        ])  # (B, K)
        if gt.shape != pred.shape:
            raise ValueError(
                f'target heatmaps have shape {tuple(gt.shape)}, expected '
                f'{tuple(pred.shape)} ({self.num_keypoints} landmarks + '
                f'{self.num_boundaries} boundaries)')
        k = self.num_keypoints
        loss_kpt = self.loss_module(pred[:, :k], gt[:, :k], weights)
        if self.num_boundaries > 0:
            loss_kpt = loss_kpt + self.boundary_loss_module(
                pred[:, k:], gt[:, k:])
        losses = dict(loss_kpt=loss_kpt)
        if self.coord_loss_weight > 0:
            losses['loss_coord'] = self.coord_loss_weight * self.coord_loss(
                pred[:, :k], gt[:, :k], weights)
        if self.use_stm and self.use_htm and self.trans_loss_weight > 0:
            losses['loss_trans'] = self.trans_loss_weight * self.trans_loss(
                aux)
        if self.use_stm and self.match_loss_weight > 0:
            match, match_acc = self.match_loss(
                aux['query'].float(), aux['key'].float(), gt[:, :k], weights,
                aux['ref_heatmaps'][:, :k].float())
            losses['loss_match'] = self.match_loss_weight * match
            losses['acc_match'] = match_acc

        if train_cfg.get('compute_acc', True):
            _, avg_acc, _ = pose_pck_accuracy(
                output=to_numpy(pred[:, :k]),
                target=to_numpy(gt[:, :k]),
                mask=to_numpy(weights) > 0)
            losses['acc_pose'] = torch.tensor(avg_acc, device=gt.device)
        return losses

    # ------------------------------------------------------------------
    # predict
    # ------------------------------------------------------------------
    def channel_flip_indices(self, flip_indices: Sequence[int]) -> List[int]:
        """Flip permutation of the K + P channels from the K landmark flip
        indices (the codec's ``flip_indices_with_boundaries``)."""
        if len(flip_indices) != self.num_keypoints:
            raise ValueError(f'flip_indices has {len(flip_indices)} entries, '
                             f'expected {self.num_keypoints}')
        if self.num_boundaries == 0:
            return list(flip_indices)
        fn = getattr(self.decoder, 'flip_indices_with_boundaries', None)
        if fn is None:
            raise ValueError(
                f'flip test with {self.num_boundaries} boundary channels '
                'needs a decoder with flip_indices_with_boundaries, got '
                f'{type(self.decoder).__name__}')
        perm = list(fn(list(flip_indices)))
        if len(perm) != self.out_channels:
            raise ValueError(f'flip_indices_with_boundaries gave {len(perm)} '
                             f'indices, expected {self.out_channels}')
        return perm

    def predict(self,
                feats: Features,
                batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {},
                refs: OptRefs = None) -> Predictions:
        """Predict keypoints (and optionally heatmaps).

        Args:
            feats (Tuple[Tensor] | List[Tuple[Tensor]]): ``(F_G,)``, or
                ``[feats, feats_of_flipped_input]`` with ``flip_test``
            batch_data_samples (List[PoseDataSample]): metainfo with
                ``flip_indices`` for the flip test
            test_cfg (dict): ``flip_test``, ``flip_mode`` (``'heatmap'``
                only), ``shift_heatmap`` (True: MMPose's 1-pixel shift of
                the flipped heatmaps; a number: that many heatmap pixels,
                see :func:`fuse_flipped`), ``output_heatmaps``
            refs (ReferenceBatch | list[ReferenceBatch], optional):
                references of the unflipped target; a list averages over
                them

        Returns:
            InstanceList | (InstanceList, PixelDataList): keypoints
            (1, K, 2) and keypoint_scores (1, K) per sample; heatmaps
            (K + P, 4H, 4W) with ``output_heatmaps``
        """
        refs_list = list(refs) if isinstance(refs, (list, tuple)) else [refs]
        if test_cfg.get('flip_test', False):
            assert isinstance(feats, list) and len(feats) == 2
            flip_indices = batch_data_samples[0].metainfo['flip_indices']
            perm = self.channel_flip_indices(flip_indices)
            _feats, _feats_flip = feats
            mode = test_cfg.get('flip_mode', 'heatmap')
            if mode != 'heatmap':
                raise ValueError(f"flip_mode {mode!r}: RHTHead flips "
                                 f"heatmaps only, expected 'heatmap'")
            outs = [
                fuse_flipped(
                    self.forward(_feats, r),
                    self.forward(_feats_flip, None if r is None else
                                 r.flip(perm)), perm,
                    flip_shift(test_cfg)) for r in refs_list
            ]
        else:
            outs = [self.forward(feats, r) for r in refs_list]
        batch_heatmaps = torch.stack(outs).mean(dim=0)  # (B, K+P, 4H, 4W)

        preds = self.decode(batch_heatmaps[:, :self.num_keypoints])
        if test_cfg.get('output_heatmaps', False):
            pred_fields = [
                PixelData(heatmaps=hm) for hm in batch_heatmaps.detach()
            ]
            return preds, pred_fields
        return preds

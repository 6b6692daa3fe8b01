"""The reference faces an RHT model carries with it.

A model's pool is part of the model: its faces are buffers saved in the
state dict, so ``mmpose.apis.init_model`` + the checkpoint give the same
references as the demo and the API. Each face is stored compactly, as its
image and its landmarks; the heatmaps the head reads are rendered from the
landmarks with the head's codec when first needed (never saved: they would
make a 48-face pool 30 MB).

Note:
    - N: faces in the pool
    - B: faces asked for
    - K, P: landmarks, boundaries (C = K + P heatmap channels)
    - R: reference size (the head's ``ref_size``)
    - D: descriptor length (the head's ``ref_channels[0]``)
"""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from mmpose.registry import MODELS

from rht_mmpose.utils.face_geometry import normalize_bgr
from .reference_batch import ReferenceFeatures

POOL_BUFFERS = ('images', 'keypoints', 'descriptors')


@MODELS.register_module()
class ReferencePool(nn.Module):
    """Reference faces of an :class:`RHTPoseEstimator` and their cached key
    and value features (selection: :meth:`RHTPoseEstimator.select_references`
    with the words of :mod:`rht_mmpose.utils.reference_selection`).

    Buffers (in the state dict): ``images`` (N, 3, R, R) uint8 BGR,
    ``keypoints`` (N, K, 2) float32 in pool-image pixels and ``descriptors``
    (N, D) float32 (:meth:`RHTHead.global_descriptor` of each face, for
    ``'descriptor'`` selection). ``heatmaps`` (N, C, R, R) float16 is
    rendered from the keypoints with the codec of the head given to
    :meth:`set_head`, whose extractors compute descriptors, keys and values.

    Args:
        ref_size (int): R
        num_keypoints (int): K
        num_channels (int): C
        descriptor_dim (int): D
        mean (Sequence[float]): the data preprocessor's mean (RGB order
            when ``bgr_to_rgb``), so pool images are normalised like the
            inputs
        std (Sequence[float]): the data preprocessor's std
        bgr_to_rgb (bool): the data preprocessor's channel flip
        cache_size (int): cached (face, flip) feature entries at most, least
            recently used dropped first (one entry is ~8 MB at R = 128)
    """

    def __init__(self,
                 ref_size: int,
                 num_keypoints: int,
                 num_channels: int,
                 descriptor_dim: int,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 bgr_to_rgb: bool = False,
                 cache_size: int = 256):
        super().__init__()
        self.ref_size = ref_size
        self.num_keypoints = num_keypoints
        self.num_channels = num_channels
        self.bgr_to_rgb = bgr_to_rgb
        self.cache_size = cache_size
        r = ref_size
        self.register_buffer('images', torch.zeros(0, 3, r, r,
                                                   dtype=torch.uint8))
        self.register_buffer('keypoints', torch.zeros(0, num_keypoints, 2))
        self.register_buffer('descriptors', torch.zeros(0, descriptor_dim))
        self.mean, self.std = mean, std
        self._head = None
        self._heatmaps: Optional[Tensor] = None
        self._heatmaps_key = None
        # (face index, flip permutation or None) -> (K, V_1x, V_2x, V_4x),
        # valid while _features_key (what they were computed from) matches:
        # the one invalidation rule; never saved
        self._features: 'OrderedDict[tuple, tuple]' = OrderedDict()
        self._features_key = None
        self.cache_stats = dict(hits=0, misses=0)

    # ------------------------------------------------------------------
    # faces
    # ------------------------------------------------------------------
    def __len__(self) -> int:
        return self.images.shape[0]

    def set_head(self, head: nn.Module) -> None:
        """The :class:`RHTHead` whose codec (``decoder``) renders the
        heatmaps and whose extractors compute the descriptors, keys and
        values."""
        # a plain attribute, not a submodule: the estimator owns and saves
        # the head
        object.__setattr__(self, '_head', head)
        self._heatmaps = None

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Resize the buffers to the checkpoint's pool before loading; a
        checkpoint without a pool leaves the current (empty) one."""
        for name in POOL_BUFFERS:
            key = prefix + name
            buf = self._buffers[name]
            if key not in state_dict:
                state_dict[key] = buf
            elif state_dict[key].shape != buf.shape:
                self._buffers[name] = buf.new_empty(state_dict[key].shape)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    @property
    def heatmaps(self) -> Tensor:
        """(N, C, R, R) float16, rendered from ``keypoints`` with the codec
        (every landmark visible), re-rendered when the keypoints change."""
        key = _stamp([self.keypoints], self.images.device)
        if self._heatmaps is None or self._heatmaps_key[0] != key[0]:
            self._heatmaps = self._render(self.keypoints.cpu().numpy()).to(
                self.images.device)
            self._heatmaps_key = key
        return self._heatmaps

    def _render(self, keypoints: np.ndarray) -> Tensor:
        """(N, K, 2) pool-image pixels -> (N, C, R, R) float16."""
        n, r = len(keypoints), self.ref_size
        if n == 0:
            return torch.zeros(0, self.num_channels, r, r,
                               dtype=torch.float16)
        if self._head is None:
            raise RuntimeError('the pool has no head whose codec renders its '
                               'heatmaps (ReferencePool.set_head)')
        codec = self._head.decoder
        in_w, in_h = codec.input_size
        hm_w, hm_h = codec.heatmap_size
        if (hm_w, hm_h) != (r, r):
            raise ValueError(f'the codec renders {hm_w}x{hm_h} heatmaps, the '
                             f'pool needs {r}x{r} (ref_size)')
        # the pool image spans the codec's input: landmarks scaled to it
        scale = np.array([in_w / r, in_h / r], np.float32)
        visible = np.ones((1, self.num_keypoints), np.float32)
        heatmaps = np.stack([
            codec.encode(kp[None] * scale, visible)['heatmaps']
            for kp in keypoints.astype(np.float32)
        ])
        if heatmaps.shape[1] != self.num_channels:
            raise ValueError(f'the codec renders {heatmaps.shape[1]} '
                             f'channels, the pool needs {self.num_channels}')
        return torch.from_numpy(heatmaps).to(torch.float16)

    @torch.no_grad()
    def set_faces(self, images_bgr_uint8: np.ndarray,
                  keypoints: np.ndarray) -> None:
        """Replace the faces (call :meth:`update_descriptors` after).

        Args:
            images_bgr_uint8 (np.ndarray): (N, R, R, 3) uint8, BGR
            keypoints (np.ndarray): (N, K, 2) in pool-image pixels
        """
        r, k = self.ref_size, self.num_keypoints
        images = np.asarray(images_bgr_uint8)
        if images.dtype != np.uint8 or images.ndim != 4 \
                or images.shape[1:] != (r, r, 3):
            raise ValueError(f'pool images are {images.dtype} of shape '
                             f'{images.shape}, expected uint8 (N, {r}, {r}, '
                             '3)')
        kpts = np.asarray(keypoints, dtype=np.float32)
        n = images.shape[0]
        if kpts.shape != (n, k, 2):
            raise ValueError(f'pool keypoints have shape {kpts.shape}, '
                             f'expected ({n}, {k}, 2)')
        if not np.isfinite(kpts).all():
            raise ValueError('pool keypoints contain NaN or infinite values')
        device = self.images.device
        self.images = torch.from_numpy(
            np.ascontiguousarray(images.transpose(0, 3, 1, 2))).to(device)
        self.keypoints = torch.from_numpy(kpts).to(device)
        self.descriptors = self.descriptors.new_zeros(
            n, self.descriptors.shape[1])

    def normalize(self, images: Tensor) -> Tensor:
        """(B, 3, R, R) BGR 0..255 -> (B, 3, R, R) float, normalised like
        the estimator's inputs."""
        return normalize_bgr(images, self.mean, self.std, self.bgr_to_rgb)

    def reference(self, index: Tensor, like: Tensor) -> Tuple[Tensor, Tensor]:
        """Normalised images (B, 3, R, R) and heatmaps (B, C, R, R) of
        faces ``index`` (B,), in ``like``'s dtype and device."""
        col = index.to(self.images.device)
        images = self.normalize(self.images[col].to(like.device))
        return images.to(like), self.heatmaps[col].to(like)

    @torch.no_grad()
    def update_descriptors(self, batch_size: int = 16) -> None:
        """Recompute ``descriptors`` with the head's current weights."""
        head = self._head
        was_training = head.training
        head.eval()
        descs = [
            head.global_descriptor(
                self.normalize(self.images[start:start + batch_size]))
            for start in range(0, len(self), batch_size)
        ]
        if descs:
            self.descriptors = torch.cat(descs).float()
        head.train(was_training)

    # ------------------------------------------------------------------
    # cached key / value features
    # ------------------------------------------------------------------
    @torch.no_grad()
    def features(self,
                 index: Tensor,
                 dtype: torch.dtype,
                 device: torch.device,
                 perm: Optional[Sequence[int]] = None,
                 key_only: bool = False) -> ReferenceFeatures:
        """Key and values of pool faces, computed once and cached while
        the faces and the extractors' weights stay what they were (a weight
        load, an optimiser step or new faces change them).

        Args:
            index (Tensor): pool indices, (B,)
            dtype (torch.dtype): dtype of the features
            device (torch.device): device of the features
            perm (Sequence[int], optional): with a channel permutation, the
                features of the horizontally flipped face (image flipped,
                heatmaps flipped and permuted), as the flip test needs
            key_only (bool): only K (V empty): what reference selection
                reads, without stacking the large V of every pool face

        Returns:
            ReferenceFeatures: K (B, C_1x, H, W) and V (1x, 2x, 4x)
        """
        head = self._head
        sources = [self.images, self.keypoints]
        for mod in (head.image_extractor, head.heatmap_extractor):
            sources.extend(mod.parameters())
            sources.extend(mod.buffers())
        key = _stamp(sources, device, dtype)
        if self._features_key is None or key[0] != self._features_key[0]:
            self._features.clear()
            self._features_key = key
        flipped = None if perm is None else tuple(int(c) for c in perm)
        idx = [int(i) for i in index.tolist()]
        missing = sorted({i for i in idx if (i, flipped) not in self._features})
        self.cache_stats['hits'] += len(idx) - len(missing)
        self.cache_stats['misses'] += len(missing)
        batch = 16
        probe = torch.empty(0, dtype=dtype, device=device)
        for start in range(0, len(missing), batch):
            rows = torch.tensor(missing[start:start + batch])
            imgs, hms = self.reference(rows, probe)
            if flipped is not None:
                imgs = imgs.flip(-1)
                hms = hms.flip(-1)[:, list(perm)]
            key, values = head.extract_reference(imgs, hms)
            for j, i in enumerate(missing[start:start + batch]):
                # clone: own storage, not a view keeping the batch alive
                self._features[(i, flipped)] = tuple(
                    t[j].clone() for t in [key] + list(values))
        for i in idx:
            self._features.move_to_end((i, flipped))
        while len(self._features) > max(self.cache_size, len(set(idx))):
            self._features.popitem(last=False)
        parts = list(zip(*[self._features[(i, flipped)] for i in idx]))
        stacked = [torch.stack(ts) for ts in parts[:1 if key_only else None]]
        return ReferenceFeatures(stacked[0], stacked[1:])


def _stamp(tensors: Sequence[Tensor], *context) -> tuple:
    """What a cache computed from ``tensors`` depends on: each tensor's
    identity and in-place version, plus ``context``; the tensors are kept
    with the stamp, so no new tensor can take an old one's identity."""
    return (tuple((id(t), t._version) for t in tensors) + context,
            list(tensors))

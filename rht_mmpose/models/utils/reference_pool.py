"""The reference faces an RHT model carries with it, and how it picks one.

A model's pool is part of the model: its faces are buffers saved in the
state dict, so ``mmpose.apis.init_model`` + the checkpoint give the same
references as the demo and the API. Each face is stored compactly, as its
image and its landmarks; the heatmaps the head reads are rendered from the
landmarks with the head's codec when first needed (never saved: they would
make a 48-face pool 30 MB).

Note:
    - N: faces in the pool
    - B: targets
    - k: references per target
    - K, P: landmarks, boundaries (C = K + P heatmap channels)
    - R: reference size (the head's ``ref_size``)
    - D: descriptor length (the head's ``ref_channels[0]``)
"""
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

from mmpose.registry import MODELS

from .reference_selection import check_selection

POOL_BUFFERS = ('images', 'keypoints', 'descriptors')


@MODELS.register_module()
class ReferencePool(nn.Module):
    """Reference faces of an :class:`RHTPoseEstimator`, their cached key and
    value features, and reference selection.

    Buffers (in the state dict): ``images`` (N, 3, R, R) uint8 BGR,
    ``keypoints`` (N, K, 2) float32 in pool-image pixels and ``descriptors``
    (N, D) float32 (:meth:`RHTHead.global_descriptor` of each face, for
    ``'descriptor'`` selection). ``heatmaps`` (N, C, R, R) float16 is
    rendered from the keypoints with the codec given to :meth:`set_codec`.

    Selection (``mode``, the estimator's ``test_cfg.ref_mode``; the words
    of :mod:`.reference_selection`):

    - ``'descriptor'``: the k faces whose descriptors have the highest
      cosine with the target's;
    - ``'stm_match'``: the k faces whose key patches best match the
      target's query patches (:meth:`match_scores`);
    - ``'fixed'``: pool indices ``ref_index``;
    - ``'random'``: k random faces.

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
        self.register_buffer(
            'mean', None if mean is None else torch.tensor(
                mean, dtype=torch.float32).view(1, -1, 1, 1),
            persistent=False)
        self.register_buffer(
            'std', None if std is None else torch.tensor(
                std, dtype=torch.float32).view(1, -1, 1, 1),
            persistent=False)
        self._codec = None
        self._heatmaps: Optional[Tensor] = None
        self._heatmaps_key = None
        # (face index, flip permutation or None) -> (K, V_1x, V_2x, V_4x),
        # valid while _features_key matches; never saved
        self._features: 'OrderedDict[tuple, tuple]' = OrderedDict()
        self._features_key = None
        self.cache_stats = dict(hits=0, misses=0)

    # ------------------------------------------------------------------
    # faces
    # ------------------------------------------------------------------
    def __len__(self) -> int:
        return self.images.shape[0]

    def set_codec(self, codec) -> None:
        """The codec that renders the heatmaps (the head's decoder)."""
        self._codec = codec
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
        self.clear_cache()

    @property
    def heatmaps(self) -> Tensor:
        """(N, C, R, R) float16, rendered from ``keypoints`` with the codec
        (every landmark visible), re-rendered when the keypoints change."""
        key = (self.keypoints.data_ptr(), self.keypoints._version,
               tuple(self.keypoints.shape), self.images.device)
        if self._heatmaps is None or self._heatmaps_key != key:
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
        if self._codec is None:
            raise RuntimeError('the pool has no codec to render its heatmaps '
                               '(ReferencePool.set_codec)')
        in_w, in_h = self._codec.input_size
        hm_w, hm_h = self._codec.heatmap_size
        if (hm_w, hm_h) != (r, r):
            raise ValueError(f'the codec renders {hm_w}x{hm_h} heatmaps, the '
                             f'pool needs {r}x{r} (ref_size)')
        # the pool image spans the codec's input: landmarks scaled to it
        scale = np.array([in_w / r, in_h / r], np.float32)
        visible = np.ones((1, self.num_keypoints), np.float32)
        heatmaps = np.stack([
            self._codec.encode(kp[None] * scale, visible)['heatmaps']
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
        self.clear_cache()

    def normalize(self, images: Tensor) -> Tensor:
        """(B, 3, R, R) BGR 0..255 -> (B, 3, R, R) float, normalised like
        the estimator's inputs."""
        x = images.float()
        if self.bgr_to_rgb:
            x = x[:, [2, 1, 0]]
        if self.mean is not None:
            x = (x - self.mean.to(x.device)) / self.std.to(x.device)
        return x

    def reference(self, index: Tensor, like: Tensor) -> Tuple[Tensor, Tensor]:
        """Normalised images (B, 3, R, R) and heatmaps (B, C, R, R) of
        faces ``index`` (B,), in ``like``'s dtype and device."""
        col = index.to(self.images.device)
        images = self.normalize(self.images[col].to(like.device))
        return images.to(like), self.heatmaps[col].to(like)

    @torch.no_grad()
    def update_descriptors(self, head: nn.Module,
                           batch_size: int = 16) -> None:
        """Recompute ``descriptors`` with the head's current weights."""
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
        self.clear_cache()

    # ------------------------------------------------------------------
    # cached key / value features
    # ------------------------------------------------------------------
    def clear_cache(self) -> None:
        """Drop every cached feature."""
        self._features.clear()
        self._features_key = None

    def _state_version(self, head: nn.Module, device: torch.device,
                       dtype: torch.dtype) -> tuple:
        """What the cached features depend on: storage and in-place version
        of every extractor parameter / buffer and of the faces (so a weight
        load, an optimiser step or new faces invalidate), the device and
        dtype."""
        tensors = [self.images, self.keypoints]
        for mod in (head.image_extractor, head.heatmap_extractor):
            tensors.extend(mod.parameters())
            tensors.extend(mod.buffers())
        return (str(device), dtype,
                tuple((t.data_ptr(), t._version, t.dtype) for t in tensors))

    @torch.no_grad()
    def features(self,
                 head: nn.Module,
                 index: Tensor,
                 dtype: torch.dtype,
                 device: torch.device,
                 perm: Optional[Sequence[int]] = None
                 ) -> Tuple[Tensor, List[Tensor]]:
        """Key and values of pool faces, computed once and cached.

        Args:
            head (nn.Module): the :class:`RHTHead` whose extractors run
            index (Tensor): pool indices, (B,)
            dtype (torch.dtype): dtype of the features
            device (torch.device): device of the features
            perm (Sequence[int], optional): with a channel permutation, the
                features of the horizontally flipped face (image flipped,
                heatmaps flipped and permuted), as the flip test needs

        Returns:
            tuple: K (B, C_1x, H, W) and V (list of 3: 1x, 2x, 4x)
        """
        version = self._state_version(head, device, dtype)
        if version != self._features_key:
            self._features.clear()
            self._features_key = version
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
        entries = [self._features[(i, flipped)] for i in idx]
        stacked = [torch.stack(ts) for ts in zip(*entries)]
        return stacked[0], stacked[1:]

    # ------------------------------------------------------------------
    # selection
    # ------------------------------------------------------------------
    @torch.no_grad()
    def match_scores(self, head: nn.Module, query: Tensor,
                     cached: bool) -> Tensor:
        """How well each pool face can serve each target: the mean over
        target patches of STM's confidence A (the best cosine of a 3x3
        query patch with any key patch of the pool face).

        A pool face scores high when every part of the target has a close
        counterpart in it, which is what STM needs; unlike the global
        descriptor this is the matching the head itself performs (and, with
        ``RHTHead(match_loss_weight>0)``, was trained to perform).

        Args:
            head (nn.Module): the :class:`RHTHead` (needs its STM)
            query (Tensor): the targets' 1x features, (B, C_1x, H, W)
            cached (bool): take the keys from the feature cache

        Returns:
            Tensor: (B, N) scores in [-1, 1]
        """
        if not getattr(head, 'use_stm', False):
            raise ValueError("ref_mode 'stm_match' needs the head's STM "
                             '(RHTHead(use_stm=True))')
        n = len(self)
        scores = []
        for start in range(0, n, 16):
            index = torch.arange(start, min(start + 16, n))
            if cached:
                keys, _ = self.features(head, index, query.dtype,
                                        query.device)
            else:
                keys = head.extract_query(self.reference(index, query)[0])
            # keys: (16, C_1x, H, W) -> (B, 16) mean confidences
            scores.append(head.stm.match_confidence(query, keys).float())
        return torch.cat(scores, dim=1)

    def select(self,
               head: nn.Module,
               target_small: Tensor,
               mode: str,
               num_refs: int = 1,
               ref_index: Union[int, Sequence[int]] = 0,
               query: Optional[Tensor] = None,
               cached: bool = False) -> Tensor:
        """Choose pool references for every target.

        Args:
            head (nn.Module): the :class:`RHTHead`
            target_small (Tensor): normalised targets, (B, 3, R, R)
            mode (str): ``'descriptor' | 'stm_match' | 'fixed' | 'random'``
            num_refs (int): k
            ref_index (int | Sequence[int]): pool indices for ``'fixed'``
            query (Tensor, optional): the targets' 1x features
                (B, C_1x, H, W) when already extracted; the descriptor then
                comes from them instead of another extractor pass
            cached (bool): ``'stm_match'`` reads keys from the cache

        Returns:
            Tensor: (B, k) int64 pool indices
        """
        check_selection(mode, 'model')
        n = len(self)
        if n == 0:
            raise ValueError(
                'no reference in the data samples and the reference pool is '
                'empty: call set_reference_pool() or load a checkpoint with '
                'a pool, or feed samples with ref_img / ref_heatmaps')
        b = target_small.shape[0]
        device = target_small.device
        k = min(num_refs, n)
        if mode == 'descriptor':
            desc = head.global_descriptor(target_small) if query is None \
                else head.descriptor_from_query(query)  # (B, D)
            sim = desc @ self.descriptors.to(desc.dtype).t()  # (B, N)
            return sim.topk(k, dim=1).indices
        if mode == 'stm_match':
            if query is None:
                query = head.extract_query(target_small)
            return self.match_scores(head, query, cached).topk(
                k, dim=1).indices
        if mode == 'fixed':
            idx = [ref_index] if isinstance(ref_index, int) else \
                list(ref_index)
            if len(idx) != num_refs and num_refs != 1:
                raise ValueError(f'ref_index {ref_index} has {len(idx)} '
                                 f'entries, expected num_refs={num_refs}')
            if any(i < 0 or i >= n for i in idx):
                raise ValueError(f'ref_index {ref_index} out of the pool '
                                 f'range [0, {n})')
            return torch.tensor(idx, device=device).expand(b, -1)
        # random
        return torch.stack([torch.randperm(n)[:k]
                            for _ in range(b)]).to(device)

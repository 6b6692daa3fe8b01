"""Top-down estimator that feeds references to :class:`RHTHead`."""
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import OptSampleList, SampleList

POOL_BUFFERS = ('pool_images', 'pool_heatmaps', 'pool_descriptors')
REF_MODES = ('most_similar', 'best_match', 'fixed', 'random')


@MODELS.register_module()
class RHTPoseEstimator(TopdownPoseEstimator):
    """:class:`TopdownPoseEstimator` whose head also reads a reference face.

    What differs from :class:`TopdownPoseEstimator`:

    - the target at 128x128 for the reference branch is the normalised
      input downsampled by ``F.interpolate(mode='area')``;
    - ``data_sample.ref_img`` (3, R, R; BGR 0..255 like the raw ``inputs``)
      is normalised with the data preprocessor's channel flip, mean and std,
      and stacked with ``data_sample.ref_heatmaps`` (K + P, R, R) into the
      ``refs`` of :meth:`RHTHead.forward`;
    - without references in the data samples (``inference_topdown``, the
      demo; or ``test_cfg['use_sample_refs']=False``) the references come
      from a built-in pool, saved in the checkpoint as buffers
      ``pool_images`` (N_ref, 3, R, R) uint8 BGR, ``pool_heatmaps``
      (N_ref, K + P, R, R) float16 and ``pool_descriptors`` (N_ref, D),
      installed with :meth:`set_reference_pool`.

    ``test_cfg`` keys beyond MMPose's:

    - ``ref_mode``: ``'most_similar'`` (cosine of the global descriptors of
      :meth:`RHTHead.global_descriptor`, default), ``'best_match'`` (the
      pool faces whose key patches best match the target's query patches,
      :meth:`match_scores`), ``'fixed'`` (pool index ``ref_index``,
      default 0) or ``'random'``;
    - ``num_refs``: k > 1 averages the heatmaps of k references (the top k,
      k random ones, or ``ref_index`` a list of k indices);
    - ``use_sample_refs``: use the data samples' references when present
      (default True).

    - ``cache_pool_features``: in eval mode without autograd, compute the
      key K and the values V of every pool face used once and keep them
      (default True); the target's Q is then extracted once per forward
      and also gives its descriptor. See :meth:`pool_features`;
    - ``pool_cache_size``: at most this many cached (pool face, flip)
      entries, least recently used dropped first (default 256; one entry
      is ~8 MB at the default sizes).

    In training, samples without a reference get a random pool entry.
    The pool index used is written to each data sample's metainfo as
    ``ref_pool_index`` (list of k ints).

    With ``RHTHead(with_reference=False)`` this is the plain TopdownPose
    estimator (no references, no pool).

    Note:
        - B: batch size
        - K, P: landmarks, boundaries
        - R: reference size (``head.ref_size``, 128)
        - N_ref: references in the pool
        - D: descriptor length (``head.ref_channels[0]``)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        head = self.head
        self.with_reference = getattr(head, 'with_reference', False)
        if self.with_reference:
            r = head.ref_size
            self.register_buffer(
                'pool_images', torch.zeros(0, 3, r, r, dtype=torch.uint8))
            self.register_buffer(
                'pool_heatmaps',
                torch.zeros(0, head.out_channels, r, r, dtype=torch.float16))
            self.register_buffer(
                'pool_descriptors',
                torch.zeros(0, head.ref_channels[0], dtype=torch.float32))
        # (pool index, flip permutation or None) -> (K, V_1x, V_2x, V_4x),
        # valid while
        # _pool_cache_key matches; never saved (not a buffer, not in the
        # state dict)
        self._pool_cache: 'OrderedDict[tuple, tuple]' = OrderedDict()
        self._pool_cache_key = None
        self.pool_cache_stats = dict(hits=0, misses=0)

    # ------------------------------------------------------------------
    # reference pool
    # ------------------------------------------------------------------
    @property
    def pool_size(self) -> int:
        """Number of references in the built-in pool."""
        return self.pool_images.shape[0] if self.with_reference else 0

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Resize the pool buffers to the checkpoint's pool before loading;
        a checkpoint without a pool leaves the current (empty) one."""
        if self.with_reference:
            for name in POOL_BUFFERS:
                key = prefix + name
                buf = self._buffers[name]
                if key not in state_dict:
                    state_dict[key] = buf
                elif state_dict[key].shape != buf.shape:
                    self._buffers[name] = buf.new_empty(
                        state_dict[key].shape)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    # ------------------------------------------------------------------
    # pool feature cache
    # ------------------------------------------------------------------
    def clear_pool_cache(self) -> None:
        """Drop every cached pool feature."""
        self._pool_cache.clear()
        self._pool_cache_key = None

    def train(self, mode: bool = True):
        """Switching mode drops the pool cache (weights may change)."""
        self.clear_pool_cache()
        return super().train(mode)

    def _state_version(self, device: torch.device,
                       dtype: torch.dtype) -> tuple:
        """What the cached features depend on: storage and in-place version
        of every extractor parameter / buffer and of the pool buffers (so a
        weight load, an optimiser step or a new pool invalidates), the
        normalisation, the device and dtype."""
        head = self.head
        tensors = [self.pool_images, self.pool_heatmaps]
        for mod in (head.image_extractor, head.heatmap_extractor):
            tensors.extend(mod.parameters())
            tensors.extend(mod.buffers())
        pre = self.data_preprocessor
        for name in ('mean', 'std'):
            t = getattr(pre, name, None)
            if isinstance(t, Tensor):
                tensors.append(t)
        return (str(device), dtype, tuple((t.data_ptr(), t._version, t.dtype) for t in tensors))

    def use_pool_cache(self) -> bool:
        """Cache only in eval mode, without autograd, outside tracing."""
        if self.training or torch.is_grad_enabled() \
                or not self.test_cfg.get('cache_pool_features', True):
            return False
        if torch.jit.is_tracing() or torch.jit.is_scripting():
            return False
        compiler = getattr(torch, 'compiler', None)
        if compiler is not None and getattr(compiler, 'is_compiling',
                                            lambda: False)():
            return False
        return True

    @torch.no_grad()
    def pool_features(self,
                      index: Tensor,
                      dtype: torch.dtype,
                      device: torch.device,
                      perm: Optional[Sequence[int]] = None
                      ) -> Tuple[Tensor, List[Tensor]]:
        """Key and values of pool faces, computed once and cached.

        Args:
            index (Tensor): pool indices, (B,)
            dtype (torch.dtype): dtype of the features
            device (torch.device): device of the features
            perm (Sequence[int], optional): with a channel permutation, the
                features of the horizontally flipped face (image flipped,
                heatmaps flipped and permuted), as the flip test needs

        Returns:
            tuple: K (B, C_1x, H, W) and V (list of 3: 1x, 2x, 4x)
        """
        version = self._state_version(device, dtype)
        if version != self._pool_cache_key:
            self._pool_cache.clear()
            self._pool_cache_key = version
        flipped = None if perm is None else tuple(int(c) for c in perm)
        idx = [int(i) for i in index.tolist()]
        missing = sorted({i for i in idx
                          if (i, flipped) not in self._pool_cache})
        self.pool_cache_stats['hits'] += len(idx) - len(missing)
        self.pool_cache_stats['misses'] += len(missing)
        batch = 16
        for start in range(0, len(missing), batch):
            rows = torch.tensor(missing[start:start + batch],
                                device=self.pool_images.device)
            imgs = self.normalize_ref_images(
                self.pool_images[rows].to(device)).to(dtype)
            hms = self.pool_heatmaps[rows].to(device=device, dtype=dtype)
            if flipped is not None:
                imgs = imgs.flip(-1)
                hms = hms.flip(-1)[:, list(perm)]
            key, values = self.head.extract_reference(imgs, hms)
            for j, i in enumerate(missing[start:start + batch]):
                # clone: own storage, not a view keeping the batch alive
                self._pool_cache[(i, flipped)] = tuple(
                    t[j].clone() for t in [key] + list(values))
        for i in idx:
            self._pool_cache.move_to_end((i, flipped))
        cap = int(self.test_cfg.get('pool_cache_size', 256))
        while len(self._pool_cache) > max(cap, len(set(idx))):
            self._pool_cache.popitem(last=False)
        entries = [self._pool_cache[(i, flipped)] for i in idx]
        stacked = [torch.stack(ts) for ts in zip(*entries)]
        return stacked[0], stacked[1:]

    def normalize_ref_images(self, images: Tensor) -> Tensor:
        """Apply the data preprocessor's channel flip and normalisation.

        Args:
            images (Tensor): (B, 3, R, R), BGR 0..255 like the raw inputs

        Returns:
            Tensor: (B, 3, R, R) float, like the normalised ``inputs``
        """
        pre = self.data_preprocessor
        x = images.float()
        if getattr(pre, '_channel_conversion', False):
            x = x[:, [2, 1, 0]]
        if getattr(pre, '_enable_normalize', False):
            x = (x - pre.mean.view(1, -1, 1, 1)) / pre.std.view(1, -1, 1, 1)
        return x

    @torch.no_grad()
    def set_reference_pool(self,
                           images_bgr_uint8: np.ndarray,
                           heatmaps: Union[np.ndarray, Tensor],
                           batch_size: int = 16) -> None:
        """Install the built-in reference pool and compute its descriptors
        with the current weights (call it after loading the weights).

        Args:
            images_bgr_uint8 (np.ndarray): (N_ref, R, R, 3) uint8, BGR
            heatmaps (np.ndarray | Tensor): (N_ref, K + P, R, R), as the
                codec renders them
            batch_size (int): images per descriptor forward
        """
        if not self.with_reference:
            raise RuntimeError('this model has no reference branch '
                               '(RHTHead(with_reference=False))')
        r, c = self.head.ref_size, self.head.out_channels
        images = np.asarray(images_bgr_uint8)
        if images.dtype != np.uint8 or images.ndim != 4 \
                or images.shape[1:] != (r, r, 3):
            raise ValueError(f'pool images are {images.dtype} of shape '
                             f'{images.shape}, expected uint8 (N, {r}, {r}, '
                             '3)')
        hms = torch.as_tensor(np.asarray(heatmaps, dtype=np.float32)) \
            if not isinstance(heatmaps, Tensor) else heatmaps.float()
        n = images.shape[0]
        if tuple(hms.shape) != (n, c, r, r):
            raise ValueError(f'pool heatmaps have shape {tuple(hms.shape)}, '
                             f'expected ({n}, {c}, {r}, {r})')
        device = self.pool_images.device
        self.pool_images = torch.from_numpy(
            np.ascontiguousarray(images.transpose(0, 3, 1, 2))).to(device)
        self.pool_heatmaps = hms.to(device=device, dtype=torch.float16)
        self.clear_pool_cache()
        self.update_pool_descriptors(batch_size)

    @torch.no_grad()
    def update_pool_descriptors(self, batch_size: int = 16) -> None:
        """Recompute ``pool_descriptors`` with the current head weights."""
        was_training = self.training
        self.eval()
        descs = []
        for start in range(0, self.pool_size, batch_size):
            imgs = self.normalize_ref_images(
                self.pool_images[start:start + batch_size])
            descs.append(self.head.global_descriptor(imgs))
        self.pool_descriptors = torch.cat(descs) if descs else \
            self.pool_descriptors.new_zeros(self.pool_descriptors.shape)
        self.train(was_training)

    @torch.no_grad()
    def match_scores(self, query: Tensor) -> Tensor:
        """How well each pool face can serve each target: the mean over
        target patches of STM's confidence A (the best cosine of a 3x3
        query patch with any key patch of the pool face).

        A pool face scores high when every part of the target has a close
        counterpart in it, which is what STM needs; unlike the global
        descriptor this is the matching the head itself performs (and, with
        ``RHTHead(match_loss_weight>0)``, was trained to perform).

        Args:
            query (Tensor): the targets' 1x features, (B, C_1x, H, W)

        Returns:
            Tensor: (B, N_ref) scores in [-1, 1]
        """
        if not getattr(self.head, 'use_stm', False):
            raise ValueError("ref_mode 'best_match' needs the head's STM "
                             '(RHTHead(use_stm=True))')
        b = query.shape[0]
        scores = query.new_empty(b, self.pool_size, dtype=torch.float32)
        for start in range(0, self.pool_size, 16):
            index = torch.arange(start, min(start + 16, self.pool_size))
            if self.use_pool_cache():
                keys, _ = self.pool_features(index, query.dtype,
                                             query.device)
            else:
                keys = self.head.extract_query(
                    self.normalize_ref_images(
                        self.pool_images[index.to(self.pool_images.device)]
                        .to(query.device)).to(query.dtype))
            for j, key in enumerate(keys):  # key: (C_1x, H, W)
                conf, _ = self.head.stm.correlate(
                    query, key.expand_as(query))  # (B, H * W)
                scores[:, start + j] = conf.mean(dim=1)
        return scores

    def select_pool_indices(self, target_small: Tensor, mode: str,
                            num_refs: int = 1,
                            ref_index: Union[int, Sequence[int]] = 0,
                            query: Optional[Tensor] = None) -> Tensor:
        """Choose pool references for every target.

        Args:
            target_small (Tensor): normalised targets, (B, 3, R, R)
            mode (str): one of ``'most_similar' | 'best_match' | 'fixed' |
                'random'``
            num_refs (int): k
            ref_index (int | Sequence[int]): pool indices for ``'fixed'``
            query (Tensor, optional): the targets' 1x features
                (B, C_1x, H, W) when already extracted; the descriptor then
                comes from them instead of another extractor pass

        Returns:
            Tensor: (B, k) int64 pool indices
        """
        n = self.pool_size
        if n == 0:
            raise ValueError(
                'no reference in the data samples and the reference pool is '
                'empty: call set_reference_pool() or load a checkpoint with '
                'a pool, or feed samples with ref_img / ref_heatmaps')
        b = target_small.shape[0]
        device = target_small.device
        if mode == 'most_similar':
            k = min(num_refs, n)
            desc = self.head.global_descriptor(target_small) \
                if query is None else \
                self.head.descriptor_from_query(query)  # (B, D)
            sim = desc @ self.pool_descriptors.to(desc.dtype).t()  # (B, N)
            return sim.topk(k, dim=1).indices
        if mode == 'best_match':
            k = min(num_refs, n)
            if query is None:
                query = self.head.extract_query(target_small)
            return self.match_scores(query).topk(k, dim=1).indices
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
        if mode == 'random':
            k = min(num_refs, n)
            return torch.stack([torch.randperm(n)[:k]
                                for _ in range(b)]).to(device)
        raise ValueError(f'ref_mode {mode!r}, expected one of {REF_MODES}')

    # ------------------------------------------------------------------
    # references
    # ------------------------------------------------------------------
    def get_references(self,
                       inputs: Tensor,
                       data_samples: OptSampleList,
                       training: bool = False) -> Optional[List[dict]]:
        """Build the ``refs`` of :meth:`RHTHead.forward`.

        Args:
            inputs (Tensor): normalised targets, (B, 3, H_in, W_in)
            data_samples (List[PoseDataSample], optional): may carry
                ``ref_img`` (3, R, R) and ``ref_heatmaps`` (K + P, R, R)
            training (bool): draw a random pool reference for samples
                without one

        Returns:
            List[dict] | None: one dict per reference (k of them from the
            pool with ``num_refs``), each with ``target_small``, ``ref_img``
            (B, 3, R, R) and ``ref_heatmaps`` (B, K + P, R, R); None without
            a reference branch
        """
        if not self.with_reference:
            return None
        r = self.head.ref_size
        target_small = F.interpolate(inputs, size=(r, r), mode='area')
        cfg = self.train_cfg if training else self.test_cfg
        if data_samples and cfg.get('use_sample_refs', True) and all(
                'ref_img' in d and 'ref_heatmaps' in d
                for d in data_samples):
            ref_img = torch.stack([d.ref_img for d in data_samples]).to(
                inputs.device)
            ref_hm = torch.stack([d.ref_heatmaps
                                  for d in data_samples]).to(inputs)
            return [
                dict(
                    target_small=target_small,
                    ref_img=self.normalize_ref_images(ref_img).to(inputs),
                    ref_heatmaps=ref_hm)
            ]
        mode = 'random' if training else self.test_cfg.get(
            'ref_mode', 'most_similar')
        cached = not training and self.use_pool_cache()
        # Q of the target, extracted once: descriptor and every reference
        query = self.head.extract_query(target_small) if cached else None
        idx = self.select_pool_indices(
            target_small,
            mode,
            num_refs=1 if training else self.test_cfg.get('num_refs', 1),
            ref_index=self.test_cfg.get('ref_index', 0),
            query=query)  # (B, k)
        if data_samples:
            for d, row in zip(data_samples, idx.tolist()):
                d.set_metainfo(dict(ref_pool_index=row))
        perm = None
        if cached and self.test_cfg.get('flip_test', False) and data_samples \
                and 'flip_indices' in data_samples[0].metainfo:
            perm = self.head.channel_flip_indices(
                data_samples[0].metainfo['flip_indices'])
            query_flip = self.head.extract_query(target_small.flip(-1))
        refs = []
        for j in range(idx.shape[1]):
            col = idx[:, j].to(self.pool_images.device)
            ref = dict(
                target_small=target_small,
                ref_img=self.normalize_ref_images(
                    self.pool_images[col].to(inputs.device)).to(inputs),
                ref_heatmaps=self.pool_heatmaps[col].to(inputs))
            if cached:
                key, values = self.pool_features(col, inputs.dtype,
                                                 inputs.device)
                ref.update(query=query, key=key, values=values)
                if perm is not None:
                    key_f, values_f = self.pool_features(
                        col, inputs.dtype, inputs.device, perm=perm)
                    ref['flipped'] = dict(
                        query=query_flip, key=key_f, values=values_f)
            refs.append(ref)
        return refs

    # ------------------------------------------------------------------
    # modes
    # ------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses; see :meth:`RHTHead.loss`.

        Args:
            inputs (Tensor): (B, 3, H_in, W_in)
            data_samples (List[PoseDataSample]): the batch data samples

        Returns:
            dict: ``loss_kpt``, ``loss_trans``, ``acc_pose``
        """
        feats = self.extract_feat(inputs)
        refs = self.get_references(inputs, data_samples, training=True)
        return self.head.loss(
            feats,
            data_samples,
            train_cfg=self.train_cfg,
            refs=None if refs is None else refs[0])

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """Predictions; as :meth:`TopdownPoseEstimator.predict` with
        references (flip test flips them inside the head).

        Args:
            inputs (Tensor): (B, 3, H_in, W_in)
            data_samples (List[PoseDataSample]): the batch data samples

        Returns:
            List[PoseDataSample]: with ``pred_instances`` (and
            ``pred_fields`` with ``output_heatmaps``)
        """
        assert self.with_head, (
            'The model must have head to perform prediction.')
        if self.test_cfg.get('flip_test', False):
            feats = [
                self.extract_feat(inputs),
                self.extract_feat(inputs.flip(-1))
            ]
        else:
            feats = self.extract_feat(inputs)
        refs = self.get_references(inputs, data_samples)
        preds = self.head.predict(
            feats, data_samples, test_cfg=self.test_cfg, refs=refs)
        if isinstance(preds, tuple):
            batch_pred_instances, batch_pred_fields = preds
        else:
            batch_pred_instances, batch_pred_fields = preds, None
        return self.add_pred_to_datasample(batch_pred_instances,
                                           batch_pred_fields, data_samples)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        """Heatmaps (B, K + P, 4H, 4W) without post-processing
        (``mode='tensor'``); references from the samples or the pool."""
        feats = self.extract_feat(inputs)
        refs = self.get_references(inputs, data_samples)
        return self.head.forward(feats, refs)

"""Top-down estimator that feeds references to :class:`RHTHead`."""
from typing import List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType, OptSampleList, SampleList

from rht_mmpose.utils.face_geometry import preprocessor_normalization
from rht_mmpose.utils.reference_selection import (check_selection,
                                                  choose_references)
from ..utils.reference_batch import ReferenceBatch


@MODELS.register_module()
class RHTPoseEstimator(TopdownPoseEstimator):
    """:class:`TopdownPoseEstimator` whose head also reads a reference face,
    and whose keypoints can pass through a shape refiner.

    What differs from :class:`TopdownPoseEstimator`:

    - the target at R x R for the reference branch is the normalised
      input downsampled by ``F.interpolate(mode='area')``;
    - ``data_sample.ref_img`` (3, R, R; BGR 0..255 like the raw ``inputs``)
      is normalised like the inputs and stacked with
      ``data_sample.ref_heatmaps`` (K + P, R, R) into the
      :class:`ReferenceBatch` of :meth:`RHTHead.forward`;
    - without references in the data samples (``inference_topdown``, the
      demo; or ``test_cfg['use_sample_refs']=False``) the references come
      from the model's :class:`ReferencePool` (``self.reference_pool``,
      saved in the state dict), filled by :meth:`set_reference_pool`;
    - with ``shape_refiner`` (a :class:`LinearShapeRefiner` config) the
      predicted keypoints, in image pixels, are refined after decoding
      (``test_cfg['refine_shape']=False`` turns it off).

    ``test_cfg`` keys beyond MMPose's:

    - ``ref_mode``: a model selection of :mod:`..utils.reference_selection`
      (``'descriptor'``, default; ``'stm_match'``; ``'fixed'`` with
      ``ref_index``, default 0; ``'random'``);
    - ``num_refs``: k > 1 averages the heatmaps of k references (the top k,
      k random ones, or ``ref_index`` a list of k indices);
    - ``use_sample_refs``: use the data samples' references when present
      (default True);
    - ``cache_pool_features``: in eval mode without autograd, compute the
      key K and the values V of every pool face used once and keep them
      (default True); the target's Q is then extracted once per forward
      and also gives its descriptor (:meth:`ReferencePool.features`);
    - ``refine_shape``: apply the shape refiner when it is fitted (default
      True).

    In training, samples without a reference get a random pool entry.
    The pool index used is written to each data sample's metainfo as
    ``ref_pool_index`` (list of k ints).

    With ``RHTHead(with_reference=False)`` there are no references and no
    pool (the Trans-R / Trans-H baseline); the shape refiner still applies.

    Args:
        reference_pool (dict, optional): extra args of the
            :class:`ReferencePool` (e.g. ``cache_size``); its sizes come
            from the head and its normalisation from the data preprocessor
        shape_refiner (dict, optional): a :class:`LinearShapeRefiner`
            config; ``None``: no refiner
        **kwargs: as :class:`TopdownPoseEstimator`

    Note:
        - B: batch size
        - K, P: landmarks, boundaries
        - R: reference size (``head.ref_size``)
    """

    def __init__(self,
                 *args,
                 reference_pool: OptConfigType = None,
                 shape_refiner: OptConfigType = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        head = self.head
        self.with_reference = getattr(head, 'with_reference', False)
        if self.with_reference:
            cfg = dict(
                type='ReferencePool',
                ref_size=head.ref_size,
                num_keypoints=head.num_keypoints,
                num_channels=head.out_channels,
                descriptor_dim=head.ref_channels[0],
                **preprocessor_normalization(self.data_preprocessor))
            cfg.update(reference_pool or {})
            self.reference_pool = MODELS.build(cfg)
            self.reference_pool.set_head(head)
        self.shape_refiner = None if shape_refiner is None else \
            MODELS.build(shape_refiner)

    # ------------------------------------------------------------------
    # reference pool
    # ------------------------------------------------------------------
    @property
    def pool_size(self) -> int:
        """Number of references in the built-in pool."""
        return len(self.reference_pool) if self.with_reference else 0

    def _check_reference_branch(self) -> None:
        if not self.with_reference:
            raise RuntimeError('this model has no reference branch '
                               '(RHTHead(with_reference=False))')

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Checkpoints written before the pool was a module kept it as
        ``pool_images`` / ``pool_heatmaps`` / ``pool_descriptors``; a
        non-empty one cannot be converted (heatmaps, not landmarks)."""
        for name in ('pool_images', 'pool_heatmaps', 'pool_descriptors'):
            old = state_dict.pop(prefix + name, None)
            if old is not None and old.shape[0] > 0:
                error_msgs.append(
                    f'{prefix + name}: a reference pool of {old.shape[0]} '
                    'faces in the pre-ReferencePool format; rebuild the '
                    'checkpoint with tools/deployment/make_bundle.py')
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

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
    def set_reference_pool(self,
                           images_bgr_uint8: np.ndarray,
                           keypoints: np.ndarray,
                           batch_size: int = 16) -> None:
        """Install the built-in reference pool and compute its descriptors
        with the current weights (call it after loading the weights).

        Args:
            images_bgr_uint8 (np.ndarray): (N_ref, R, R, 3) uint8, BGR
            keypoints (np.ndarray): (N_ref, K, 2) in pool-image pixels;
                their heatmaps are rendered with the head's codec
            batch_size (int): images per descriptor forward
        """
        self._check_reference_branch()
        self.reference_pool.set_faces(images_bgr_uint8, keypoints)
        self.reference_pool.update_descriptors(batch_size)

    # ------------------------------------------------------------------
    # references
    # ------------------------------------------------------------------
    @torch.no_grad()
    def pool_scores(self, query: Tensor, mode: str, cached: bool) -> Tensor:
        """How well each pool face can serve each target, (B, N).

        ``'descriptor'``: cosine of the global descriptors.
        ``'stm_match'``: the mean over target patches of STM's confidence
        A (the best cosine of a 3x3 query patch with any key patch of the
        pool face): high when every part of the target has a close
        counterpart in the face, the matching the head itself performs.

        Args:
            query (Tensor): the targets' 1x features, (B, C_1x, H, W)
            mode (str): ``'descriptor'`` or ``'stm_match'``
            cached (bool): take the pool keys from the feature cache
        """
        pool, head = self.reference_pool, self.head
        if mode == 'descriptor':
            desc = head.descriptor_from_query(query)  # (B, D)
            return desc @ pool.descriptors.to(desc).t()
        if not getattr(head, 'use_stm', False):
            raise ValueError("ref_mode 'stm_match' needs the head's STM "
                             '(RHTHead(use_stm=True))')
        if cached:  # the pool's keys only (no values), (N, C_1x, H, W)
            pool_keys = pool.features(torch.arange(len(pool)), query.dtype,
                                      query.device, key_only=True).key
        # a chunk's Gram matrix holds (H*W)^2 numbers per pool face
        chunk = max(1, 2**22 // query[0, 0].numel()**2)
        scores = []
        for start in range(0, len(pool), chunk):
            index = torch.arange(start, min(start + chunk, len(pool)))
            keys = pool_keys[index] if cached else head.extract_query(
                pool.reference(index, query)[0])
            # keys: (chunk, C_1x, H, W) -> (B, chunk) mean confidences
            scores.append(head.stm.match_confidence(query, keys).float())
        return torch.cat(scores, dim=1)

    def select_references(self,
                          query: Optional[Tensor],
                          mode: str,
                          num_refs: int = 1,
                          cached: bool = False,
                          batch_size: Optional[int] = None) -> Tensor:
        """Pool indices (B, k) of the references of targets whose 1x
        features are ``query`` (B, C_1x, H, W) (only the score-based
        modes read it), by a word of
        :mod:`rht_mmpose.utils.reference_selection`; ``'fixed'`` takes
        ``test_cfg.ref_index``."""
        return choose_references(
            mode, self.pool_size,
            len(query) if batch_size is None else batch_size, num_refs,
            scores=lambda: self.pool_scores(query, mode, cached),
            ref_index=self.test_cfg.get('ref_index', 0),
            device=self.reference_pool.images.device if query is None
            else query.device)

    def get_references(self,
                       inputs: Tensor,
                       data_samples: OptSampleList,
                       training: bool = False
                       ) -> Optional[List[ReferenceBatch]]:
        """Build the ``refs`` of :meth:`RHTHead.forward`.

        Args:
            inputs (Tensor): normalised targets, (B, 3, H_in, W_in)
            data_samples (List[PoseDataSample], optional): may carry
                ``ref_img`` (3, R, R) and ``ref_heatmaps`` (K + P, R, R)
            training (bool): draw a random pool reference for samples
                without one

        Returns:
            List[ReferenceBatch] | None: one per reference (k of them from
            the pool with ``num_refs``), with the pool's cached features
            when it has them; None without a reference branch
        """
        if not self.with_reference:
            return None
        r = self.head.ref_size
        target_small = F.interpolate(inputs, size=(r, r), mode='area')
        cfg = self.train_cfg if training else self.test_cfg
        pool = self.reference_pool
        if data_samples and cfg.get('use_sample_refs', True) and all(
                'ref_img' in d and 'ref_heatmaps' in d
                for d in data_samples):
            ref_img = torch.stack([d.ref_img for d in data_samples]).to(
                inputs.device)
            ref_hm = torch.stack([d.ref_heatmaps
                                  for d in data_samples]).to(inputs)
            return [ReferenceBatch(
                target_small, pool.normalize(ref_img).to(inputs), ref_hm)]
        mode = 'random' if training else check_selection(
            self.test_cfg.get('ref_mode', 'descriptor'), 'model')
        cached = not training and self.use_pool_cache()
        # Q of the target, extracted once: selection and every reference
        query = self.head.extract_query(target_small) \
            if cached or mode in ('descriptor', 'stm_match') else None
        idx = self.select_references(
            query, mode,
            num_refs=1 if training else self.test_cfg.get('num_refs', 1),
            cached=cached, batch_size=len(inputs))  # (B, k)
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
            ref = ReferenceBatch(target_small,
                                 *pool.reference(idx[:, j], inputs))
            if cached:
                ref.query = query
                ref.features = pool.features(idx[:, j], inputs.dtype,
                                             inputs.device)
                if perm is not None:
                    ref.flipped_query = query_flip
                    ref.flipped_features = pool.features(
                        idx[:, j], inputs.dtype, inputs.device, perm=perm)
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
        # without a reference branch any MMPose head works (no refs)
        extra = {} if refs is None else dict(refs=refs[0])
        return self.head.loss(
            feats, data_samples, train_cfg=self.train_cfg, **extra)

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
        extra = {} if refs is None else dict(refs=refs)
        preds = self.head.predict(
            feats, data_samples, test_cfg=self.test_cfg, **extra)
        if isinstance(preds, tuple):
            batch_pred_instances, batch_pred_fields = preds
        else:
            batch_pred_instances, batch_pred_fields = preds, None
        results = self.add_pred_to_datasample(batch_pred_instances,
                                              batch_pred_fields, data_samples)
        self.refine_shapes(results)
        return results

    def refine_keypoints(self, keypoints: np.ndarray) -> np.ndarray:
        """Keypoints (N, K, 2) in image pixels (where the refiner was
        fitted) through the shape refiner; unchanged without a fitted one
        or with ``test_cfg['refine_shape']=False``."""
        if self.shape_refiner is None or not self.test_cfg.get(
                'refine_shape', True):
            return keypoints
        return self.shape_refiner.refine(keypoints)

    def refine_shapes(self, data_samples: SampleList) -> None:
        """:meth:`refine_keypoints` on every sample's
        ``pred_instances.keypoints`` (1, K, 2), in place."""
        if not data_samples:
            return
        refined = self.refine_keypoints(np.concatenate([
            d.pred_instances.keypoints for d in data_samples
        ]))  # (B, K, 2)
        for i, d in enumerate(data_samples):
            d.pred_instances.keypoints = refined[i:i + 1]

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        """Heatmaps (B, K + P, 4H, 4W) without post-processing
        (``mode='tensor'``); references from the samples or the pool."""
        feats = self.extract_feat(inputs)
        refs = self.get_references(inputs, data_samples)
        return self.head.forward(feats) if refs is None else \
            self.head.forward(feats, refs)

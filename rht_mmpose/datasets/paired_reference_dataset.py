"""Dataset wrapper that pairs every target face with a reference face."""
import copy
import os.path as osp
from typing import Any, Callable, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset, Compose
from mmpose.registry import DATASETS, TRANSFORMS
from mmpose.utils.typing import ConfigType, OptConfigType

from .sift_similarity import SiftFaceIndex

REF_MODES = ('random', 'most_similar', 'least_similar', 'fixed')


def _build_transforms(pipeline: Sequence[Union[dict, Callable]]) -> List:
    return [
        TRANSFORMS.build(copy.deepcopy(t)) if isinstance(t, dict) else t
        for t in pipeline
    ]


@DATASETS.register_module()
class PairedReferenceDataset(BaseDataset):
    """Wrap an MMPose face dataset; attach a reference face to every sample.

    The wrapped ``dataset`` is built with an empty pipeline; this wrapper
    owns the target ``pipeline`` (ending in ``PackPoseInputs``, so
    ``cfg.*_dataloader.dataset.pipeline`` works with ``inference_topdown``)
    and a ``ref_pipeline`` for the reference face. ``metainfo`` is the
    wrapped dataset's (like :class:`mmpose.datasets.CombinedDataset`).

    After packing, the ``PoseDataSample`` gets:

    - ``ref_img``: (3, h, w) float32 tensor, BGR, 0..255 (as ``inputs``
      before the data preprocessor), 128x128 by default;
    - ``ref_heatmaps``: (K+P, H, W) float32 tensor, the reference codec's
      heatmaps (128x128, in reference-image pixels by default);
    - metainfo ``ref_id`` (the reference's ``img_id`` in the pool) and
      ``ref_index`` (its index in the pool).

    Reference modes (``ref_mode``):

    - ``'random'``: another face drawn uniformly, redrawn on every access
      (training default of the paper);
    - ``'most_similar'`` / ``'least_similar'``: the pool face with the most /
      fewest SIFT good matches (:mod:`.sift_similarity`; the paper's test
      default is ``most_similar``); descriptors and the target x pool score
      matrix are computed once at build time and cached in ``cache_dir``;
    - ``'fixed'``: always the face ``ref_index`` (index in the pool) or
      ``ref_img_id``. The one target that *is* that face (self pool, not
      ``allow_self``) gets the next valid pool face instead.

    ``ref_pool`` is a dataset config for the references (e.g. COFW-68 for
    300W); ``None`` uses the wrapped dataset. A target is never its own
    reference unless ``allow_self``: with a self pool (``ref_pool`` None or
    the same content) the same index and every face with the same
    ``img_id`` are excluded; with another pool, faces with the same image
    file. Pool faces without any visible keypoint are never used.

    Note:
        - K: landmarks, P: boundaries
        - h, w: reference image size (``ref_input_size``)
        - H, W: reference heatmap size (the codec's ``heatmap_size``)

    Args:
        dataset (ConfigType): An MMPose face dataset config.
        pipeline (list): Target pipeline, ending in ``PackPoseInputs``.
        codec (ConfigType, optional): The target codec config; the default
            ``ref_pipeline`` encodes the reference with a copy whose
            ``input_size`` is ``ref_input_size``. Needed unless
            ``ref_pipeline`` is given.
        ref_mode (str): One of ``REF_MODES``. Defaults to ``'random'``.
        ref_pool (ConfigType, optional): Reference pool dataset config.
        ref_pipeline (list, optional): Reference pipeline; must leave
            ``img`` (h, w, 3) and ``heatmaps`` (K+P, H, W) in the results.
            Defaults to LoadImage, GetBBoxCenterScale, TopdownAffine to
            ``ref_input_size`` and GenerateTarget with the reference codec.
        ref_input_size (tuple): Reference image size [w, h]. Defaults to
            (128, 128).
        ref_index (int, optional): Pool index for ``'fixed'``.
        ref_img_id (int, optional): Pool ``img_id`` for ``'fixed'``.
        allow_self (bool): Allow a target to be its own reference.
        cache_dir (str, optional): SIFT cache folder. Defaults to
            ``work_dirs/rht_cache``; ``None`` or ``''`` keeps the SIFT data
            in memory only.
        sift_cfg (dict, optional): ``crop_size``, ``max_features``,
            ``ratio``, ``progress`` of :class:`SiftFaceIndex`.
        test_mode (bool, optional): Defaults to the wrapped dataset's.
        max_refetch (int): As in ``BaseDataset``.
    """

    def __init__(self,
                 dataset: ConfigType,
                 pipeline: List[Union[dict, Callable]],
                 codec: OptConfigType = None,
                 ref_mode: str = 'random',
                 ref_pool: OptConfigType = None,
                 ref_pipeline: Optional[List[Union[dict, Callable]]] = None,
                 ref_input_size: Sequence[int] = (128, 128),
                 ref_index: Optional[int] = None,
                 ref_img_id: Optional[int] = None,
                 allow_self: bool = False,
                 cache_dir: Optional[str] = osp.join('work_dirs',
                                                     'rht_cache'),
                 sift_cfg: Optional[dict] = None,
                 test_mode: Optional[bool] = None,
                 max_refetch: int = 1000) -> None:
        if ref_mode not in REF_MODES:
            raise ValueError(
                f'ref_mode {ref_mode!r}, expected one of {REF_MODES}')
        self.dataset = self._build_inner(dataset)
        self.self_pool = ref_pool is None
        self.pool = self.dataset if ref_pool is None else self._build_inner(
            ref_pool)
        self.ref_mode = ref_mode
        self.allow_self = allow_self
        self.ref_input_size = tuple(ref_input_size)
        self.sift = SiftFaceIndex(cache_dir or None, **(sift_cfg or {}))

        if ref_pipeline is None:
            if codec is None:
                raise ValueError('PairedReferenceDataset needs `codec` (or '
                                 'an explicit `ref_pipeline`) to encode the '
                                 'reference heatmaps')
            ref_codec = copy.deepcopy(dict(codec))
            ref_codec['input_size'] = self.ref_input_size
            ref_pipeline = [
                dict(type='LoadImage'),
                dict(type='GetBBoxCenterScale', padding=1.25),
                dict(type='TopdownAffine', input_size=self.ref_input_size),
                dict(type='GenerateTarget', encoder=ref_codec),
            ]
        self.ref_pipeline = Compose(_build_transforms(ref_pipeline))

        if test_mode is None:
            test_mode = bool(getattr(self.dataset, 'test_mode', False))
        super().__init__(
            pipeline=_build_transforms(pipeline),
            test_mode=test_mode,
            lazy_init=True,
            max_refetch=max_refetch)
        self._check_pool()
        self._fixed = None
        if ref_mode == 'fixed':
            self._fixed = self._resolve_fixed(ref_index, ref_img_id)
        self._best = None
        if ref_mode in ('most_similar', 'least_similar'):
            self._best = self._precompute_similar()
        self._fully_initialized = True

    # ------------------------------------------------------------ building
    @staticmethod
    def _build_inner(cfg: ConfigType):
        if not isinstance(cfg, dict):
            return cfg  # an already built dataset
        cfg = copy.deepcopy(cfg)
        cfg['pipeline'] = []
        cfg.pop('lazy_init', None)
        return DATASETS.build(cfg)

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's metainfo."""
        return copy.deepcopy(self.dataset.metainfo)

    @property
    def num_descriptor_computations(self) -> int:
        """Faces whose SIFT descriptors were computed (not read from the
        cache) by this wrapper."""
        return self.sift.num_descriptor_computations

    def full_init(self) -> None:
        self.dataset.full_init()
        self._fully_initialized = True

    def __len__(self) -> int:
        return len(self.dataset)

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def _check_pool(self) -> None:
        name = self.pool.metainfo.get('dataset_name', type(self.pool).__name__)
        if len(self.pool) == 0:
            raise ValueError(f'reference pool ({name}) is empty')
        kd = self.dataset.metainfo.get('num_keypoints')
        kp = self.pool.metainfo.get('num_keypoints')
        if kd != kp:
            raise ValueError(
                f'reference pool ({name}) has {kp} keypoints per face, the '
                f'dataset has {kd}: they must match')
        infos = [self.pool.get_data_info(i) for i in range(len(self.pool))]
        self._pool_img_ids = np.array([int(i['img_id']) for i in infos])
        self._pool_paths = [osp.abspath(i['img_path']) for i in infos]
        usable = np.array(
            [np.asarray(i['keypoints_visible']).max() > 0 for i in infos])
        if not usable.any():
            raise ValueError(f'reference pool ({name}) has {len(infos)} '
                             f'faces but none with a visible keypoint')
        self._usable = np.flatnonzero(usable)
        if not self.self_pool:
            self.self_pool = (
                self.sift.content_key(self.pool) == self.sift.content_key(
                    self.dataset))
        if self.self_pool and not self.allow_self:
            if len(self._usable) < 2 and len(self.dataset) > 1:
                raise ValueError(
                    f'reference pool ({name}) has {len(self._usable)} usable '
                    f'face(s): no other face to use as reference')

    def _candidates(self, idx: int) -> np.ndarray:
        """Pool indices allowed as reference of target ``idx``."""
        cand = self._usable
        if self.allow_self:
            return cand
        info = self.dataset.get_data_info(idx)
        if self.self_pool:
            bad = (cand == idx) | (self._pool_img_ids[cand] == int(
                info['img_id']))
        else:
            path = osp.abspath(info['img_path'])
            bad = np.array([self._pool_paths[j] == path for j in cand])
        return cand[~bad]

    def _resolve_fixed(self, ref_index, ref_img_id) -> int:
        if (ref_index is None) == (ref_img_id is None):
            raise ValueError('ref_mode "fixed" needs exactly one of '
                             f'ref_index ({ref_index}) and ref_img_id '
                             f'({ref_img_id})')
        if ref_img_id is not None:
            hits = np.flatnonzero(self._pool_img_ids == int(ref_img_id))
            if len(hits) == 0:
                raise ValueError(
                    f'ref_img_id {ref_img_id} is not in the reference pool')
            ref_index = int(hits[0])
        if not -len(self.pool) <= ref_index < len(self.pool):
            raise ValueError(f'ref_index {ref_index} out of range for a '
                             f'pool of {len(self.pool)} faces')
        return int(ref_index) % len(self.pool)

    def _precompute_similar(self) -> np.ndarray:
        scores = self.sift.score_matrix(self.dataset, self.pool)
        self.ref_scores = scores
        best = np.zeros(len(self.dataset), np.int64)
        for i in range(len(self.dataset)):
            cand = self._candidates(i)
            if len(cand) == 0:
                raise ValueError(f'target {i} has no allowed reference')
            s = scores[i, cand]
            pick = np.argmax(s) if self.ref_mode == 'most_similar' else \
                np.argmin(s)
            best[i] = cand[pick]
        return best

    # ------------------------------------------------------------ selection
    def select_reference(self, idx: int) -> int:
        """Pool index of the reference for target ``idx``."""
        if self.ref_mode == 'fixed':
            ref = self._fixed
            if self.allow_self or ref in self._candidates(idx):
                return ref
            cand = self._candidates(idx)
            later = cand[cand > ref]
            return int(later[0] if len(later) else cand[0])
        if self._best is not None:
            return int(self._best[idx])
        # random: draw, redraw when excluded, fall back to the full list
        n = len(self._usable)
        info = self.dataset.get_data_info(idx)
        tid, path = int(info['img_id']), osp.abspath(info['img_path'])
        for _ in range(16):
            j = int(self._usable[np.random.randint(n)])
            if self.allow_self:
                return j
            if self.self_pool:
                if j != idx and self._pool_img_ids[j] != tid:
                    return j
            elif self._pool_paths[j] != path:
                return j
        cand = self._candidates(idx)
        if len(cand) == 0:
            raise ValueError(f'target {idx} has no allowed reference')
        return int(cand[np.random.randint(len(cand))])

    def get_reference(self, ref_idx: int) -> dict:
        """Run the reference pipeline on pool face ``ref_idx``.

        Returns:
            dict: ``ref_img`` (3, h, w) float32 tensor, ``ref_heatmaps``
            (K+P, H, W) float32 tensor, ``ref_id`` (img_id), ``ref_index``.
        """
        info = self.pool.get_data_info(ref_idx)
        img_id = int(info['img_id'])
        results = self.ref_pipeline(info)
        if results is None:
            raise RuntimeError(
                f'ref_pipeline returned None for pool face {ref_idx}')
        img = results['img']
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        ref_img = torch.from_numpy(
            np.ascontiguousarray(img.transpose(2, 0, 1))).float()
        heatmaps = results['heatmaps']
        ref_heatmaps = torch.from_numpy(
            np.ascontiguousarray(heatmaps, dtype=np.float32))
        return dict(
            ref_img=ref_img,
            ref_heatmaps=ref_heatmaps,
            ref_id=img_id,
            ref_index=int(ref_idx))

    def prepare_data(self, idx: int) -> Any:
        """Target pipeline output with the reference attached."""
        data_info = self.get_data_info(idx)
        packed = self.pipeline(data_info)
        if packed is None:
            return None
        ref = self.get_reference(self.select_reference(idx))
        sample = packed['data_samples']
        sample.ref_img = ref['ref_img']
        sample.ref_heatmaps = ref['ref_heatmaps']
        sample.set_metainfo(
            dict(ref_id=ref['ref_id'], ref_index=ref['ref_index']))
        return packed

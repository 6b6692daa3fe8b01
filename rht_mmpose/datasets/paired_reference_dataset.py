"""Dataset wrapper that pairs every target face with a reference face."""
import copy
import logging
import os.path as osp
from typing import Any, Callable, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmengine.dataset import BaseDataset, Compose
from mmengine.logging import print_log
from mmpose.registry import DATASETS, TRANSFORMS
from mmpose.utils.typing import ConfigType, OptConfigType

from ..utils.reference_selection import (check_selection,
                                         selections_for)
from .annotation_checks import check_annotations, dataset_name
from .reference_cache import ReferenceCache
from .sift_similarity import SiftFaceIndex

REF_MODES = selections_for('dataset')


class BadImageError(OSError):
    """A target or reference image is missing or cannot be decoded.

    Attributes:
        path (str): The image file.
        reason (str): ``'missing'`` or ``'unreadable (...)'``.
        kind (str): ``'target'`` or ``'reference'``.
        index (int): Index of the face in the dataset / the pool.
    """

    def __init__(self, message: str, path: str, reason: str, kind: str,
                 index: int) -> None:
        super().__init__(message)
        self.path, self.reason, self.kind, self.index = (path, reason, kind,
                                                         index)

    def record(self) -> dict:
        """What travels in ``metainfo['skipped_images']``."""
        return dict(
            kind=self.kind, index=int(self.index), path=self.path,
            reason=self.reason)


def image_problem(path: Optional[str]) -> Optional[str]:
    """Why ``path`` cannot be used as an image, or ``None`` if it decodes.

    Only called after a pipeline failed, so a good image costs nothing.
    """
    if not path:
        return 'missing (no img_path)'
    if not osp.isfile(path):
        return 'missing'
    try:
        buf = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        return f'unreadable ({e.strerror or e})'
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    if img is None or img.size == 0:
        return f'unreadable (not a decodable image, {buf.size} bytes)'
    return None


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

    Reference modes (``ref_mode``, the dataset words of
    :mod:`rht_mmpose.utils.reference_selection`):

    - ``'random'``: another face drawn uniformly, redrawn on every access
      (training default of the paper);
    - ``'sift'`` / ``'sift_least'``: the pool face with the most / fewest
      SIFT good matches (:mod:`.sift_similarity`; the paper's test default
      is ``'sift'``); descriptors and the target x pool score matrix are
      computed once at build time and cached in ``cache_dir``;
    - ``'fixed'``: always the face ``ref_index`` (index in the pool) or
      ``ref_img_id``. The one target that *is* that face (self pool, not
      ``allow_self``) gets the next valid pool face instead.

    ``ref_pool`` is a dataset config for the references (e.g. COFW-68 for
    300W); ``None`` uses the wrapped dataset. A target is never its own
    reference unless ``allow_self``: with a self pool (``ref_pool`` None or
    the same content) the same index and every face with the same
    ``img_id`` are excluded; with another pool, faces with the same image
    file. Pool faces without any visible keypoint are never used.

    Checked at build time (``ValueError`` naming the pool by type,
    ``ann_file`` / ``pts_folders`` and ``data_root``, and the numbers): an
    empty pool, a pool without any visible keypoint, a pool with another
    keypoint count, and a target with no allowed reference at all, e.g. a
    pool of one face that is the target itself. That last case is an
    error in every mode, never a silent fall-back to the target: the
    reference heatmaps would be the target's own ground truth. Pass
    ``allow_self=True`` to allow it on purpose. Every annotation of the
    dataset and the pool is checked too (:class:`AnnotationError` naming
    its ``id``): keypoint count, finite coordinates, non-empty box.

    Bad image files (missing, or not decodable). By default the first one
    raises :class:`BadImageError` naming the file, the face and whether it
    is a target or a reference (mmengine's silent refetch never sees it).
    With ``skip_bad_images=True``:

    - a bad *reference* is replaced by another allowed pool face (the next
      most / least similar one, the next face after ``ref_index``, or
      another random draw) and not used again by this process;
    - a bad *target* in training is replaced by a random other sample, as
      mmengine does for ``None`` samples; in ``test_mode`` a bad target
      still raises, since dropping it would change the metric;
    - each bad file is logged once per process (dataloader worker) as a
      warning, and every skip is listed in the returned sample's
      ``metainfo['skipped_images']`` (dicts with ``kind``, ``index``,
      ``path``, ``reason``). The skips travel with the batch to the main
      process, so :class:`rht_mmpose.engine.BadSampleReportHook` counts
      them correctly with any ``num_workers``.

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
        skip_bad_images (bool): Skip missing / corrupt images (see above)
            instead of raising. Defaults to False.
        ref_cache (bool): Render every pool face's reference (image +
            heatmaps) once at build time into memory-mapped files in
            ``cache_dir`` (:class:`ReferenceCache`, keyed by the pool's
            content and the reference codec; rank 0 renders, ~8 ms per
            face) and read them from there: about half of a training
            sample's CPU time. Disk: N x (h*w*3 + (K+P)*H*W*4) bytes, 6.4 GB
            for the 1207-face 300W subset. Needs the default (deterministic)
            ``ref_pipeline``. Defaults to False.
        check_annotations (bool): Check every annotation at build time.
            Defaults to True.
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
                 skip_bad_images: bool = False,
                 ref_cache: bool = False,
                 check_annotations: bool = True,
                 test_mode: Optional[bool] = None,
                 max_refetch: int = 1000) -> None:
        check_selection(ref_mode, 'dataset')
        self.dataset = self._build_inner(dataset)
        self.self_pool = ref_pool is None
        self.pool = self.dataset if ref_pool is None else self._build_inner(
            ref_pool)
        self.ref_mode = ref_mode
        self.allow_self = allow_self
        self.ref_input_size = tuple(ref_input_size)
        self.skip_bad_images = bool(skip_bad_images)
        self.num_skipped = 0  # this process only; see BadSampleReportHook
        self._warned_paths = set()
        self._bad_refs = set()
        self._pending_skips: List[dict] = []
        self.sift = SiftFaceIndex(cache_dir or None, **(sift_cfg or {}))

        ref_settings = None
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
            ref_settings = repr(sorted(ref_codec.items()))
        elif ref_cache:
            raise ValueError('ref_cache=True needs the default reference '
                             'pipeline (its output must not change between '
                             'calls); got a custom ref_pipeline')
        if ref_cache and not cache_dir:
            raise ValueError(f'ref_cache=True needs a cache_dir, got '
                             f'{cache_dir!r}')
        self.ref_pipeline = Compose(_build_transforms(ref_pipeline))

        if test_mode is None:
            test_mode = bool(getattr(self.dataset, 'test_mode', False))
        super().__init__(
            pipeline=_build_transforms(pipeline),
            test_mode=test_mode,
            lazy_init=True,
            max_refetch=max_refetch)
        self._check_pool(check_annotations)
        self._fixed = None
        if ref_mode == 'fixed':
            self._fixed = self._resolve_fixed(ref_index, ref_img_id)
        self._best = None
        if ref_mode in ('sift', 'sift_least'):
            self._best = self._precompute_similar()
        self.ref_cache = None
        if ref_cache:
            self.ref_cache = ReferenceCache.build_or_open(
                cache_dir,
                ReferenceCache.key(self.sift.content_key(self.pool),
                                   ref_settings),
                len(self.pool), self._render_if_readable,
                progress=self.sift.progress)
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

    def _check_pool(self, check: bool = True) -> None:
        name = dataset_name(self.pool)
        if len(self.pool) == 0:
            raise ValueError(f'reference pool {name} is empty (0 faces)')
        kd = self.dataset.metainfo.get('num_keypoints')
        kp = self.pool.metainfo.get('num_keypoints')
        if kd != kp:
            raise ValueError(
                f'reference pool {name} has {kp} keypoints per face, the '
                f'dataset {dataset_name(self.dataset)} has {kd}: they must '
                f'match')
        if check:
            check_annotations(self.dataset, kd)
            if self.pool is not self.dataset:
                check_annotations(self.pool, kd)
        infos = [self.pool.get_data_info(i) for i in range(len(self.pool))]
        self._pool_img_ids = np.array([int(i['img_id']) for i in infos])
        self._pool_paths = [osp.abspath(i['img_path']) for i in infos]
        usable = np.array(
            [np.asarray(i['keypoints_visible']).max() > 0 for i in infos])
        if not usable.any():
            raise ValueError(f'reference pool {name} has {len(infos)} '
                             f'faces but none with a visible keypoint')
        self._usable = np.flatnonzero(usable)
        if not self.self_pool:
            self.self_pool = (
                self.sift.content_key(self.pool) == self.sift.content_key(
                    self.dataset))
        if not self.allow_self:
            self._check_every_target_has_reference(name)

    def is_target_itself(self, idx: int, pool_indices: np.ndarray,
                         info: Optional[dict] = None) -> np.ndarray:
        """(M,) bool: which of ``pool_indices`` (M,) are target ``idx``
        itself, the one rule of what a reference may not be. With a self
        pool: the same index or the same ``img_id`` (another annotation of
        the same photo); with another pool: the same image file."""
        pool_indices = np.asarray(pool_indices, dtype=np.int64)
        info = info or self.dataset.get_data_info(idx)
        if self.self_pool:
            return (pool_indices == idx) | (
                self._pool_img_ids[pool_indices] == int(info['img_id']))
        path = osp.abspath(info['img_path'])
        return np.array([self._pool_paths[j] == path for j in pool_indices],
                        dtype=bool)

    def _check_every_target_has_reference(self, name: str) -> None:
        """Raise when a target's only pool candidates are itself."""
        n = len(self._usable)
        orphans = []
        for i in range(len(self.dataset)):
            info = self.dataset.get_data_info(i)
            if self.is_target_itself(i, self._usable, info).all():
                orphans.append(f'{i} ({info["img_path"]})')
        if orphans:
            raise ValueError(
                f'reference pool {name} has {n} usable face(s), all of them '
                f'the target itself (same image) for {len(orphans)} '
                f'target(s): {", ".join(orphans[:5])}'
                f'{" ..." if len(orphans) > 5 else ""}; a face is never its '
                f'own reference (it would see its own ground truth): use a '
                f'larger ref_pool, or allow_self=True on purpose')

    def _candidates(self, idx: int) -> np.ndarray:
        """Pool indices allowed as reference of target ``idx`` (minus the
        pool faces found to have a bad image); raises when none is left."""
        cand = self._usable
        if self._bad_refs:
            cand = cand[~np.isin(cand, list(self._bad_refs))]
        if not self.allow_self:
            cand = cand[~self.is_target_itself(idx, cand)]
        if len(cand) == 0:
            raise self._no_reference(idx)
        return cand

    def _most_similar(self, idx: int) -> int:
        """The allowed pool face with the most (``'sift'``) or fewest
        (``'sift_least'``) SIFT matches with target ``idx``."""
        cand = self._candidates(idx)
        s = self.ref_scores[idx, cand]
        return int(cand[np.argmax(s) if self.ref_mode == 'sift' else
                        np.argmin(s)])

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
        self.ref_scores = self.sift.score_matrix(self.dataset, self.pool)
        return np.array(
            [self._most_similar(i) for i in range(len(self.dataset))],
            dtype=np.int64)

    # ------------------------------------------------------------ selection
    def _no_reference(self, idx: int) -> RuntimeError:
        return RuntimeError(
            f'target {idx} has no allowed reference left in pool '
            f'{dataset_name(self.pool)}: {len(self._bad_refs)} pool face(s) '
            f'skipped for bad images ({sorted(self._bad_refs)[:10]})')

    def select_reference(self, idx: int) -> int:
        """Pool index of the reference for target ``idx``."""
        bad = self._bad_refs
        if self.ref_mode == 'fixed':
            ref = self._fixed
            if ref not in bad and (self.allow_self
                                   or ref in self._candidates(idx)):
                return ref
            cand = self._candidates(idx)
            later = cand[cand > ref]
            return int(later[0] if len(later) else cand[0])
        if self._best is not None:
            best = int(self._best[idx])
            return best if best not in bad else self._most_similar(idx)
        # random: draw, redraw when excluded, fall back to the full list
        n = len(self._usable)
        info = self.dataset.get_data_info(idx)
        for _ in range(16):
            j = int(self._usable[np.random.randint(n)])
            if j in bad:
                continue
            if self.allow_self or not self.is_target_itself(idx, [j],
                                                            info)[0]:
                return j
        cand = self._candidates(idx)
        return int(cand[np.random.randint(len(cand))])

    def _run_pipeline(self, pipeline: Compose, info: dict, kind: str,
                      index: int, where: str) -> Optional[dict]:
        """``pipeline(info)``; a failure (exception or ``None``) on a bad
        image file becomes :class:`BadImageError`."""
        path = info.get('img_path')
        try:
            out = pipeline(info)
        except Exception as e:
            reason = image_problem(path)
            if reason is None:
                raise
            raise self._bad_image(kind, index, path, reason, where) from e
        if out is None:
            reason = image_problem(path)
            if reason is not None:
                raise self._bad_image(kind, index, path, reason, where)
        return out

    @staticmethod
    def _bad_image(kind, index, path, reason, where) -> BadImageError:
        what = 'sample' if kind == 'target' else 'pool face'
        return BadImageError(
            f'{kind} image of {what} {index} in {where} is {reason}: {path} '
            f'(fix or remove the file, or set skip_bad_images=True on '
            f'PairedReferenceDataset to skip it)', path, reason, kind, index)

    def _note_skip(self, err: BadImageError) -> None:
        """Count a skipped file; warn once per file in this process."""
        self.num_skipped += 1
        self._pending_skips.append(err.record())
        if err.path not in self._warned_paths:
            self._warned_paths.add(err.path)
            what = 'sample' if err.kind == 'target' else 'pool face'
            print_log(
                f'skipping bad {err.kind} image ({what} {err.index}, '
                f'{err.reason}): {err.path}; warned once per file and '
                f'process, counted by BadSampleReportHook',
                logger='current',
                level=logging.WARNING)

    def render_reference(self, ref_idx: int, info: Optional[dict] = None):
        """Run the reference pipeline on pool face ``ref_idx``.

        Args:
            ref_idx (int): pool index
            info (dict, optional): its ``pool.get_data_info(ref_idx)``,
                when the caller already has it (the pipeline changes it)

        Returns:
            tuple: image (h, w, 3) (uint8 for the default pipeline) and
            heatmaps (K+P, H, W) float32
        """
        if info is None:
            info = self.pool.get_data_info(ref_idx)
        results = self._run_pipeline(self.ref_pipeline, info, 'reference',
                                     ref_idx, dataset_name(self.pool))
        if results is None:
            raise RuntimeError(
                f'ref_pipeline returned None for pool face {ref_idx}')
        img = results['img']
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        return img, np.ascontiguousarray(results['heatmaps'],
                                         dtype=np.float32)

    def _render_if_readable(self, ref_idx: int):
        """:meth:`render_reference`, None for a bad image file (left to
        :meth:`get_reference` to report or skip, as without the cache)."""
        try:
            return self.render_reference(ref_idx)
        except BadImageError:
            return None

    def get_reference(self, ref_idx: int) -> dict:
        """The reference of pool face ``ref_idx`` (from the reference cache
        when there is one).

        Returns:
            dict: ``ref_img`` (3, h, w) float32 tensor, ``ref_heatmaps``
            (K+P, H, W) float32 tensor, ``ref_id`` (img_id), ``ref_index``.
        """
        info = self.pool.get_data_info(ref_idx)
        ref_id = int(info['img_id'])
        cached = None if self.ref_cache is None else self.ref_cache.get(
            ref_idx)
        img, heatmaps = cached if cached is not None else \
            self.render_reference(ref_idx, info)
        ref_img = torch.from_numpy(
            np.ascontiguousarray(img.transpose(2, 0, 1))).float()
        return dict(
            ref_img=ref_img,
            ref_heatmaps=torch.from_numpy(heatmaps),
            ref_id=ref_id,
            ref_index=int(ref_idx))

    def prepare_data(self, idx: int) -> Any:
        """Target pipeline output with the reference attached.

        Raises:
            BadImageError: the target image is bad, or a reference image is
                bad and ``skip_bad_images`` is off.
        """
        data_info = self.get_data_info(idx)
        packed = self._run_pipeline(self.pipeline, data_info, 'target', idx,
                                    dataset_name(self.dataset))
        if packed is None:
            return None
        while True:
            ref_idx = self.select_reference(idx)
            try:
                ref = self.get_reference(ref_idx)
                break
            except BadImageError as e:
                if not self.skip_bad_images:
                    raise
                self._bad_refs.add(int(ref_idx))
                self._note_skip(e)
        sample = packed['data_samples']
        sample.ref_img = ref['ref_img']
        sample.ref_heatmaps = ref['ref_heatmaps']
        sample.set_metainfo(
            dict(ref_id=ref['ref_id'], ref_index=ref['ref_index']))
        return packed

    def __getitem__(self, idx: int) -> dict:
        """As ``BaseDataset.__getitem__``, plus the bad-image handling
        described in the class docstring."""
        if not self._fully_initialized:
            self.full_init()
        self._pending_skips = []
        for _ in range(self.max_refetch + 1):
            try:
                data = self.prepare_data(idx)
            except BadImageError as e:
                if (not self.skip_bad_images or e.kind != 'target'
                        or self.test_mode):
                    raise
                self._note_skip(e)
                idx = self._rand_another()
                continue
            if data is None:
                if self.test_mode:
                    raise RuntimeError(
                        f'test pipeline returned None for sample {idx} '
                        f'({self.get_data_info(idx).get("img_path")})')
                idx = self._rand_another()
                continue
            if self.skip_bad_images:
                data['data_samples'].set_metainfo(
                    dict(skipped_images=list(self._pending_skips)))
            self._pending_skips = []
            return data
        raise RuntimeError(
            f'no valid sample after {self.max_refetch} refetches in '
            f'{dataset_name(self.dataset)}; bad images skipped on the way: '
            f'{[r["path"] for r in self._pending_skips][:10]}')

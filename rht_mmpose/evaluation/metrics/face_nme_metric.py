# Copyright (c) rht_mmpose contributors. All rights reserved.
"""Face-alignment metrics: NME under several normalisers, FR, AUC, subsets.

Every formula is written out in ``docs/metrics.md``.
"""
import csv
import io
import itertools
import json
import os.path as osp
import warnings
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dist import is_main_process
from mmengine.logging import MMLogger

from mmpose.evaluation.metrics import NME
from mmpose.registry import METRICS

from rht_mmpose.codecs.face_schemes import (FACE_SCHEMES, find_face_scheme,
                                            scheme_for_dataset_name)
from rht_mmpose.evaluation.functional import auc_fr, eye_distance
from rht_mmpose.utils.io import (atomic_write_json, atomic_write_text,
                                 jsonable)

NORM_MODES = ('inter_ocular', 'inter_pupil', 'box', 'diagonal', 'box_size')
NORM_ABBR = dict(inter_ocular='io', inter_pupil='ip', box='box',
                 diagonal='diag', box_size='box_size')
KEYPOINT_MODES = ('inter_ocular', 'inter_pupil')

_NEEDS = ('inter_ocular needs the two outer eye corners, inter_pupil the two '
          'eye centres (pupils or eye contours); box and diagonal work for '
          "any scheme, box_size needs the annotation's box_size")


def resolve_keypoint_scheme(metainfo: Optional[dict],
                            num_keypoints: Optional[int] = None) -> str:
    """Name the keypoint scheme of a dataset from its metainfo.

    Args:
        metainfo (dict, optional): mmpose ``dataset_meta``
            (``dataset_name``, ``num_keypoints``).
        num_keypoints (int, optional): K seen in the data, used when the
            metainfo has no ``num_keypoints``.

    Returns:
        str: a key of ``rht_mmpose.codecs.face_schemes.FACE_SCHEMES``.

    Raises:
        ValueError: naming the dataset and its keypoint count when the scheme
            is unknown or the count disagrees with the named dataset.
    """
    metainfo = metainfo or {}
    name = metainfo.get('dataset_name')
    k = metainfo.get('num_keypoints', num_keypoints)
    try:
        return find_face_scheme(k, name)
    except ValueError as e:
        if name is not None and scheme_for_dataset_name(name) is not None:
            raise  # a known name with the wrong count
        raise ValueError(
            f'unknown keypoint scheme: {e}; {_NEEDS}. Set '
            f'keypoint_indices=dict(inter_ocular=[i, j], inter_pupil=[[...], '
            f"[...]]) or use norm_mode='box' / 'diagonal'") from None


class SubsetEntries:
    """Members of one subset: image ids / file names, and faces.

    ``keys`` name whole images (an id, a file name or a path suffix); a
    photo that holds several faces puts all of them in the subset.
    ``faces`` name single faces: an image path and the face's annotated
    landmarks (K, 2); a test face is a member when its photo matches the path
    and its ground-truth landmarks equal the listed ones (largest coordinate
    difference ``<= tol`` pixels). Faces come from COCO-style annotation
    files (mmpose's ``face_landmarks_300w_valid_common.json``,
    ``face_landmarks_wflw_test_blur.json``, ...) and from WFLW's list files,
    whose lines start with the 2K coordinates of one face.

    Note:
        - number of landmarks: K
    """

    def __init__(self, keys: Sequence = ()) -> None:
        self.keys = {str(k) for k in keys}
        # basename -> [(path, (K, 2) landmarks)]
        self.faces: Dict[str, List[tuple]] = {}
        self.raw_lines: List[Tuple[List[str], str]] = []  # (numbers, path)

    def add_face(self, path: str, landmarks: np.ndarray) -> None:
        base = str(path).replace('\\', '/').split('/')[-1]
        self.faces.setdefault(base, []).append(
            (str(path), np.asarray(landmarks, dtype=np.float64)))

    def resolve_lines(self, num_keypoints: int) -> None:
        """Turn list-file lines with at least 2K leading numbers into faces
        (the others name their image by file name)."""
        for numbers, path in self.raw_lines:
            if len(numbers) >= 2 * num_keypoints:
                pts = np.asarray(numbers[:2 * num_keypoints],
                                 dtype=np.float64).reshape(-1, 2)
                self.add_face(path, pts)
            else:
                self.keys.add(path)
        self.raw_lines = []

    def contains(self, keys: set, img_path, gt: np.ndarray,
                 tol: float) -> bool:
        """Whether the sample (its keys, path and (K, 2) ground truth) is a
        member."""
        if keys & self.keys:
            return True
        if not self.faces or not img_path:
            return False
        base = str(img_path).replace('\\', '/').split('/')[-1]
        return any(
            path in keys and pts.shape == gt.shape
            and np.max(np.abs(pts - gt)) <= tol
            for path, pts in self.faces.get(base, ()))


def _is_number(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _load_subset_file(subset_file: Union[str, Dict[str, str]]
                      ) -> Dict[str, SubsetEntries]:
    """Read subset membership (image ids, file names, or single faces).

    Accepted forms:
        - a ``.json`` file: ``{"common": [id or file name, ...], ...}``;
        - a ``.txt`` file: one ``<subset> <id or file name>`` per line;
        - a dict ``{subset: path}``, each path one of
            - a COCO-style annotation ``.json`` (``images`` and
              ``annotations``, as mmpose's subset files): its faces;
            - a ``.json`` list of image ids or file names;
            - a ``.txt`` file whose lines end with the id or file name (the
              last whitespace-separated token); a line that starts with the
              2K coordinates of a face (WFLW's ``list_98pt_test_*.txt``)
              names that face only.
    """

    def _entries_txt(path):
        entries = SubsetEntries()
        with open(path) as f:
            for ln in f:
                parts = ln.split()
                if not parts:
                    continue
                numbers = list(itertools.takewhile(_is_number, parts[:-1]))
                entries.raw_lines.append((numbers, parts[-1]))
        return entries

    def _entries_json(path):
        with open(path) as f:
            data = json.load(f)
        if isinstance(data, list):
            return SubsetEntries(data)
        if not (isinstance(data, dict) and 'annotations' in data):
            raise ValueError(f'subset file {path!r} should hold a list of '
                             f'image ids or file names, or a COCO-style '
                             f'annotation file (images, annotations), got '
                             f'{type(data).__name__}')
        entries = SubsetEntries()
        names = {img['id']: img['file_name'] for img in data.get('images', [])}
        for ann in data['annotations']:
            if ann.get('image_id') not in names:
                raise ValueError(
                    f'subset file {path!r}: annotation {ann.get("id")!r} '
                    f'names image {ann.get("image_id")!r}, which is not in '
                    f'its images')
            kpts = np.asarray(ann['keypoints'], np.float64).reshape(-1, 3)
            entries.add_face(names[ann['image_id']], kpts[:, :2])
        return entries

    if isinstance(subset_file, dict):
        return OrderedDict(
            (name, _entries_json(path) if path.endswith('.json') else
             _entries_txt(path)) for name, path in subset_file.items())
    if subset_file.endswith('.json'):
        with open(subset_file) as f:
            data = json.load(f)
        if not isinstance(data, dict) or 'annotations' in data:
            raise ValueError(f'subset file {subset_file!r} should map subset '
                             f'names to lists (for an annotation file per '
                             f'subset use subset_file=dict(name=path)), got '
                             f'{type(data).__name__}')
        return OrderedDict(
            (name, SubsetEntries(members)) for name, members in data.items())
    subsets: Dict[str, SubsetEntries] = OrderedDict()
    with open(subset_file) as f:
        for n, ln in enumerate(f, 1):
            parts = ln.split()
            if not parts:
                continue
            if len(parts) < 2:
                raise ValueError(f'subset file {subset_file!r} line {n}: '
                                 f'expected "<subset> <id or file name>", got '
                                 f'{ln.strip()!r}')
            subsets.setdefault(parts[0], SubsetEntries()).keys.add(parts[-1])
    return subsets


def _sample_keys(img_id, img_path) -> set:
    """Strings under which a subset file may name an image: its id, its path,
    every path suffix on a '/' boundary (so the basename too)."""
    keys = set() if img_id is None else {str(img_id)}
    if img_path:
        parts = str(img_path).replace('\\', '/').split('/')
        keys.update('/'.join(parts[i:]) for i in range(len(parts)))
    return keys


@METRICS.register_module()
class FaceNMEMetric(NME):
    """Face-alignment NME with several normalisers, FR, AUC and subsets.

    Differs from mmpose's :class:`NME`: NME is computed per image and then
    averaged over images (as the face-alignment papers do; mmpose averages
    over all visible points of all images), several normalisers can be
    computed in one run, the eye indices come from the keypoint scheme
    (``dataset_meta``: ``dataset_name`` / ``num_keypoints``), and it adds
    FR, AUC, per-subset results and a per-image error file.

    Per image ``n``: ``NME_n = mean_{k visible} ||p_nk - g_nk||_2 / d_n``.

    Normalisers ``d_n`` (``norm_mode``):
        - ``inter_ocular``: distance of the outer eye corners
          (68 pt 36/45, WFLW 60/72, COFW 8/9, AFLW 6/11, LaPa 66/79);
        - ``inter_pupil``: distance of the eye centres (68 pt: means of the
          eye contours 36-41 and 42-47; WFLW pupils 96/97; COFW 16/17;
          AFLW eye centres 7/10);
        - ``box``: ``sqrt(w * h)`` of the box; ``diagonal``:
          ``sqrt(w^2 + h^2)``. The box is the tight box of the visible
          ground-truth keypoints (``box_source='keypoints'``, the papers'
          choice) or the annotation box ``gt_instances.bboxes``
          (``box_source='bbox'``; mmpose's face boxes are padded);
        - ``box_size``: the annotation's face box size (``box_size`` of
          mmpose's AFLW annotations, HRNet-Facial's AFLW normaliser).

    The landmarks of ``inter_ocular`` / ``inter_pupil`` come from the one
    table of keypoint schemes, :mod:`rht_mmpose.codecs.face_schemes`.

    Output keys (values are fractions, not %):
        - ``NME``: main (first) normaliser; ``NME_<abbr>`` for every one
          (``io``, ``ip``, ``box``, ``diag``, ``box_size``);
        - ``FR@<t>`` share of images with main NME > ``fr_threshold``;
        - ``AUC@<t>`` for every ``auc_thresholds`` entry (exact integral of
          the CED step function, normalised to [0, 1]);
        - per subset ``s``: ``NME/<s>``, ``NME_<abbr>/<s>``, ``FR@<t>/<s>``,
          ``AUC@<t>/<s>``.

    Note:
        - number of images: N
        - number of keypoints: K
        - number of coordinates: D (= 2)

    Args:
        norm_mode (str | Sequence[str]): normaliser(s) out of
            ``inter_ocular``, ``inter_pupil``, ``box``, ``diagonal``,
            ``box_size``; the first gives the main keys. Default: ``'inter_ocular'``.
        keypoint_indices (Sequence | dict, optional): override of the scheme's
            eye points. A pair ``[i, j]`` (as mmpose's NME) overrides
            ``inter_ocular``; a dict ``{mode: [a, b]}`` overrides any mode,
            where ``a`` and ``b`` are an index or a list of indices (mean).
        box_source (str): ``'keypoints'`` or ``'bbox'``.
            Default: ``'keypoints'``.
        fr_threshold (float): failure threshold. Default: 0.1.
        auc_thresholds (Sequence[float]): CED integration limits.
            Default: ``(0.1, 0.07)``.
        subset_tags (Sequence[str], optional): metainfo keys of a data sample
            that flag a subset (truthy value), e.g. WFLW's ``pose``,
            ``expression``...; a sample is also in subset ``s`` when its
            ``subset`` / ``subsets`` metainfo is or contains ``s``.
        subset_file (str | dict, optional): subset membership by image id,
            file name or single face (COCO-style annotation files, WFLW
            list lines with coordinates), see ``docs/metrics.md``.
        face_match_tolerance (float): largest coordinate difference, in
            pixels, between a test face's ground truth and a subset file's
            face for them to be the same face. Default: 0.5.
        outfile_prefix (str, optional): write per-image errors to
            ``<prefix>.per_image.json`` and ``.csv``. When None they go to the
            run's log directory (inside the work dir) if there is one.
        save_per_image (bool): write the per-image files. Default: True.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Default: ``'cpu'``.
        prefix (str, optional): key prefix. Default: None.
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 norm_mode: Union[str, Sequence[str]] = 'inter_ocular',
                 keypoint_indices: Optional[Union[Sequence, dict]] = None,
                 box_source: str = 'keypoints',
                 fr_threshold: float = 0.1,
                 auc_thresholds: Sequence[float] = (0.1, 0.07),
                 subset_tags: Optional[Sequence[str]] = None,
                 subset_file: Optional[Union[str, Dict[str, str]]] = None,
                 face_match_tolerance: float = 0.5,
                 outfile_prefix: Optional[str] = None,
                 save_per_image: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            norm_mode='keypoint_distance',
            collect_device=collect_device,
            prefix=prefix)
        modes = [norm_mode] if isinstance(norm_mode, str) else list(norm_mode)
        if not modes:
            raise ValueError('norm_mode is empty, expected one or more of '
                             f'{NORM_MODES}')
        for m in modes:
            if m not in NORM_MODES:
                raise ValueError(f'norm_mode {m!r} is not supported, '
                                 f'expected one of {NORM_MODES}')
        if len(set(modes)) != len(modes):
            raise ValueError(f'norm_mode {modes} repeats a mode')
        self.norm_modes: List[str] = modes
        self.norm_mode = modes[0]

        if keypoint_indices is None:
            overrides = {}
        elif isinstance(keypoint_indices, dict):
            overrides = dict(keypoint_indices)
        else:
            overrides = dict(inter_ocular=list(keypoint_indices))
        self.index_overrides = {}
        for mode, pair in overrides.items():
            if mode not in ('inter_ocular', 'inter_pupil'):
                raise ValueError(
                    f'keypoint_indices given for {mode!r}, expected '
                    f"'inter_ocular' or 'inter_pupil'")
            if len(pair) != 2:
                raise ValueError(
                    f'keypoint_indices for {mode} is {pair}, expected a pair '
                    f'of indices (or of index lists)')
            self.index_overrides[mode] = [
                [int(a)] if np.isscalar(a) else [int(i) for i in a]
                for a in pair
            ]
        # mmpose's NME attribute: the inter-ocular pair when it is a plain one
        io_pair = self.index_overrides.get('inter_ocular')
        self.keypoint_indices = ([p[0] for p in io_pair] if io_pair and all(
            len(p) == 1 for p in io_pair) else None)

        if box_source not in ('keypoints', 'bbox'):
            raise ValueError(f"box_source {box_source!r}, expected "
                             f"'keypoints' or 'bbox'")
        self.box_source = box_source
        if fr_threshold <= 0:
            raise ValueError(f'fr_threshold must be > 0, got {fr_threshold}')
        self.fr_threshold = float(fr_threshold)
        self.auc_thresholds = [float(t) for t in auc_thresholds]
        for t in self.auc_thresholds:
            if t <= 0:
                raise ValueError(f'auc_thresholds must be > 0, got {t}')
        self.subset_tags = list(subset_tags or [])
        self.subset_entries = (
            _load_subset_file(subset_file) if subset_file else OrderedDict())
        if face_match_tolerance < 0:
            raise ValueError(f'face_match_tolerance must be >= 0, got '
                             f'{face_match_tolerance}')
        self.face_match_tolerance = float(face_match_tolerance)
        self.outfile_prefix = outfile_prefix
        self.save_per_image = save_per_image
        self.last_per_image: List[dict] = []
        self.last_files: List[str] = []

    # ------------------------------------------------------------------
    # dataset_meta: check the scheme as soon as the evaluator gets it
    @property
    def dataset_meta(self) -> Optional[dict]:
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        self._dataset_meta = dataset_meta
        if dataset_meta is not None and dataset_meta.get(
                'num_keypoints') is not None:
            self._eye_points(dataset_meta.get('num_keypoints'))

    def _eye_points(self, num_keypoints: Optional[int]) -> Dict[str, list]:
        """Return ``{mode: [eye_a, eye_b]}`` for the keypoint-based modes.

        Raises:
            ValueError: for an unknown scheme, naming it and what each
                normaliser needs.
        """
        need = [
            m for m in self.norm_modes
            if m in KEYPOINT_MODES and m not in self.index_overrides
        ]
        points = {m: self.index_overrides[m] for m in self.index_overrides}
        if need:
            scheme = resolve_keypoint_scheme(self.dataset_meta, num_keypoints)
            spec = FACE_SCHEMES[scheme]['normalisers']
            for m in need:
                if m not in spec:
                    name = (self.dataset_meta or {}).get('dataset_name')
                    raise ValueError(
                        f'norm_mode {m!r} is not defined for keypoint scheme '
                        f'{scheme!r} (dataset {name!r}); {_NEEDS}. Set '
                        f'keypoint_indices=dict({m}=[...]) or use another '
                        f'norm_mode')
                points[m] = spec[m]
        k = num_keypoints
        if k is not None:
            for m, pair in points.items():
                for idx in sum(pair, []):
                    if not 0 <= idx < int(k):
                        raise ValueError(
                            f'{m} uses keypoint {idx}, but the data has '
                            f'{k} keypoints')
        return points

    # ------------------------------------------------------------------
    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        """Store per-sample predictions, ground truth and subset tags.

        Args:
            data_batch (Sequence[dict]): a batch from the dataloader (unused).
            data_samples (Sequence[dict]): ``PoseDataSample.to_dict()``
                outputs with ``pred_instances.keypoints`` (1, K, D) and
                ``gt_instances.keypoints`` (1, K, D),
                ``gt_instances.keypoints_visible`` (1, K) and, for
                ``box_source='bbox'``, ``gt_instances.bboxes`` (1, 4).
        """
        for ds in data_samples:
            pred = np.asarray(ds['pred_instances']['keypoints'],
                              dtype=np.float64)
            gt_inst = ds.get('gt_instances', {}) or {}
            if 'keypoints' in gt_inst:
                gt = np.asarray(gt_inst['keypoints'], dtype=np.float64)
                vis = gt_inst.get('keypoints_visible')
                vis = (np.ones(gt.shape[:2]) if vis is None else
                       np.asarray(vis, dtype=np.float64))
            elif 'raw_ann_info' in ds:
                kpts = np.asarray(
                    ds['raw_ann_info']['keypoints'],
                    dtype=np.float64).reshape(1, -1, 3)
                gt, vis = kpts[..., :2], kpts[..., 2]
            else:
                raise KeyError(
                    f'data sample {ds.get("img_id")!r} has neither '
                    f'gt_instances.keypoints nor raw_ann_info')
            if vis.ndim == 3:
                vis = vis[..., 0]
            pred = pred.reshape(-1, pred.shape[-2], pred.shape[-1])[:1, :, :2]
            gt = gt.reshape(-1, gt.shape[-2], gt.shape[-1])[:1, :, :2]
            if pred.shape != gt.shape:
                raise ValueError(f'prediction has shape {pred.shape}, ground '
                                 f'truth {gt.shape}')
            result = dict(
                pred_coords=pred[0],
                gt_coords=gt[0],
                mask=vis.reshape(-1)[:gt.shape[1]] > 0,
                img_id=ds.get('img_id'),
                img_path=ds.get('img_path'),
                subsets=self._subsets_of(ds, gt[0]))
            if 'box_size' in self.norm_modes:
                result['box_size'] = _box_size_of(ds)
            if self.box_source == 'bbox':
                if 'bboxes' not in gt_inst:
                    raise KeyError("box_source='bbox' but the data sample has "
                                   'no gt_instances.bboxes')
                result['bbox'] = np.asarray(
                    gt_inst['bboxes'], dtype=np.float64).reshape(-1, 4)[0]
            self.results.append(result)

    def _subsets_of(self, ds: dict, gt: np.ndarray) -> List[str]:
        """Subsets of one data sample with (K, 2) ground truth ``gt``."""
        names = []
        tagged = ds.get('subsets', ds.get('subset'))
        if isinstance(tagged, str):
            tagged = [tagged]
        tagged = set(tagged or [])
        for tag in self.subset_tags:
            if tag in tagged or _truthy(ds.get(tag)):
                names.append(tag)
        if self.subset_entries:
            keys = _sample_keys(ds.get('img_id'), ds.get('img_path'))
            for name, entries in self.subset_entries.items():
                if entries.raw_lines:
                    entries.resolve_lines(gt.shape[0])
                if name not in names and entries.contains(
                        keys, ds.get('img_path'), gt,
                        self.face_match_tolerance):
                    names.append(name)
        return names

    # ------------------------------------------------------------------
    def _normalisers(self,
                     gt: np.ndarray,
                     mask: np.ndarray,
                     bboxes: Optional[np.ndarray],
                     points: Dict[str, list],
                     box_sizes: Optional[np.ndarray] = None
                     ) -> Dict[str, np.ndarray]:
        """Per-image normalisers.

        Args:
            gt (np.ndarray): (N, K, D) ground truth.
            mask (np.ndarray): (N, K) visibility.
            bboxes (np.ndarray, optional): (N, 4) xyxy annotation boxes.
            points (dict): eye points per keypoint-based mode.
            box_sizes (np.ndarray, optional): (N,) annotation ``box_size``
                (for ``norm_mode='box_size'``).

        Returns:
            dict: ``{mode: (N,) normaliser}``.
        """
        if self.box_source == 'bbox':
            w = bboxes[:, 2] - bboxes[:, 0]
            h = bboxes[:, 3] - bboxes[:, 1]
        else:
            big = np.where(mask[..., None], gt, np.nan)  # (N, K, D)
            # an all-NaN face (nothing visible): nanmax warns, gives NaN
            with np.errstate(all='ignore'), warnings.catch_warnings():
                warnings.simplefilter('ignore', RuntimeWarning)
                w = np.nanmax(big[..., 0], 1) - np.nanmin(big[..., 0], 1)
                h = np.nanmax(big[..., 1], 1) - np.nanmin(big[..., 1], 1)
        out = {}
        for mode in self.norm_modes:
            if mode == 'box_size':
                out[mode] = box_sizes
            elif mode in KEYPOINT_MODES:
                out[mode] = eye_distance(gt, points[mode])
            elif mode == 'box':
                out[mode] = np.sqrt(w * h)
            else:  # diagonal
                out[mode] = np.sqrt(w * w + h * h)
        return out

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Reduce the stored samples to NME / FR / AUC (+ subsets).

        Args:
            results (list): dicts stored by :meth:`process`.

        Returns:
            Dict[str, float]: the keys listed in the class docstring.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        if not results:
            raise ValueError('FaceNMEMetric got no results to evaluate')
        pred = np.stack([r['pred_coords'] for r in results])  # (N, K, D)
        gt = np.stack([r['gt_coords'] for r in results])  # (N, K, D)
        mask = np.stack([r['mask'] for r in results])  # (N, K)
        bboxes = (np.stack([r['bbox'] for r in results])
                  if self.box_source == 'bbox' else None)
        points = self._eye_points(gt.shape[1])

        dist = np.linalg.norm(pred - gt, axis=-1)  # (N, K)
        n_vis = mask.sum(1)
        with np.errstate(all='ignore'):
            mean_dist = np.where(n_vis > 0, (dist * mask).sum(1) / n_vis,
                                 np.nan)  # (N,)
        box_sizes = (np.array([r['box_size'] for r in results],
                              dtype=np.float64)
                     if 'box_size' in self.norm_modes else None)
        norms = self._normalisers(gt, mask, bboxes, points, box_sizes)
        nme = OrderedDict()
        for mode in self.norm_modes:
            d = norms[mode]
            with np.errstate(all='ignore'):
                nme[mode] = np.where(d > 0, mean_dist / d, np.nan)
            bad = ~np.isfinite(nme[mode])
            if bad.any():
                logger.warning(
                    f'FaceNMEMetric: {int(bad.sum())} of {len(bad)} images '
                    f'have no visible keypoint or a zero {mode} normaliser '
                    f'and are left out of NME_{NORM_ABBR[mode]}')

        subsets = [r['subsets'] for r in results]
        # tags, then subset files, then any other subset, first seen first
        names = list(dict.fromkeys([*self.subset_tags, *self.subset_entries,
                                    *(t for tags in subsets for t in tags)]))

        metrics = OrderedDict()
        metrics.update(self._summarise(nme, np.ones(len(results), bool), ''))
        for name in names:
            sel = np.array([name in tags for tags in subsets])
            if not sel.any():
                logger.warning(f'FaceNMEMetric: subset {name!r} has no image')
                continue
            logger.info(f'FaceNMEMetric: subset {name!r}: {int(sel.sum())} '
                        f'of {len(results)} faces')
            metrics.update(self._summarise(nme, sel, f'/{name}'))

        self.last_per_image = [
            dict(
                img_id=jsonable(r['img_id']),
                img_path=r['img_path'],
                nme={m: _nan_to_none(nme[m][i]) for m in self.norm_modes},
                subsets=list(r['subsets'])) for i, r in enumerate(results)
        ]
        if self.save_per_image and is_main_process():
            self.last_files = self._save(metrics, logger)
        return dict(metrics)

    def _summarise(self, nme: Dict[str, np.ndarray], sel: np.ndarray,
                   suffix: str) -> Dict[str, float]:
        out = OrderedDict()
        main = nme[self.norm_mode]
        ok = sel & np.isfinite(main)
        out[f'NME{suffix}'] = float(np.mean(main[ok])) if ok.any() else \
            float('nan')
        for mode in self.norm_modes:
            v = nme[mode][sel & np.isfinite(nme[mode])]
            out[f'NME_{NORM_ABBR[mode]}{suffix}'] = (
                float(v.mean()) if v.size else float('nan'))
        errs = main[ok]
        out[f'FR@{self.fr_threshold:g}{suffix}'] = auc_fr(
            errs, self.fr_threshold)['fr']
        for t in self.auc_thresholds:
            out[f'AUC@{t:g}{suffix}'] = auc_fr(errs, t)['auc']
        return out

    # ------------------------------------------------------------------
    def _out_prefix(self) -> Optional[str]:
        if self.outfile_prefix:
            return self.outfile_prefix
        logger = MMLogger.get_current_instance()
        log_file = getattr(logger, 'log_file', None)
        if log_file:
            return osp.join(osp.dirname(log_file), 'face_nme')
        return None

    def _save(self, metrics: Dict[str, float], logger) -> List[str]:
        prefix = self._out_prefix()
        if prefix is None:
            logger.info('FaceNMEMetric: no work dir or outfile_prefix, '
                        'per-image errors not saved')
            return []
        payload = dict(
            norm_modes=self.norm_modes,
            main_norm_mode=self.norm_mode,
            box_source=self.box_source,
            fr_threshold=self.fr_threshold,
            auc_thresholds=self.auc_thresholds,
            metrics={k: _nan_to_none(v)
                     for k, v in metrics.items()},
            images=self.last_per_image)
        json_path = f'{prefix}.per_image.json'
        atomic_write_json(payload, json_path, indent=1)

        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(['img_id', 'img_path'] +
                        [f'nme_{NORM_ABBR[m]}'
                         for m in self.norm_modes] + ['subsets'])
        for rec in self.last_per_image:
            writer.writerow([rec['img_id'], rec['img_path']] + [
                '' if rec['nme'][m] is None else repr(rec['nme'][m])
                for m in self.norm_modes
            ] + ['|'.join(rec['subsets'])])
        csv_path = f'{prefix}.per_image.csv'
        atomic_write_text(buf.getvalue(), csv_path)
        logger.info(f'FaceNMEMetric: per-image errors saved to {json_path} '
                    f'and {csv_path}')
        return [json_path, csv_path]


def _box_size_of(ds: dict) -> float:
    """The annotation's face box size of a data sample (mmpose's
    ``AFLWDataset`` puts ``box_size`` in the sample; it is also in
    ``raw_ann_info``)."""
    val = ds.get('box_size')
    if val is None:
        val = (ds.get('raw_ann_info') or {}).get('box_size')
    if val is None:
        raise KeyError(
            f"norm_mode 'box_size' needs the annotation's box_size, but data "
            f'sample {ds.get("img_id")!r} ({ds.get("img_path")!r}) has none '
            f'(expected box_size or raw_ann_info.box_size: mmpose\'s '
            f'AFLWDataset reads it in test mode; add \'box_size\' to '
            f'PackPoseInputs(meta_keys=...))')
    return float(np.asarray(val, dtype=np.float64).reshape(-1)[0])


def _truthy(val) -> bool:
    """A subset flag: 1 / True / non-empty array with a non-zero entry; the
    strings '', '0', 'false', 'no' count as unset."""
    if val is None:
        return False
    if isinstance(val, str):
        return val.strip().lower() not in ('', '0', 'false', 'no')
    return bool(np.any(np.asarray(val)))


def _nan_to_none(v):
    v = float(v)
    return None if not np.isfinite(v) else v


"""Build-time checks of face annotations and names for error messages."""
import json
import os.path as osp
from typing import List, Optional

import numpy as np


class AnnotationError(ValueError):
    """An annotation is unusable; the message names its ``id``, its image
    and the dataset."""


def dataset_name(dataset) -> str:
    """A name for messages: type, ``ann_file`` / ``pts_folders`` and
    ``data_root`` of an MMPose dataset (or its ``dataset_name``)."""
    parts = [f'{key}={getattr(dataset, key)!r}'
             for key in ('ann_file', 'pts_folders', 'data_root')
             if getattr(dataset, key, None)]
    if not parts:
        meta = getattr(dataset, 'metainfo', {}) or {}
        if meta.get('dataset_name'):
            parts.append(f"dataset_name={meta['dataset_name']!r}")
    return f'{type(dataset).__name__}({", ".join(parts)})'


def check_annotation(info: dict, num_keypoints: Optional[int],
                     where: str) -> None:
    """Reject one parsed MMPose data info (one face).

    Checks: the keypoint count equals ``num_keypoints``, every coordinate
    is finite, the box (``bbox`` x1y1x2y2 and, when present,
    ``bbox_scale``) is finite with a positive width and height.

    Args:
        info (dict): ``keypoints`` (1, K, 2), ``bbox`` (1, 4), optional
            ``bbox_scale`` (1, 2), ``id``, ``img_id``, ``img_path``.
        num_keypoints (int, optional): Expected K; ``None`` skips it.
        where (str): The dataset's name for the message.

    Raises:
        AnnotationError: naming the annotation ``id``, ``img_path`` and
            ``where``.
    """

    def fail(what):
        raise AnnotationError(
            f'annotation id={info.get("id")} (img_id={info.get("img_id")}, '
            f'{info.get("img_path")}) in {where}: {what}')

    kpts = np.asarray(info.get('keypoints'), dtype=np.float64)
    if kpts.ndim < 2 or kpts.shape[-1] != 2:
        fail(f'keypoints of shape {kpts.shape}, expected (1, K, 2)')
    k = kpts.shape[-2]
    if num_keypoints is not None and k != num_keypoints:
        fail(f'{k} keypoints, expected {num_keypoints}')
    bad = ~np.isfinite(kpts.reshape(-1, 2)).all(1)
    if bad.any():
        fail(f'non-finite coordinates at keypoint(s) '
             f'{np.flatnonzero(bad).tolist()[:10]}')
    bbox = np.asarray(info.get('bbox'), dtype=np.float64).reshape(-1)
    if bbox.size != 4 or not np.isfinite(bbox).all():
        fail(f'bbox {bbox.tolist()} is not 4 finite numbers (x1, y1, x2, '
             f'y2)')
    if not (bbox[2] > bbox[0] and bbox[3] > bbox[1]):
        fail(f'empty bbox {bbox.tolist()} (x1, y1, x2, y2): width '
             f'{bbox[2] - bbox[0]:g}, height {bbox[3] - bbox[1]:g}')
    if 'bbox_scale' in info:
        scale = np.asarray(info['bbox_scale'], dtype=np.float64).reshape(-1)
        if not (np.isfinite(scale).all() and (scale > 0).all()):
            fail(f'empty bbox_scale {scale.tolist()}')


def dropped_empty_boxes(dataset) -> List[str]:
    """Annotations with an empty box that MMPose dropped while loading.

    MMPose's ``BaseCocoStyleDataset`` silently leaves out topdown
    instances whose box has no area (``_is_valid_instance``). This re-reads
    the dataset's json ``ann_file`` and names every annotation missing from
    the loaded data list whose raw ``bbox`` (x, y, w, h) or ``scale`` is
    empty. Annotations that the dataset skips on purpose (crowd, no face
    keypoints in COCO-WholeBody) are not reported.

    Returns:
        list[str]: ``'id=.. (file_name): why'`` per dropped annotation;
        empty when nothing was dropped or the dataset has no json.
    """
    ann_file = getattr(dataset, 'ann_file', None)
    if (not ann_file or not str(ann_file).endswith('.json')
            or getattr(dataset, 'data_mode', 'topdown') != 'topdown'
            or not osp.isfile(ann_file)):
        return []
    with open(ann_file) as f:
        coco = json.load(f)
    if not isinstance(coco, dict) or 'annotations' not in coco:
        return []
    loaded = {dataset.get_data_info(i).get('id') for i in range(len(dataset))}
    files = {im.get('id'): im.get('file_name')
             for im in coco.get('images', [])}
    out = []
    for ann in coco['annotations']:
        if ann.get('id') in loaded or ann.get('iscrowd', 0):
            continue
        why = None
        box = ann.get('bbox')
        if box is not None and len(box) == 4 and not (box[2] > 0
                                                      and box[3] > 0):
            why = f'empty bbox {box} (x, y, w, h)'
        scale = ann.get('scale')
        if scale is not None and not np.all(np.asarray(scale) > 0):
            why = f'empty box: scale {scale}'
        if why:
            out.append(f'id={ann.get("id")} '
                       f'({files.get(ann.get("image_id"))}): {why}')
    return out


def check_annotations(dataset, num_keypoints: Optional[int] = None) -> None:
    """Run :func:`check_annotation` on every face of an MMPose dataset and
    reject the faces it dropped for an empty box
    (:func:`dropped_empty_boxes`).

    Args:
        dataset: A fully initialised MMPose dataset.
        num_keypoints (int, optional): Expected K. Defaults to the
            dataset's ``metainfo['num_keypoints']``.

    Raises:
        AnnotationError: at the first bad annotation.
    """
    if num_keypoints is None:
        num_keypoints = dataset.metainfo.get('num_keypoints')
    where = dataset_name(dataset)
    for i in range(len(dataset)):
        check_annotation(dataset.get_data_info(i), num_keypoints, where)
    dropped = dropped_empty_boxes(dataset)
    if dropped:
        raise AnnotationError(
            f'{len(dropped)} annotation(s) in {where} have an empty box '
            f'(MMPose would drop them silently): annotation '
            f'{"; ".join(dropped[:5])}{" ..." if len(dropped) > 5 else ""}')


"""Build-time checks of face annotations and names for error messages."""
import os.path as osp
from typing import Optional

import numpy as np


class AnnotationError(ValueError):
    """An annotation is unusable; the message names its ``id``, its image
    and the dataset."""


def dataset_name(dataset) -> str:
    """A name for messages: type, ``ann_file`` / ``pts_folders`` and
    ``data_root`` of an MMPose dataset (or its ``dataset_name``)."""
    parts = []
    for key in ('ann_file', 'pts_folders', 'data_root'):
        value = getattr(dataset, key, None)
        if value:
            parts.append(f'{key}={value!r}')
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


def check_annotations(dataset, num_keypoints: Optional[int] = None) -> None:
    """Run :func:`check_annotation` on every face of an MMPose dataset.

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


def image_path_of(info: dict) -> str:
    """Absolute image path of a data info (for messages and dedup)."""
    path = info.get('img_path')
    return osp.abspath(path) if path else '<no img_path>'

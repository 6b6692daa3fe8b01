"""300W ``.pts`` folders -> MMPose COCO-style face annotation json.

The output has the layout of MMPose's 300W json (``face_300w_dataset``):

- ``images``: ``id``, ``file_name`` (relative to ``root``), ``height``,
  ``width`` (read from the image file);
- ``annotations``: ``id``, ``image_id``, ``category_id`` = 1,
  ``keypoints`` = [x, y, 2] * K, the ``.pts`` points as 0-based pixel
  centres (:func:`rht_mmpose.utils.io.read_face_points`),
  ``num_keypoints``, ``bbox`` = [x, y, w, h] tight around the landmarks,
  ``area`` = w * h, ``iscrowd`` = 0, and the ``center`` / ``scale`` that
  :class:`mmpose.datasets.Face300WDataset` reads (``center`` = box
  centre, ``scale`` = max(w, h) / 200);
- ``categories``: one ``face`` category.

Ids are 1-based in the order of ``folders`` and, inside a folder, of the
sorted ``.pts`` names.
"""
import json
import os
import os.path as osp
from typing import List, Sequence, Union

import numpy as np

from ..utils.face_geometry import landmark_box
from ..utils.io import (IMAGE_EXTENSIONS, PtsFormatError,  # noqa: F401
                        atomic_write_json, find_image, image_size,
                        read_face_points, read_pts)


def list_pts(folders: Sequence[str], root: str) -> List[str]:
    """Sorted ``.pts`` paths of each folder (relative to ``root`` or
    absolute), in folder order.

    Raises:
        FileNotFoundError: a folder is missing.
        PtsFormatError: a folder has no ``.pts`` file.
    """
    out = []
    for folder in folders:
        full = folder if osp.isabs(folder) else osp.join(root, folder)
        if not osp.isdir(full):
            raise FileNotFoundError(f'pts folder {full!r} does not exist')
        files = sorted(f for f in os.listdir(full) if f.endswith('.pts'))
        if not files:
            raise PtsFormatError(f'{full}: no .pts files')
        out.extend(osp.join(full, f) for f in files)
    return out


def convert(folders: Union[str, Sequence[str]],
            out_file: str,
            root: str,
            num_points: int = 68,
            progress: bool = True) -> dict:
    """Convert folders of ``.pts`` + images into one COCO-style json.

    Args:
        folders (str | Sequence[str]): Folders (relative to ``root`` or
            absolute), e.g. ``['afw', 'helen/trainset']``.
        out_file (str): Output json path (written atomically).
        root (str): Data root; ``file_name`` is relative to it.
        num_points (int): Points per face. Defaults to 68.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: The written COCO dict.

    Raises:
        PtsFormatError: a malformed ``.pts`` (see :func:`read_pts`), an
            empty landmark box, a missing or unreadable image, naming the
            file. Nothing is written then (an existing ``out_file`` is left
            as it was).
    """
    if isinstance(folders, str):
        folders = [folders]
    pts_files = list_pts(folders, root)
    iterator = pts_files
    if progress:
        from tqdm import tqdm
        iterator = tqdm(pts_files, desc=f'pts -> {osp.basename(out_file)}')
    images, annotations = [], []
    for i, pts_path in enumerate(iterator, start=1):
        img_path = find_image(pts_path)
        points = read_face_points(pts_path, img_path, num_points)
        h, w = image_size(img_path)
        x0, y0, x1, y1 = landmark_box(points)
        bw, bh = float(x1 - x0), float(y1 - y0)
        if not (bw > 0 and bh > 0):
            raise PtsFormatError(
                f'{pts_path}: empty landmark box ({bw:g} x {bh:g} pixels); '
                f'the points are all on one line or one point')
        kpts = np.concatenate(
            [points, np.full((len(points), 1), 2.)], axis=1).reshape(-1)
        images.append(
            dict(
                id=i,
                file_name=osp.relpath(img_path, root).replace(os.sep, '/'),
                height=int(h),
                width=int(w)))
        annotations.append(
            dict(
                id=i,
                image_id=i,
                category_id=1,
                keypoints=[float(v) for v in kpts],
                num_keypoints=int(len(points)),
                bbox=[float(x0), float(y0), bw, bh],
                area=bw * bh,
                iscrowd=0,
                center=[float(x0 + x1) / 2, float(y0 + y1) / 2],
                scale=max(bw, bh) / 200.))
    coco = dict(
        images=images,
        annotations=annotations,
        categories=[
            dict(
                supercategory='person',
                id=1,
                name='face',
                keypoints=[],
                skeleton=[])
        ])
    atomic_write_json(coco, out_file)
    return coco

"""300W ``.pts`` folders -> MMPose COCO-style face annotation json.

The output has the layout of MMPose's 300W json (``face_300w_dataset``):

- ``images``: ``id``, ``file_name`` (relative to ``root``), ``height``,
  ``width`` (read from the image file);
- ``annotations``: ``id``, ``image_id``, ``category_id`` = 1,
  ``keypoints`` = [x, y, 2] * K exactly as in the ``.pts`` (0-based pixel
  coordinates, not shifted), ``num_keypoints``, ``bbox`` = [x, y, w, h]
  tight around the landmarks, ``area`` = w * h, ``iscrowd`` = 0, and the
  ``center`` / ``scale`` that :class:`mmpose.datasets.Face300WDataset`
  reads (``center`` = box centre, ``scale`` = max(w, h) / 200);
- ``categories``: one ``face`` category.

Ids are 1-based in the order of ``folders`` and, inside a folder, of the
sorted ``.pts`` names.
"""
import json
import os
import os.path as osp
import re
import tempfile
from typing import List, Sequence, Union

import numpy as np

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.JPG', '.JPEG', '.PNG',
                    '.BMP')


# plain ASCII decimals only; Python's float() would also take 'nan',
# 'infinity', '1_0' and non-ASCII digits, which other .pts readers refuse
_NUMBER = re.compile(r'[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?')
_COUNT = re.compile(r'[0-9]+')


class PtsFormatError(ValueError):
    """A ``.pts`` file (or its image) is unusable; the message names it."""


def read_pts(path: str, num_points: int = 68) -> np.ndarray:
    """Read a 300W ``.pts`` file.

    Format::

        version: 1
        n_points:  68
        {
        x y
        ...
        }

    Args:
        path (str): The ``.pts`` file.
        num_points (int, optional): Expected number of points; ``None``
            accepts any count that matches the header. Defaults to 68.

    Returns:
        np.ndarray: (K, 2) float64 points, exactly as written.

    Raises:
        PtsFormatError: missing header or braces, a count that differs
            from the header or from ``num_points``, a value that is not a
            plain decimal number (``nan``, ``inf``, ``1_0``, ``0x1``,
            non-ASCII digits) or overflows, a line without exactly two
            numbers, an unreadable or non-UTF-8 file. The message names the
            file. No other exception escapes for any file content.
    """
    try:
        with open(path) as f:
            lines = [ln.strip() for ln in f]
    except (OSError, UnicodeDecodeError) as e:
        raise PtsFormatError(f'{path}: cannot read ({e})') from e
    lines = [ln for ln in lines if ln]
    header_n = None
    for ln in lines:
        if ln.startswith('n_points'):
            value = ln.split(':', 1)[1].strip() if ':' in ln else ''
            if not _COUNT.fullmatch(value):
                raise PtsFormatError(f'{path}: bad n_points line {ln!r}')
            header_n = int(value)
    if header_n is None:
        raise PtsFormatError(f'{path}: no "n_points:" header')
    if '{' not in lines or '}' not in lines:
        raise PtsFormatError(f'{path}: points must be enclosed in {{ }}')
    start, end = lines.index('{') + 1, lines.index('}')
    if end < start:
        raise PtsFormatError(f'{path}: "}}" before "{{"')
    points = []
    for ln in lines[start:end]:
        fields = ln.split()
        if len(fields) != 2:
            raise PtsFormatError(
                f'{path}: point line {ln!r} must hold two numbers')
        if not all(_NUMBER.fullmatch(v) for v in fields):
            raise PtsFormatError(f'{path}: non-numeric point line {ln!r}')
        xy = [float(v) for v in fields]
        if not np.isfinite(xy).all():
            raise PtsFormatError(f'{path}: non-finite point {ln!r}')
        points.append(xy)
    if len(points) != header_n:
        raise PtsFormatError(f'{path}: {len(points)} points, but the header '
                             f'says n_points: {header_n}')
    if num_points is not None and len(points) != num_points:
        raise PtsFormatError(
            f'{path}: {len(points)} points, expected {num_points}')
    return np.array(points, dtype=np.float64).reshape(-1, 2)


def find_image(pts_path: str) -> str:
    """The image beside a ``.pts`` file (same stem, a known extension).

    Raises:
        PtsFormatError: no image, naming the ``.pts`` file.
    """
    stem = osp.splitext(pts_path)[0]
    for ext in IMAGE_EXTENSIONS:
        if osp.isfile(stem + ext):
            return stem + ext
    raise PtsFormatError(f'{pts_path}: no image {osp.basename(stem)}'
                         f'{{{",".join(IMAGE_EXTENSIONS[:4])}}} beside it')


def image_size(path: str) -> tuple:
    """(height, width) read from the image header (no decoding)."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            w, h = im.size
    except OSError as e:
        raise PtsFormatError(f'{path}: unreadable image ({e})') from e
    return h, w


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


def atomic_write_json(obj, out_file: str) -> None:
    """Write json to a temp file in the same folder, then ``os.replace``."""
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=out_dir, prefix='.' + osp.basename(out_file), suffix='.tmp')
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(obj, f)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600
        os.replace(tmp, out_file)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


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
        points = read_pts(pts_path, num_points)
        img_path = find_image(pts_path)
        h, w = image_size(img_path)
        x0, y0 = points.min(0)
        x1, y1 = points.max(0)
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

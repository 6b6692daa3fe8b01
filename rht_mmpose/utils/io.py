"""File io used across the package: writes that never leave a partial
file under the final name, the 300-W ``.pts`` format, reading any image
the demo may meet, and the file extensions taken as images and videos.

A write goes to a hidden temp file in the same directory
(``.<name>.<random>.tmp<ext>``), is flushed and ``fsync``-ed, then renamed
over the final path with ``os.replace`` (atomic on POSIX and Windows within
one file system). A process killed mid-write leaves at most a stale temp
file, which :func:`remove_stale_tmp_files` deletes; a failed write removes
its temp file and leaves the old file untouched.
"""
import contextlib
import json
import os
import os.path as osp
import re
import tempfile
from typing import Any, Iterator, List, Optional, Sequence, Union

import cv2
import numpy as np

from .errors import FaceInputError

# compared with the lower-cased extension
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff',
                    '.webp', '.pgm', '.ppm', '.pbm', '.pnm', '.jp2')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.wmv')
TMP_MARK = '.tmp'
_STALE_TMP = re.compile(r'\..+\.tmp(\.[A-Za-z0-9]+)?')


def _fsync_dir(dirname: str) -> None:
    """Make a rename durable (best effort: not on every OS)."""
    try:
        dfd = os.open(dirname, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[str]:
    """Yield a temp path beside ``path`` (same extension, so writers that
    choose a format by it work); on a clean exit it replaces ``path``, on
    an exception it is removed. The directory is created.

    Example::

        with atomic_output('out.png') as tmp:
            cv2.imwrite(tmp, img)
    """
    path = os.fspath(path)
    dirname, base = osp.split(osp.abspath(path))
    os.makedirs(dirname, exist_ok=True)
    ext = osp.splitext(base)[1]
    fd, tmp = tempfile.mkstemp(prefix=f'.{base}.', suffix=TMP_MARK + ext,
                               dir=dirname)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, 'rb+') as f:
            os.fsync(f.fileno())
        # mkstemp creates 0600; outputs get the usual umask-based mode
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    _fsync_dir(dirname)


def atomic_write_bytes(data: bytes, path: str) -> None:
    """Write ``data`` to ``path``: the old file or the complete new one,
    never a partial write."""
    with atomic_output(path) as tmp:
        with open(tmp, 'wb') as f:
            f.write(data)


def atomic_write_text(text: str, path: str, encoding: str = 'utf-8') -> None:
    """Text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(text.encode(encoding), path)


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy arrays / scalars and tensors as plain lists and
    numbers, dict keys as strings."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, 'tolist'):  # numpy arrays and scalars, torch tensors
        return obj.tolist()
    return obj


def atomic_write_json(obj: Any, path: str, indent=None) -> None:
    """Dump ``obj`` (numpy arrays become lists) as json, atomically."""
    atomic_write_text(json.dumps(jsonable(obj), indent=indent), path)


def atomic_savez(path: str, **arrays) -> None:
    """``np.savez`` to ``path`` (which should end in ``.npz``), atomically."""
    with atomic_output(path) as tmp:
        with open(tmp, 'wb') as f:  # a file object: savez adds no suffix
            np.savez(f, **arrays)


def remove_stale_tmp_files(dirname: str) -> List[str]:
    """Delete temp files that an atomic write left behind when its process
    was killed (``.<name>.<random>.tmp<ext>``) and return their paths."""
    removed = []
    if not osp.isdir(dirname):
        return removed
    for name in os.listdir(dirname):
        if _STALE_TMP.fullmatch(name):
            path = osp.join(dirname, name)
            if osp.isfile(path):
                os.remove(path)
                removed.append(path)
    return removed


class PtsFormatError(ValueError):
    """A ``.pts`` file (or its image) is unusable; the message names it."""


# plain ASCII decimals only; Python's float() would also take 'nan',
# 'infinity', '1_0' and non-ASCII digits, which other .pts readers refuse
_NUMBER = re.compile(r'[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?')
_COUNT = re.compile(r'[0-9]+')


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


# 300-W's .pts points are 1-based (Matlab) pixel positions: menpo, the
# library of 300-W's authors, subtracts 1 on import ("PTS landmarks are
# 1-based"), and tools/analysis/label_origin_check.py finds them about
# 1 px right of a model's 0-based centres on crops that were not downscaled
PTS_ORIGIN = 1.0
# ../shared/data's crops were downscaled by an unrecorded k <= 1 to this
# longer side, moving points as x' = (x + 0.5) k - 0.5, which turns the
# 1 px offset into k crop px. Its range (0, 1] is halved: at most 0.5 px
# off on a landmark box of 256 crop px (label_origin_check's estimates on
# 400 training crops: 0.27 +- 0.12 in x, 0.68 +- 0.13 in y)
DOWNSCALED_SIDE = 512
DOWNSCALED_PTS_OFFSET = 0.5
# names the conversion in the keys of caches of converted points
PTS_CONVERSION = (f'0-based: less {PTS_ORIGIN}, {DOWNSCALED_PTS_OFFSET} at '
                  f'{DOWNSCALED_SIDE} px')


def find_image(pts_path: str) -> str:
    """The image beside a ``.pts`` file (same stem, a known extension).

    Raises:
        PtsFormatError: no image, naming the ``.pts`` file.
    """
    stem = osp.splitext(pts_path)[0]
    for ext in IMAGE_EXTENSIONS:
        for name in (stem + ext, stem + ext.upper()):
            if osp.isfile(name):
                return name
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


def is_downscaled_crop(image_hw: Sequence[int]) -> bool:
    """Whether an image of (height, width) ``image_hw`` is a crop of
    ``../shared/data`` that was downscaled (its longer side is
    :data:`DOWNSCALED_SIDE`)."""
    return max(image_hw[:2]) == DOWNSCALED_SIDE


def pts_origin_offset(image_hw: Sequence[int]) -> float:
    """How far (px, in x and in y) a 300-W ``.pts`` point of an image of
    (height, width) ``image_hw`` sits right of and below its 0-based pixel
    centre: :data:`PTS_ORIGIN`, or :data:`DOWNSCALED_PTS_OFFSET` for a
    downscaled crop (:func:`is_downscaled_crop`)."""
    if is_downscaled_crop(image_hw):
        return DOWNSCALED_PTS_OFFSET
    return PTS_ORIGIN


def read_face_points(pts_path: str,
                     image_path: Optional[str] = None,
                     num_points: int = 68) -> np.ndarray:
    """A face's 300-W ``.pts`` points as 0-based pixel centres of its
    image, the convention of MMPose and of every output of this package.
    The one place the 1-based files are converted: every loader of 300-W
    faces (datasets, reference pools, benchmarks) reads them here.

    Args:
        pts_path (str): The ``.pts`` file (see :func:`read_pts`).
        image_path (str, optional): Its image; by default the image
            beside it (:func:`find_image`).
        num_points (int, optional): As in :func:`read_pts`.

    Returns:
        np.ndarray: (K, 2) float64, the files' points less
        :func:`pts_origin_offset` of the image.
    """
    points = read_pts(pts_path, num_points)
    image_path = image_path or find_image(pts_path)
    return points - pts_origin_offset(image_size(image_path))


def write_pts(path: str, points: np.ndarray) -> None:
    """Write (K, 2) points as a 300-W ``.pts`` file, atomically."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    lines = ['version: 1', f'n_points: {len(points)}', '{']
    lines += [f'{x:.3f} {y:.3f}' for x, y in points]
    atomic_write_text('\n'.join(lines + ['}']) + '\n', path)


# the smallest image side taken as a possible face
MIN_IMAGE_SIDE = 16


def to_bgr_uint8(img: np.ndarray, name: str = 'image') -> np.ndarray:
    """Convert grey, grey+alpha, BGR, BGRA, 16-bit or float images to BGR
    uint8 (H, W, 3).

    16-bit images are scaled by 255/65535, float images in [0, 1] by 255
    (others are clipped to [0, 255]); alpha is dropped.

    Args:
        img (np.ndarray): (H, W), (H, W, 1), (H, W, 2), (H, W, 3) or
            (H, W, 4) in OpenCV's channel order.
        name (str): Name used in error messages.

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR.
    """
    if not isinstance(img, np.ndarray):
        raise FaceInputError(
            f'{name}: expected a numpy array, got {type(img).__name__}')
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in
                                  (1, 2, 3, 4)):
        raise FaceInputError(
            f'{name}: expected an image of shape (H, W) or (H, W, 1|2|3|4), '
            f'got {img.shape}')
    if img.dtype == np.uint8:
        pass
    elif img.dtype == np.uint16:
        img = (img.astype(np.float32) * (255.0 / 65535.0) + 0.5).astype(
            np.uint8)
    elif img.dtype == np.bool_:
        img = img.astype(np.uint8) * 255
    elif np.issubdtype(img.dtype, np.floating):
        img = img.astype(np.float32)
        if np.nanmax(img) <= 1.0:
            img = img * 255.0
        img = np.nan_to_num(img).clip(0, 255).round().astype(np.uint8)
    elif np.issubdtype(img.dtype, np.integer):
        img = img.clip(0, 255).astype(np.uint8)
    else:
        raise FaceInputError(f'{name}: unsupported pixel type {img.dtype}')
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 1:
        img = cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 2:  # grey + alpha
        img = cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    h, w = img.shape[:2]
    if min(h, w) < MIN_IMAGE_SIDE:
        raise FaceInputError(
            f'{name} is {w}x{h} pixels, too small for a face: each side '
            f'must be at least {MIN_IMAGE_SIDE} pixels')
    return np.ascontiguousarray(img)


def load_image(img: Union[str, os.PathLike, np.ndarray]) -> np.ndarray:
    """Read an image path (or take an array, OpenCV BGR order) as BGR uint8.

    Raises:
        FileNotFoundError: the path does not exist.
        FaceInputError: a directory, an undecodable file, a tiny image.
    """
    if isinstance(img, np.ndarray):
        return to_bgr_uint8(img, 'image array')
    if not isinstance(img, (str, os.PathLike)):
        raise FaceInputError(f'expected an image path or a numpy array, got '
                             f'{type(img).__name__}')
    path = os.fspath(img)
    if not osp.exists(path):
        raise FileNotFoundError(f'image {path!r} does not exist')
    if osp.isdir(path):
        raise FaceInputError(f'{path!r} is a directory, expected an image '
                             f'file')
    data = np.fromfile(path, dtype=np.uint8)
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if arr is None:
        raise FaceInputError(
            f'{path!r} is not an image OpenCV can read (tried to decode '
            f'{data.size} bytes)')
    return to_bgr_uint8(arr, repr(path))


def imwrite_atomic(path: str, img: np.ndarray) -> str:
    """Write an image (format by ``path``'s extension) atomically."""
    with atomic_output(path) as tmp:
        if not cv2.imwrite(tmp, img):
            raise FaceInputError(f'could not encode an image for {path!r}')
    return path


def check_writable_dir(path: str) -> str:
    """Create ``path`` if needed and check that files can be written in it.

    Raises:
        FaceInputError: naming the directory and the OS's reason.
    """
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix='.write_test.', dir=path)
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        raise FaceInputError(
            f'cannot write to output directory {path!r}: '
            f'{e.strerror or e}') from None
    return path


def open_frames(source, fps: Optional[float] = None):
    """Frames of a video path / camera index / iterable (None for a frame
    that did not decode), and the frame rate."""
    if not isinstance(source, (str, os.PathLike, int)):
        return iter(source), float(fps or 30.)
    if not isinstance(source, int) and not osp.exists(os.fspath(source)):
        raise FileNotFoundError(f'video {os.fspath(source)!r} does not '
                                f'exist')
    cap = cv2.VideoCapture(source if isinstance(source, int) else
                           os.fspath(source))
    if not cap.isOpened():
        raise FaceInputError(f'cannot open video {source!r}')
    rate = fps or cap.get(cv2.CAP_PROP_FPS) or 30.
    return _read_capture(cap), float(rate if 0 < rate <= 1000 else 30.)


def _read_capture(cap) -> Iterator[Optional[np.ndarray]]:
    """Frames of an OpenCV capture; a frame that fails to decode in the
    middle of a file gives None (up to 25 in a row), then the end."""
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        index, failures = 0, 0
        while True:
            ok, frame = cap.read()
            if ok and frame is not None:
                failures = 0
            elif total and index < total and failures < 25:
                failures, frame = failures + 1, None
            else:
                return
            index += 1
            yield frame
    finally:
        cap.release()

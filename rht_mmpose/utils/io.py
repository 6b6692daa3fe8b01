"""File io used across the package: writes that never leave a partial
file under the final name, the 300-W ``.pts`` format, and the file
extensions taken as images and videos.

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
from typing import Any, Iterator, List

import numpy as np

# compared with the lower-cased extension
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff',
                    '.webp', '.pgm', '.ppm', '.pbm', '.pnm', '.jp2')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.wmv')
TMP_MARK = '.tmp'
_STALE_TMP = re.compile(r'\..+\.tmp(\.[A-Za-z0-9]+)?')


def is_image_file(path: str) -> bool:
    """Whether ``path``'s extension is an image extension (any case)."""
    return osp.splitext(path)[1].lower() in IMAGE_EXTENSIONS


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
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, 'tolist'):  # torch tensors
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


def write_pts(path: str, points: np.ndarray) -> None:
    """Write (K, 2) points as a 300-W ``.pts`` file, atomically."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    lines = ['version: 1', f'n_points: {len(points)}', '{']
    lines += [f'{x:.3f} {y:.3f}' for x, y in points]
    atomic_write_text('\n'.join(lines + ['}']) + '\n', path)

"""Reading any image the demo may meet and writing outputs atomically."""
import os
import os.path as osp
import tempfile
from typing import Union

import cv2
import numpy as np

from ..utils.errors import FaceInputError
from ..utils.io import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS,  # noqa: F401
                        atomic_output)

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

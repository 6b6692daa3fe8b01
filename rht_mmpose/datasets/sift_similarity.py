"""SIFT face similarity for reference selection, with an on-disk cache.

Score of a pool face for a target face = number of the target's SIFT
descriptors whose nearest pool-face descriptor passes Lowe's ratio test
(``d1 < 0.75 d2``), i.e. exactly what ``cv2.BFMatcher(cv2.NORM_L2)
.knnMatch(target, pool, k=2)`` + the ratio test counts
(:func:`count_good_matches`), computed for all pool faces at once
(:func:`match_scores`). Descriptors come from ``cv2.SIFT_create`` on the
grey face crop (box padded by 1.25, resized to ``crop_size`` square).

Note:
    - N: faces of a dataset
    - D: descriptors kept per face (``max_features``)
"""
import hashlib
import os
import os.path as osp
from typing import Optional, Tuple

import cv2
import numpy as np
from mmengine.dist import barrier, get_dist_info
from mmengine.utils import track_iter_progress

from ..utils.face_geometry import crop_faces, crop_warps
from ..utils.io import atomic_savez

CACHE_VERSION = 'rht-sift-v1'


def face_crop(img: np.ndarray,
              bbox: np.ndarray,
              crop_size: int = 128,
              padding: float = 1.25) -> np.ndarray:
    """Grey (crop_size, crop_size) uint8 crop of a (4,) xyxy face box of a
    BGR or grey image, as the test pipeline crops (square, ``padding``)."""
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    warp = crop_warps(np.reshape(bbox, (1, 4)), (crop_size, crop_size),
                      padding=padding)
    return crop_faces(img, warp, (crop_size, crop_size))[0]


def sift_descriptors(grey: np.ndarray, max_features: int = 128) -> np.ndarray:
    """SIFT descriptors of a grey crop, strongest first.

    Returns:
        np.ndarray: (n, 128) uint8, n <= max_features (OpenCV's SIFT values
        are integers in [0, 255]).
    """
    sift = cv2.SIFT_create(nfeatures=max_features)
    kps, desc = sift.detectAndCompute(grey, None)
    if desc is None or len(kps) == 0:
        return np.zeros((0, 128), np.uint8)
    order = np.argsort([-k.response for k in kps], kind='stable')
    desc = desc[order[:max_features]]
    return np.clip(np.rint(desc), 0, 255).astype(np.uint8)


def count_good_matches(query: np.ndarray,
                       train: np.ndarray,
                       ratio: float = 0.75) -> int:
    """Reference score with OpenCV: BFMatcher knnMatch k=2 + ratio test.

    Args:
        query (np.ndarray): (n, 128) target descriptors.
        train (np.ndarray): (m, 128) pool-face descriptors.

    Returns:
        int: number of good matches (0 when m < 2 or n == 0).
    """
    if len(query) == 0 or len(train) < 2:
        return 0
    matcher = cv2.BFMatcher(cv2.NORM_L2)
    pairs = matcher.knnMatch(
        query.astype(np.float32), train.astype(np.float32), k=2)
    return int(
        sum(1 for p in pairs
            if len(p) == 2 and p[0].distance < ratio * p[1].distance))


def match_scores(query: np.ndarray,
                 pool_desc: np.ndarray,
                 pool_counts: np.ndarray,
                 ratio: float = 0.75,
                 chunk: int = 256) -> np.ndarray:
    """:func:`count_good_matches` of one target against every pool face.

    Args:
        query (np.ndarray): (n, 128) target descriptors.
        pool_desc (np.ndarray): (N, D, 128) pool descriptors, zero padded.
        pool_counts (np.ndarray): (N,) valid descriptors per pool face.
        ratio (float): Lowe's ratio.
        chunk (int): Pool faces per block (memory: n * chunk * D floats).

    Returns:
        np.ndarray: (N,) int32 scores.
    """
    N, D = pool_desc.shape[:2]
    scores = np.zeros(N, np.int32)
    if len(query) == 0 or N == 0:
        return scores
    # OpenCV's SIFT values are integers <= 255 with norms ~512, so every
    # squared distance below is an exact integer in float32 (< 2^24) and
    # the result equals BFMatcher's float32 L2 distances.
    q = query.astype(np.float32)  # (n, 128)
    qq = (q * q).sum(1)[:, None]  # (n, 1)
    valid = np.arange(D)[None] < pool_counts[:, None]  # (N, D)
    for s in range(0, N, chunk):
        p = pool_desc[s:s + chunk].astype(np.float32)  # (c, D, 128)
        c = len(p)
        p = p.reshape(c * D, 128)  # (cD, 128)
        pp = (p * p).sum(1)[None]  # (1, cD)
        d2 = q @ p.T  # (n, cD)
        d2 *= -2
        d2 += qq
        d2 += pp
        d2 = d2.reshape(-1, c, D)  # (n, c, D)
        d2[:, ~valid[s:s + chunk]] = np.inf
        # two smallest per (query, pool face): argmin, mask, min
        i1 = d2.argmin(-1)[..., None]  # (n, c, 1)
        d1 = np.take_along_axis(d2, i1, -1)[..., 0]  # (n, c)
        np.put_along_axis(d2, i1, np.inf, -1)
        d2nd = d2.min(-1)  # (n, c)
        good = np.sqrt(np.maximum(d1, 0)) < ratio * np.sqrt(
            np.maximum(d2nd, 0))  # (n, c)
        scores[s:s + chunk] = good.sum(0)
    scores[pool_counts < 2] = 0
    return scores


class SiftFaceIndex:
    """SIFT descriptors of datasets and target x pool score matrices,
    cached on disk.

    Cache files (npz) live in ``cache_dir`` and are named by a hash of the
    dataset content (image paths, their sizes and mtimes, boxes,
    keypoints) and of the SIFT settings. Only rank 0 computes and writes
    (temp file + ``os.replace``); the other ranks wait at a barrier and
    read. ``cache_dir=None`` keeps everything in memory.

    Attributes:
        num_descriptor_computations (int): Faces whose SIFT descriptors this
            object computed (0 when everything came from the cache).
        num_score_computations (int): Score matrices computed.

    Args:
        cache_dir (str, optional): Cache folder.
        crop_size (int): Side of the grey face crop. Defaults to 128.
        max_features (int): Descriptors kept per face. Defaults to 128.
        ratio (float): Lowe's ratio. Defaults to 0.75.
        progress (bool): Progress bars while building. Defaults to True.
    """

    def __init__(self,
                 cache_dir: Optional[str] = None,
                 crop_size: int = 128,
                 max_features: int = 128,
                 ratio: float = 0.75,
                 progress: bool = True) -> None:
        self.cache_dir = cache_dir
        self.crop_size = crop_size
        self.max_features = max_features
        self.ratio = ratio
        self.progress = progress
        self.num_descriptor_computations = 0
        self.num_score_computations = 0

    # ------------------------------------------------------------ keys
    def content_key(self, dataset) -> str:
        """Hash of a dataset's faces (paths, file stats, boxes, keypoints)
        and of the SIFT settings."""
        h = hashlib.sha1(
            f'{CACHE_VERSION}|{self.crop_size}|{self.max_features}|'
            f'{cv2.__version__}'.encode())
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            path = info['img_path']
            try:
                st = os.stat(path)
                stat = f'{st.st_size}|{st.st_mtime_ns}'
            except OSError:
                stat = 'missing'
            h.update(f'{path}|{stat}|'.encode())
            h.update(np.ascontiguousarray(info['bbox'], np.float32))
            h.update(np.ascontiguousarray(info['keypoints'], np.float32))
        return h.hexdigest()[:16]

    def _cache_path(self, name: str) -> Optional[str]:
        return None if self.cache_dir is None else osp.join(
            self.cache_dir, name)

    def _load_or_build(self, path: Optional[str], build) -> dict:
        rank, world = get_dist_info()
        if path is None:
            return build()
        if rank == 0 and not osp.isfile(path):
            atomic_savez(path, **build())
        if world > 1:
            barrier()
        with np.load(path) as f:
            return {k: f[k] for k in f.files}

    def _iter(self, n: int):
        """``range(n)``, with a progress bar on rank 0 if ``progress``."""
        if self.progress and get_dist_info()[0] == 0:
            return track_iter_progress(range(n))
        return range(n)

    # ------------------------------------------------------------ descriptors
    def compute_descriptors(self, dataset) -> Tuple[np.ndarray, np.ndarray]:
        """Descriptors of every face of ``dataset`` (no cache).

        Returns:
            tuple: (N, D, 128) uint8 zero-padded descriptors and (N,) int32
            counts.
        """
        n = len(dataset)
        desc = np.zeros((n, self.max_features, 128), np.uint8)
        counts = np.zeros(n, np.int32)
        for i in self._iter(n):
            info = dataset.get_data_info(i)
            img = cv2.imread(info['img_path'], cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise FileNotFoundError(
                    f'cannot read image {info["img_path"]!r} of face {i}')
            d = sift_descriptors(
                face_crop(img, info['bbox'][0], self.crop_size),
                self.max_features)
            desc[i, :len(d)] = d
            counts[i] = len(d)
            self.num_descriptor_computations += 1
        return desc, counts

    def descriptors(self, dataset,
                    key: Optional[str] = None) -> Tuple[np.ndarray,
                                                        np.ndarray]:
        """Cached :meth:`compute_descriptors`."""
        key = key or self.content_key(dataset)

        def build():
            desc, counts = self.compute_descriptors(dataset)
            return dict(desc=desc, counts=counts)

        out = self._load_or_build(self._cache_path(f'sift_{key}.npz'), build)
        return out['desc'], out['counts']

    # ------------------------------------------------------------ scores
    def score_matrix(self, targets, pool) -> np.ndarray:
        """(N_targets, N_pool) int32 good-match counts, cached.

        Args:
            targets: Dataset of target faces (``get_data_info``).
            pool: Dataset of reference faces.
        """
        tkey, pkey = self.content_key(targets), self.content_key(pool)
        name = f'sift_scores_{tkey}_{pkey}_{self.ratio}.npz'
        path = self._cache_path(name)
        if path is not None and osp.isfile(path):
            return self._load_or_build(path, None)['scores']

        # descriptors on every rank (each call synchronises the ranks)
        tdesc, tcounts = self.descriptors(targets, tkey)
        pdesc, pcounts = (tdesc, tcounts) if pkey == tkey else \
            self.descriptors(pool, pkey)

        def build():
            scores = np.zeros((len(tdesc), len(pdesc)), np.int32)
            for i in self._iter(len(tdesc)):
                scores[i] = match_scores(tdesc[i, :tcounts[i]], pdesc,
                                         pcounts, self.ratio)
            self.num_score_computations += 1
            return dict(scores=scores)

        return self._load_or_build(path, build)['scores']

"""Nearest-neighbour reference retrieval (used by benchmark_retrieval.py): global descriptors + optional
SIFT re-ranking of the top candidates.

Brute-force SIFT selection (:class:`~rht_mmpose.datasets.sift_similarity.
SiftFaceIndex`) matches every target descriptor against every descriptor of
every pool face: O(N_pool) descriptor matrices per query. Here every pool
face gets one global descriptor (L2-normalised); a query is one matrix
product with the (N_pool, D) matrix and a top-k, and SIFT matching (the
same ratio-test count) only runs on those k candidates.

Note:
    - N: pool faces
    - D: global descriptor length
    - F: SIFT descriptors kept per face (128)
    - B: queries
"""
import hashlib
import os.path as osp
from typing import Iterable, Optional, Tuple

import numpy as np

from rht_mmpose.datasets.sift_similarity import match_scores
from rht_mmpose.utils.io import atomic_savez

INDEX_VERSION = 'rht-retrieval-v1'


def aggregate_sift(desc: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Global descriptor from SIFT: mean of the RootSIFT vectors (L1
    normalise, square root), L2-normalised.

    Args:
        desc (np.ndarray): (N, F, 128) uint8, zero padded
        counts (np.ndarray): (N,) valid descriptors per face

    Returns:
        np.ndarray: (N, 128) float32, unit norm (zeros for a face without
        descriptors)
    """
    x = desc.astype(np.float32)
    x /= np.maximum(x.sum(-1, keepdims=True), 1e-12)
    np.sqrt(x, out=x)
    valid = np.arange(desc.shape[1])[None] < np.asarray(counts)[:, None]
    g = (x * valid[..., None]).sum(1)  # (N, 128)
    return _l2n(g)


def _l2n(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def model_pool_descriptors(model, batch_size: int = 16,
                           progress: bool = True) -> np.ndarray:
    """The estimator's global descriptors (pooled 1x image-extractor
    features, :meth:`RHTHead.global_descriptor`) of its pool faces.

    Returns:
        np.ndarray: (N, D) float32
    """
    import torch
    n = model.pool_size
    out = []
    bar = None
    if progress and n:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(n)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for s in range(0, n, batch_size):
            imgs = model.reference_pool.normalize(
                model.reference_pool.images[s:s + batch_size])
            out.append(model.head.global_descriptor(imgs).float().cpu())
            if bar is not None:
                for _ in range(len(imgs)):
                    bar.update()
    model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)


class FaceRetrievalIndex:
    """Top-k reference candidates by cosine similarity of global
    descriptors, optionally re-ranked by SIFT good-match counts.

    Args:
        descriptors (np.ndarray): (N, D) pool descriptors (normalised here)
        sift_desc (np.ndarray, optional): (N, F, 128) uint8 SIFT of the pool
            faces, needed for :meth:`search` with ``rerank``
        sift_counts (np.ndarray, optional): (N,) valid SIFT descriptors
        ratio (float): Lowe's ratio of the re-ranking. Defaults to 0.75
        meta (dict, optional): strings saved with the index (``kind``,
            ``pool_hash``, ``checkpoint``)
        normalized (bool): the descriptors already have unit norm
    """

    def __init__(self,
                 descriptors: np.ndarray,
                 sift_desc: Optional[np.ndarray] = None,
                 sift_counts: Optional[np.ndarray] = None,
                 ratio: float = 0.75,
                 meta: Optional[dict] = None,
                 normalized: bool = False) -> None:
        d = np.asarray(descriptors)
        if d.ndim != 2:
            raise ValueError(f'descriptors have shape {d.shape}, expected '
                             '(N, D)')
        self.descriptors = np.asarray(d, np.float32) if normalized \
            else _l2n(d)
        if (sift_desc is None) != (sift_counts is None):
            raise ValueError('give both sift_desc and sift_counts or neither')
        if sift_desc is not None and (
                len(sift_desc) != len(d) or len(sift_counts) != len(d)):
            raise ValueError(
                f'{len(sift_desc)} SIFT entries and {len(sift_counts)} '
                f'counts for {len(d)} descriptors, expected one per face')
        self.sift_desc = sift_desc
        self.sift_counts = None if sift_counts is None else \
            np.asarray(sift_counts, np.int32)
        self.ratio = ratio
        self.meta = dict(meta or {})

    def __len__(self) -> int:
        return len(self.descriptors)

    # ------------------------------------------------------------ query
    def query(self, q: np.ndarray, k: int = 1) -> Tuple[np.ndarray,
                                                        np.ndarray]:
        """Top-k by cosine: one (B, D) x (D, N) product.

        Args:
            q (np.ndarray): (B, D) or (D,) query descriptors
            k (int): candidates per query (clipped to N)

        Returns:
            tuple: indices (B, k) int64 best first (ties: lower index
            first), similarities (B, k) float32
        """
        q = _l2n(np.atleast_2d(q))
        if q.shape[1] != self.descriptors.shape[1]:
            raise ValueError(f'query descriptors have {q.shape[1]} dims, '
                             f'expected {self.descriptors.shape[1]} (the '
                             'index)')
        n = len(self)
        if n == 0:
            raise ValueError('the index is empty')
        k = max(1, min(int(k), n))
        sim = q @ self.descriptors.T  # (B, N)
        if k < n:
            part = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(n), sim.shape)
        s = np.take_along_axis(sim, part, 1)
        order = np.lexsort((part, -s), axis=1)  # by -sim, then by index
        idx = np.take_along_axis(part, order, 1).astype(np.int64)
        return idx, np.take_along_axis(s, order, 1)

    def rerank(self, query_sift: np.ndarray,
               candidates: Iterable[int]) -> np.ndarray:
        """Order candidates by SIFT good-match count (ties keep the
        descriptor order).

        Args:
            query_sift (np.ndarray): (n, 128) SIFT of the query
            candidates (Iterable[int]): pool indices, best first

        Returns:
            np.ndarray: the candidates re-ordered, int64
        """
        if self.sift_desc is None:
            raise ValueError('this index has no SIFT descriptors to '
                             're-rank with')
        cand = np.asarray(list(candidates), np.int64)
        scores = match_scores(query_sift, self.sift_desc[cand],
                              self.sift_counts[cand], self.ratio)
        order = np.argsort(-scores, kind='stable')
        return cand[order]

    def search(self,
               q: np.ndarray,
               k: int = 1,
               query_sift: Optional[list] = None,
               rerank_k: int = 0) -> np.ndarray:
        """Top-k pool indices per query, re-ranked by SIFT among the
        ``rerank_k`` descriptor candidates when ``rerank_k > k``.

        Args:
            q (np.ndarray): (B, D)
            k (int): results per query
            query_sift (list, optional): B arrays (n_b, 128), for re-ranking
            rerank_k (int): candidates re-ranked (0: no re-ranking)

        Returns:
            np.ndarray: (B, k) int64
        """
        if rerank_k and rerank_k > k:
            if query_sift is None:
                raise ValueError('rerank_k needs query_sift')
            cand, _ = self.query(q, rerank_k)
            return np.stack([
                self.rerank(s, c)[:k] for s, c in zip(query_sift, cand)
            ])
        return self.query(q, k)[0]

    # ------------------------------------------------------------ io
    def save(self, path: str) -> str:
        """Write an npz (temp file + ``os.replace``)."""
        arrays = dict(
            version=np.array(INDEX_VERSION),
            descriptors=self.descriptors,
            ratio=np.array(self.ratio, np.float32),
            meta_keys=np.array(sorted(self.meta), dtype=str),
            meta_values=np.array([str(self.meta[k]) for k in sorted(
                self.meta)], dtype=str))
        if self.sift_desc is not None:
            arrays.update(sift_desc=self.sift_desc,
                          sift_counts=self.sift_counts)
        atomic_savez(path, **arrays)
        return path

    @classmethod
    def load(cls, path: str) -> 'FaceRetrievalIndex':
        with np.load(path) as f:
            version = str(f['version'])
            if version != INDEX_VERSION:
                raise ValueError(f'{path!r} is a {version!r} index, '
                                 f'expected {INDEX_VERSION!r}')
            meta = dict(zip(f['meta_keys'].tolist(),
                            f['meta_values'].tolist()))
            return cls(
                f['descriptors'],
                f['sift_desc'] if 'sift_desc' in f.files else None,
                f['sift_counts'] if 'sift_counts' in f.files else None,
                ratio=float(f['ratio']),
                meta=meta,
                normalized=True)


def pool_hash(pool_images: np.ndarray) -> str:
    """Hash of a pool's images (to check an index belongs to a pool)."""
    return hashlib.sha1(np.ascontiguousarray(pool_images)).hexdigest()[:16]


def index_path_for_checkpoint(checkpoint: str) -> str:
    """Where the index of a checkpoint's pool lives: beside it."""
    root, _ = osp.splitext(checkpoint)
    return root + '.retrieval.npz'


def build_model_pool_index(model,
                           checkpoint: Optional[str] = None,
                           with_sift: bool = True,
                           progress: bool = True) -> FaceRetrievalIndex:
    """Index of an estimator's built-in pool: its global descriptors and
    (optionally) SIFT of its 128x128 pool images; saved beside
    ``checkpoint`` when given, reused when the pool hash matches.
    """
    import cv2
    from rht_mmpose.datasets.sift_similarity import sift_descriptors
    images = model.reference_pool.images.permute(0, 2, 3, 1).cpu().numpy()
    key = pool_hash(images)
    path = index_path_for_checkpoint(checkpoint) if checkpoint else None
    if path and osp.isfile(path):
        index = FaceRetrievalIndex.load(path)
        if index.meta.get('pool_hash') == key:
            return index
    desc = model_pool_descriptors(model, progress=progress)
    sift_desc = sift_counts = None
    if with_sift:
        sift_desc = np.zeros((len(images), 128, 128), np.uint8)
        sift_counts = np.zeros(len(images), np.int32)
        for i, img in enumerate(images):
            d = sift_descriptors(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
            sift_desc[i, :len(d)] = d
            sift_counts[i] = len(d)
    index = FaceRetrievalIndex(
        desc, sift_desc, sift_counts,
        meta=dict(kind='model', pool_hash=key,
                  checkpoint=checkpoint or ''))
    if path:
        index.save(path)
    return index

"""Landmark + boundary heatmap codec (RHT / LAB targets)."""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmpose.codecs.base import BaseKeypointCodec
from mmpose.codecs.utils import (generate_gaussian_heatmaps,
                                 get_heatmap_maximum, refine_keypoints)
from mmpose.registry import KEYPOINT_CODECS
from torch import Tensor

from .dark_refinement import refine_keypoints_dark_bounded
from .face_schemes import (BOUNDARY_TABLES, channel_count, get_boundaries,
                           get_boundary_names, scheme_from_num_keypoints)
from .face_schemes import boundary_flip_indices as _boundary_flip_indices
from .face_schemes import \
    flip_indices_with_boundaries as _flip_indices_with_boundaries


def catmull_rom_curve(points: np.ndarray,
                      samples_per_pixel: float = 4.0,
                      alpha: float = 0.5,
                      max_samples_per_segment: int = 4096) -> np.ndarray:
    """Sample a centripetal Catmull-Rom spline through ``points``.

    The curve passes through every point; consecutive duplicates are
    dropped; one point gives that point, two points a straight segment.
    The end tangents come from reflecting the second (second-to-last) point
    through the first (last), and every segment gets the same number of
    samples, so the samples are the same when the point order is reversed
    (needed for flip consistency).

    Note:
        - n: number of input points
        - m: number of samples

    Args:
        points (np.ndarray): (n, 2) points in order along the curve.
        samples_per_pixel (float): Samples per pixel of the longest chord
            (4 -> spacing <= ~0.4 px along the curve).
        alpha (float): 0.5 = centripetal (no cusps or self-intersections).
        max_samples_per_segment (int): Cap for far-away points.

    Returns:
        np.ndarray: (m, 2) samples along the curve.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return pts
    keep = np.ones(len(pts), dtype=bool)
    keep[1:] = np.linalg.norm(np.diff(pts, axis=0), axis=1) > 1e-6
    pts = pts[keep]
    if len(pts) == 1:
        return pts
    chords = np.linalg.norm(np.diff(pts, axis=0), axis=1)  # (n-1,)
    n = int(min(max(np.ceil(chords.max() * samples_per_pixel) + 1, 2),
                max_samples_per_segment))
    u = np.linspace(0., 1., n)[None, :, None]  # (1, m, 1)
    if len(pts) == 2:
        return (pts[0] + u[0] * (pts[1] - pts[0])).reshape(-1, 2)
    ext = np.concatenate(
        [2 * pts[:1] - pts[1:2], pts, 2 * pts[-1:] - pts[-2:-1]], axis=0)
    # segments i: p0 = ext[i], p1 = ext[i+1], p2 = ext[i+2], p3 = ext[i+3]
    p0, p1, p2, p3 = (ext[k:len(ext) - 3 + k][:, None] for k in range(4))
    dt = np.maximum(np.linalg.norm(np.diff(ext, axis=0), axis=1),
                    1e-6)**alpha  # (n+1,)
    t0 = np.zeros_like(dt[:-2])[:, None, None]
    t1 = t0 + dt[:-2, None, None]
    t2 = t1 + dt[1:-1, None, None]
    t3 = t2 + dt[2:, None, None]
    t = t1 + u * (t2 - t1)  # (S, m, 1)
    a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
    a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
    a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
    b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
    b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
    c = (t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2  # (S, m, 2)
    c[:, 0], c[:, -1] = p1[:, 0], p2[:, 0]  # exact end points
    return c.reshape(-1, 2)


def render_boundary_heatmap(points: np.ndarray,
                            heatmap_size: Tuple[int, int],
                            sigma: float,
                            out: Optional[np.ndarray] = None) -> np.ndarray:
    """Render one boundary: curve -> binary map -> distance transform.

    LAB style: the curve through ``points`` is rasterised densely (each
    sample rounded to the nearest pixel centre; pixel ``j`` covers
    coordinates ``[j - 0.5, j + 0.5)``), the Euclidean distance ``d`` of
    every pixel to the nearest curve pixel is computed (exact, OpenCV
    ``DIST_MASK_PRECISE``), and the value is ``exp(-d^2 / (2 sigma^2))``
    for ``d <= 3 sigma`` and 0 beyond. Curve pixels have value 1. Curve
    parts up to ``3 sigma + 1`` outside the map still light the pixels
    near the edge. Only the window around the curve is transformed.

    Args:
        points (np.ndarray): (n, 2) points in heatmap coordinates.
        heatmap_size (tuple): [W, H].
        sigma (float): Boundary sigma in heatmap pixels.
        out (np.ndarray, optional): (H, W) float32 zeros to draw into.

    Returns:
        np.ndarray: (H, W) float32 map; all zeros if the curve is outside.
    """
    W, H = heatmap_size
    pad = int(np.ceil(3 * sigma)) + 1
    heatmap = np.zeros((H, W), np.float32) if out is None else out
    ij = np.floor(catmull_rom_curve(points) + 0.5).astype(np.int64)
    inside = ((ij[:, 0] >= -pad) & (ij[:, 0] < W + pad) & (ij[:, 1] >= -pad)
              & (ij[:, 1] < H + pad))
    if not inside.any():
        return heatmap
    ij = ij[inside]
    # window: curve box + pad on each side, clipped to the map + pad
    x0, y0 = ij.min(0) - pad
    x1, y1 = ij.max(0) + pad + 1
    canvas = np.ones((y1 - y0, x1 - x0), dtype=np.uint8)
    canvas[ij[:, 1] - y0, ij[:, 0] - x0] = 0
    dist = cv2.distanceTransform(canvas, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    # paste the part of the window that lies on the map
    hx0, hy0 = max(x0, 0), max(y0, 0)
    hx1, hy1 = min(x1, W), min(y1, H)
    if hx0 >= hx1 or hy0 >= hy1:
        return heatmap
    d = dist[hy0 - y0:hy1 - y0, hx0 - x0:hx1 - x0]
    heatmap[hy0:hy1, hx0:hx1] = np.where(
        d <= 3 * sigma, np.exp(-d**2 / (2 * sigma**2)), 0.)
    return heatmap


def separable_unbiased_gaussians(heatmap_size: Tuple[int, int],
                                 keypoints: np.ndarray,
                                 keypoints_visible: np.ndarray,
                                 sigma: float) -> Tuple[np.ndarray,
                                                        np.ndarray]:
    """Same maps and weights as MMPose's
    ``generate_unbiased_gaussian_heatmaps`` (DARK: Gaussian at the exact
    sub-pixel position, over the whole map), computed as an outer product
    of two 1-D Gaussians (equal up to float rounding, ~10x faster).

    Args:
        heatmap_size (tuple): [W, H].
        keypoints (np.ndarray): (1, K, 2) in heatmap coordinates.
        keypoints_visible (np.ndarray): (1, K).
        sigma (float): Sigma in heatmap pixels.

    Returns:
        tuple: (K, H, W) float32 heatmaps, (1, K) float32 weights.
    """
    W, H = heatmap_size
    mu = keypoints[0].astype(np.float32)  # (K, 2)
    weights = keypoints_visible.astype(np.float32).copy()  # (1, K)
    radius = sigma * 3
    off = ((mu[:, 0] - radius >= W) | (mu[:, 1] - radius >= H) |
           (mu[:, 0] + radius + 1 < 0) | (mu[:, 1] + radius + 1 < 0))
    keep = (weights[0] >= 0.5) & ~off
    weights[0, off & (weights[0] >= 0.5)] = 0
    x = np.arange(W, dtype=np.float32)
    y = np.arange(H, dtype=np.float32)  # float32 maps, like MMPose
    gx = np.exp(-(x[None] - mu[:, :1])**2 / (2 * sigma**2))  # (K, W)
    gy = np.exp(-(y[None] - mu[:, 1:])**2 / (2 * sigma**2))  # (K, H)
    gy[~keep] = 0
    heatmaps = gy[:, :, None] * gx[:, None, :]  # (K, H, W)
    return heatmaps, weights


def centroids_above_threshold(heatmaps: Tensor,
                              threshold: float) -> Tuple[Tensor, Tensor]:
    """Centroid of each heatmap's part above ``threshold`` of its maximum;
    differentiable, so the coordinate loss of :class:`RHTHead` trains the
    very decoding the codec applies.

    Args:
        heatmaps (Tensor): (..., H, W)
        threshold (float): fraction t in [0, 1); the weights are
            ``max(h - t * max(h), 0)`` (all zero when ``max(h) <= 0``)

    Returns:
        tuple: centroids (..., 2) (x, y) in heatmap pixels, 0 where the
        weights are all zero, and the weights' sums (...)
    """
    h, w = heatmaps.shape[-2:]
    peaks = heatmaps.flatten(-2).amax(-1)  # (...)
    weights = (heatmaps - threshold * peaks[..., None, None]).clamp(min=0)
    total = weights.sum(dim=(-2, -1))  # (...)
    xs = torch.arange(w, dtype=heatmaps.dtype, device=heatmaps.device)
    ys = torch.arange(h, dtype=heatmaps.dtype, device=heatmaps.device)
    centroids = torch.stack([(weights.sum(-2) * xs).sum(-1),
                             (weights.sum(-1) * ys).sum(-1)], dim=-1)
    return centroids / total.clamp(min=1e-12)[..., None], total


def heatmap_centroids(heatmaps: np.ndarray, threshold: float,
                      fallback: np.ndarray) -> np.ndarray:
    """:func:`centroids_above_threshold` of numpy heatmaps.

    Args:
        heatmaps (np.ndarray): (K, H, W)
        threshold (float): fraction t in [0, 1)
        fallback (np.ndarray): (K, 2) locations kept for channels with no
            positive weight (a maximum <= 0)

    Returns:
        np.ndarray: (K, 2) float32 (x, y) in heatmap pixels
    """
    centroids, total = centroids_above_threshold(
        torch.from_numpy(np.ascontiguousarray(heatmaps, np.float32)),
        threshold)
    centroids = centroids.numpy()
    empty = total.numpy() <= 0
    centroids[empty] = fallback[empty]
    return centroids


@KEYPOINT_CODECS.register_module()
class LandmarkBoundaryHeatmap(BaseKeypointCodec):
    """Landmark Gaussian heatmaps followed by LAB boundary heatmaps.

    What differs from :class:`mmpose.codecs.MSRAHeatmap`: ``encode`` appends
    P boundary heatmaps (one per facial boundary of the keypoint scheme, see
    :mod:`rht_mmpose.codecs.face_schemes`) after the K landmark heatmaps;
    ``decode`` reads only the first K channels, with MSRA's decoding
    (``get_heatmap_maximum`` + ``refine_keypoints``, or DARK's sub-pixel
    step when ``unbiased``, taken only at a local maximum and at most one
    pixel long: :func:`refine_keypoints_dark_bounded`).

    A boundary whose points include an invisible (or non-finite) landmark is
    left all zeros. Boundary heatmaps carry no weight of their own; points
    outside the map are fine (the part of the curve inside is drawn).

    Note:
        - instance number: N (must be 1)
        - landmark number: K
        - boundary number: P
        - keypoint dimension: D (2)
        - image size: [w, h]
        - heatmap size: [W, H]

    Args:
        input_size (tuple): Image size [w, h]. Defaults to (256, 256).
        heatmap_size (tuple): Heatmap size [W, H]. Defaults to (128, 128).
        sigma (float): Landmark Gaussian sigma in heatmap pixels.
            Defaults to 1.5.
        boundary_sigma (float): Boundary sigma in heatmap pixels.
            Defaults to 1.0.
        boundary_scheme (str, optional): ``'300w'`` (68), ``'wflw'`` (98),
            ``'cofw'`` (29) or ``'aflw'`` (19). ``None`` picks the scheme by
            the keypoint count at the first ``encode`` (or ``decode``).
        unbiased (bool): DARK encoding/decoding. Defaults to False.
        blur_kernel_size (int): DARK modulation kernel. Defaults to 11.
        centroid_threshold (float, optional): decode each landmark as the
            centroid of ``max(h - t * max(h), 0)`` instead of the argmax
            (+ DARK), with t this fraction (see :func:`heatmap_centroids`).
            Undertrained models hedge between neighbouring semi-landmarks
            (nose ridge, jaw) with elongated ridges whose argmax is the
            same pixel for several landmarks; the centroid follows each
            ridge. Defaults to None (argmax)
    """

    label_mapping_table = dict(keypoint_weights='keypoint_weights', )
    field_mapping_table = dict(heatmaps='heatmaps', )

    def __init__(self,
                 input_size: Tuple[int, int] = (256, 256),
                 heatmap_size: Tuple[int, int] = (128, 128),
                 sigma: float = 1.5,
                 boundary_sigma: float = 1.0,
                 boundary_scheme: Optional[str] = None,
                 unbiased: bool = False,
                 blur_kernel_size: int = 11,
                 centroid_threshold: Optional[float] = None) -> None:
        super().__init__()
        if centroid_threshold is not None and not 0 <= centroid_threshold \
                < 1:
            raise ValueError(f'centroid_threshold is {centroid_threshold}, '
                             'expected None or a fraction in [0, 1)')
        self.centroid_threshold = centroid_threshold
        if boundary_scheme is not None and boundary_scheme not in \
                BOUNDARY_TABLES:
            raise ValueError(
                f'unknown boundary_scheme {boundary_scheme!r}, expected one '
                f'of {sorted(BOUNDARY_TABLES)} or None')
        if sigma <= 0 or boundary_sigma <= 0:
            raise ValueError(f'sigma {sigma} and boundary_sigma '
                             f'{boundary_sigma} must be positive')
        self.input_size = tuple(input_size)
        self.heatmap_size = tuple(heatmap_size)
        self.sigma = sigma
        self.boundary_sigma = boundary_sigma
        self.unbiased = unbiased
        self.blur_kernel_size = blur_kernel_size
        self.scale_factor = (np.array(input_size) /
                             heatmap_size).astype(np.float32)
        self.boundary_scheme = boundary_scheme

    # ------------------------------------------------------------ scheme
    @property
    def num_keypoints(self) -> Optional[int]:
        """K, or None while the scheme is not known yet."""
        if self.boundary_scheme is None:
            return None
        return channel_count(self.boundary_scheme)[0]

    @property
    def num_boundaries(self) -> Optional[int]:
        """P, or None while the scheme is not known yet."""
        if self.boundary_scheme is None:
            return None
        return channel_count(self.boundary_scheme)[1]

    @property
    def boundaries(self) -> List[List[int]]:
        """Landmark indices of each of the P boundaries."""
        return get_boundaries(self._require_scheme())

    @property
    def boundary_names(self) -> List[str]:
        """Names of the P boundaries."""
        return get_boundary_names(self._require_scheme())

    @property
    def boundary_flip_indices(self) -> List[int]:
        """P ints: the boundary each boundary becomes after a flip."""
        return _boundary_flip_indices(self._require_scheme())

    def flip_indices_with_boundaries(
            self, landmark_flip_indices: Sequence[int]) -> List[int]:
        """K+P channel indices for flipping a (K+P, H, W) stack.

        Args:
            landmark_flip_indices (Sequence[int]): K landmark flip indices
                (metainfo ``flip_indices``).

        Returns:
            list[int]: K + P indices.
        """
        if self.boundary_scheme is None:
            self._set_scheme(len(landmark_flip_indices))
        return _flip_indices_with_boundaries(self.boundary_scheme,
                                             landmark_flip_indices)

    def _require_scheme(self) -> str:
        if self.boundary_scheme is None:
            raise ValueError(
                'boundary_scheme is not known yet: set it in the codec '
                'config or encode one sample first')
        return self.boundary_scheme

    def _set_scheme(self, num_keypoints: int) -> None:
        self.boundary_scheme = scheme_from_num_keypoints(num_keypoints)

    # ------------------------------------------------------------ encode
    def encode(self,
               keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None) -> dict:
        """Encode keypoints into landmark and boundary heatmaps.

        Args:
            keypoints (np.ndarray): (N, K, D) in input-image pixels, N = 1.
            keypoints_visible (np.ndarray, optional): (N, K).

        Returns:
            dict:
            - heatmaps (np.ndarray): (K+P, H, W) float32.
            - keypoint_weights (np.ndarray): (N, K) float32, 0 for invisible
              landmarks and for landmarks whose Gaussian misses the map.
        """
        keypoints = np.asarray(keypoints, dtype=np.float32)
        if keypoints.ndim != 3 or keypoints.shape[0] != 1:
            raise ValueError(
                f'{self.__class__.__name__} encodes one instance: keypoints '
                f'of shape {keypoints.shape}, expected (1, K, 2)')
        N, K = keypoints.shape[:2]
        if self.boundary_scheme is None:
            self._set_scheme(K)
        elif K != self.num_keypoints:
            raise ValueError(
                f'got {K} keypoints, expected {self.num_keypoints} for '
                f'boundary scheme {self.boundary_scheme!r}')
        if keypoints_visible is None:
            keypoints_visible = np.ones((N, K), dtype=np.float32)
        keypoints_visible = np.asarray(keypoints_visible, dtype=np.float32)
        if keypoints_visible.ndim == 3:  # (N, K, 2): visibility, weight
            keypoints_visible = keypoints_visible[..., 0]

        kpts = keypoints[..., :2] / self.scale_factor  # heatmap coordinates
        finite = np.isfinite(kpts).all(axis=-1)
        visible = keypoints_visible * finite
        kpts = np.where(finite[..., None], kpts, -1e6)

        W, H = self.heatmap_size
        boundaries = self.boundaries
        heatmaps = np.zeros((K + len(boundaries), H, W), dtype=np.float32)
        generate = (separable_unbiased_gaussians
                    if self.unbiased else generate_gaussian_heatmaps)
        landmark_heatmaps, keypoint_weights = generate(
            heatmap_size=self.heatmap_size,
            keypoints=kpts,
            keypoints_visible=visible,
            sigma=self.sigma)
        heatmaps[:K] = landmark_heatmaps

        for p, idx in enumerate(boundaries):
            if (visible[0, idx] < 0.5).any():
                continue
            render_boundary_heatmap(
                kpts[0, idx],
                self.heatmap_size,
                self.boundary_sigma,
                out=heatmaps[K + p])

        return dict(
            heatmaps=heatmaps,
            keypoint_weights=keypoint_weights.astype(np.float32))

    # ------------------------------------------------------------ decode
    def decode(self, encoded: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Decode landmarks from the first K channels.

        Args:
            encoded (np.ndarray): (K+P, H, W) or (K, H, W) heatmaps.

        Returns:
            tuple:
            - keypoints (np.ndarray): (1, K, 2) in input-image pixels.
            - scores (np.ndarray): (1, K) heatmap maxima.
        """
        C = encoded.shape[0]
        if self.boundary_scheme is None:
            for scheme in BOUNDARY_TABLES:
                k, p = channel_count(scheme)
                if C in (k, k + p):
                    self.boundary_scheme = scheme
                    break
            else:
                raise ValueError(
                    f'cannot infer the boundary scheme from {C} heatmap '
                    f'channels; set boundary_scheme')
        K, P = self.num_keypoints, self.num_boundaries
        if C not in (K, K + P):
            raise ValueError(f'heatmaps have {C} channels, expected {K} or '
                             f'{K + P} (K + P) for scheme '
                             f'{self.boundary_scheme!r}')
        heatmaps = np.array(encoded[:K], dtype=np.float32, copy=True)

        keypoints, scores = get_heatmap_maximum(heatmaps)
        keypoints, scores = keypoints[None], scores[None]
        if self.centroid_threshold is not None:
            keypoints = heatmap_centroids(heatmaps, self.centroid_threshold,
                                          keypoints[0])[None]
        elif self.unbiased:
            with np.errstate(divide='ignore', invalid='ignore'):
                # an all-zero channel (no landmark) divides 0 by 0 in
                # MMPose's modulation; its location stays the argmax
                keypoints = refine_keypoints_dark_bounded(
                    keypoints,
                    heatmaps,
                    blur_kernel_size=self.blur_kernel_size)
        else:
            keypoints = refine_keypoints(keypoints, heatmaps)
        keypoints = keypoints * self.scale_factor
        return keypoints, scores

"""Drawing face landmark results with OpenCV: dots and lines sized to each
face, boundary curves, the box; optional panels, side by side, with the
predicted heatmaps and the reference faces an RHT model used.

Note:
    - N: number of faces
    - K: number of landmarks
    - C: heatmap channels (K, or K + P with P boundaries)
"""
from typing import List, Optional, Sequence

import cv2
import numpy as np

from rht_mmpose.utils.face_geometry import landmark_box

_BOUNDARY_COLORS = [(255, 140, 0), (0, 200, 255), (0, 255, 120),
                    (255, 80, 200), (255, 255, 0), (160, 120, 255)]  # RGB


def boundary_polylines(keypoints: np.ndarray,
                       boundaries: Sequence[Sequence[int]],
                       smooth: bool = True) -> List[np.ndarray]:
    """Curves through the landmarks of every boundary of one face.

    Args:
        keypoints (np.ndarray): (K, 2) landmarks.
        boundaries (Sequence[Sequence[int]]): P lists of landmark indices.
        smooth (bool): Sample a Catmull-Rom spline through the points (the
            codec's curve) instead of straight segments.

    Returns:
        list[np.ndarray]: P arrays (m, 2) of points along the curves.
    """
    from rht_mmpose.codecs.landmark_boundary_heatmap import \
        catmull_rom_curve
    out = []
    for idx in boundaries:
        pts = np.asarray(keypoints, dtype=np.float64)[list(idx)]
        if smooth and len(pts) > 2:
            pts = catmull_rom_curve(pts, samples_per_pixel=0.5)
        out.append(pts)
    return out


def face_size(keypoints: np.ndarray) -> float:
    """Size of a face in pixels: the diagonal of its landmark box."""
    box = landmark_box(np.reshape(keypoints, (-1, 2)))
    return float(np.linalg.norm(box[2:] - box[:2]))


def mark_sizes(size: float, radius_per_100px: float = 1.0,
               width_per_100px: float = 0.7):
    """Landmark radius and line width (pixels, >= 1) for a face ``size``
    pixels across: a 100 px face gets radius 1, a 400 px face radius 4."""
    radius = max(1, int(round(size / 100 * radius_per_100px)))
    width = max(1, int(round(size / 100 * width_per_100px)))
    return radius, width


def _fit_height(img: np.ndarray, height: int) -> np.ndarray:
    h, w = img.shape[:2]
    if h == height:
        return img
    width = max(1, int(round(w * height / h)))
    interp = cv2.INTER_AREA if height < h else cv2.INTER_LINEAR
    return cv2.resize(img, (width, height), interpolation=interp)


def _heatmap_overlay(heatmaps: np.ndarray, img: np.ndarray,
                     alpha: float = 0.5) -> np.ndarray:
    """Max over channels, JET colour map, blended over the image (BGR)."""
    hm = np.asarray(heatmaps, dtype=np.float32)
    hm = hm.max(axis=0) if hm.ndim == 3 else hm
    hm = np.clip(cv2.resize(hm, (img.shape[1], img.shape[0])), 0, None)
    hm = hm / hm.max() if hm.max() > 0 else hm
    color = cv2.applyColorMap((hm * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.addWeighted(img, 1 - alpha, color, alpha, 0)


def _caption(img: np.ndarray, text: str) -> np.ndarray:
    img = img.copy()
    scale = max(0.4, img.shape[0] / 500)
    th = max(1, int(round(scale * 2)))
    cv2.putText(img, text, (5, int(22 * scale) + 4), cv2.FONT_HERSHEY_SIMPLEX,
                scale, (0, 0, 0), th + 2, cv2.LINE_AA)
    cv2.putText(img, text, (5, int(22 * scale) + 4), cv2.FONT_HERSHEY_SIMPLEX,
                scale, (255, 255, 255), th, cv2.LINE_AA)
    return img


class FaceResultDrawer:
    """Draws the faces of :class:`FaceLandmarker` (dicts with ``box``,
    ``keypoints`` (K, 2), ``keypoint_scores`` (K,), optionally
    ``heatmap`` (H, W) and ``reference_index``).

    Args:
        boundaries (Sequence[Sequence[int]], optional): Landmark indices of
            every boundary (the codec's boundary table); None: no curves.
        radius (int): Landmark radius of a 200-pixel face; others scale
            with their size (:func:`mark_sizes`).
        line_width (int): Line width of a 140-pixel face; scales the same
            way.
        kpt_thr (float): Landmarks with a lower score are not drawn.
    """

    def __init__(self,
                 boundaries: Optional[Sequence[Sequence[int]]] = None,
                 radius: int = 2,
                 line_width: int = 1,
                 kpt_thr: float = 0.0):
        self.boundaries = [list(b) for b in boundaries] if boundaries \
            else None
        self.radius = radius
        self.line_width = line_width
        self.kpt_thr = kpt_thr

    @classmethod
    def for_keypoints(cls, dataset_meta: dict, contours: bool = True,
                      **kwargs) -> 'FaceResultDrawer':
        """A drawer with the boundary table of the keypoint scheme of
        ``dataset_meta`` (none with ``contours=False``, or when no layout
        fits, e.g. LaPa's 106 points: ``boundaries`` is None then)."""
        from rht_mmpose.codecs.face_schemes import (
            boundary_scheme_from_metainfo, get_boundaries)
        try:
            scheme = boundary_scheme_from_metainfo(dataset_meta or {})
        except ValueError:
            scheme = None
        return cls(get_boundaries(scheme) if scheme and contours else None,
                   **kwargs)

    def draw(self,
             img_bgr: np.ndarray,
             faces: List[dict],
             contours: bool = True,
             draw_box: bool = True,
             heatmaps: bool = False,
             references: Optional[List[Optional[dict]]] = None
             ) -> np.ndarray:
        """Draw the faces of one image.

        Args:
            img_bgr (np.ndarray): (H, W, 3) uint8 BGR.
            faces (list[dict]): N faces.
            contours (bool): Draw the boundaries as lines (needs
                ``boundaries``).
            draw_box (bool): Draw each face's box.
            heatmaps (bool): Add a panel of the faces' ``heatmap``.
            references (list[dict], optional): The references used (from
                ``get_reference_used``), one per face or None entries;
                adds a panel.

        Returns:
            np.ndarray: (H, W', 3) uint8 BGR, a new image; W' > W with
            panels.
        """
        out = np.ascontiguousarray(img_bgr).copy()
        for face in faces:
            kp = np.asarray(face['keypoints'], np.float64)
            sc = np.asarray(face.get('keypoint_scores', np.ones(len(kp))))
            radius, width = mark_sizes(face_size(kp), self.radius / 2,
                                       self.line_width * 0.7)
            if draw_box and face.get('box') is not None:
                x1, y1, x2, y2 = (int(round(v)) for v in face['box'][:4])
                cv2.rectangle(out, (x1, y1), (x2, y2), (0, 255, 0), width,
                              cv2.LINE_AA)
            if contours and self.boundaries:
                for b, pts in enumerate(boundary_polylines(
                        kp, self.boundaries)):
                    r, g, bl = _BOUNDARY_COLORS[b % len(_BOUNDARY_COLORS)]
                    cv2.polylines(out, [np.round(pts).astype(np.int32)],
                                  False, (bl, g, r), width, cv2.LINE_AA)
            for (x, y), score in zip(kp, sc):
                if score < self.kpt_thr:
                    continue
                cv2.circle(out, (int(round(x)), int(round(y))), radius,
                           (255, 255, 255), -1, cv2.LINE_AA)
        h = out.shape[0]
        panels = [out]
        if heatmaps:
            merged = np.max([f['heatmap'] for f in faces], axis=0) if faces \
                else np.zeros(img_bgr.shape[:2], np.float32)
            panels.append(_caption(_heatmap_overlay(merged, img_bgr),
                                   'heatmaps'))
        if references is not None:
            panels.append(self._reference_panel(references, h))
        return np.concatenate([_fit_height(p, h) for p in panels], axis=1)

    @staticmethod
    def _reference_panel(references: List[Optional[dict]],
                         height: int) -> np.ndarray:
        """Unique references stacked vertically (at most 4), captioned."""
        tiles, seen = [], set()
        for face, ref in enumerate(references):
            if ref is None or tuple(ref['index']) in seen:
                continue
            seen.add(tuple(ref['index']))
            size = max(128, height // max(1, min(4, len(references))))
            tile = _heatmap_overlay(
                ref['heatmaps'], cv2.resize(np.ascontiguousarray(
                    ref['image']), (size, size)), alpha=0.4)
            label = ','.join(str(i) for i in ref['index'])
            tiles.append(_caption(tile, f'face {face}: ref {label}'))
            if len(tiles) == 4:
                break
        if not tiles:
            tiles = [_caption(np.zeros((128, 128, 3), np.uint8),
                              'no reference')]
        col = np.concatenate(tiles, axis=0)
        if col.shape[0] > height:
            col = _fit_height(col, height)
        pad = np.zeros((height - col.shape[0], col.shape[1], 3), np.uint8)
        return np.concatenate([col, pad], axis=0)

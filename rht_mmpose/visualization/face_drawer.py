"""Draw face landmark results with mmpose's ``PoseLocalVisualizer``.

Panels, side by side: the image with boxes, boundary curves and landmarks;
optionally the predicted heatmaps over the image; optionally the reference
faces an RHT model used, with their heatmaps.

Note:
    - N: number of faces
    - K: number of landmarks
    - C: heatmap channels (K, or K + P with P boundaries)
"""
import itertools
from typing import List, Optional, Sequence

import cv2
import numpy as np

_BOUNDARY_COLORS = [(255, 140, 0), (0, 200, 255), (0, 255, 120),
                    (255, 80, 200), (255, 255, 0), (160, 120, 255)]
_counter = itertools.count()


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
    curve_fn = None
    if smooth:
        try:
            from rht_mmpose.codecs.landmark_boundary_heatmap import \
                catmull_rom_curve as curve_fn
        except ImportError:  # pragma: no cover
            curve_fn = None
    out = []
    for idx in boundaries:
        pts = np.asarray(keypoints, dtype=np.float64)[list(idx)]
        if curve_fn is not None and len(pts) > 2:
            pts = curve_fn(pts, samples_per_pixel=0.5)
        out.append(pts)
    return out


def face_size(keypoints: np.ndarray) -> float:
    """Size of a face in pixels: the diagonal of its landmark box."""
    kp = np.asarray(keypoints, np.float64).reshape(-1, 2)
    return float(np.linalg.norm(kp.max(0) - kp.min(0)))


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


def _heatmap_overlay(heatmaps: np.ndarray, img_rgb: np.ndarray,
                     alpha: float = 0.5) -> np.ndarray:
    """Max over channels, JET colour map, blended over the image (RGB)."""
    hm = np.asarray(heatmaps, dtype=np.float32)
    hm = hm.max(axis=0) if hm.ndim == 3 else hm
    hm = cv2.resize(hm, (img_rgb.shape[1], img_rgb.shape[0]),
                    interpolation=cv2.INTER_LINEAR)
    hm = np.clip(hm, 0, None)
    hm = hm / hm.max() if hm.max() > 0 else hm
    color = cv2.applyColorMap((hm * 255).astype(np.uint8), cv2.COLORMAP_JET)
    color = cv2.cvtColor(color, cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(img_rgb, 1 - alpha, color, alpha, 0)


def _caption(img: np.ndarray, text: str) -> np.ndarray:
    img = img.copy()
    scale = max(0.4, img.shape[0] / 500)
    th = max(1, int(round(scale * 2)))
    cv2.putText(img, text, (5, int(22 * scale) + 4), cv2.FONT_HERSHEY_SIMPLEX,
                scale, (0, 0, 0), th + 2, cv2.LINE_AA)
    cv2.putText(img, text, (5, int(22 * scale) + 4), cv2.FONT_HERSHEY_SIMPLEX,
                scale, (255, 255, 255), th, cv2.LINE_AA)
    return img


def merge_face_samples(samples: list, with_heatmaps: bool = False):
    """Merge the faces of one image like mmpose's ``merge_data_samples``,
    but cheaply: heatmaps are reduced to their channel maximum in crop
    space before being warped to the image (mmpose warps all C channels of
    every face to full image size first).

    Args:
        samples (list[PoseDataSample]): N faces of one image.
        with_heatmaps (bool): Also merge ``pred_fields.heatmaps``.

    Returns:
        tuple: the merged ``PoseDataSample`` (instances only) and the
        merged heatmap (H, W) float32 in image pixels, or None.
    """
    import torch
    from mmpose.structures import PoseDataSample, merge_data_samples
    from mmpose.structures.utils import revert_heatmap
    light = []
    for s in samples:
        d = PoseDataSample(metainfo=s.metainfo)
        d.pred_instances = s.pred_instances
        light.append(d)
    merged = merge_data_samples(light)
    if not with_heatmaps or not samples or not all(
            'pred_fields' in s and 'heatmaps' in s.pred_fields
            for s in samples):
        return merged, None
    maps = []
    for s in samples:
        hm = s.pred_fields.heatmaps
        hm = hm.detach().cpu().numpy() if torch.is_tensor(hm) else \
            np.asarray(hm)
        maps.append(
            revert_heatmap(hm.max(axis=0).astype(np.float32),
                           np.asarray(s.input_center),
                           np.asarray(s.input_scale), s.ori_shape))
    return merged, np.max(maps, axis=0)


class FaceResultDrawer:
    """Draws face results of one model with a ``PoseLocalVisualizer``.

    Args:
        dataset_meta (dict): The model's ``dataset_meta`` (keypoint colours).
        boundaries (Sequence[Sequence[int]], optional): Landmark indices of
            every boundary (the codec's boundary table); None: no curves.
        radius (int): Landmark radius of a 200-pixel face; others scale
            with their size (:func:`mark_sizes`).
        line_width (int): Line width of a 140-pixel face; scales the same
            way.
        kpt_thr (float): Landmarks with a lower score are not drawn.
    """

    def __init__(self,
                 dataset_meta: dict,
                 boundaries: Optional[Sequence[Sequence[int]]] = None,
                 radius: int = 2,
                 line_width: int = 1,
                 kpt_thr: float = 0.0):
        from mmpose.visualization import PoseLocalVisualizer
        self.visualizer = PoseLocalVisualizer(
            name=f'rht_face_drawer_{next(_counter)}',
            radius=radius,
            line_width=line_width)
        self.visualizer.set_dataset_meta(dataset_meta)
        self.boundaries = [list(b) for b in boundaries] if boundaries \
            else None
        self.radius = radius
        self.line_width = line_width
        self.kpt_thr = kpt_thr

    def _draw_boundaries(self, img_rgb: np.ndarray,
                         keypoints: np.ndarray, width: int) -> np.ndarray:
        vis = self.visualizer
        vis.set_image(img_rgb)
        for face in keypoints:
            curves = boundary_polylines(face, self.boundaries)
            for b, pts in enumerate(curves):
                color = _BOUNDARY_COLORS[b % len(_BOUNDARY_COLORS)]
                pts = np.round(pts).astype(int)
                for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
                    # one segment per call: mmpose's OpenCV backend draws
                    # a single cv2.line per draw_lines call
                    vis.draw_lines(
                        np.array([x0, x1]), np.array([y0, y1]),
                        colors=color, line_widths=width)
        return vis.get_image()

    def draw_faces(self,
                   img_bgr: np.ndarray,
                   faces: List[dict],
                   contours: bool = True,
                   draw_box: bool = True) -> np.ndarray:
        """Draw faces of :class:`FaceLandmarker` (dicts with ``box``,
        ``keypoints`` (K, 2), ``keypoint_scores`` (K,)) with plain OpenCV:
        dots and lines sized to each face (:func:`mark_sizes`), the
        contours (the boundary table) as lines, the box.

        Args:
            img_bgr (np.ndarray): (H, W, 3) uint8 BGR.
            faces (list[dict]): N faces.
            contours (bool): Draw the boundaries as lines (needs
                ``boundaries``).
            draw_box (bool): Draw each face's box.

        Returns:
            np.ndarray: (H, W, 3) uint8 BGR, a new image.
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
        return out

    def draw(self,
             img_bgr: np.ndarray,
             samples: list,
             show_boundaries: bool = True,
             show_heatmaps: bool = False,
             references: Optional[List[dict]] = None) -> np.ndarray:
        """Draw the faces of one image.

        Args:
            img_bgr (np.ndarray): (H, W, 3) uint8 BGR.
            samples (list[PoseDataSample]): From ``inference_faces`` (with
                ``pred_fields.heatmaps`` for ``show_heatmaps``).
            show_boundaries (bool): Draw boundary curves (needs
                ``boundaries``).
            show_heatmaps (bool): Add a panel of predicted heatmaps.
            references (list[dict], optional): References used (from
                ``get_reference_used``), one per face or None entries; adds
                a panel.

        Returns:
            np.ndarray: (H, W', 3) uint8 BGR; W' > W with extra panels.
        """
        img_rgb = np.ascontiguousarray(img_bgr[:, :, ::-1])
        h, w = img_rgb.shape[:2]
        merged, heatmap = merge_face_samples(samples, show_heatmaps)
        # marks sized to the smallest face, so that none is hidden
        kpts = np.asarray(merged.pred_instances.keypoints)
        size = min((face_size(k) for k in kpts), default=100.)
        radius, width = mark_sizes(size, self.radius / 2,
                                   self.line_width * 0.7)
        self.visualizer.radius = radius
        self.visualizer.line_width = width
        scale = width / max(self.line_width, 1)
        canvas = img_rgb
        if show_boundaries and self.boundaries:
            kpts = np.asarray(merged.pred_instances.keypoints)
            canvas = self._draw_boundaries(
                canvas, kpts, max(1, int(round(self.line_width * scale))))
        self.visualizer.add_datasample(
            'face',
            canvas,
            data_sample=merged,
            draw_gt=False,
            draw_heatmap=False,
            draw_bbox=True,
            show=False,
            kpt_thr=self.kpt_thr)
        panels = [self.visualizer.get_image()]
        if heatmap is not None:
            panels.append(_caption(_heatmap_overlay(heatmap, img_rgb),
                                   'heatmaps'))
        if references is not None:
            panels.append(self._reference_panel(references, h))
        out = np.concatenate([_fit_height(p, h) for p in panels], axis=1)
        return np.ascontiguousarray(out[:, :, ::-1])

    @staticmethod
    def _reference_panel(references: List[Optional[dict]],
                         height: int) -> np.ndarray:
        """Unique references stacked vertically (at most 4), captioned."""
        tiles, seen = [], set()
        for face, ref in enumerate(references):
            if ref is None:
                continue
            key = tuple(ref['index'])
            if key in seen:
                continue
            seen.add(key)
            rgb = np.ascontiguousarray(ref['image'][:, :, ::-1])
            size = max(128, height // max(1, min(4, len(references))))
            rgb = cv2.resize(rgb, (size, size),
                             interpolation=cv2.INTER_LINEAR)
            tile = _heatmap_overlay(ref['heatmaps'], rgb, alpha=0.4)
            label = ','.join(str(i) for i in ref['index'])
            tiles.append(_caption(tile, f'face {face}: ref {label}'))
            if len(tiles) == 4:
                break
        if not tiles:
            tile = np.zeros((128, 128, 3), np.uint8)
            tiles = [_caption(tile, 'no reference')]
        col = np.concatenate(tiles, axis=0)
        if col.shape[0] > height:
            col = _fit_height(col, height)
        pad = np.zeros((height - col.shape[0], col.shape[1], 3), np.uint8)
        return np.concatenate([col, pad], axis=0)

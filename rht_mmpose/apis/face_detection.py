"""Face detectors for the demo and the API: OpenCV's Haar cascade (offline,
ships with opencv-python) or any MMDetection detector.

Both return landmark-style boxes: ``(N, 5)`` float32 ``x1, y1, x2, y2,
score`` in image pixels, sorted by score, after NMS. A landmark-style box is
the tight box of the face's landmarks (brows to chin, cheek to cheek), the box
mmpose's face datasets store and ``GetBBoxCenterScale`` pads by 1.25; the
Haar cascade's box (a square from the forehead to about the chin, wider
than the cheeks) is moved down and shrunk to it.

Note:
    - N: number of faces
"""
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np

from .errors import FaceInputError

# Haar box -> landmark box: medians over the 337 faces that the cascade
# found among the first 150 AFW and 250 HELEN train faces of the shared
# 300-W data (68 points): the tight landmark box is centred 0.145 Haar box
# heights lower (std 0.05) and is 0.86 x 0.83 (std 0.11, 0.12) of its size.
HAAR_CENTER_SHIFT = (0.0, 0.145)
HAAR_SIZE_RATIO = (0.86, 0.83)


def nms_boxes(dets: np.ndarray, iou_thr: float = 0.3) -> np.ndarray:
    """Greedy NMS on ``(N, 5)`` boxes; returns the kept rows, best first."""
    dets = np.asarray(dets, dtype=np.float32).reshape(-1, 5)
    if len(dets) == 0:
        return dets
    from mmpose.evaluation.functional import nms
    keep = nms(dets, iou_thr)
    return dets[np.asarray(keep, dtype=np.int64)]


def expand_haar_boxes(boxes: np.ndarray,
                      img_shape: Optional[Sequence[int]] = None,
                      center_shift: Sequence[float] = HAAR_CENTER_SHIFT,
                      size_ratio: Sequence[float] = HAAR_SIZE_RATIO
                      ) -> np.ndarray:
    """Turn Haar cascade boxes into landmark-style boxes.

    Args:
        boxes (np.ndarray): (N, 4) or (N, 5) ``x1, y1, x2, y2[, score]``.
        img_shape (Sequence[int], optional): (H, W) to clip to.
        center_shift (Sequence[float]): (dx, dy) centre shift in units of
            the box width / height.
        size_ratio (Sequence[float]): (sx, sy) width / height scale.

    Returns:
        np.ndarray: boxes of the same shape.
    """
    out = np.array(boxes, dtype=np.float32, copy=True)
    if out.size == 0:
        return out
    w = out[:, 2] - out[:, 0]
    h = out[:, 3] - out[:, 1]
    cx = (out[:, 0] + out[:, 2]) / 2 + center_shift[0] * w
    cy = (out[:, 1] + out[:, 3]) / 2 + center_shift[1] * h
    w, h = w * size_ratio[0], h * size_ratio[1]
    out[:, 0], out[:, 2] = cx - w / 2, cx + w / 2
    out[:, 1], out[:, 3] = cy - h / 2, cy + h / 2
    if img_shape is not None:
        H, W = img_shape[:2]
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, W - 1)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, H - 1)
    return out


class HaarFaceDetector:
    """Frontal face detector from OpenCV's bundled Haar cascade.

    Args:
        cascade (str, optional): Cascade xml; default
            ``cv2.data.haarcascades + 'haarcascade_frontalface_default.xml'``.
        scale_factor (float): Image pyramid step.
        min_neighbors (int): Detections that must overlap to keep a face.
        min_size (int): Smallest face side in pixels.
        nms_thr (float): IoU threshold of the final NMS.
        score_thr (float): Keep faces whose cascade level weight is above.
            The weight separates faces badly (in t1.jpg a face scores 0.66,
            a hand 4.4), so the default keeps everything.
    """

    def __init__(self,
                 cascade: Optional[str] = None,
                 scale_factor: float = 1.1,
                 min_neighbors: int = 5,
                 min_size: int = 20,
                 nms_thr: float = 0.3,
                 score_thr: float = 0.0):
        if cascade is None:
            cascade = osp.join(cv2.data.haarcascades,
                               'haarcascade_frontalface_default.xml')
        if not osp.isfile(cascade):
            raise FileNotFoundError(f'Haar cascade {cascade!r} not found')
        self.cascade_path = cascade
        self.classifier = cv2.CascadeClassifier(cascade)
        if self.classifier.empty():
            raise FaceInputError(f'could not load Haar cascade {cascade!r}')
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.nms_thr = nms_thr
        self.score_thr = score_thr

    def __call__(self, img: np.ndarray) -> np.ndarray:
        """Detect faces in a BGR uint8 image (H, W, 3).

        Returns:
            np.ndarray: (N, 5) landmark-style boxes with scores.
        """
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 \
            else img
        gray = cv2.equalizeHist(gray)
        rects, _, weights = self.classifier.detectMultiScale3(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
            outputRejectLevels=True)
        if len(rects) == 0:
            return np.zeros((0, 5), dtype=np.float32)
        rects = np.asarray(rects, dtype=np.float32).reshape(-1, 4)
        scores = np.asarray(weights, dtype=np.float32).reshape(-1)
        dets = np.concatenate([
            rects[:, :2], rects[:, :2] + rects[:, 2:], scores[:, None]
        ], axis=1)
        dets = dets[dets[:, 4] >= self.score_thr]
        dets = nms_boxes(dets, self.nms_thr)
        return expand_haar_boxes(dets, img.shape)


class MMDetFaceDetector:
    """A detector built with ``mmdet.apis`` as mmpose's demos do.

    Args:
        config (str): MMDetection config.
        checkpoint (str): Its checkpoint.
        device (str): Torch device.
        cat_id (int): Category id of faces in the detector's classes.
        score_thr (float): Box score threshold.
        nms_thr (float): IoU threshold of the final NMS.
    """

    def __init__(self,
                 config: str,
                 checkpoint: str,
                 device: str = 'cpu',
                 cat_id: int = 0,
                 score_thr: float = 0.3,
                 nms_thr: float = 0.3):
        for what, path in (('detector config', config),
                           ('detector checkpoint', checkpoint)):
            if not osp.isfile(str(path)):
                raise FileNotFoundError(f'{what} {path!r} not found')
        from mmdet.apis import init_detector
        from mmpose.utils import adapt_mmdet_pipeline
        from mmengine.registry import init_default_scope
        try:
            self.model = init_detector(config, checkpoint, device=device)
        finally:
            init_default_scope('mmpose')
        self.model.cfg = adapt_mmdet_pipeline(self.model.cfg)
        self.cat_id = cat_id
        self.score_thr = score_thr
        self.nms_thr = nms_thr

    def __call__(self, img: np.ndarray) -> np.ndarray:
        """Detect faces in a BGR uint8 image; returns (N, 5) boxes."""
        from mmdet.apis import inference_detector
        from mmengine.registry import init_default_scope
        init_default_scope('mmdet')
        try:
            result = inference_detector(self.model, img)
        finally:
            init_default_scope('mmpose')
        pred = result.pred_instances.cpu().numpy()
        dets = np.concatenate(
            [pred.bboxes, pred.scores[:, None]], axis=1).astype(np.float32)
        keep = np.logical_and(pred.labels == self.cat_id,
                              pred.scores > self.score_thr)
        return nms_boxes(dets[keep], self.nms_thr)


def build_face_detector(det_config: Optional[str] = None,
                        det_checkpoint: Optional[str] = None,
                        device: str = 'cpu',
                        **kwargs):
    """Haar cascade when no detector is given, else an mmdet detector."""
    if (det_config is None) != (det_checkpoint is None):
        raise FaceInputError(
            'give both --det-config and --det-checkpoint, or neither (then '
            'the OpenCV Haar cascade is used)')
    if det_config is None:
        return HaarFaceDetector(**kwargs)
    return MMDetFaceDetector(det_config, det_checkpoint, device=device,
                             **kwargs)

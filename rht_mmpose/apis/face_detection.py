"""Face detectors: MTCNN (the default; its 2 MB of weights ship inside
the ``facenet-pytorch`` wheel, offline), OpenCV's Haar cascade or any
MMDetection detector. All return landmark-style boxes (N, 5) float32
``x1, y1, x2, y2, score``, best first, after NMS: the tight box of the
face's landmarks (brows to chin, cheek to cheek), the box mmpose's face
datasets store; Haar's and MTCNN's own boxes are mapped to it by fitted
constants. MTCNN's five points (eyes, nose, mouth corners) give each
face's tilt (:func:`eye_line_angles`). N: faces.
"""
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.model import BaseModel
from mmpose.registry import MODELS

from ..utils.errors import FaceInputError

# Haar box -> landmark box: medians over the 337 faces that the cascade
# found among the first 150 AFW and 250 HELEN train faces of the shared
# 300-W data (68 points): the tight landmark box is centred 0.145 Haar box
# heights lower (std 0.05) and is 0.86 x 0.83 (std 0.11, 0.12) of its size.
# The size is those medians enlarged 1.11x: Haar's boxes scatter twice as
# much as MTCNN's, and cropped as tightly as the bundled model's 1.125
# padding they lose context (validation, 202 faces, NME_io: 0.0368 at the
# medians, 0.0355 enlarged, which is the crop of the training padding,
# 1.25 = 1.125 x 1.11; MTCNN's boxes gain from the tight crop: 0.0319 at
# 1.125, 0.0323 at 1.25).
HAAR_CENTER_SHIFT = (0.0, 0.145)
HAAR_SIZE_RATIO = (0.86 * 1.11, 0.83 * 1.11)
# MTCNN box -> landmark box: medians over 500 training faces of the shared
# 300-W data (afw, helen/trainset, lfpw/trainset spread evenly; MTCNN found
# 499): the landmark box (0-based points) is centred 0.127 MTCNN box
# heights lower (std 0.031) and is 1.037 x 0.771 (std 0.063, 0.060) of its
# size. Printed by
#   python tools/benchmarks/in_the_wild.py --calibrate --num-faces 500
MTCNN_CENTER_SHIFT = (0.0053, 0.1273)
# the smallest face MTCNN's pyramid starts at here (its min_face_size)
MTCNN_PYRAMID_START = 20
MTCNN_SIZE_RATIO = (1.0375, 0.7710)
# MTCNN as an MMDetection detector config: MMPose's inferencer takes it as
# ``det_model`` (offline: the weights are inside the facenet-pytorch wheel)
MTCNN_DET_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'demo',
    'mmdetection_cfg', 'mtcnn_face.py')


def nms_boxes(dets: np.ndarray, iou_thr: float = 0.3) -> np.ndarray:
    """Greedy NMS on ``(N, 5)`` boxes; returns the kept rows, best first."""
    dets = np.asarray(dets, dtype=np.float32).reshape(-1, 5)
    if len(dets) == 0:
        return dets
    from mmpose.evaluation.functional import nms
    keep = nms(dets, iou_thr)
    return dets[np.asarray(keep, dtype=np.int64)]


def map_boxes(boxes: np.ndarray,
              center_shift: Sequence[float],
              size_ratio: Sequence[float],
              img_shape: Optional[Sequence[int]] = None) -> np.ndarray:
    """Boxes (N, 4|5) moved and scaled: the centre by ``center_shift``
    (dx, dy) box widths / heights, the size by ``size_ratio`` (sx, sy),
    clipped to ``img_shape`` (H, W) if given; scores kept."""
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


def fit_box_mapping(detector_boxes: np.ndarray,
                    landmark_boxes: np.ndarray) -> dict:
    """The ``center_shift`` and ``size_ratio`` of :func:`map_boxes` that
    take detector boxes (N, 4+) to the landmark boxes (N, 4) of the same
    faces: per-axis medians, with their spreads ``center_shift_std`` /
    ``size_ratio_std`` and the number of ``faces``."""
    det = np.asarray(detector_boxes, np.float64).reshape(-1, np.shape(
        detector_boxes)[-1])[:, :4]
    lmk = np.asarray(landmark_boxes, np.float64).reshape(-1, 4)
    if len(det) != len(lmk) or len(det) == 0:
        raise ValueError(f'need as many detector boxes as landmark boxes '
                         f'(at least one), got {len(det)} and {len(lmk)}')
    dw, dh = det[:, 2] - det[:, 0], det[:, 3] - det[:, 1]
    if (dw <= 0).any() or (dh <= 0).any():
        raise ValueError('detector boxes must have x2 > x1 and y2 > y1')
    shift = np.stack([
        ((lmk[:, 0] + lmk[:, 2]) - (det[:, 0] + det[:, 2])) / 2 / dw,
        ((lmk[:, 1] + lmk[:, 3]) - (det[:, 1] + det[:, 3])) / 2 / dh
    ], axis=1)  # (N, 2)
    ratio = np.stack([(lmk[:, 2] - lmk[:, 0]) / dw,
                      (lmk[:, 3] - lmk[:, 1]) / dh], axis=1)
    return dict(
        center_shift=tuple(float(v) for v in np.median(shift, axis=0)),
        size_ratio=tuple(float(v) for v in np.median(ratio, axis=0)),
        center_shift_std=tuple(float(v) for v in shift.std(axis=0)),
        size_ratio_std=tuple(float(v) for v in ratio.std(axis=0)),
        faces=len(det))


def eye_line_angles(points: np.ndarray) -> np.ndarray:
    """Tilt (N,) of faces, degrees in (-180, 180], from their points
    (N, >=2, 2), eyes first (MTCNN's five): the angle of the line from the
    left eye (image left) to the right eye, counter-clockwise as seen in
    the image (a right eye higher than the left gives a positive angle)."""
    pts = np.asarray(points, np.float64)
    d = pts[:, 1] - pts[:, 0]
    return np.degrees(np.arctan2(-d[:, 1], d[:, 0])).astype(np.float32)


class MTCNNFaceDetector:
    """MTCNN (Zhang et al. 2016) from ``facenet-pytorch``: three small CNNs
    over an image pyramid, weights inside the wheel (no download).

    Args:
        min_size (int): Smallest face side in pixels looked for; above
            MTCNN's 20-pixel pyramid start the image is downscaled by
            ``20 / min_size`` first (the same pyramid, cheaper crops).
        score_thr (float): Smallest final (O-Net) probability kept. On
            t1.jpg the six faces score >= 0.97, two false boxes 0.86-0.87
            (at ``min_size=20``; none at 40); on the 202 validation faces
            0.88 finds one more face than 0.95 (0.899) and keeps no other
            box (all other boxes >= 0.959).
        thresholds, scale_factor: MTCNN's cascade thresholds, pyramid step
        nms_thr (float): IoU of the final NMS (on the mapped boxes).
        center_shift, size_ratio: MTCNN box -> landmark box (map_boxes)
        device (str): Torch device.
    """

    def __init__(self,
                 min_size: int = 40,
                 score_thr: float = 0.88,
                 thresholds: Sequence[float] = (0.6, 0.7, 0.7),
                 scale_factor: float = 0.709,
                 nms_thr: float = 0.3,
                 center_shift: Sequence[float] = MTCNN_CENTER_SHIFT,
                 size_ratio: Sequence[float] = MTCNN_SIZE_RATIO,
                 device: str = 'cpu'):
        try:
            from facenet_pytorch import MTCNN
        except ImportError as e:
            raise FaceInputError(
                f'the MTCNN face detector needs facenet-pytorch ({e}); '
                f'install it with: pip install --no-deps facenet-pytorch'
                f'==2.6.0 (make install does), or use --detector haar'
            ) from None
        if min_size < 12:
            raise FaceInputError(f'min_size {min_size} is below MTCNN\'s '
                                 f'12-pixel window, expected >= 12')
        if not 0 <= score_thr <= 1:
            raise FaceInputError(f'score_thr {score_thr} must be in [0, 1]')
        self.min_size = int(min_size)
        self.score_thr = float(score_thr)
        self.nms_thr = nms_thr
        self.center_shift = tuple(center_shift)
        self.size_ratio = tuple(size_ratio)
        self.mtcnn = MTCNN(
            min_face_size=min(self.min_size, MTCNN_PYRAMID_START),
            thresholds=list(thresholds), factor=scale_factor, keep_all=True,
            post_process=False, device=device)

    def detect_raw(self, img: np.ndarray):
        """MTCNN's own boxes (N, 5) with probabilities and points (N, 5, 2),
        all it finds (no score threshold), best first."""
        rgb = np.ascontiguousarray(img[:, :, ::-1]) if img.ndim == 3 else \
            cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        scale = min(1., MTCNN_PYRAMID_START / self.min_size)
        if scale < 1:
            h, w = rgb.shape[:2]
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            scale = np.array([size[0] / w, size[1] / h], np.float32)
        with torch.no_grad():
            boxes, probs, points = self.mtcnn.detect(rgb, landmarks=True)
        if boxes is None:
            return (np.zeros((0, 5), np.float32),
                    np.zeros((0, 5, 2), np.float32))
        boxes = np.asarray(boxes, np.float32).reshape(-1, 2, 2) / scale
        points = np.asarray(points, np.float32) / scale
        dets = np.concatenate([boxes.reshape(-1, 4),
                               np.asarray(probs, np.float32)[:, None]], 1)
        order = np.argsort(-dets[:, 4], kind='stable')
        return dets[order], points[order]

    def detect(self, img: np.ndarray):
        """Landmark-style boxes (N, 5) and five points (N, 5, 2) of the
        faces in a BGR uint8 image, best first."""
        dets, points = self.detect_raw(img)
        keep = dets[:, 4] >= self.score_thr
        dets, points = dets[keep], points[keep]
        boxes = map_boxes(dets, self.center_shift, self.size_ratio,
                          img.shape)
        if len(boxes) > 1:
            from mmpose.evaluation.functional import nms
            order = np.asarray(nms(boxes, self.nms_thr), np.int64)
            boxes, points = boxes[order], points[order]
        return boxes, points

    def __call__(self, img: np.ndarray) -> np.ndarray:
        """(N, 5) landmark-style boxes of a BGR uint8 image."""
        return self.detect(img)[0]


@MODELS.register_module()
class MTCNNDetector(BaseModel):
    """:class:`MTCNNFaceDetector` as a model that mmdet's ``DetInferencer``
    and so MMPose's ``MMPoseInferencer`` run (:data:`MTCNN_DET_CONFIG`):
    ``predict`` gives each image's landmark-style boxes, label 0."""

    def __init__(self, data_preprocessor: Optional[dict] = None, **kwargs):
        super().__init__(data_preprocessor)
        self.detector = MTCNNFaceDetector(**kwargs)
        self.mtcnn = self.detector.mtcnn  # a child: moves with .to()

    def forward(self, inputs, data_samples=None, mode: str = 'predict'):
        """``inputs``: (3, H, W) uint8 BGR tensors as ``PackDetInputs``
        packs them; fills each sample's ``pred_instances``."""
        from mmengine.structures import InstanceData
        for img, sample in zip(inputs, data_samples):
            boxes = torch.from_numpy(
                self.detector(img.permute(1, 2, 0).cpu().numpy()))
            sample.pred_instances = InstanceData(
                bboxes=boxes[:, :4], scores=boxes[:, 4],
                labels=torch.zeros(len(boxes), dtype=torch.long))
        return data_samples


class HaarFaceDetector:
    """Frontal face detector from OpenCV's bundled Haar cascade.

    Args:
        cascade (str, optional): Cascade xml (default: OpenCV's frontal
            face cascade).
        scale_factor, min_neighbors, min_size: OpenCV's detection options
        nms_thr (float): IoU of the final NMS.
        score_thr (float): Smallest cascade level weight kept; it separates
            faces badly (in t1.jpg a face 0.66, a hand 4.4): keep all.
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
        self.classifier = cv2.CascadeClassifier(cascade)
        if self.classifier.empty():
            raise FaceInputError(f'could not load Haar cascade {cascade!r}')
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.nms_thr = nms_thr
        self.score_thr = score_thr

    def __call__(self, img: np.ndarray) -> np.ndarray:
        """(N, 5) landmark-style boxes of a BGR uint8 image."""
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 \
            else img
        rects, _, weights = self.classifier.detectMultiScale3(
            cv2.equalizeHist(gray), scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size), outputRejectLevels=True)
        rects = np.asarray(rects, dtype=np.float32).reshape(-1, 4)
        scores = np.asarray(weights, dtype=np.float32).reshape(-1)
        dets = np.concatenate([
            rects[:, :2], rects[:, :2] + rects[:, 2:], scores[:, None]
        ], axis=1)
        dets = dets[dets[:, 4] >= self.score_thr]
        dets = nms_boxes(dets, self.nms_thr)
        return map_boxes(dets, HAAR_CENTER_SHIFT, HAAR_SIZE_RATIO, img.shape)


class MMDetFaceDetector:
    """A detector built with ``mmdet.apis`` as mmpose's demos do.

    ``cat_id`` is the face category of its classes; boxes above
    ``score_thr`` kept, NMS at ``nms_thr``.
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
        keep = (pred.labels == self.cat_id) & (pred.scores > self.score_thr)
        return nms_boxes(dets[keep], self.nms_thr)


DETECTORS = ('mtcnn', 'haar')


def build_face_detector(det_config: Optional[str] = None,
                        det_checkpoint: Optional[str] = None,
                        device: str = 'cpu',
                        detector: str = 'mtcnn',
                        **kwargs):
    """An mmdet detector when a config and checkpoint are given, else
    ``detector``: ``'mtcnn'`` (default) or ``'haar'``."""
    if (det_config is None) != (det_checkpoint is None):
        raise FaceInputError(
            'give both --det-config and --det-checkpoint, or neither (then '
            f'--detector is used, default {DETECTORS[0]})')
    if det_config is None:
        if detector == 'mtcnn':
            return MTCNNFaceDetector(device=device, **kwargs)
        if detector == 'haar':
            return HaarFaceDetector(**kwargs)
        raise FaceInputError(f'detector {detector!r} is not known, expected '
                             f'one of {DETECTORS}')
    return MMDetFaceDetector(det_config, det_checkpoint, device=device,
                             **kwargs)

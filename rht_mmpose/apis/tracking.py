"""Faces followed from frame to frame: the detector runs every N frames (or
when a face is lost), in between each face's box is the landmark box of
its previous landmarks, and the landmarks are smoothed over time with a
One Euro filter (Casiez, Roussel and Vogel, CHI 2012: a low-pass filter
whose cutoff rises with the signal's speed, so still points are smoothed
hard, moving ones little).

Note:
    - N: faces tracked
    - K: landmarks
"""
import math
from typing import Callable, List, Optional

import numpy as np

from ..utils.face_geometry import landmark_box


def smoothing_factor(cutoff: np.ndarray, dt: float) -> np.ndarray:
    """Exponential smoothing weight of a first-order low-pass filter with
    cutoff frequency ``cutoff`` (Hz) sampled every ``dt`` seconds."""
    tau = 1.0 / (2 * math.pi * np.asarray(cutoff, np.float64))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filter a stream of arrays sampled at (possibly uneven) times.

    ``x_hat = a * x + (1 - a) * x_hat_prev`` with ``a`` from the cutoff
    ``min_cutoff + beta * |dx_hat|``, where ``dx_hat`` is the speed
    (units per second) low-passed at ``d_cutoff``.

    Args:
        min_cutoff (float): cutoff in Hz at rest; lower = smoother, more
            lag on slow motion.
        beta (float): cutoff increase per unit of speed (1 / units); higher
            = less lag on fast motion.
        d_cutoff (float): cutoff in Hz of the speed estimate.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05,
                 d_cutoff: float = 1.0):
        for name, v in (('min_cutoff', min_cutoff), ('d_cutoff', d_cutoff)):
            if not v > 0:
                raise ValueError(f'{name} must be > 0 Hz, got {v}')
        if beta < 0:
            raise ValueError(f'beta must be >= 0, got {beta}')
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next sample passes unchanged."""
        self.x_prev: Optional[np.ndarray] = None
        self.dx_prev: Optional[np.ndarray] = None
        self.t_prev: Optional[float] = None

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filter sample ``x`` taken at time ``t`` (seconds)."""
        x = np.asarray(x, np.float64)
        if self.x_prev is None:
            self.x_prev, self.dx_prev, self.t_prev = x, np.zeros_like(x), t
            return x.copy()
        if x.shape != self.x_prev.shape:
            raise ValueError(f'sample of shape {x.shape}, the filter '
                             f'follows {self.x_prev.shape}')
        dt = t - self.t_prev
        if not dt > 0:
            raise ValueError(f'time must increase: got {t} after '
                             f'{self.t_prev}')
        dx = (x - self.x_prev) / dt
        a_d = smoothing_factor(self.d_cutoff, dt)
        dx_hat = a_d * dx + (1 - a_d) * self.dx_prev
        cutoff = self.min_cutoff + self.beta * np.abs(dx_hat)
        a = smoothing_factor(cutoff, dt)
        x_hat = a * x + (1 - a) * self.x_prev
        self.x_prev, self.dx_prev, self.t_prev = x_hat, dx_hat, t
        return x_hat.copy()


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU (N, M) of every box in ``a`` (N, 4+) with every box in ``b``
    (M, 4+), xyxy (mmpose's ``bbox_overlaps``)."""
    import torch
    from mmpose.structures.bbox import bbox_overlaps
    a, b = (torch.as_tensor(np.asarray(x, np.float64).reshape(
        -1, np.shape(x)[-1])[:, :4]) for x in (a, b))
    return bbox_overlaps(a, b).numpy()


class Track:
    """One face followed over frames."""

    def __init__(self, track_id: int, box: np.ndarray, score: float,
                 min_cutoff: float, beta: float):
        self.track_id = track_id
        self.box = np.asarray(box, np.float32)[:4]
        self.score = float(score)
        # landmarks are filtered in units of the face's first box size, so
        # beta does not depend on how large the face is in the image
        self.unit = float(max(self.box[2] - self.box[0],
                              self.box[3] - self.box[1], 1.0))
        self.filter = OneEuroFilter(min_cutoff, beta)
        self.keypoints: Optional[np.ndarray] = None
        self.angle = 0.

    def smooth(self, keypoints: np.ndarray, t: float,
               enabled: bool) -> np.ndarray:
        if not enabled:
            return np.asarray(keypoints, np.float32)
        return (self.filter(np.asarray(keypoints) / self.unit, t)
                * self.unit).astype(np.float32)


class FaceTracker:
    """Detect every ``detect_every`` frames or when a face is lost; track
    in between; smooth the landmarks.

    Args:
        detect (callable): image -> (boxes (N, 5), angles (N,) or None)
        landmarks (callable): (image, boxes (N, 4), angles (N,) or None) ->
            (keypoints (N, K, 2), keypoint_scores (N, K))
        detect_every (int): detector on every N-th frame
        smoothing, min_cutoff, beta: One Euro filter (Hz at rest; per face
            size per second)
        lost_score (float): a face whose mean landmark score falls below
            is lost (the detector runs on the next frame)
        match_iou (float): the IoU at which a detection continues a track
    """

    def __init__(self,
                 detect: Callable,
                 landmarks: Callable,
                 detect_every: int = 10,
                 smoothing: bool = True,
                 min_cutoff: float = 1.0,
                 beta: float = 1.0,
                 lost_score: float = 0.2,
                 match_iou: float = 0.3):
        if detect_every < 1:
            raise ValueError(f'detect_every must be >= 1, got {detect_every}')
        self.detect = detect
        self.landmarks = landmarks
        self.detect_every = int(detect_every)
        self.smoothing = smoothing
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.lost_score = lost_score
        self.match_iou = match_iou
        self.tracks: List[Track] = []
        self.next_id = 0
        self.frame_index = -1
        self.need_detection = True
        self.detections_run = 0

    def _match(self, boxes: np.ndarray) -> List[Track]:
        """Greedy IoU matching of detections to the current tracks; new
        tracks for the rest; unmatched tracks end."""
        iou = box_iou(boxes, np.stack([t.box for t in self.tracks])) \
            if self.tracks and len(boxes) else np.zeros(
                (len(boxes), len(self.tracks)))
        tracks, used = [], set()
        for i in np.argsort(-iou.max(1, initial=0.)):  # IoU >= 0
            j = int(iou[i].argmax()) if self.tracks else -1
            if j >= 0 and iou[i, j] >= self.match_iou and j not in used:
                used.add(j)
                track = self.tracks[j]
                track.box, track.score = boxes[i, :4].copy(), float(
                    boxes[i, 4])
            else:
                track = Track(self.next_id, boxes[i], boxes[i, 4],
                              self.min_cutoff, self.beta)
                self.next_id += 1
            tracks.append((i, track))
        return [t for _, t in sorted(tracks, key=lambda it: it[0])]

    def update(self, img: np.ndarray, t: float) -> List[dict]:
        """Faces of the next frame ``img`` taken at time ``t`` seconds.

        Returns:
            list[dict]: per face ``track_id``, ``box`` (4,), ``score``,
            ``keypoints`` (K, 2), ``keypoint_scores`` (K,), ``angle`` (the
            crop's rotation, degrees), ``detected`` (whether the detector
            ran on this frame)
        """
        self.frame_index += 1
        detected = self.need_detection or not self.tracks or \
            self.frame_index % self.detect_every == 0
        angles = None
        if detected:
            boxes, angles = self.detect(img)
            self.detections_run += 1
            self.tracks = self._match(np.asarray(boxes, np.float32))
            if angles is not None:
                for track, a in zip(self.tracks, angles):
                    track.angle = float(a)
        if not self.tracks:
            self.need_detection = True
            return []
        boxes = np.stack([tr.box for tr in self.tracks])
        angles = np.array([tr.angle for tr in self.tracks], np.float32)
        kpts, scores = self.landmarks(img, boxes, angles)
        h, w = img.shape[:2]
        faces, kept = [], []
        self.need_detection = False
        for track, kp, sc in zip(self.tracks, kpts, scores):
            if float(np.mean(sc)) < self.lost_score:
                self.need_detection = True  # lost: look again next frame
                continue
            smoothed = track.smooth(kp, t, self.smoothing)
            track.keypoints = smoothed
            # the next frame's box: this frame's (raw) landmark box
            nb = landmark_box(kp)
            nb[[0, 2]] = nb[[0, 2]].clip(0, w - 1)
            nb[[1, 3]] = nb[[1, 3]].clip(0, h - 1)
            if nb[2] - nb[0] < 4 or nb[3] - nb[1] < 4:
                self.need_detection = True
                continue
            track.box = nb
            kept.append(track)
            faces.append(dict(track_id=track.track_id, box=nb.copy(),
                              score=track.score, keypoints=smoothed,
                              keypoint_scores=np.asarray(sc, np.float32),
                              angle=track.angle, detected=detected))
        self.tracks = kept
        return faces

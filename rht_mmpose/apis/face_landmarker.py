"""Faces and their 68 landmarks in one call, as simple as MMPose's
inferencers::

    from rht_mmpose.apis import FaceLandmarker
    landmarker = FaceLandmarker()            # bundled model, MTCNN, fast path
    faces = landmarker('photo.jpg')          # or a BGR array
    faces[0]['box'], faces[0]['score'], faces[0]['keypoints']
    for frame in landmarker.video('clip.mp4'):   # tracked and smoothed
        frame['faces']

Note:
    - N: faces in an image
    - K: landmarks
"""
import os
import os.path as osp
import time
from typing import Iterable, Iterator, List, Optional, Sequence, Union

import cv2
import numpy as np

from .errors import FaceInputError
from .image_io import load_image

# The fast path (the default): faces of an image in one batch, ONNX
# Runtime, 2 references (chosen as the model chooses them: best STM match)
# with the flip test instead of 10. Chosen on the 202 validation faces of
# the training folders (configs/experiments/bundled/*_val.py, GT boxes):
# NME_io 0.0339 against 0.0336 for the model's own 10 (3: 0.0337; 3
# without flip: 0.0347; 3 chosen by descriptor: 0.0343); the fusion
# module runs once per reference and dominates the time, so 2 instead of
# 3 is what brings a 6-face photo above 10 faces/s on 2 cores.
FAST_SETTINGS = dict(num_refs=2, flip_test=True)
# Whether MTCNN's eye line sets the crop's rotation by default: off, as
# chosen on the same validation faces (--settings rotation: NME_io 0.0345
# with it, 0.0342 without; 300-W faces are mostly upright). On a face
# turned 40 degrees it helps (tests/test_apis/test_face_landmarker.py):
# pass rotate=True for tilted faces.
ROTATE_DEFAULT = False

ImageLike = Union[str, os.PathLike, np.ndarray]


def _default_threads() -> int:
    return max(1, min(2, os.cpu_count() or 1))


class FaceLandmarker:
    """Face detector + landmark model.

    Args:
        config (str, optional): pose config (default: the bundled model)
        checkpoint (str, optional): pose checkpoint
        fast (bool): the fast settings (:data:`FAST_SETTINGS`); False:
            the model's own test settings (most accurate, slower)
        num_refs (int, optional): references per face (overrides ``fast``)
        ref_mode (str, optional): how they are chosen, ``'descriptor'`` or
            ``'stm_match'`` (default: the model's ``test_cfg.ref_mode``)
        flip_test (bool, optional): flip test (overrides ``fast``)
        detector (str | callable): ``'mtcnn'`` (default) or ``'haar'``
            (ignored with ``det_config`` / ``det_checkpoint``: an mmdet
            detector), or a detector object: called on a BGR image it
            returns (N, 5) landmark-style boxes; with a ``detect`` method
            returning (boxes, five points (N, 5, 2)) it can set rotations
        min_face_size (int): smallest face in pixels the detector looks for
        det_score_thr (float, optional): detector score threshold
            (default: the detector's)
        rotate (bool, optional): set each crop's rotation from the
            detector's eye points (MTCNN only)
        backend (str): ``'hybrid'`` (ONNX Runtime target graph + PyTorch
            head, fastest), ``'onnx'`` or ``'torch'``; without onnxruntime
            PyTorch is used
        num_threads (int, optional): CPU threads (default: 2 at most);
            sets torch's thread count for the process
        device (str): torch device of the model and the detector; off the
            CPU (and for models without a reference pool) the landmarks
            come from the model's own path (:func:`inference_faces`, its
            test settings)
        model (nn.Module, optional): an already loaded model
    """

    def __init__(self,
                 config: Optional[str] = None,
                 checkpoint: Optional[str] = None,
                 fast: bool = True,
                 num_refs: Optional[int] = None,
                 ref_mode: Optional[str] = None,
                 flip_test: Optional[bool] = None,
                 detector: str = 'mtcnn',
                 min_face_size: int = 40,
                 det_score_thr: Optional[float] = None,
                 det_config: Optional[str] = None,
                 det_checkpoint: Optional[str] = None,
                 rotate: Optional[bool] = None,
                 backend: str = 'hybrid',
                 num_threads: Optional[int] = None,
                 device: str = 'cpu',
                 model=None,
                 **model_kwargs):
        import torch
        from .face_detection import build_face_detector
        from .fast_rht import FastRHTRunner, model_refiner_and_pool
        from .inference import init_face_model
        self.num_threads = int(num_threads or _default_threads())
        if self.num_threads < 1:
            raise FaceInputError(f'num_threads must be >= 1, got '
                                 f'{num_threads}')
        torch.set_num_threads(self.num_threads)
        self.model = model if model is not None else init_face_model(
            config, checkpoint, device=device, **model_kwargs)
        settings = dict(FAST_SETTINGS) if fast else {}
        if num_refs is not None:
            settings['num_refs'] = num_refs
        if ref_mode is not None:
            settings['ref_mode'] = ref_mode
        if flip_test is not None:
            settings['flip_test'] = flip_test
        self.settings = settings
        if callable(detector):
            # a detector object: image -> (N, 5) landmark-style boxes, and
            # optionally ``detect`` -> (boxes, five points (N, 5, 2))
            self.detector_name = type(detector).__name__
            self.detector = detector
        else:
            self.detector_name = 'mmdet' if det_config else detector
            kwargs = {} if det_config else dict(min_size=min_face_size)
            if det_score_thr is not None:
                kwargs['score_thr'] = det_score_thr
            self.detector = build_face_detector(
                det_config, det_checkpoint, device=device, detector=detector,
                **kwargs)
        self.rotate = ROTATE_DEFAULT if rotate is None else bool(rotate)
        if self.rotate and not hasattr(self.detector, 'detect'):
            raise FaceInputError(f'rotate=True needs a detector with eye '
                                 f'points (mtcnn), got {self.detector_name}')
        _, pool = model_refiner_and_pool(self.model)
        self.runner = None
        if pool is not None and len(pool) and str(device) == 'cpu':
            if backend in ('onnx', 'hybrid'):
                try:
                    import onnxruntime  # noqa: F401
                except ImportError:
                    backend = 'torch'
            self.runner = FastRHTRunner(
                self.model, backend=backend, num_threads=self.num_threads,
                **settings)
        self.backend = self.runner.backend_name if self.runner else 'mmpose'

    # ------------------------------------------------------------ steps
    def detect(self, img: np.ndarray):
        """Landmark-style boxes (N, 5) of a BGR uint8 image and, with
        ``rotate``, each face's tilt (N,) in degrees (else None)."""
        from .face_detection import eye_line_angles
        if hasattr(self.detector, 'detect'):
            boxes, points = self.detector.detect(img)
            angles = eye_line_angles(points) if self.rotate and len(
                points) else None
            return boxes, angles
        return self.detector(img), None

    def landmarks(self, img: np.ndarray, boxes: np.ndarray,
                  angles: Optional[np.ndarray] = None):
        """Keypoints (N, K, 2) and scores (N, K) of the faces ``boxes``
        (N, 4+) xyxy in a BGR uint8 image, in one batch."""
        out = self.predict_boxes(img, boxes, angles)
        return out['keypoints'], out['keypoint_scores']

    def predict_boxes(self, img: np.ndarray, boxes: np.ndarray,
                      angles: Optional[np.ndarray] = None) -> dict:
        """:meth:`landmarks` plus the pool indices each face used.

        Returns:
            dict: ``keypoints`` (N, K, 2), ``keypoint_scores`` (N, K) and
            ``ref_index`` ((N, k) pool indices of an RHT model, else None)
        """
        boxes = np.asarray(boxes, np.float32)
        boxes = boxes.reshape(-1, boxes.shape[-1] if boxes.ndim == 2 else 4)
        k = (self.model.dataset_meta or {}).get('num_keypoints', 68)
        if len(boxes) == 0:
            return dict(keypoints=np.zeros((0, k, 2), np.float32),
                        keypoint_scores=np.zeros((0, k), np.float32),
                        ref_index=None)
        if self.runner is not None:
            return self.runner(img, boxes[:, :4],
                               angles if self.rotate else None)
        from .inference import inference_faces
        samples = inference_faces(self.model, img, boxes[:, :4])
        refs = [s.metainfo.get('ref_pool_index') for s in samples]
        return dict(
            keypoints=np.concatenate([
                s.pred_instances.keypoints for s in samples
            ]).astype(np.float32),
            keypoint_scores=np.concatenate([
                s.pred_instances.keypoint_scores for s in samples
            ]).astype(np.float32),
            ref_index=None if any(r is None for r in refs) else np.stack(
                [np.atleast_1d(r) for r in refs]))

    def faces_from(self, boxes: np.ndarray, angles: Optional[np.ndarray],
                   pred: dict) -> List[dict]:
        """Faces (dicts, as :meth:`__call__` returns them) from boxes
        (N, 4+), angles (N,) or None and :meth:`predict_boxes`' output."""
        boxes = np.asarray(boxes, np.float32)
        boxes = boxes.reshape(-1, boxes.shape[-1] if boxes.ndim == 2 else 4)
        refs = pred.get('ref_index')
        faces = []
        for i in range(len(boxes)):
            face = dict(
                box=boxes[i, :4].copy(),
                score=float(boxes[i, 4]) if boxes.shape[1] > 4 else 1.0,
                keypoints=pred['keypoints'][i],
                keypoint_scores=pred['keypoint_scores'][i],
                angle=0. if angles is None or not self.rotate else float(
                    angles[i]))
            if refs is not None:
                face['reference_index'] = [int(r) for r in refs[i]]
            faces.append(face)
        return faces

    # -------------------------------------------------------------- API
    def __call__(self, img: ImageLike,
                 boxes: Optional[np.ndarray] = None) -> List[dict]:
        """Faces of one image (path or BGR array).

        Args:
            img (str | np.ndarray): image
            boxes (np.ndarray, optional): (N, 4) or (N, 5) landmark-style
                xyxy boxes; None: detect

        Returns:
            list[dict]: per face ``box`` (4,) xyxy, ``score``,
            ``keypoints`` (K, 2) in image pixels, ``keypoint_scores`` (K,)
            ``angle`` (the crop's rotation, degrees) and, for RHT models,
            ``reference_index`` (the pool faces used), best first
        """
        image = load_image(img)
        if boxes is None:
            boxes, angles = self.detect(image)
        else:
            boxes = np.asarray(boxes, np.float32)
            boxes = boxes.reshape(-1, boxes.shape[-1] if boxes.ndim else 4)
            if boxes.shape[1] not in (4, 5):
                raise FaceInputError(f'boxes must have shape (N, 4) or '
                                     f'(N, 5), got {boxes.shape}')
            angles = None
        return self.faces_from(boxes, angles,
                               self.predict_boxes(image, boxes, angles))

    def batch(self, images: Sequence[ImageLike]) -> List[List[dict]]:
        """Faces of several images (each as :meth:`__call__`)."""
        return [self(img) for img in images]

    def video(self,
              source: Union[str, int, Iterable[np.ndarray]],
              detect_every: int = 10,
              smoothing: bool = True,
              min_cutoff: float = 1.0,
              beta: float = 1.0,
              fps: Optional[float] = None) -> Iterator[dict]:
        """Faces of every frame of a video, tracked and smoothed.

        Args:
            source (str | int | Iterable[np.ndarray]): a video file, a
                camera index, or BGR frames
            detect_every (int): detector on every N-th frame, or when a
                face is lost; tracked boxes (previous landmarks) between
            smoothing (bool): One Euro filter on the landmarks
            min_cutoff (float): One Euro cutoff at rest, Hz (lower:
                smoother)
            beta (float): One Euro speed coefficient, per face size per
                second (higher: less lag)
            fps (float, optional): frame rate of the filter's clock
                (default: the video's, else 30; a camera uses the wall
                clock)

        Yields:
            dict: ``frame_index``, ``time`` (s), ``image`` (the BGR frame,
            None for an unreadable one), ``faces`` (as :meth:`__call__`,
            plus ``track_id`` and ``detected``), ``error`` (a message for
            an unreadable frame, else None)
        """
        from .tracking import FaceTracker

        tracker = FaceTracker(self.detect, self.landmarks, detect_every,
                              smoothing, min_cutoff, beta)
        frames, rate = _open_frames(source, fps)
        camera = isinstance(source, int)
        start = time.perf_counter()
        for index, frame in enumerate(frames):
            # a camera's frames come when they come: the filter's clock is
            # the wall clock there, the frame rate elsewhere
            t = time.perf_counter() - start if camera else index / rate
            if frame is None:
                yield dict(frame_index=index, time=t, image=None, faces=[],
                           error=f'frame {index} could not be read')
                continue
            try:
                img = load_image(frame)
            except FaceInputError as e:
                yield dict(frame_index=index, time=t, image=None, faces=[],
                           error=f'frame {index}: {e}')
                continue
            faces = tracker.update(img, t)
            yield dict(frame_index=index, time=t, image=img, faces=faces,
                       error=None)


def _open_frames(source, fps: Optional[float]):
    """Frames of a video path / camera index / iterable, and the rate."""
    if isinstance(source, (str, os.PathLike, int)):
        if isinstance(source, (str, os.PathLike)) and not osp.exists(
                os.fspath(source)):
            raise FileNotFoundError(f'video {os.fspath(source)!r} does not '
                                    f'exist')
        cap = cv2.VideoCapture(source if isinstance(source, int) else
                               os.fspath(source))
        if not cap.isOpened():
            raise FaceInputError(f'cannot open video {source!r}')
        rate = fps or cap.get(cv2.CAP_PROP_FPS) or 30.
        if not rate > 0 or rate > 1000:
            rate = 30.
        return _read_capture(cap), float(rate)
    return iter(source), float(fps or 30.)


def _read_capture(cap) -> Iterator[Optional[np.ndarray]]:
    """Frames of an OpenCV capture; a frame that fails to decode in the
    middle of a file gives None (up to 25 in a row), then the end."""
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        index, failures = 0, 0
        while True:
            ok, frame = cap.read()
            if ok and frame is not None:
                failures = 0
                index += 1
                yield frame
                continue
            if total and index < total and failures < 25:
                failures += 1
                index += 1
                yield None
                continue
            return
    finally:
        cap.release()

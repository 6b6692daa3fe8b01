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
from typing import Iterable, Iterator, List, Optional, Sequence, Union

import cv2
import numpy as np

from .errors import FaceInputError
from .image_io import load_image

# The fast path (the default): faces of an image in one batch, ONNX
# Runtime, the 3 most similar references with the flip test instead of 10.
# HELEN test, ground-truth boxes: NME_io 0.03285 against 0.03238 with the
# model's own 10 references (tools/benchmarks/in_the_wild.py, docs).
FAST_SETTINGS = dict(num_refs=3, flip_test=True)
# MTCNN's eye line sets the crop's rotation (measured with
# tools/benchmarks/in_the_wild.py --settings rotation)
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
        flip_test (bool, optional): flip test (overrides ``fast``)
        detector (str): ``'mtcnn'`` (default) or ``'haar'``; ignored with
            ``det_config`` / ``det_checkpoint`` (an mmdet detector)
        min_face_size (int): smallest face in pixels the detector looks for
        det_score_thr (float, optional): detector score threshold
            (default: the detector's)
        rotate (bool, optional): set each crop's rotation from the
            detector's eye points (MTCNN only)
        backend (str): ``'hybrid'`` (ONNX Runtime target graph + PyTorch
            head, fastest), ``'onnx'`` or ``'torch'``; without onnxruntime
            PyTorch is used
        num_threads (int, optional): CPU threads (default: 2 at most)
        device (str): torch device of the model and the detector
        model (nn.Module, optional): an already loaded model
    """

    def __init__(self,
                 config: Optional[str] = None,
                 checkpoint: Optional[str] = None,
                 fast: bool = True,
                 num_refs: Optional[int] = None,
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
        if flip_test is not None:
            settings['flip_test'] = flip_test
        self.settings = settings
        self.detector_name = 'mmdet' if det_config else detector
        kwargs = {}
        if self.detector_name == 'mtcnn':
            kwargs['min_size'] = min_face_size
        elif self.detector_name == 'haar':
            kwargs['min_size'] = min_face_size
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
        boxes = np.asarray(boxes, np.float32).reshape(
            -1, np.shape(boxes)[-1] if np.ndim(boxes) == 2 else 4)
        k = (self.model.dataset_meta or {}).get('num_keypoints', 68)
        if len(boxes) == 0:
            return (np.zeros((0, k, 2), np.float32),
                    np.zeros((0, k), np.float32))
        if self.runner is not None:
            out = self.runner(img, boxes[:, :4],
                              angles if self.rotate else None)
            return out['keypoints'], out['keypoint_scores']
        from .inference import inference_faces
        samples = inference_faces(self.model, img, boxes[:, :4])
        return (np.concatenate([s.pred_instances.keypoints
                                for s in samples]).astype(np.float32),
                np.concatenate([s.pred_instances.keypoint_scores
                                for s in samples]).astype(np.float32))

    def _faces(self, boxes, angles, kpts, scores) -> List[dict]:
        return [
            dict(box=boxes[i, :4].copy(),
                 score=float(boxes[i, 4]) if boxes.shape[1] > 4 else 1.0,
                 keypoints=kpts[i], keypoint_scores=scores[i],
                 angle=0. if angles is None else float(angles[i]))
            for i in range(len(boxes))
        ]

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
            and ``angle`` (the crop's rotation, degrees), best first
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
        kpts, scores = self.landmarks(image, boxes, angles)
        return self._faces(boxes, angles, kpts, scores)

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
            fps (float, optional): frame rate for the filter's clock
                (default: the video's, else 30)

        Yields:
            dict: ``frame_index``, ``time`` (s), ``image`` (the BGR frame,
            None for an unreadable one), ``faces`` (as :meth:`__call__`,
            plus ``track_id`` and ``detected``), ``error`` (a message for
            an unreadable frame, else None)
        """
        from .tracking import FaceTracker

        def detect(img):
            return self.detect(img)

        tracker = FaceTracker(detect, self.landmarks, detect_every,
                              smoothing, min_cutoff, beta)
        frames, rate = _open_frames(source, fps)
        for index, frame in enumerate(frames):
            t = index / rate
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
            for f in faces:
                f['angle'] = 0.
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

"""Faces and their landmarks in one call::

    landmarker = FaceLandmarker()            # bundled model, MTCNN, fast path
    faces = landmarker('photo.jpg')          # or a BGR array
    for frame in landmarker.video('clip.mp4'):   # tracked and smoothed
        frame['faces']

One predictor, :meth:`FaceLandmarker.predict` (image, boxes, angles ->
faces), with one of two backends chosen once: ``'mmpose'``
(:func:`inference_faces`) or ``'onnx'`` / ``'hybrid'``
(:class:`OnnxBackend`). Both take the same settings and angles and return
the same faces.

Note:
    - N: faces in an image
    - K: landmarks
"""
import os
import time
from typing import Iterable, Iterator, List, Optional, Sequence, Union

import numpy as np

from ..utils.errors import FaceInputError
from ..utils.face_geometry import (check_boxes, heatmap_in_image,
                                   landmark_box, tta_views)
from ..utils.io import load_image, open_frames

# Whether MTCNN's eye line sets the crop's rotation by default: off, as
# chosen on the 202 validation faces with MTCNN boxes (in_the_wild.py
# --faces val --settings rotation, RHT-MNv2: NME_io 0.0327 either way;
# RHT-R-S: 0.0345 with it, 0.0342 without; 300-W faces are mostly
# upright). Beyond the training rotations it helps (a face turned 60
# degrees: 0.029 against 0.064, tests/test_apis/test_face_landmarker.py):
# pass rotate=True for strongly tilted faces.
ROTATE_DEFAULT = False
BACKENDS = ('mmpose', 'onnx', 'hybrid')

ImageLike = Union[str, os.PathLike, np.ndarray]


# The fast path of a model with references whose config has no
# ``fast_test_cfg`` (e.g. embedded in an older checkpoint): the first
# bundled model's choice (configs/rht_res18_s_match_300w.py says why).
DEFAULT_FAST_SETTINGS = dict(num_refs=2, flip_test=True)


def fast_settings(model) -> dict:
    """The fast path's test settings of ``model``: its config's
    ``fast_test_cfg`` (e.g. fewer references, chosen for that model on
    validation faces), else :data:`DEFAULT_FAST_SETTINGS`."""
    cfg = getattr(model, 'cfg', None)
    declared = cfg.get('fast_test_cfg') if cfg is not None else None
    return dict(DEFAULT_FAST_SETTINGS if declared is None else declared)


class FaceLandmarker:
    """Face detector + landmark model.

    Args:
        config, checkpoint (str, optional): the pose model (default: the
            bundled one); or ``model``, one already loaded
        fast (bool): :func:`fast_settings` for models with references;
            False: the model's own test settings (most accurate, slower)
        num_refs, ref_mode, flip_test (optional): override those settings
        detector (str | callable): ``'mtcnn'`` or ``'haar'`` (an mmdet
            detector with ``det_config`` / ``det_checkpoint``), or an object
            giving (N, 5) landmark-style boxes of a BGR image; with a
            ``detect`` method (boxes, five points (N, 5, 2)) it can rotate
        min_face_size, det_score_thr, det_kwargs: detector options
        rotate (bool, optional): crops turned upright from the detector's
            eye points (MTCNN only)
        backend (str, optional): ``'mmpose'`` (any face model, any device),
            ``'onnx'`` (ONNX Runtime graphs, the faces of an image in one
            batch; RHT models with a pool, CPU) or ``'hybrid'`` (ONNX
            Runtime for the backbone, PyTorch for the reference head: the
            fastest on 2 cores, the default where it applies, else
            ``'mmpose'``)
        num_threads (int, optional): CPU threads (default: 2 at most), for
            the whole process
        recrop_passes (int): landmark passes after the first, each cropped
            from the previous pass's landmark box, as a tracked video frame
            is from the last frame's: the detector's box scatter goes, each
            pass costs one more landmark step. Defaults to 0
        tta (bool): test-time augmentation: each landmark step is the mean
            over the views of the config's ``tta_pipeline``
            (:func:`~rht_mmpose.utils.face_geometry.tta_views`; the shipped
            model: 5, each a landmark step), as ``tools/test.py --tta``
        device (str): torch device of the model and the detector
        **model_kwargs: :func:`init_face_model`'s other arguments
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
                 det_kwargs: Optional[dict] = None,
                 rotate: Optional[bool] = None,
                 backend: Optional[str] = None,
                 num_threads: Optional[int] = None,
                 recrop_passes: int = 0,
                 tta: bool = False,
                 device: str = 'cpu',
                 model=None,
                 **model_kwargs):
        import torch
        from .face_detection import build_face_detector
        from .inference import init_face_model
        self.num_threads = int(num_threads or max(1, min(2, os.cpu_count()
                                                         or 1)))
        if self.num_threads < 1:
            raise FaceInputError(f'num_threads must be >= 1, got '
                                 f'{num_threads}')
        if backend is not None and backend not in BACKENDS:
            raise FaceInputError(f'backend must be one of {BACKENDS}, got '
                                 f'{backend!r}')
        if num_refs is not None and num_refs < 1:
            raise FaceInputError(f'num_refs must be >= 1, got {num_refs}')
        if not isinstance(recrop_passes, int) or recrop_passes < 0:
            raise FaceInputError(f'recrop_passes must be an int >= 0, got '
                                 f'{recrop_passes!r}')
        self.recrop_passes = recrop_passes
        torch.set_num_threads(self.num_threads)
        self.model = model if model is not None else init_face_model(
            config, checkpoint, device=device, **model_kwargs)
        # (scale factor, rotation) of each view; one plain view without tta
        self.views = tta_views(self.model.cfg) if tta else [(1., 0.)]
        pool = getattr(self.model, 'reference_pool', None) if getattr(
            self.model, 'with_reference', False) else None
        settings = fast_settings(self.model) if fast and pool is not None \
            else {}
        settings.update({k: v for k, v in dict(
            num_refs=num_refs, ref_mode=ref_mode,
            flip_test=flip_test).items() if v is not None})
        self.settings = settings
        kwargs = dict(det_kwargs or {}, score_thr=det_score_thr)
        if not det_config:
            kwargs['min_size'] = min_face_size
        self.detector = detector if callable(detector) else \
            build_face_detector(det_config, det_checkpoint, device, detector,
                                **{k: v for k, v in kwargs.items()
                                   if v is not None})
        self.rotate = ROTATE_DEFAULT if rotate is None else bool(rotate)
        if self.rotate and not hasattr(self.detector, 'detect'):
            raise FaceInputError(
                f'rotate=True needs a detector with eye points (mtcnn), got '
                f'{"mmdet" if det_config else type(self.detector).__name__}')
        if backend is None:
            backend = 'hybrid' if pool is not None and len(pool) and str(
                device) == 'cpu' and _has_onnxruntime() else 'mmpose'
        if backend == 'mmpose':
            self.backend = MMPoseBackend(self.model, **settings)
        else:
            from .onnx_backend import OnnxBackend
            self.backend = OnnxBackend(
                self.model, hybrid=backend == 'hybrid',
                num_threads=self.num_threads, **settings)
        self.backend_name = backend

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

    def predict(self, img: ImageLike, boxes: np.ndarray,
                angles: Optional[np.ndarray] = None,
                heatmaps: bool = False) -> List[dict]:
        """Landmarks of the faces ``boxes`` (N, 4|5) landmark-style xyxy
        (with scores) of an image (path or BGR array), in one batch; each
        crop turned upright by ``angles`` (N,) (tilts in degrees,
        counter-clockwise).

        With ``recrop_passes`` the keypoints are those of the last pass
        (``box`` stays the given one).

        Returns:
            list[dict]: per face ``box`` (4,), ``score``, ``keypoints``
            (K, 2) image pixels, ``keypoint_scores`` (K,), ``angle`` and,
            for RHT models, ``reference_index`` (pool faces, best first);
            with ``heatmaps`` also ``heatmap`` (H, W), the channel maximum
            of the face's heatmaps in image pixels
        """
        image = load_image(img)
        boxes = check_boxes(boxes)
        if len(boxes) == 0:
            return []
        if angles is not None and not np.any(angles):
            angles = None  # upright crops: the plain pipeline
        out = self.landmark_step(image, boxes[:, :4], angles, heatmaps)
        for _ in range(self.recrop_passes):
            out = self.landmark_step(image, landmark_box(out['keypoints']),
                                     angles, heatmaps)
        faces = []
        for i, box in enumerate(boxes):
            face = dict(
                box=box[:4].copy(),
                score=float(box[4]) if len(box) > 4 else 1.0,
                keypoints=out['keypoints'][i],
                keypoint_scores=out['keypoint_scores'][i],
                angle=0. if angles is None else float(angles[i]))
            if out['ref_index'] is not None:
                face['reference_index'] = [int(r) for r in out['ref_index'][i]]
            if heatmaps:
                face['heatmap'] = heatmap_in_image(
                    out['heatmaps'][i], out['warps'][i],
                    self.model.head.decoder.input_size, image.shape)
            faces.append(face)
        return faces

    def landmark_step(self, image: np.ndarray, boxes: np.ndarray,
                      angles: Optional[np.ndarray],
                      heatmaps: bool = False) -> dict:
        """The backend's output for boxes (N, 4) xyxy, as the mean
        ``keypoints`` and ``keypoint_scores`` over :attr:`views` (each box
        scaled about its centre and its crop turned; the rest of the first
        view's output)."""
        if self.views == [(1., 0.)]:
            return self.backend(image, boxes, angles, heatmaps)
        from .face_detection import map_boxes
        tilt = np.zeros(len(boxes)) if angles is None else np.asarray(angles)
        outs = []
        for scale, rotation in self.views:
            # a face's angle turns its crop by -angle (bbox_rotation)
            turn = tilt - rotation
            outs.append(self.backend(
                image, map_boxes(boxes, (0., 0.), (scale, scale)),
                turn if np.any(turn) else None, heatmaps))
        out = dict(outs[0])
        for key in ('keypoints', 'keypoint_scores'):
            out[key] = np.mean([o[key] for o in outs], axis=0).astype(
                np.float32)
        return out

    def landmarks(self, img: np.ndarray, boxes: np.ndarray,
                  angles: Optional[np.ndarray] = None):
        """Keypoints (N, K, 2) and scores (N, K) of :meth:`predict`, the
        landmark function of :class:`FaceTracker`."""
        faces = self.predict(img, boxes, angles)
        return (np.array([f['keypoints'] for f in faces]),
                np.array([f['keypoint_scores'] for f in faces]))

    # -------------------------------------------------------------- API
    def __call__(self, img: ImageLike,
                 boxes: Optional[np.ndarray] = None,
                 heatmaps: bool = False) -> List[dict]:
        """Faces of one image (path or BGR array): detected (or ``boxes``
        (N, 4|5) landmark-style xyxy), then :meth:`predict`."""
        image = load_image(img)
        angles = None
        if boxes is None:
            boxes, angles = self.detect(image)
        return self.predict(image, boxes, angles, heatmaps)

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
        """Faces of every frame of a video file, a camera (index) or BGR
        frames, tracked (detector every ``detect_every`` frames or when a
        face is lost) and smoothed (One Euro filter, ``min_cutoff`` Hz at
        rest, ``beta`` per face size per second) on a clock of ``fps``
        (default: the video's, else 30; a camera's is the wall clock).

        Yields:
            dict: ``frame_index``, ``time`` (s), ``image`` (the BGR frame,
            None for an unreadable one), ``faces`` (as :meth:`__call__`,
            plus ``track_id`` and ``detected``), ``error`` (a message for
            an unreadable frame, else None)
        """
        from .tracking import FaceTracker

        tracker = FaceTracker(self.detect, self.landmarks, detect_every,
                              smoothing, min_cutoff, beta)
        frames, rate = open_frames(source, fps)
        camera = isinstance(source, int)
        start = time.perf_counter()
        for index, frame in enumerate(frames):
            # a camera's frames come when they come: the filter's clock is
            # the wall clock there, the frame rate elsewhere
            t = time.perf_counter() - start if camera else index / rate
            error = None if frame is not None else \
                f'frame {index} could not be read'
            try:
                img = None if error else load_image(frame)
            except FaceInputError as e:
                img, error = None, f'frame {index}: {e}'
            yield dict(frame_index=index, time=t, image=img, error=error,
                       faces=[] if error else tracker.update(img, t))


class MMPoseBackend:
    """The model as MMPose runs it (:func:`inference_faces`, i.e.
    ``inference_topdown``) with the landmarker's settings set in its
    ``test_cfg`` for the call."""

    def __init__(self, model, **settings):
        from rht_mmpose.utils.reference_selection import check_selection
        if settings.get('ref_mode') is not None:
            check_selection(settings['ref_mode'], 'model')
        self.model, self.settings = model, settings

    def __call__(self, img: np.ndarray, boxes: np.ndarray,
                 angles: Optional[np.ndarray] = None,
                 heatmaps: bool = False) -> dict:
        """As :meth:`OnnxBackend.__call__` (``ref_index`` None for models
        without references)."""
        from ..utils.face_geometry import pipeline_warp
        from .inference import inference_faces, test_cfg_set
        with test_cfg_set(self.model, **self.settings):
            samples = inference_faces(self.model, img, boxes, angles=angles,
                                      return_heatmaps=heatmaps)
        angles = np.zeros(len(samples)) if angles is None else angles
        refs = [s.metainfo.get('ref_pool_index') for s in samples]
        return dict(
            keypoints=np.concatenate([s.pred_instances.keypoints
                                      for s in samples]).astype(np.float32),
            keypoint_scores=np.concatenate([
                s.pred_instances.keypoint_scores for s in samples
            ]).astype(np.float32),
            ref_index=None if None in refs else np.array(refs),
            heatmaps=[s.pred_fields.heatmaps.cpu().numpy() for s in samples]
            if heatmaps else None,
            warps=[pipeline_warp(s.metainfo, -float(a))
                   for s, a in zip(samples, angles)])


def _has_onnxruntime() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True

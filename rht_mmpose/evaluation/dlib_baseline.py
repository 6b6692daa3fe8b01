"""dlib's 68-point shape predictor (trained on all of 300-W, test faces
included), the baseline the benchmarks print beside ours; an optional
extra (``pip install -e .[dlib]``, ``make install-bench``)."""
import numpy as np


def load_dlib_predictor():
    """``(dlib, shape_predictor)``; SystemExit with the install command
    when dlib is missing."""
    try:
        import dlib
        import face_recognition_models
    except ImportError as e:
        raise SystemExit(
            f'dlib is not installed ({e}); install the optional extra: '
            f'pip install dlib-bin face_recognition_models')
    return dlib, dlib.shape_predictor(
        face_recognition_models.pose_predictor_model_location())


def dlib_landmarks(dlib, predictor, rgb: np.ndarray, box) -> np.ndarray:
    """(68, 2) landmarks of the face in ``box`` (a ``dlib.rectangle`` or an
    xyxy box, rounded) of an RGB uint8 image."""
    if not isinstance(box, dlib.rectangle):
        box = dlib.rectangle(*(int(round(float(v))) for v in box[:4]))
    shape = predictor(np.ascontiguousarray(rgb), box)
    return np.array([[p.x, p.y] for p in shape.parts()], np.float32)

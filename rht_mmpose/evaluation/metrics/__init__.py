from .face_nme_metric import FaceNMEMetric, resolve_keypoint_scheme

__all__ = ['FaceNMEMetric', 'resolve_keypoint_scheme']

"""Inference API: load a face model, detect faces, predict landmarks."""
from .errors import FaceInputError
from .face_detection import (HaarFaceDetector, MMDetFaceDetector,
                             MTCNNFaceDetector, build_face_detector,
                             expand_haar_boxes, eye_line_angles,
                             fit_box_mapping, map_boxes, nms_boxes)
from .face_landmarker import FAST_SETTINGS, FaceLandmarker
from .fast_rht import FastRHTRunner, model_refiner_and_pool
from .one_euro import OneEuroFilter
from .tracking import FaceTracker, box_iou, landmark_box
from .image_io import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, check_writable_dir,
                       dump_json_atomic, imwrite_atomic, load_image,
                       to_bgr_uint8)
from .inference import (BUNDLED_CHECKPOINT, BUNDLED_CONFIG,
                        boundary_scheme_of, get_codec, get_reference_used,
                        inference_faces, init_face_model, is_rht_model,
                        render_reference_pool, set_user_reference_pool)

__all__ = [
    'BUNDLED_CHECKPOINT', 'BUNDLED_CONFIG', 'FaceInputError',
    'FAST_SETTINGS', 'FaceLandmarker', 'FaceTracker', 'FastRHTRunner',
    'MTCNNFaceDetector', 'OneEuroFilter', 'box_iou', 'eye_line_angles',
    'fit_box_mapping', 'landmark_box', 'map_boxes', 'model_refiner_and_pool',
    'HaarFaceDetector', 'IMAGE_EXTENSIONS', 'MMDetFaceDetector',
    'VIDEO_EXTENSIONS', 'boundary_scheme_of', 'build_face_detector',
    'check_writable_dir', 'dump_json_atomic', 'expand_haar_boxes',
    'get_codec', 'get_reference_used', 'imwrite_atomic', 'inference_faces',
    'init_face_model', 'is_rht_model', 'load_image', 'nms_boxes',
    'render_reference_pool', 'set_user_reference_pool', 'to_bgr_uint8'
]

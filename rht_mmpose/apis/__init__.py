"""Inference API: load a face model, detect faces, predict landmarks."""
from ..utils.errors import FaceInputError
from ..utils.face_geometry import landmark_box
from ..utils.io import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, check_writable_dir,
                        imwrite_atomic, load_image, to_bgr_uint8)
from .face_detection import (MTCNN_DET_CONFIG, HaarFaceDetector,
                             MMDetFaceDetector, MTCNNFaceDetector,
                             build_face_detector, eye_line_angles,
                             fit_box_mapping, map_boxes, nms_boxes)
from .face_landmarker import (BACKENDS, FaceLandmarker, MMPoseBackend,
                              fast_settings)
from .inference import (BUNDLED_CHECKPOINT, BUNDLED_CONFIG, BUNDLED_MODEL,
                        crop_reference_faces, get_reference_used,
                        inference_faces, init_face_model,
                        set_user_reference_pool)
from .tracking import FaceTracker, OneEuroFilter, box_iou

__all__ = [
    'BACKENDS', 'BUNDLED_CHECKPOINT', 'BUNDLED_CONFIG', 'BUNDLED_MODEL',
    'FaceInputError', 'FaceLandmarker', 'FaceTracker',
    'HaarFaceDetector', 'IMAGE_EXTENSIONS', 'MMDetFaceDetector',
    'MMPoseBackend', 'MTCNNFaceDetector', 'MTCNN_DET_CONFIG',
    'OneEuroFilter', 'VIDEO_EXTENSIONS', 'box_iou', 'build_face_detector',
    'check_writable_dir', 'crop_reference_faces', 'eye_line_angles',
    'fast_settings', 'fit_box_mapping',
    'get_reference_used', 'imwrite_atomic', 'inference_faces',
    'init_face_model', 'landmark_box', 'load_image', 'map_boxes',
    'nms_boxes', 'set_user_reference_pool', 'to_bgr_uint8'
]

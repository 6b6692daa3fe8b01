"""Datasets: the reference-pairing wrapper, 300W from .pts folders, the
pts -> COCO converter and the RHT augmentations."""
from .annotation_checks import (AnnotationError, check_annotation,
                                check_annotations)
from .face_300w_pts_dataset import Face300WPtsDataset
from .face_train_val_split import (FaceTrainValSplit, train_val_indices,
                                   val_split_overrides)
from .paired_reference_dataset import (REF_MODES, BadImageError,
                                       PairedReferenceDataset, image_problem)
from .pts_to_coco import PtsFormatError, convert, read_pts
from .reference_cache import ReferenceCache
from .sift_similarity import (SiftFaceIndex, count_good_matches, face_crop,
                              match_scores, sift_descriptors)
from .transforms import (LowResolution, OccludedKeypointWeights,
                         RandomGaussianBlur, RandomGrayscale, RandomOcclusion)

__all__ = [
    'PairedReferenceDataset', 'REF_MODES', 'BadImageError', 'image_problem',
    'AnnotationError', 'check_annotation', 'check_annotations',
    'Face300WPtsDataset', 'FaceTrainValSplit', 'train_val_indices',
    'val_split_overrides',
    'ReferenceCache', 'LowResolution', 'OccludedKeypointWeights',
    'PtsFormatError', 'convert', 'read_pts', 'SiftFaceIndex',
    'count_good_matches', 'face_crop', 'match_scores', 'sift_descriptors',
    'RandomGrayscale', 'RandomGaussianBlur', 'RandomOcclusion'
]

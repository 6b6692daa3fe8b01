"""Test-time augmentation of a face model: each face seen in a few fixed
views (its crop scaled and turned: ``FixedBBoxTransform`` inside mmcv's
``TestTimeAug``), every view's landmarks mapped back to the image and
averaged. ``tools/test.py --tta`` wraps a config's ``model`` in its
``tta_model`` and tests with its ``tta_pipeline``, as MMDetection's does;
:class:`~rht_mmpose.apis.FaceLandmarker` takes the same views from the
config (``tta=True``).

Each view's landmarks are final ones (flip test and shape refiner
included): on the validation faces the mean of refined views and the
refined mean of raw views agree to 1e-6 NME.
"""
from typing import List, Sequence

import numpy as np
from mmengine.model import BaseTTAModel
from mmpose.registry import MODELS

from ...utils.face_geometry import unturn_keypoints


def view_rotation(sample) -> float:
    """The degrees a view's crop was turned (its ``bbox_rotation``)."""
    if 'bbox_rotation' not in sample.metainfo:
        raise KeyError(
            "FaceTTAModel needs each view's bbox_rotation: add "
            "'bbox_rotation' to the meta_keys of the tta_pipeline's "
            'PackPoseInputs')
    return float(np.asarray(sample.metainfo['bbox_rotation']).reshape(-1)[0])


@MODELS.register_module()
class FaceTTAModel(BaseTTAModel):
    """The mean of a face's landmarks (and their scores) over its views.

    Args:
        module (dict | nn.Module): the face model (``tools/test.py --tta``
            puts the config's ``model`` here)
    """

    def merge_preds(self, data_samples_list: Sequence[Sequence]) -> List:
        """Per face, its views' samples -> one sample: the first view's,
        with the views' mean ``keypoints`` (1, K, 2) in image pixels and
        mean ``keypoint_scores`` (1, K)."""
        merged = []
        for views in data_samples_list:
            keypoints = [
                unturn_keypoints(v.pred_instances.keypoints, v.metainfo,
                                 view_rotation(v)) for v in views
            ]
            scores = [v.pred_instances.keypoint_scores for v in views]
            sample = views[0]
            sample.pred_instances.keypoints = np.mean(
                keypoints, axis=0).astype(np.float32)
            sample.pred_instances.keypoint_scores = np.mean(
                scores, axis=0).astype(np.float32)
            merged.append(sample)
        return merged

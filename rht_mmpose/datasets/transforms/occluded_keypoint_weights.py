"""Weight 0 for occluded landmarks in the loss (the paper's eq. 7, gamma_m).

MMPose's COCO-style loaders keep ``min(1, v)`` of each keypoint's flag ``v``
as ``keypoints_visible``, so COFW's occluded points (``v = 1``, "labelled,
not visible" in COCO's convention; visible points have ``v = 2``) count as
visible and are trained with weight 1. This transform reads the flags from
the annotation (``raw_ann_info``), follows a horizontal flip, and sets the
landmark's ``keypoint_weights`` to 0. It leaves ``keypoints_visible`` alone:
the occluded points stay annotated targets of the boundary heatmaps and of
the evaluation, as in COFW's protocol.
"""
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class OccludedKeypointWeights(BaseTransform):
    """Zero ``keypoint_weights`` (1, K) of the landmarks whose annotation
    flag is ``occluded_flag``.

    Put it after ``GenerateTarget``.

    Args:
        occluded_flag (int): the annotation's flag of an occluded point.
            Defaults to 1 (COCO / mmpose's COFW json).
    """

    def __init__(self, occluded_flag: int = 1) -> None:
        self.occluded_flag = occluded_flag

    def transform(self, results: dict) -> dict:
        if 'keypoint_weights' not in results:
            raise KeyError('OccludedKeypointWeights needs keypoint_weights; '
                           'put it after GenerateTarget')
        ann = results.get('raw_ann_info')
        if not ann or 'keypoints' not in ann:
            raise KeyError(
                f'OccludedKeypointWeights needs raw_ann_info.keypoints (the '
                f'annotation flags) of image {results.get("img_path")!r}')
        flags = np.asarray(ann['keypoints'], dtype=np.float64)
        flags = flags.reshape(-1, 3)[:, 2]  # (K,)
        weights = np.array(results['keypoint_weights'], dtype=np.float32)
        k = weights.shape[-1]
        if flags.shape[0] != k:
            raise ValueError(f'annotation has {flags.shape[0]} keypoints, '
                             f'keypoint_weights {k}')
        occluded = flags == self.occluded_flag  # (K,) annotation order
        if results.get('flip', False):
            # RandomFlip reorders the keypoints: new[i] = old[flip_idx[i]]
            occluded = occluded[np.asarray(results['flip_indices'])]
        weights[..., occluded] = 0.
        results['keypoint_weights'] = weights
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'occluded_flag={self.occluded_flag})')

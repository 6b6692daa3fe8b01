"""What travels from :class:`RHTPoseEstimator` to :class:`RHTHead`: the
references of a batch of targets, with the features already extracted.

Note:
    - B: targets in the batch (one reference each)
    - K, P: landmarks, boundaries
    - R: reference branch input size (the head's ``ref_size``)
    - C_1x, H, W: channels and grid of the 1x features (H = W = R / 4)
"""
from dataclasses import dataclass
from typing import List, NamedTuple, Optional, Sequence

from torch import Tensor


class ReferenceFeatures(NamedTuple):
    """Key and values of references (:meth:`RHTHead.extract_reference`;
    what the pool's feature cache stores).

    Attributes:
        key (Tensor): K at 1x, (B, C_1x, H, W)
        values (List[Tensor]): V at 1x, 2x and 4x, (B, C_s, s*H, s*W)
    """
    key: Tensor
    values: List[Tensor]


@dataclass
class ReferenceBatch:
    """One reference per target, normalised like the targets.

    The optional features skip the extractors (the pool cache); missing
    ones are extracted by the head.

    Attributes:
        target_small (Tensor): the targets at R, (B, 3, R, R)
        ref_img (Tensor): the reference images, (B, 3, R, R)
        ref_heatmaps (Tensor): the references' heatmaps, (B, K + P, R, R)
        query (Tensor, optional): Q of the targets, (B, C_1x, H, W)
        features (ReferenceFeatures, optional): K and V of the references
        flipped_query (Tensor, optional): Q of the flipped targets (flip
            test)
        flipped_features (ReferenceFeatures, optional): K and V of the
            flipped references (flip test)
    """
    target_small: Tensor
    ref_img: Tensor
    ref_heatmaps: Tensor
    query: Optional[Tensor] = None
    features: Optional[ReferenceFeatures] = None
    flipped_query: Optional[Tensor] = None
    flipped_features: Optional[ReferenceFeatures] = None

    def flip(self, perm: Sequence[int]) -> 'ReferenceBatch':
        """The references of the horizontally flipped targets: both images
        flipped, the heatmaps flipped and their channels permuted by
        ``perm`` (K + P indices), with the flipped features when known
        (the unflipped ones never carry over)."""
        return ReferenceBatch(
            target_small=self.target_small.flip(-1),
            ref_img=self.ref_img.flip(-1),
            ref_heatmaps=self.ref_heatmaps.flip(-1)[:, list(perm)],
            query=self.flipped_query,
            features=self.flipped_features)

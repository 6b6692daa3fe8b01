"""Facial boundary layouts (LAB, Wu et al. CVPR 2018) per keypoint scheme.

The layouts are stored in :mod:`rht_mmpose.codecs.face_schemes` (the one
table of keypoint schemes: flip indices, boundaries, normaliser landmarks,
refiner anchors); this module keeps the boundary functions.

One table per keypoint scheme lists, for every boundary, the landmark
indices (0-based) that the boundary curve passes through, in order along
the curve. "left"/"right" are image-left/image-right, the convention of the
annotation files (300W point 36 is the outer corner of the image-left eye).

Note:
    - K: number of landmarks of a scheme
    - P: number of boundaries of a scheme

Schemes:
    - ``'300w'``: 68 points (iBUG 300-W; also COCO-WholeBody face, 300W-LP,
      COFW-68), 13 boundaries.
    - ``'wflw'``: 98 points (WFLW), 13 boundaries, the layout of LAB.
    - ``'cofw'``: 29 points (COFW), 13 boundaries: upper and lower eyebrow
      arcs instead of the cheek and the nose bridge, which COFW lacks.
    - ``'aflw'``: 19 points (AFLW as used by HRNet-Facial and MMPose),
      6 boundaries (eyebrows, eyes through the pupils, nose bottom, mouth).

COFW-29 semantics (checked on MMPose's COFW sample): 0/1 outer eyebrow
ends, 2/3 inner eyebrow ends, 4/6 eyebrow tops, 5/7 eyebrow bottoms,
8/9 outer eye corners, 10/11 inner eye corners, 12/14 upper eyelid tops,
13/15 lower eyelid bottoms, 16/17 pupils, 18/19 nose wings, 20 nose tip,
21 nose bottom centre, 22/23 mouth corners, 24 upper lip top, 25 upper lip
bottom, 26 lower lip top, 27 lower lip bottom, 28 chin (even index =
image-left, odd = image-right).

AFLW-19 semantics: 0-2 left eyebrow (outer, centre, inner), 3-5 right
eyebrow (inner, centre, outer), 6-8 left eye (outer corner, centre, inner
corner), 9-11 right eye (inner corner, centre, outer corner), 12-14 nose
(left wing, bottom centre, right wing), 15-17 mouth (left corner, centre,
right corner), 18 chin.
"""
from typing import Dict, List, Optional, Sequence, Tuple

from .face_schemes import FACE_SCHEMES, find_face_scheme

# The layouts live in the one table of keypoint schemes
# (rht_mmpose/codecs/face_schemes.py); this module keeps its historical view:
# name -> dict(num_keypoints, boundaries=[(boundary name, [landmark
# indices]), ...], flip=boundary flip indices), for the schemes that have a
# boundary layout (LaPa has none).
BOUNDARY_TABLES: Dict[str, dict] = {
    name: dict(
        num_keypoints=spec['num_keypoints'],
        boundaries=spec['boundaries'],
        flip=spec['boundary_flip'])
    for name, spec in FACE_SCHEMES.items() if spec['boundaries'] is not None
}

# dataset_name (MMPose metainfo) -> scheme; any other name is resolved by
# its keypoint count.
DATASET_TO_SCHEME: Dict[str, str] = {
    ds: name
    for name in BOUNDARY_TABLES for ds in FACE_SCHEMES[name]['dataset_names']
}


def _table(scheme: str) -> dict:
    if scheme not in BOUNDARY_TABLES:
        raise ValueError(f'unknown boundary scheme {scheme!r}, expected one '
                         f'of {sorted(BOUNDARY_TABLES)}')
    return BOUNDARY_TABLES[scheme]


def scheme_num_keypoints(scheme: str) -> int:
    """Number of landmarks K of a scheme."""
    return _table(scheme)['num_keypoints']


def get_boundaries(scheme: str) -> List[List[int]]:
    """Landmark indices of every boundary of a scheme (P lists)."""
    return [list(idx) for _, idx in _table(scheme)['boundaries']]


def get_boundary_names(scheme: str) -> List[str]:
    """Names of the P boundaries of a scheme."""
    return [name for name, _ in _table(scheme)['boundaries']]


def boundary_flip_indices(scheme: str) -> List[int]:
    """For each boundary, the boundary it becomes after a horizontal flip.

    Returns:
        list[int]: P indices (left <-> right boundaries swapped).
    """
    return list(_table(scheme)['flip'])


def flip_indices_with_boundaries(scheme: str,
                                 landmark_flip_indices: Sequence[int]
                                 ) -> List[int]:
    """Channel permutation for flipping a (K+P, H, W) heatmap stack.

    Args:
        scheme (str): Boundary scheme.
        landmark_flip_indices (Sequence[int]): K landmark flip indices (the
            dataset metainfo's ``flip_indices``).

    Returns:
        list[int]: K+P channel indices: the landmark flip indices followed
        by ``K + boundary_flip_indices(scheme)``.
    """
    k = scheme_num_keypoints(scheme)
    if len(landmark_flip_indices) != k:
        raise ValueError(
            f'got {len(landmark_flip_indices)} landmark flip indices, '
            f'expected {k} for boundary scheme {scheme!r}')
    return [int(i) for i in landmark_flip_indices
            ] + [k + b for b in boundary_flip_indices(scheme)]


def scheme_from_num_keypoints(num_keypoints: int,
                              dataset_name: Optional[str] = None) -> str:
    """Pick the scheme whose landmark count is ``num_keypoints``.

    Raises:
        ValueError: No scheme has that many landmarks (the message names
            the count and, when given, the dataset).
    """
    for scheme, table in BOUNDARY_TABLES.items():
        if table['num_keypoints'] == num_keypoints:
            return scheme
    known = {s: t['num_keypoints'] for s, t in BOUNDARY_TABLES.items()}
    what = f'dataset {dataset_name!r} has' if dataset_name else 'got'
    raise ValueError(
        f'{what} {num_keypoints} keypoints: no boundary layout for that '
        f'keypoint count, expected one of {known}')


def boundary_scheme_from_metainfo(metainfo: dict) -> str:
    """Boundary scheme of a dataset from its MMPose metainfo
    (``dataset_name``, ``num_keypoints``): :func:`find_face_scheme` (a
    known name checked against its count, any other resolved by the count,
    e.g. COCO-WholeBody face, 68 points -> ``'300w'``), for a scheme with a
    boundary layout; a ValueError names the dataset and its count
    otherwise (e.g. LaPa, 106 points)."""
    name = metainfo.get('dataset_name')
    k = metainfo.get('num_keypoints')
    if k is None:
        raise ValueError(f'metainfo of dataset {name!r} has no num_keypoints')
    try:
        scheme = find_face_scheme(int(k), name)
    except ValueError:
        if name is not None and str(name).lower() in DATASET_TO_SCHEME:
            raise  # a known dataset with another count
        scheme = None
    if scheme not in BOUNDARY_TABLES:
        return scheme_from_num_keypoints(int(k), dataset_name=name)
    return scheme


def channel_count(scheme: str) -> Tuple[int, int]:
    """(K, P) of a scheme."""
    return scheme_num_keypoints(scheme), len(_table(scheme)['boundaries'])

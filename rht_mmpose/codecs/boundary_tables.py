"""Facial boundary layouts (LAB, Wu et al. CVPR 2018) per keypoint scheme.

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

# name -> (num_keypoints, [(boundary name, [landmark indices]), ...],
#          boundary flip indices)
_R = range

BOUNDARY_TABLES: Dict[str, dict] = {
    '300w':
    dict(
        num_keypoints=68,
        boundaries=[
            ('cheek', list(_R(0, 17))),
            ('left_upper_eyebrow', list(_R(17, 22))),
            ('right_upper_eyebrow', list(_R(22, 27))),
            ('nose_bridge', list(_R(27, 31))),
            ('nose_bottom', list(_R(31, 36))),
            ('left_upper_eyelid', [36, 37, 38, 39]),
            ('left_lower_eyelid', [36, 41, 40, 39]),
            ('right_upper_eyelid', [42, 43, 44, 45]),
            ('right_lower_eyelid', [42, 47, 46, 45]),
            ('upper_outer_lip', list(_R(48, 55))),
            ('lower_outer_lip', [48, 59, 58, 57, 56, 55, 54]),
            ('upper_inner_lip', [60, 61, 62, 63, 64]),
            ('lower_inner_lip', [60, 67, 66, 65, 64]),
        ],
        flip=[0, 2, 1, 3, 4, 7, 8, 5, 6, 9, 10, 11, 12]),
    'wflw':
    dict(
        num_keypoints=98,
        boundaries=[
            ('cheek', list(_R(0, 33))),
            ('left_upper_eyebrow', list(_R(33, 38))),
            ('right_upper_eyebrow', list(_R(42, 47))),
            ('nose_bridge', list(_R(51, 55))),
            ('nose_bottom', list(_R(55, 60))),
            ('left_upper_eyelid', list(_R(60, 65))),
            ('left_lower_eyelid', [60, 67, 66, 65, 64]),
            ('right_upper_eyelid', list(_R(68, 73))),
            ('right_lower_eyelid', [68, 75, 74, 73, 72]),
            ('upper_outer_lip', list(_R(76, 83))),
            ('lower_outer_lip', [76, 87, 86, 85, 84, 83, 82]),
            ('upper_inner_lip', list(_R(88, 93))),
            ('lower_inner_lip', [88, 95, 94, 93, 92]),
        ],
        flip=[0, 2, 1, 3, 4, 7, 8, 5, 6, 9, 10, 11, 12]),
    'cofw':
    dict(
        num_keypoints=29,
        boundaries=[
            ('left_upper_eyebrow', [0, 4, 2]),
            ('right_upper_eyebrow', [3, 6, 1]),
            ('left_lower_eyebrow', [0, 5, 2]),
            ('right_lower_eyebrow', [3, 7, 1]),
            ('nose_bottom', [18, 21, 19]),
            ('left_upper_eyelid', [8, 12, 10]),
            ('left_lower_eyelid', [8, 13, 10]),
            ('right_upper_eyelid', [11, 14, 9]),
            ('right_lower_eyelid', [11, 15, 9]),
            ('upper_outer_lip', [22, 24, 23]),
            ('lower_outer_lip', [22, 27, 23]),
            ('upper_inner_lip', [22, 25, 23]),
            ('lower_inner_lip', [22, 26, 23]),
        ],
        flip=[1, 0, 3, 2, 4, 7, 8, 5, 6, 9, 10, 11, 12]),
    'aflw':
    dict(
        num_keypoints=19,
        boundaries=[
            ('left_eyebrow', [0, 1, 2]),
            ('right_eyebrow', [3, 4, 5]),
            ('left_eye', [6, 7, 8]),
            ('right_eye', [9, 10, 11]),
            ('nose_bottom', [12, 13, 14]),
            ('mouth', [15, 16, 17]),
        ],
        flip=[1, 0, 3, 2, 4, 5]),
}

# dataset_name (MMPose metainfo) -> scheme; any other name is resolved by
# its keypoint count.
DATASET_TO_SCHEME: Dict[str, str] = {
    '300w': '300w',
    '300wlp': '300w',
    'coco_wholebody_face': '300w',
    'cofw68': '300w',
    'wflw': 'wflw',
    'cofw': 'cofw',
    'aflw': 'aflw',
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
    """Boundary scheme of a dataset from its MMPose metainfo.

    Uses ``dataset_name`` when it is a known face dataset and checks its
    ``num_keypoints``; any other name is resolved by the keypoint count
    alone (COCO-WholeBody face, 68 points -> ``'300w'``).

    Args:
        metainfo (dict): A dataset's ``metainfo`` (``dataset_name``,
            ``num_keypoints``).

    Returns:
        str: One of ``'300w'``, ``'wflw'``, ``'cofw'``, ``'aflw'``.

    Raises:
        ValueError: naming the dataset and its keypoint count when no layout
            fits (e.g. LaPa, 106 points).
    """
    name = metainfo.get('dataset_name')
    k = metainfo.get('num_keypoints')
    if k is None:
        raise ValueError(f'metainfo of dataset {name!r} has no num_keypoints')
    k = int(k)
    scheme = DATASET_TO_SCHEME.get(str(name).lower()) if name else None
    if scheme is not None:
        if scheme_num_keypoints(scheme) != k:
            raise ValueError(
                f'dataset {name!r} has {k} keypoints, expected '
                f'{scheme_num_keypoints(scheme)} for boundary scheme '
                f'{scheme!r}')
        return scheme
    return scheme_from_num_keypoints(k, dataset_name=name)


def channel_count(scheme: str) -> Tuple[int, int]:
    """(K, P) of a scheme."""
    return scheme_num_keypoints(scheme), len(_table(scheme)['boundaries'])

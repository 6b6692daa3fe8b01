"""One table of facial keypoint schemes: what every part of rht_mmpose needs
to know about a landmark layout.

Per scheme (``'300w'`` = iBUG 68 points, ``'wflw'``, ``'cofw'``, ``'aflw'``,
``'lapa'``):

- ``num_keypoints`` (K);
- ``flip_indices``: K indices, landmark ``i`` becomes ``flip_indices[i]``
  after a horizontal flip (equal to mmpose's dataset metainfo,
  ``mmpose/configs/_base_/datasets/<name>.py``; ``tests/test_codecs/
  test_face_schemes.py`` checks it); ``flip_pairs`` the same as pairs;
- ``boundaries``: LAB boundaries (Wu et al., CVPR 2018) as ``(name, [landmark
  indices along the curve])`` and ``boundary_flip`` (P indices); ``None`` when
  no layout is defined (LaPa);
- ``normalisers``: the landmarks behind each NME normaliser, each as a pair of
  "eye points", an eye point being a list of indices whose mean is used:
  ``inter_ocular`` (outer eye corners) and ``inter_pupil`` (eye centres);
  absent when the scheme has no such points (LaPa has no pupils). The
  box normalisers (``box``, ``diagonal``, ``box_size``) need no landmark;
- ``refiner_anchors``: two well-localised landmarks that define a face frame
  (the outer eye corners), used by the shape refiner;
- ``dataset_names``: mmpose ``dataset_name`` values that use the scheme.

The boundary functions below (:data:`BOUNDARY_TABLES`, :func:`get_boundaries`,
...) read the schemes that have a boundary layout.

"left"/"right" are image-left/image-right, the convention of the annotation
files (300W point 36 is the outer corner of the image-left eye).

Note:
    - K: number of landmarks of a scheme
    - P: number of boundaries of a scheme

Semantics of the smaller schemes (0-based):

COFW-29 (checked on MMPose's COFW sample): 0/1 outer eyebrow ends, 2/3 inner
eyebrow ends, 4/6 eyebrow tops, 5/7 eyebrow bottoms, 8/9 outer eye corners,
10/11 inner eye corners, 12/14 upper eyelid tops, 13/15 lower eyelid
bottoms, 16/17 pupils, 18/19 nose wings, 20 nose tip, 21 nose bottom
centre, 22/23 mouth corners, 24 upper lip top, 25 upper lip bottom, 26 lower
lip top, 27 lower lip bottom, 28 chin (even index = image-left, odd =
image-right). COFW's published numbers (RCPR, LAB, ADNet, the human 5.60)
divide by the pupil distance 16/17; mmpose and HRNet-Facial divide by 8/9
(see docs/metrics.md).

AFLW-19: 0-2 left eyebrow (outer, centre, inner), 3-5 right eyebrow
(inner, centre, outer), 6-8 left eye (outer corner, centre, inner corner),
9-11 right eye (inner corner, centre, outer corner), 12-14 nose (left wing,
bottom centre, right wing), 15-17 mouth (left corner, centre, right corner),
18 chin. Its papers normalise by the annotation's face box (``box_size``).
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple

_R = range


def _pairs_to_indices(k: int, pairs: Sequence[Tuple[int, int]]) -> List[int]:
    idx = list(range(k))
    for a, b in pairs:
        idx[a], idx[b] = b, a
    return idx


# iBUG 68: cheek 0-16 mirrored, brows 17-26, nose 31-35, eyes 36-47,
# mouth 48-67 (the points on the vertical axis map to themselves)
_PAIRS_68 = ([(i, 16 - i) for i in range(8)] +
             [(17 + i, 26 - i) for i in range(5)] + [(31, 35), (32, 34)] +
             [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)] +
             [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64),
              (61, 63), (65, 67)])
# WFLW 98 (mmpose's wflw.py swaps)
_PAIRS_98 = ([(i, 32 - i) for i in range(16)] +
             [(33 + i, 46 - i) for i in range(5)] +
             [(38 + i, 50 - i) for i in range(4)] + [(55, 59), (56, 58)] +
             [(60, 72), (61, 71), (62, 70), (63, 69), (64, 68), (65, 75),
              (66, 74), (67, 73)] +
             [(76, 82), (77, 81), (78, 80), (83, 87), (84, 86), (88, 92),
              (89, 91), (93, 95), (96, 97)])
# COFW 29: eyebrow ends 0/1, 2/3, tops 4/6, bottoms 5/7, eyes 8/9, 10/11,
# eyelids 12/14, 13/15, pupils 16/17, nose wings 18/19, mouth corners 22/23
_PAIRS_29 = [(0, 1), (2, 3), (4, 6), (5, 7), (8, 9), (10, 11), (12, 14),
             (13, 15), (16, 17), (18, 19), (22, 23)]
_PAIRS_19 = [(0, 5), (1, 4), (2, 3), (6, 11), (7, 10), (8, 9), (12, 14),
             (15, 17)]

FACE_SCHEMES: Dict[str, dict] = {
    '300w':
    dict(
        num_keypoints=68,
        flip_pairs=_PAIRS_68,
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
        boundary_flip=[0, 2, 1, 3, 4, 7, 8, 5, 6, 9, 10, 11, 12],
        # pupils: centres of the eye contours (300W has no pupil point)
        normalisers=dict(
            inter_ocular=[[36], [45]],
            inter_pupil=[list(_R(36, 42)), list(_R(42, 48))]),
        refiner_anchors=(36, 45),
        dataset_names=('300w', '300wlp', '300w_lp', 'coco_wholebody_face',
                       'cofw68')),
    'wflw':
    dict(
        num_keypoints=98,
        flip_pairs=_PAIRS_98,
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
        boundary_flip=[0, 2, 1, 3, 4, 7, 8, 5, 6, 9, 10, 11, 12],
        normalisers=dict(inter_ocular=[[60], [72]], inter_pupil=[[96], [97]]),
        refiner_anchors=(60, 72),
        dataset_names=('wflw', )),
    'cofw':
    dict(
        num_keypoints=29,
        flip_pairs=_PAIRS_29,
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
        boundary_flip=[1, 0, 3, 2, 4, 7, 8, 5, 6, 9, 10, 11, 12],
        # inter_ocular = mmpose's / HRNet-Facial's COFW normaliser (8 / 9);
        # inter_pupil = the annotated pupils, the published COFW protocol
        normalisers=dict(inter_ocular=[[8], [9]], inter_pupil=[[16], [17]]),
        refiner_anchors=(8, 9),
        dataset_names=('cofw', )),
    'aflw':
    dict(
        num_keypoints=19,
        flip_pairs=_PAIRS_19,
        boundaries=[
            ('left_eyebrow', [0, 1, 2]),
            ('right_eyebrow', [3, 4, 5]),
            ('left_eye', [6, 7, 8]),
            ('right_eye', [9, 10, 11]),
            ('nose_bottom', [12, 13, 14]),
            ('mouth', [15, 16, 17]),
        ],
        boundary_flip=[1, 0, 3, 2, 4, 5],
        # AFLW papers use the annotation box (norm_mode 'box_size')
        normalisers=dict(inter_ocular=[[6], [11]], inter_pupil=[[7], [10]]),
        refiner_anchors=(6, 11),
        dataset_names=('aflw', )),
    'lapa':
    dict(
        num_keypoints=106,
        flip_pairs=None,  # _PAIRS_106, below
        boundaries=None,
        boundary_flip=None,
        # outer eye corners as mmpose's LaPa NME; LaPa has no pupil point
        normalisers=dict(inter_ocular=[[66], [79]]),
        refiner_anchors=(66, 79),
        dataset_names=('lapa', )),
}

# LaPa 106 (mmpose's lapa.py swaps): contour 0-32, brows 33-50, nose 51-65,
# eyes 66-83 (pupils 104/105), mouth 84-103
_PAIRS_106 = ([(i, 32 - i) for i in range(16)] +
              [(33 + i, 46 - i) for i in range(5)] +
              [(38 + i, 50 - i) for i in range(4)] +
              [(55, 65), (56, 64), (57, 63), (58, 62), (59, 61)] +
              [(66, 79), (67, 78), (68, 77), (69, 76), (70, 75), (71, 82),
               (72, 81), (73, 80), (74, 83)] +
              [(84, 90), (85, 89), (86, 88), (91, 95), (92, 94), (96, 100),
               (97, 99), (101, 103), (104, 105)])
FACE_SCHEMES['lapa']['flip_pairs'] = _PAIRS_106
for _spec in FACE_SCHEMES.values():
    _spec['flip_indices'] = _pairs_to_indices(_spec['num_keypoints'],
                                              _spec['flip_pairs'])


def face_scheme_names() -> List[str]:
    """Names of the known schemes."""
    return list(FACE_SCHEMES)


def get_face_scheme(name: str) -> dict:
    """The table entry of a scheme (a deep copy: change it freely).

    Args:
        name (str): ``'300w'`` (alias ``'68pt'``), ``'wflw'``, ``'cofw'``,
            ``'aflw'`` or ``'lapa'``.

    Returns:
        dict: ``name``, ``num_keypoints``, ``flip_indices``, ``flip_pairs``,
        ``boundaries``, ``boundary_flip``, ``normalisers``,
        ``refiner_anchors``, ``dataset_names``.

    Raises:
        ValueError: naming the unknown scheme and the known ones.
    """
    key = '300w' if name == '68pt' else name
    if key not in FACE_SCHEMES:
        raise ValueError(f'unknown face keypoint scheme {name!r}, expected '
                         f'one of {face_scheme_names()}')
    spec = copy.deepcopy(FACE_SCHEMES[key])
    spec['name'] = key
    return spec


def scheme_for_dataset_name(dataset_name: str) -> Optional[str]:
    """The scheme an mmpose ``dataset_name`` uses, or None when unknown."""
    low = str(dataset_name).lower()
    for scheme, spec in FACE_SCHEMES.items():
        if low in spec['dataset_names']:
            return scheme
    return None


def find_face_scheme(num_keypoints: Optional[int] = None,
                     dataset_name: Optional[str] = None) -> str:
    """Name the scheme of a dataset from its mmpose ``dataset_name`` and / or
    its keypoint count.

    A known ``dataset_name`` must agree with ``num_keypoints`` (when given);
    any other name is matched by the count alone (e.g. a COCO-WholeBody face
    subset with 68 points -> ``'300w'``).

    Args:
        num_keypoints (int, optional): K.
        dataset_name (str, optional): mmpose metainfo ``dataset_name``.

    Returns:
        str: a key of :data:`FACE_SCHEMES`.

    Raises:
        ValueError: naming the dataset and its count when no scheme fits or
            the count disagrees with the named dataset.
    """
    if num_keypoints is None and dataset_name is None:
        raise ValueError('find_face_scheme needs num_keypoints or '
                         'dataset_name, got neither')
    if dataset_name is not None:
        scheme = scheme_for_dataset_name(dataset_name)
        if scheme is not None:
            expected = FACE_SCHEMES[scheme]['num_keypoints']
            if num_keypoints is not None and int(num_keypoints) != expected:
                raise ValueError(
                    f'dataset {dataset_name!r} has {num_keypoints} '
                    f'keypoints, expected {expected} for its keypoint '
                    f'scheme {scheme!r}')
            return scheme
    if num_keypoints is not None:
        for scheme, spec in FACE_SCHEMES.items():
            if spec['num_keypoints'] == int(num_keypoints):
                return scheme
    known = {s: v['num_keypoints'] for s, v in FACE_SCHEMES.items()}
    raise ValueError(f'no face keypoint scheme for dataset {dataset_name!r} '
                     f'with {num_keypoints} keypoints; known schemes (K): '
                     f'{known}')


def face_scheme_from_metainfo(metainfo: dict) -> dict:
    """The scheme of a dataset from its mmpose metainfo (``dataset_name``,
    ``num_keypoints``); see :func:`find_face_scheme`."""
    metainfo = metainfo or {}
    return get_face_scheme(
        find_face_scheme(
            metainfo.get('num_keypoints'), metainfo.get('dataset_name')))


# The schemes with a LAB boundary layout (LaPa has none): name -> its
# FACE_SCHEMES entry (``num_keypoints``, ``boundaries``, ``boundary_flip``).
BOUNDARY_TABLES: Dict[str, dict] = {
    name: spec
    for name, spec in FACE_SCHEMES.items() if spec['boundaries'] is not None
}


def _boundary_table(scheme: str) -> dict:
    if scheme not in BOUNDARY_TABLES:
        raise ValueError(f'unknown boundary scheme {scheme!r}, expected one '
                         f'of {sorted(BOUNDARY_TABLES)}')
    return BOUNDARY_TABLES[scheme]


def get_boundaries(scheme: str) -> List[List[int]]:
    """Landmark indices of every boundary of a scheme (P lists)."""
    return [list(idx) for _, idx in _boundary_table(scheme)['boundaries']]


def get_boundary_names(scheme: str) -> List[str]:
    """Names of the P boundaries of a scheme."""
    return [name for name, _ in _boundary_table(scheme)['boundaries']]


def boundary_flip_indices(scheme: str) -> List[int]:
    """For each boundary, the boundary it becomes after a horizontal flip.

    Returns:
        list[int]: P indices (left <-> right boundaries swapped).
    """
    return list(_boundary_table(scheme)['boundary_flip'])


def channel_count(scheme: str) -> Tuple[int, int]:
    """(K, P) of a boundary scheme."""
    table = _boundary_table(scheme)
    return table['num_keypoints'], len(table['boundaries'])


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
    k = channel_count(scheme)[0]
    if len(landmark_flip_indices) != k:
        raise ValueError(
            f'got {len(landmark_flip_indices)} landmark flip indices, '
            f'expected {k} for boundary scheme {scheme!r}')
    return [int(i) for i in landmark_flip_indices
            ] + [k + b for b in boundary_flip_indices(scheme)]


def scheme_from_num_keypoints(num_keypoints: int,
                              dataset_name: Optional[str] = None) -> str:
    """Pick the boundary scheme whose landmark count is ``num_keypoints``.

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
        if name is not None and scheme_for_dataset_name(name) in \
                BOUNDARY_TABLES:
            raise  # a known dataset with another count
        scheme = None
    if scheme not in BOUNDARY_TABLES:
        return scheme_from_num_keypoints(int(k), dataset_name=name)
    return scheme

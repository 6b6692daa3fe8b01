"""The one table of face keypoint schemes agrees with mmpose's metainfo and
serves the boundary tables and the metric."""
import warnings

import pytest

from mmpose.datasets.datasets.utils import parse_pose_metainfo
from rht_mmpose.codecs.face_schemes import (BOUNDARY_TABLES, FACE_SCHEMES,
                                            find_face_scheme, get_face_scheme)
from rht_mmpose.evaluation import FaceNMEMetric


@pytest.mark.parametrize('name', ['300w', 'wflw', 'cofw', 'aflw', 'lapa'])
def test_flip_indices_are_mmpose_metainfo(name):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        meta = parse_pose_metainfo(
            dict(from_file=f'configs/_base_/datasets/{name}.py'))
    spec = get_face_scheme(name)
    assert spec['num_keypoints'] == meta['num_keypoints']
    assert spec['flip_indices'] == list(meta['flip_indices'])
    assert find_face_scheme(meta['num_keypoints'],
                            meta['dataset_name']) == name
    # anchors: two distinct points, mirror images of each other
    a, b = spec['refiner_anchors']
    assert a != b and spec['flip_indices'][a] == b
    assert spec['normalisers']['inter_ocular'] == [[a], [b]]


def test_lookups_and_errors():
    assert get_face_scheme('68pt')['name'] == '300w'
    assert find_face_scheme(68) == '300w'
    assert find_face_scheme(68, 'coco_wholebody_face') == '300w'
    assert find_face_scheme(29, 'my_faces') == 'cofw'
    with pytest.raises(ValueError, match="'wflw' has 68 keypoints, "
                       'expected 98'):
        find_face_scheme(68, 'wflw')
    with pytest.raises(ValueError, match="'x' with 21 keypoints"):
        find_face_scheme(21, 'x')
    with pytest.raises(ValueError, match="unknown face keypoint scheme 'y'"):
        get_face_scheme('y')
    spec = get_face_scheme('cofw')
    spec['refiner_anchors'] = (0, 1)  # a copy
    assert FACE_SCHEMES['cofw']['refiner_anchors'] == (8, 9)


def test_boundary_tables_and_metric_read_the_table():
    for name, table in BOUNDARY_TABLES.items():
        assert table is FACE_SCHEMES[name]
    assert 'lapa' not in BOUNDARY_TABLES
    metric = FaceNMEMetric(norm_mode='inter_pupil')
    metric.dataset_meta = dict(dataset_name='cofw', num_keypoints=29)
    assert metric._eye_points(29)['inter_pupil'] == [[16], [17]]
    metric.dataset_meta = dict(dataset_name='300w', num_keypoints=68)
    assert metric._eye_points(68)['inter_pupil'] == [
        list(range(36, 42)), list(range(42, 48))]

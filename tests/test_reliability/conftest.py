"""A fresh copy of a few real 300W faces per test (the tests break files)."""
import glob
import os.path as osp

import pytest

from tests.test_datasets.conftest import copy_faces


def face_names(data_root, folder, n):
    files = sorted(
        glob.glob(osp.join(data_root, '300w_subset', folder, '*.pts')))[:n]
    return [osp.splitext(osp.basename(f))[0] for f in files]


@pytest.fixture
def small_root(tmp_path, data_root):
    """tmp/faces: 5 real HELEN test faces; tmp/pool: 3 real AFW faces."""
    root = str(tmp_path / 'data')
    copy_faces(data_root, 'helen/testset',
               face_names(data_root, 'helen/testset', 5),
               osp.join(root, 'faces'))
    copy_faces(data_root, 'afw', face_names(data_root, 'afw', 3),
               osp.join(root, 'pool'))
    return root


@pytest.fixture
def small_codec():
    """A small codec: fast to encode, same channel layout (68 + 13)."""
    return dict(
        type='LandmarkBoundaryHeatmap',
        input_size=(64, 64),
        heatmap_size=(32, 32),
        boundary_scheme='300w')


@pytest.fixture
def small_pipeline():
    return [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', padding=1.25),
        dict(type='TopdownAffine', input_size=(64, 64)),
        dict(type='PackPoseInputs'),
    ]

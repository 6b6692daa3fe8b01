"""Tiny data roots made of a few real 300W faces (and a rotated copy)."""
import glob
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from rht_mmpose.datasets import read_pts


def write_pts(path, points):
    with open(path, 'w') as f:
        f.write(f'version: 1\nn_points:  {len(points)}\n{{\n')
        for x, y in points:
            f.write(f'{x!r} {y!r}\n')
        f.write('}\n')


def copy_faces(data_root, folder, names, dst):
    """Copy the given real faces (.pts + image) of ``folder`` into dst."""
    os.makedirs(dst, exist_ok=True)
    for name in names:
        for src in glob.glob(osp.join(data_root, '300w_subset', folder,
                                      name + '.*')):
            shutil.copy(src, dst)


def rotated_copy(img_path, pts_path, out_stem, angle=5.0):
    """Write a copy of a face rotated by ``angle`` degrees about its centre
    (image and points), as ``out_stem``.png / .pts."""
    img = cv2.imread(img_path)
    pts = read_pts(pts_path)
    h, w = img.shape[:2]
    mat = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cv2.imwrite(out_stem + '.png', cv2.warpAffine(img, mat, (w, h)))
    rot = pts @ mat[:, :2].T + mat[:, 2]
    write_pts(out_stem + '.pts', rot)


@pytest.fixture(scope='session')
def test_names(data_root):
    files = sorted(
        glob.glob(osp.join(data_root, '300w_subset/helen/testset/*.pts')))
    return [osp.splitext(osp.basename(f))[0] for f in files]


@pytest.fixture(scope='session')
def tiny_root(tmp_path_factory, data_root, test_names):
    """root/faces: 5 real HELEN test faces + a 5-degree rotated copy of the
    first; root/pool: 3 real AFW faces."""
    root = str(tmp_path_factory.mktemp('tiny_300w'))
    faces = osp.join(root, 'faces')
    copy_faces(data_root, 'helen/testset', test_names[:5], faces)
    first = test_names[0]
    img = glob.glob(osp.join(faces, first + '.*g'))[0]
    rotated_copy(img, osp.join(faces, first + '.pts'),
                 osp.join(faces, 'zz_rotated_' + first))
    afw = sorted(
        glob.glob(osp.join(data_root, '300w_subset/afw/*.pts')))[:3]
    copy_faces(data_root, 'afw',
               [osp.splitext(osp.basename(f))[0] for f in afw],
               osp.join(root, 'pool'))
    return root


@pytest.fixture
def codec():
    return dict(
        type='LandmarkBoundaryHeatmap',
        input_size=(256, 256),
        heatmap_size=(128, 128),
        boundary_scheme='300w')


@pytest.fixture
def val_pipeline():
    return [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', padding=1.25),
        dict(type='TopdownAffine', input_size=(256, 256)),
        dict(type='PackPoseInputs'),
    ]

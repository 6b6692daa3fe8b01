"""read_face_points: the one conversion of 300-W's 1-based .pts points to
0-based pixel centres, checked against hand-built files and the data's
own crops."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from rht_mmpose.utils.io import (PtsFormatError, pts_origin_offset,
                                 read_face_points, read_pts)
from tests.conftest import expected_pts_offset


def _write(tmp_path, name, points, image_hw):
    stem = osp.join(str(tmp_path), name)
    cv2.imwrite(stem + '.png', np.zeros((*image_hw, 3), np.uint8))
    with open(stem + '.pts', 'w') as f:
        f.write(f'version: 1\nn_points: {len(points)}\n{{\n')
        f.writelines(f'{x} {y}\n' for x, y in points)
        f.write('}\n')
    return stem


@pytest.mark.parametrize('image_hw, offset', [
    ((300, 200), 1.0),    # a crop that was not downscaled
    ((512, 400), 0.5),    # downscaled: its longer side became 512
    ((380, 512), 0.5),
    ((600, 800), 1.0),    # a photo at its own resolution
])
def test_offset_by_image_size(image_hw, offset):
    assert pts_origin_offset(image_hw) == offset


def test_hand_built_file(tmp_path):
    """A 1-based point at (1, 1) is the first pixel's centre (0, 0)."""
    stem = _write(tmp_path, 'face', [(1.0, 1.0), (10.5, 20.25)], (40, 30))
    points = read_face_points(stem + '.pts', num_points=2)
    np.testing.assert_array_equal(points, [[0.0, 0.0], [9.5, 19.25]])
    # the image given, or found beside the file
    np.testing.assert_array_equal(
        read_face_points(stem + '.pts', stem + '.png', num_points=2), points)


def test_missing_image_is_named(tmp_path):
    stem = _write(tmp_path, 'face', [(1.0, 1.0)], (40, 30))
    os.remove(stem + '.png')
    with pytest.raises(PtsFormatError, match='face'):
        read_face_points(stem + '.pts', num_points=1)


def test_real_crops(data_root):
    """A crop under 512 px moves by 1, a crop downscaled to 512 px by 0.5,
    from the files' own values (the first of each kind in LFPW test)."""
    full = osp.join(data_root, '300w_subset', 'lfpw/testset')
    met = set()
    for name in sorted(os.listdir(full)):
        if not name.endswith('.pts'):
            continue
        stem = osp.join(full, name[:-4])
        offset = expected_pts_offset(cv2.imread(stem + '.jpg').shape)
        if offset in met:
            continue
        met.add(offset)
        np.testing.assert_array_equal(read_face_points(stem + '.pts'),
                                      read_pts(stem + '.pts') - offset)
    assert met == {0.5, 1.0}

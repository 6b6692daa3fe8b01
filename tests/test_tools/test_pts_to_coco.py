"""tools/dataset_converters/pts_to_coco.py on real .pts files."""
import glob
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from tests.conftest import expected_pts_offset, load_script


@pytest.fixture(scope='module')
def tool():
    return load_script('tools/dataset_converters/pts_to_coco.py',
                       'pts_to_coco_tool')


def _copy(data_root, folder, n, dst):
    os.makedirs(dst, exist_ok=True)
    pts = sorted(glob.glob(osp.join(data_root, '300w_subset', folder,
                                    '*.pts')))[:n]
    for p in pts:
        for f in glob.glob(osp.splitext(p)[0] + '.*'):
            shutil.copy(f, dst)
    return [osp.join(dst, osp.basename(p)) for p in pts]


@pytest.fixture
def root(tmp_path, data_root):
    r = str(tmp_path / 'root')
    a = _copy(data_root, 'afw', 2, osp.join(r, 'afw'))
    h = _copy(data_root, 'helen/trainset', 2, osp.join(r, 'helen/trainset'))
    return r, a + h


def _exact(path):
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    body = lines[lines.index('{') + 1:lines.index('}')]
    return [[float(v) for v in ln.split()] for ln in body]


def test_convert_exact(tool, root, tmp_path):
    r, pts = root
    out = str(tmp_path / 'out' / 'train.json')
    coco = tool.convert(['afw', 'helen/trainset'], out, r, progress=False)
    with open(out) as f:
        assert json.load(f) == coco
    assert os.listdir(osp.dirname(out)) == ['train.json']  # no temp left
    assert len(coco['images']) == len(coco['annotations']) == 4
    assert coco['categories'][0]['id'] == 1
    offsets = set()
    for i, (p, img, ann) in enumerate(
            zip(pts, coco['images'], coco['annotations']), start=1):
        points = _exact(p)
        assert img['id'] == ann['id'] == ann['image_id'] == i
        assert img['file_name'] == osp.relpath(
            glob.glob(osp.splitext(p)[0] + '.*g')[0], r)
        assert not osp.isabs(img['file_name'])
        h, w = cv2.imread(osp.join(r, img['file_name'])).shape[:2]
        assert (img['height'], img['width']) == (h, w)
        # the 1-based files' points as 0-based centres
        offset = expected_pts_offset((h, w))
        offsets.add(offset)
        points = [[x - offset, y - offset] for x, y in points]
        kp = np.array(ann['keypoints']).reshape(68, 3)
        assert kp[:, :2].tolist() == points  # exact
        assert (kp[:, 2] == 2).all()
        assert ann['num_keypoints'] == 68 and ann['category_id'] == 1
        assert ann['iscrowd'] == 0
        xs, ys = [q[0] for q in points], [q[1] for q in points]
        assert ann['bbox'] == [min(xs), min(ys), max(xs) - min(xs),
                               max(ys) - min(ys)]
        assert ann['area'] == pytest.approx(ann['bbox'][2] * ann['bbox'][3])
        assert ann['center'] == [(min(xs) + max(xs)) / 2,
                                 (min(ys) + max(ys)) / 2]
        assert ann['scale'] == pytest.approx(max(ann['bbox'][2:]) / 200)
    assert coco['images'][0]['file_name'].startswith('afw/')
    assert coco['images'][2]['file_name'].startswith('helen/trainset/')
    assert offsets == {0.5, 1.0}  # both kinds of crop were met


def test_rejects_wrong_count(tool, root, tmp_path):
    r, pts = root
    bad = pts[1]
    with open(bad) as f:
        lines = f.read().splitlines()
    lines = [ln for ln in lines if ln.strip()]
    close = lines.index('}')
    with open(bad, 'w') as f:  # 67 points, header still says 68
        f.write('\n'.join(lines[:close - 1] + lines[close:]) + '\n')
    with pytest.raises(tool.PtsFormatError, match=osp.basename(bad)):
        tool.convert(['afw'], str(tmp_path / 'x.json'), r, progress=False)
    assert not osp.exists(tmp_path / 'x.json')
    with open(bad, 'w') as f:  # consistent header, but not 68 points
        f.write('\n'.join(['version: 1', 'n_points: 67'] +
                          lines[2:close - 1] + ['}']) + '\n')
    with pytest.raises(tool.PtsFormatError, match='67 points, expected 68'):
        tool.read_pts(bad)
    assert tool.read_pts(bad, num_points=None).shape == (67, 2)


def test_rejects_malformed_and_missing_image(tool, root, tmp_path):
    r, pts = root
    p = pts[0]
    text = open(p).read()
    with open(p, 'w') as f:
        f.write(text.replace('{', '{\nabc 12.0', 1))
    with pytest.raises(tool.PtsFormatError,
                       match=f'{osp.basename(p)}.*non-numeric'):
        tool.read_pts(p)
    with open(p, 'w') as f:
        f.write('version: 1\n{\n1 2\n}\n')
    with pytest.raises(tool.PtsFormatError, match='n_points'):
        tool.read_pts(p)
    with open(p, 'w') as f:
        f.write(text)
    for img in glob.glob(osp.splitext(p)[0] + '.*g'):
        os.remove(img)
    with pytest.raises(tool.PtsFormatError,
                       match=f'{osp.basename(p)}: no image'):
        tool.convert(['afw'], str(tmp_path / 'y.json'), r, progress=False)
    # the CLI reports the file and exits with 1
    rc = tool.main(['--root', r, '--folders', 'afw', '--out',
                    str(tmp_path / 'z.json'), '--no-progress'])
    assert rc == 1 and not osp.exists(tmp_path / 'z.json')


def test_cli_writes_json(tool, root, tmp_path, capsys):
    r, _ = root
    out = str(tmp_path / 'cli.json')
    assert tool.main(['--root', r, '--folders', 'afw', 'helen/trainset',
                      '--out', out, '--no-progress']) == 0
    assert 'wrote 4 faces' in capsys.readouterr().out
    with open(out) as f:
        assert len(json.load(f)['annotations']) == 4

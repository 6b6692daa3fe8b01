"""The README's reproduction script: each shipped row is tools/test.py on
its test config (FaceNMEMetric), and its per-image file agrees with an
independent NME computation."""
import json
import os.path as osp
import subprocess
import sys

import numpy as np

from rht_mmpose.utils.io import read_pts
from tests.conftest import REPO_ROOT


def test_face_300w_test_script_on_three_faces(data_root, tmp_path):
    out = tmp_path / 'f3t'
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'benchmarks', 'face_300w_test.py'),
        '--data-root', data_root, '--num-faces', '3', '--no-flip',
        '--no-dlib', '--out-dir', str(out)
    ], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    # the bundled default, the baseline of its pair, the from-scratch pair
    assert 'RHT-MNv2 + match (bundled default)   common' in proc.stdout
    for label in ('Trans-MNv2 (baseline)', 'RHT-R-S + match (from scratch)',
                  'Trans-R-S (from scratch)'):
        assert label in proc.stdout
    assert (out / 'ced_300w_common.png').stat().st_size > 0
    with open(out / 'results.json') as f:
        results = json.load(f)
    row = results['RHT-MNv2 + match (bundled default)']
    with open(row['per_image']) as f:
        images = json.load(f)['images']
    assert len(images) == 3
    # the printed NME is the mean of the per-image values
    io = [r['nme']['inter_ocular'] for r in images]
    assert np.isclose(row['NME_io'], np.mean(io))
    # 0 would mean ground truth leaked in; the model is at ~0.03
    assert all(0.005 < v < 0.3 for v in io), io
    # the normalisers are points 36/45 and the eye-contour centres
    path = images[0]['img_path']
    gt = read_pts(osp.splitext(osp.join(REPO_ROOT, path))[0] + '.pts')
    ratio = images[0]['nme']['inter_pupil'] / io[0]
    iod = np.linalg.norm(gt[36] - gt[45])
    ipd = np.linalg.norm(gt[36:42].mean(0) - gt[42:48].mean(0))
    assert np.isclose(ratio, iod / ipd)
    assert images[0]['subsets'] == ['helen']

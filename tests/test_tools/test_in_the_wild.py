"""tools/benchmarks/in_the_wild.py on a few faces: metrics on hand-built
cases, the ground-truth fallback of a miss, a run of the whole script."""
import json
import os.path as osp

import numpy as np
import pytest

from rht_mmpose.evaluation import face_nme
from tests.conftest import load_script

itw = load_script('tools/benchmarks/in_the_wild.py', 'in_the_wild')


def test_summary_by_hand():
    rows = [
        dict(nme_io=0.02, nme_ip=0.03, missed=False, det_s=0.1, lmk_s=0.1),
        dict(nme_io=0.05, nme_ip=0.07, missed=True, det_s=0.2, lmk_s=0.1),
        dict(nme_io=0.15, nme_ip=0.20, missed=False, det_s=0.1, lmk_s=0.2),
    ]
    s = itw.summarise(rows)
    assert s['faces'] == 3 and s['misses'] == 1
    assert s['NME_io'] == pytest.approx(0.22 / 3)
    assert s['NME_ip'] == pytest.approx(0.30 / 3)
    assert s['FR@0.1'] == pytest.approx(1 / 3)
    # CED area up to 0.1, normalised: faces at 0.02 and 0.05 count
    # (1 - 0.2) and (1 - 0.5), the failure 0
    assert s['AUC@0.1'] == pytest.approx((0.8 + 0.5 + 0.) / 3)
    assert s['det_ms_per_image'] == pytest.approx(400 / 3)
    assert s['lmk_ms_per_face'] == pytest.approx(400 / 3)
    assert s['faces_per_s'] == pytest.approx(3 / 0.8)


def test_best_match_and_the_test_faces(data_root):
    gt = np.array([10, 10, 50, 50], np.float32)
    boxes = np.array([[200, 200, 240, 240, 0.9], [12, 14, 52, 50, 0.8]])
    assert itw.best_match(boxes, gt) == 1
    assert itw.best_match(boxes[:1], gt) is None
    assert itw.best_match(np.zeros((0, 5)), gt) is None
    root = osp.join(data_root, '300w_subset')
    faces = itw.list_faces(root, itw.TEST_FOLDERS)
    folders = [f for f, _, _ in faces]
    # the 300-W common test set's two parts
    assert folders.count('helen/testset') == 330
    assert folders.count('lfpw/testset') == 224
    assert all(k.shape == (68, 2) for _, _, k in faces[:5])


class NoFace:
    """A detector that finds nothing."""

    def __call__(self, img):
        return np.zeros((0, 5), np.float32)


@pytest.fixture(scope='module')
def model():
    from rht_mmpose.apis import init_face_model
    return init_face_model()


def test_a_miss_falls_back_to_the_ground_truth_box(model, data_root):
    import cv2
    (_, path, gt), = itw.list_faces(osp.join(data_root, '300w_subset'),
                                    ['helen/testset'], 1)
    img = cv2.imread(path)
    box = itw.tight_box(gt)
    blind = itw.OurMethod('blind', model, detector=NoFace())
    kpts, missed, det_s, lmk_s = blind(img, box)
    assert missed and det_s >= 0 and lmk_s > 0
    # the landmarks of the ground-truth box
    want = blind.landmarker.landmarks(img, box[None])[0][0]
    np.testing.assert_allclose(kpts, want, atol=1e-4)
    assert face_nme(kpts, gt)[0] < 0.08
    seeing = itw.OurMethod('default', model)
    kpts, missed, _, _ = seeing(img, box)
    assert not missed and face_nme(kpts, gt)[0] < 0.08


def hide_dlib(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_dlib(name, *args, **kwargs):
        if name == 'dlib':
            raise ImportError('No module named dlib')
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, '__import__', no_dlib)


def test_the_script_on_two_faces_without_dlib(data_root, tmp_path, capsys,
                                              monkeypatch):
    hide_dlib(monkeypatch)
    with pytest.raises(SystemExit, match='pip install dlib-bin'):
        itw.DlibMethod()
    out = tmp_path / 'itw.json'
    assert itw.main(['--num-faces', '2', '--out', str(out)]) == 0
    text = capsys.readouterr().out
    assert 'dlib skipped: dlib is not installed' in text
    assert '| method | misses | NME_io | NME_ip | FR@0.1 | AUC@0.1 |' in text
    res = json.load(open(out))
    (ours, ) = res.values()
    # one face of each part (spread evenly: the first and the last), and
    # both together (the 300-W common set)
    common = ours.pop('all (300-W common set)')
    assert sorted(ours) == ['helen/testset', 'lfpw/testset']
    assert common['faces'] == 2
    assert common['NME_io'] == pytest.approx(
        (ours['helen/testset']['NME_io'] + ours['lfpw/testset']['NME_io']) / 2)
    for s in ours.values():
        assert s['faces'] == 1 and s['misses'] == 0
        assert 0 < s['NME_io'] < 0.1 and s['NME_ip'] > s['NME_io']
        assert s['faces_per_s'] > 0


def test_photo_speed_on_one_face(data_root, tmp_path):
    out = tmp_path / 'photo.json'
    photo = osp.join(data_root, 'demo_images', 'astronaut.png')
    assert itw.main(['--photo', photo, '--runs', '1', '--out',
                     str(out)]) == 0
    rows = json.load(open(out))
    assert [r['method'] for r in rows] == [
        'previous default (Haar + inference_faces)',
        'ours (default: MTCNN + fast path)', 'ours (slow, --accurate)'
    ]
    assert [r['faces'] for r in rows] == [1, 1, 1]
    assert rows[0]['vs_first'] == 1.0
    assert rows[0]['landmark_ms_per_face'] is None  # no landmark step alone
    assert rows[1]['landmark_ms_per_face'] > 0
    assert rows[2]['vs_first'] == pytest.approx(
        rows[2]['faces_per_s'] / rows[0]['faces_per_s'])


def test_photo_speed_against_the_bundled_default(data_root, tmp_path):
    """--config / --checkpoint: that model's default path beside the
    bundled default's, on the same boxes, both timed; --settings add that
    model under other settings."""
    out = tmp_path / 'photo.json'
    photo = osp.join(data_root, 'demo_images', 'astronaut.png')
    config = osp.join(itw.REPO, 'configs', 'trans_res18_s_300w.py')
    checkpoint = osp.join(itw.REPO, 'checkpoints', 'trans_res18_s_300w.pth')
    assert itw.main(['--photo', photo, '--runs', '1', '--config', config,
                     '--checkpoint', checkpoint, '--settings', 'no_flip',
                     '--out', str(out)]) == 0
    rows = json.load(open(out))
    assert [r['method'] for r in rows] == [
        'bundled default (MTCNN + fast path)',
        'trans_res18_s_300w.py (MTCNN + fast path)',
        'trans_res18_s_300w.py (no_flip)'
    ]
    assert [r['faces'] for r in rows] == [1, 1, 1]
    assert all(r['landmark_ms_per_face'] > 0 for r in rows)
    assert rows[1]['vs_first'] == pytest.approx(
        rows[1]['faces_per_s'] / rows[0]['faces_per_s'])


def test_against_adds_another_models_default_path(data_root, tmp_path):
    """--against CONFIG CHECKPOINT: that model's default path as one more
    row of the same run, on the same faces."""
    out = tmp_path / 'itw.json'
    config = osp.join(itw.REPO, 'configs', 'trans_res18_s_300w.py')
    checkpoint = osp.join(itw.REPO, 'checkpoints', 'trans_res18_s_300w.pth')
    assert itw.main(['--num-faces', '2', '--no-dlib', '--against', config,
                     checkpoint, '--out', str(out)]) == 0
    res = json.load(open(out))
    assert list(res) == ['ours (default)', 'trans_res18_s_300w.pth (default)']
    ours, other = (res[k]['all (300-W common set)'] for k in res)
    assert ours['faces'] == other['faces'] == 2
    # a different model on the same faces: a different error, both sane
    assert other['NME_io'] != ours['NME_io']
    assert 0 < other['NME_io'] < 0.1 and other['lmk_ms_per_face'] > 0


def test_against_with_photo_is_refused(capsys):
    with pytest.raises(SystemExit):
        itw.main(['--photo', 'x.jpg', '--against', 'c.py', 'w.pth'])
    assert 'with --photo, --config / --checkpoint' in capsys.readouterr().err

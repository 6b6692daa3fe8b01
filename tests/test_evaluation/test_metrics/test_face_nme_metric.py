"""Tests of FaceNMEMetric: normalisers, FR/AUC, subsets, saving, errors."""
import csv
import json
import os
import os.path as osp

import numpy as np
import pytest

from mmpose.registry import METRICS
from rht_mmpose.evaluation import FaceNMEMetric, resolve_keypoint_scheme


def make_sample(gt, pred, vis=None, img_id=0, img_path=None, bbox=None,
                **meta):
    """A data sample as ``PoseDataSample.to_dict()`` gives it to metrics."""
    gt = np.asarray(gt, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    vis = np.ones(len(gt), np.float32) if vis is None else np.asarray(vis)
    gt_instances = dict(keypoints=gt[None], keypoints_visible=vis[None])
    if bbox is not None:
        gt_instances['bboxes'] = np.asarray(bbox, np.float32)[None]
    return dict(
        pred_instances=dict(keypoints=pred[None]),
        gt_instances=gt_instances,
        img_id=img_id,
        img_path=img_path or f'imgs/{img_id}.jpg',
        **meta)


def run(metric, samples, meta=None):
    if meta is not None:
        metric.dataset_meta = meta
    metric.process([{} for _ in samples], samples)
    return metric.compute_metrics(metric.results)


META_300W = dict(dataset_name='300w', num_keypoints=68)


def face68():
    """68 points with known geometry (exact answers in comments).

    Tight box of all points: x 0..30, y 0..40 -> box sqrt(1200), diag 50.
    Outer eye corners 36=(5,10), 45=(25,10) -> inter-ocular 20.
    Eye contour means (8,10) and (22,10) -> inter-pupil 14.
    """
    g = np.full((68, 2), 15.0)
    g[36:42] = [(5, 10), (7, 8), (9, 8), (11, 10), (9, 12), (7, 12)]
    g[42:48] = [(19, 10), (21, 8), (23, 8), (25, 10), (23, 12), (21, 12)]
    g[0] = (0, 0)
    g[1] = (30, 40)
    return g


# --------------------------------------------------------------- normalisers
@pytest.mark.parametrize('mode,expected', [
    ('inter_ocular', 5 / 20),
    ('inter_pupil', 5 / 14),
    ('box', 5 / np.sqrt(30 * 40)),
    ('diagonal', 5 / 50),
])
def test_normalisers_hand_computed(mode, expected):
    gt = face68()
    pred = gt + [3.0, 4.0]  # every point 5 px off
    metric = FaceNMEMetric(norm_mode=mode, save_per_image=False)
    out = run(metric, [make_sample(gt, pred)], META_300W)
    assert out['NME'] == pytest.approx(expected, rel=1e-6)
    abbr = dict(inter_ocular='io', inter_pupil='ip', box='box',
                diagonal='diag')[mode]
    assert out[f'NME_{abbr}'] == pytest.approx(expected, rel=1e-6)


def test_several_norm_modes_in_one_run_and_main_key():
    gt = face68()
    metric = METRICS.build(
        dict(type='FaceNMEMetric', norm_mode=['inter_pupil', 'inter_ocular'],
             save_per_image=False))
    out = run(metric, [make_sample(gt, gt + [3.0, 4.0])], META_300W)
    assert out['NME_io'] == pytest.approx(0.25)
    assert out['NME_ip'] == pytest.approx(5 / 14)
    assert out['NME'] == out['NME_ip']  # the first mode is the main one
    assert {'FR@0.1', 'AUC@0.1', 'AUC@0.07'} <= set(out)


def test_box_from_annotation_bbox():
    gt = face68()
    metric = FaceNMEMetric(norm_mode=['box', 'diagonal'], box_source='bbox',
                           save_per_image=False)
    out = run(metric, [make_sample(gt, gt + [3, 4], bbox=[0, 0, 10, 40])],
              META_300W)
    assert out['NME_box'] == pytest.approx(5 / 20)
    assert out['NME_diag'] == pytest.approx(5 / np.sqrt(1700))


def test_invisible_points_ignored_in_error_and_box():
    gt = face68()
    pred = gt + [3.0, 4.0]
    vis = np.ones(68)
    gt[1] = (300, 400)  # would blow up the tight box
    pred[1] = (0, 0)  # and the error
    vis[1] = 0
    gt[2] = (30, 40)  # keeps the visible box at 30 x 40
    pred[2] = gt[2] + [3, 4]
    metric = FaceNMEMetric(norm_mode=['box', 'inter_ocular'],
                           save_per_image=False)
    out = run(metric, [make_sample(gt, pred, vis)], META_300W)
    assert out['NME_box'] == pytest.approx(5 / np.sqrt(1200))
    assert out['NME_io'] == pytest.approx(0.25)


def test_nme_is_averaged_per_image():
    # image a: io 20, every point 1 px off -> 0.05; image b: io 10 -> 0.1.
    # mmpose's NME would weight by points; per image the answer is 0.075.
    a = face68()
    b = face68()
    b[36:48, 0] = (b[36:48, 0] - 15) / 2 + 15  # halves the eye distances
    metric = FaceNMEMetric(save_per_image=False)
    out = run(metric, [
        make_sample(a, a + [1, 0], img_id=1),
        make_sample(b, b + [1, 0], img_id=2)
    ], META_300W)
    assert out['NME'] == pytest.approx((1 / 20 + 1 / 10) / 2)


@pytest.mark.parametrize('name,k,io,ip', [
    ('wflw', 98, (60, 72), ((96, ), (97, ))),
    ('cofw', 29, (8, 9), ((16, ), (17, ))),
    ('aflw', 19, (6, 11), ((7, ), (10, ))),
    ('300w', 68, (36, 45), (tuple(range(36, 42)), tuple(range(42, 48)))),
])
def test_scheme_indices(name, k, io, ip):
    rng = np.random.default_rng(0)
    gt = rng.uniform(0, 100, (k, 2))
    pred = gt + [0.0, 2.0]
    metric = FaceNMEMetric(['inter_ocular', 'inter_pupil'],
                           save_per_image=False)
    out = run(metric, [make_sample(gt, pred)],
              dict(dataset_name=name, num_keypoints=k))
    d_io = np.linalg.norm(gt[io[0]] - gt[io[1]])
    d_ip = np.linalg.norm(gt[list(ip[0])].mean(0) - gt[list(ip[1])].mean(0))
    assert out['NME_io'] == pytest.approx(2 / d_io)
    assert out['NME_ip'] == pytest.approx(2 / d_ip)


def test_keypoint_indices_override():
    gt = face68()
    # mmpose-style pair overrides inter_ocular: points 0 (0,0) and 1 (30,40)
    metric = FaceNMEMetric(keypoint_indices=[0, 1], save_per_image=False)
    out = run(metric, [make_sample(gt, gt + [3, 4])], META_300W)
    assert out['NME'] == pytest.approx(5 / 50)
    # dict form with index lists (mean) for an unknown scheme
    metric = FaceNMEMetric(
        'inter_pupil',
        keypoint_indices=dict(inter_pupil=[[0, 2], [1]]),
        save_per_image=False)
    g = np.array([[0, 0], [10, 0], [4, 0]], float)
    out = run(metric, [make_sample(g, g + [0, 1])],
              dict(dataset_name='tiny', num_keypoints=3))
    assert out['NME'] == pytest.approx(1 / 8)


# ------------------------------------------------------------------- FR / AUC
def square_samples(errors):
    """Images whose box NME is exactly ``errors`` (10 x 10 box, shift 10e)."""
    sq = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], float)
    return [
        make_sample(sq, sq + [10 * e, 0], img_id=i)
        for i, e in enumerate(errors)
    ]


def numeric_auc(errors, t, n=200001):
    xs = np.linspace(0, t, n)
    ced = (np.asarray(errors)[None, :] <= xs[:, None]).mean(1)
    return np.trapz(ced, xs) / t


def test_fr_auc_against_numerical_integration():
    errors = [0.0, 0.013, 0.02, 0.05, 0.069, 0.08, 0.1, 0.12, 0.3, 0.045]
    metric = FaceNMEMetric('box', save_per_image=False)
    out = run(metric, square_samples(errors))
    assert out['NME'] == pytest.approx(np.mean(errors))
    assert out['FR@0.1'] == pytest.approx(2 / 10)  # 0.1 itself is no failure
    assert out['AUC@0.1'] == pytest.approx(numeric_auc(errors, 0.1), abs=1e-4)
    assert out['AUC@0.07'] == pytest.approx(
        numeric_auc(errors, 0.07), abs=1e-4)


def test_auc_extremes_and_custom_thresholds():
    metric = FaceNMEMetric('box', fr_threshold=0.08,
                           auc_thresholds=[0.08], save_per_image=False)
    out = run(metric, square_samples([0.0] * 5))
    assert out['AUC@0.08'] == 1.0 and out['FR@0.08'] == 0.0
    metric = FaceNMEMetric('box', save_per_image=False)
    out = run(metric, square_samples([0.11, 0.5, 0.2]))
    assert out['AUC@0.1'] == 0.0 and out['AUC@0.07'] == 0.0
    assert out['FR@0.1'] == 1.0


# -------------------------------------------------------------------- subsets
def test_subset_file_keys_average_to_full(tmp_path):
    errors = [0.01, 0.02, 0.03, 0.04, 0.05, 0.15]
    samples = square_samples(errors)
    subset_txt = tmp_path / 'subsets.txt'
    # common by file name, challenging by img_id
    subset_txt.write_text('common 0.jpg\ncommon imgs/1.jpg\ncommon 2.jpg\n'
                          'challenging 3\nchallenging 4\nchallenging 5\n')
    metric = FaceNMEMetric('box', subset_file=str(subset_txt),
                           save_per_image=False)
    out = run(metric, samples)
    assert out['NME/common'] == pytest.approx(0.02)
    assert out['NME/challenging'] == pytest.approx(0.08)
    for key in ('NME', 'FR@0.1', 'AUC@0.1', 'AUC@0.07'):
        full = (3 * out[f'{key}/common'] + 3 * out[f'{key}/challenging']) / 6
        assert out[key] == pytest.approx(full)


def test_subset_json_and_dict_of_lists(tmp_path):
    samples = square_samples([0.01, 0.02, 0.06])  # 0.jpg, 1.jpg, 2.jpg
    (tmp_path / 's.json').write_text(json.dumps({'a': [0], 'b': ['2.jpg']}))
    # a WFLW list line: the face's 2K coordinates, attributes, image
    (tmp_path / 'wflw_pose.txt').write_text(
        '0 0 10 0 0 10 10 10 1 0 0 0 0 0 some/dir/1.jpg\n')
    metric = FaceNMEMetric('box', subset_file=str(tmp_path / 's.json'),
                           save_per_image=False)
    out = run(metric, samples)
    assert out['NME/a'] == pytest.approx(0.01)
    assert out['NME/b'] == pytest.approx(0.06)
    metric = FaceNMEMetric(
        'box', subset_file=dict(pose=str(tmp_path / 'wflw_pose.txt')),
        save_per_image=False)
    samples[1]['img_path'] = '/data/wflw/images/some/dir/1.jpg'
    out = run(metric, samples)
    assert out['NME/pose'] == pytest.approx(0.02)


def test_subset_tags_from_metainfo():
    errors = [0.01, 0.02, 0.04, 0.08, 0.16]
    samples = square_samples(errors)
    pose = [1, 0, 1, 0, 1]
    blur = [0, 0, 1, 1, 0]
    for s, p, b in zip(samples, pose, blur):
        s['pose'] = p
        s['blur'] = np.array(b)
    samples[4]['blur'] = 'false'  # string flags are read too
    samples[1]['subsets'] = ['blur']  # tag via a list
    metric = FaceNMEMetric('box', subset_tags=['pose', 'blur', 'makeup'],
                           save_per_image=False)
    out = run(metric, samples)
    e = np.array(errors)
    assert out['NME/pose'] == pytest.approx(e[[0, 2, 4]].mean())
    assert out['NME/blur'] == pytest.approx(e[[1, 2, 3]].mean())
    assert out['FR@0.1/pose'] == pytest.approx(1 / 3)
    assert 'NME/makeup' not in out  # no image carries it


# --------------------------------------------------------------------- saving
def test_per_image_files_saved_atomically(tmp_path):
    gt = face68()
    prefix = str(tmp_path / 'out' / 'res')
    metric = FaceNMEMetric(['inter_ocular', 'inter_pupil'],
                           outfile_prefix=prefix, subset_tags=['pose'])
    s1 = make_sample(gt, gt + [3, 4], img_id=7, img_path='a/7.png', pose=1)
    s2 = make_sample(gt, gt, img_id=8, img_path='a/8.png', pose=0)
    out = run(metric, [s1, s2], META_300W)
    with open(prefix + '.per_image.json') as f:
        data = json.load(f)
    assert data['main_norm_mode'] == 'inter_ocular'
    assert data['images'][0] == dict(
        img_id=7, img_path='a/7.png',
        nme=dict(inter_ocular=pytest.approx(0.25),
                 inter_pupil=pytest.approx(5 / 14)),
        subsets=['pose'])
    assert data['metrics']['NME'] == pytest.approx(out['NME'])
    with open(prefix + '.per_image.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    assert [r['img_id'] for r in rows] == ['7', '8']
    assert float(rows[0]['nme_ip']) == pytest.approx(5 / 14)
    assert rows[0]['subsets'] == 'pose' and rows[1]['subsets'] == ''
    # nothing but the two files (no temp file left behind)
    assert sorted(os.listdir(osp.dirname(prefix))) == [
        'res.per_image.csv', 'res.per_image.json'
    ]


# --------------------------------------------------------------------- errors
def test_unknown_scheme_error_names_it():
    metric = FaceNMEMetric(['inter_ocular', 'inter_pupil'])
    with pytest.raises(ValueError) as e:
        metric.dataset_meta = dict(dataset_name='my_faces', num_keypoints=21)
    msg = str(e.value)
    assert "'my_faces'" in msg and '21 keypoints' in msg
    assert 'inter_ocular needs the two outer eye corners' in msg
    assert 'inter_pupil' in msg and 'box and diagonal work' in msg
    # box / diagonal need no scheme
    metric = FaceNMEMetric(['box', 'diagonal'], save_per_image=False)
    metric.dataset_meta = dict(dataset_name='my_faces', num_keypoints=21)


def test_scheme_mismatch_and_missing_pupils():
    with pytest.raises(ValueError, match="'wflw' has 68 keypoints, expected"):
        resolve_keypoint_scheme(dict(dataset_name='wflw', num_keypoints=68))
    metric = FaceNMEMetric('inter_pupil')
    with pytest.raises(ValueError, match="'inter_pupil' is not defined for "
                       "keypoint scheme 'lapa'"):
        metric.dataset_meta = dict(dataset_name='lapa', num_keypoints=106)


def test_bad_arguments():
    with pytest.raises(ValueError, match="norm_mode 'pupil' is not"):
        FaceNMEMetric('pupil')
    with pytest.raises(ValueError, match='expected a pair'):
        FaceNMEMetric(keypoint_indices=[1, 2, 3])
    with pytest.raises(ValueError, match='uses keypoint 70'):
        m = FaceNMEMetric(keypoint_indices=[36, 70])
        m.dataset_meta = META_300W


# ----------------------------------------------------------------- real data
@pytest.mark.parametrize('name,cls,io', [
    ('300w', 'Face300WDataset', (36, 45)),
    ('wflw', 'WFLWDataset', (60, 72)),
    ('cofw', 'COFWDataset', (8, 9)),
    ('aflw', 'AFLWDataset', (6, 11)),
])
def test_real_mmpose_annotations(data_root, name, cls, io):
    """Schemes resolve from real dataset metainfo; gt as prediction -> 0."""
    from mmpose.registry import DATASETS
    root = osp.join(data_root, 'mmpose_samples', name)
    ds = DATASETS.build(
        dict(type=cls, data_root=root, ann_file=f'test_{name}.json',
             data_prefix=dict(img=''), test_mode=True, pipeline=[]))
    metric = FaceNMEMetric(['inter_ocular', 'inter_pupil', 'box'],
                           save_per_image=False)
    metric.dataset_meta = ds.metainfo
    samples = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        kp = info['keypoints'][0]
        samples.append(make_sample(kp, kp + [0.5, 0.0],
                                   info['keypoints_visible'][0],
                                   img_id=info['img_id'],
                                   img_path=info['img_path']))
    out = run(metric, samples)
    expected = np.mean([
        0.5 / np.linalg.norm(s['gt_instances']['keypoints'][0, io[0]] -
                             s['gt_instances']['keypoints'][0, io[1]])
        for s in samples
    ])
    assert out['NME_io'] == pytest.approx(expected, rel=1e-5)
    assert out['FR@0.1'] == 0.0 and 0.9 < out['AUC@0.1'] < 1.0


def test_single_image_agrees_with_mmpose_nme():
    """With one image, per-image and per-point averaging coincide."""
    from mmpose.evaluation.metrics import NME
    rng = np.random.default_rng(1)
    gt = rng.uniform(0, 100, (98, 2))
    sample = make_sample(gt, gt + rng.normal(0, 2, gt.shape))
    meta = dict(dataset_name='wflw', num_keypoints=98)
    ref = NME(norm_mode='keypoint_distance')
    ref.dataset_meta = meta
    ref.process([], [sample])
    ours = FaceNMEMetric(save_per_image=False)
    out = run(ours, [sample], meta)
    assert out['NME'] == pytest.approx(ref.compute_metrics(ref.results)['NME'])


def test_through_mmengine_evaluator_with_pose_data_samples(tmp_path):
    """PoseDataSample -> Evaluator.process (to_dict) -> keys and tags."""
    from mmengine.evaluator import Evaluator
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    gt = face68()
    evaluator = Evaluator(
        dict(type='FaceNMEMetric', norm_mode=['inter_ocular', 'inter_pupil'],
             subset_tags=['pose'], outfile_prefix=str(tmp_path / 'r')))
    evaluator.dataset_meta = META_300W
    samples = []
    for i, (shift, pose) in enumerate(((3, 1), (0, 0))):
        ds = PoseDataSample(
            metainfo=dict(img_id=i, img_path=f'{i}.png', pose=pose))
        ds.gt_instances = InstanceData(
            keypoints=gt[None], keypoints_visible=np.ones((1, 68)))
        ds.pred_instances = InstanceData(keypoints=gt[None] + [shift, 0])
        samples.append(ds)
    evaluator.process(samples, dict(inputs=None))
    out = evaluator.evaluate(2)
    assert out['NME_io'] == pytest.approx(3 / 20 / 2)
    assert out['NME/pose'] == pytest.approx(3 / 20)
    assert out['NME_ip/pose'] == pytest.approx(3 / 14)
    assert osp.isfile(tmp_path / 'r.per_image.json')

"""The paper configs report what the paper's tables compare against.

For each benchmark the paper config's own test evaluator is fed hand-built
predictions on mmpose's format samples (data roots pointed at
../shared/data/mmpose_samples, subset files written in mmpose's format), and
every printed metric is checked against an independent computation with the
right normaliser. Also: the flip test decodes a perfect heatmap to the true
position, no paper config keeps a best checkpoint, the validation split is
carved from the training faces, COFW's occluded landmarks get weight 0.
"""
import copy
import json
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine import Config
from mmengine.registry import init_default_scope

import rht_mmpose  # noqa: F401
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import DATASETS, KEYPOINT_CODECS, METRICS, TRANSFORMS
from rht_mmpose.codecs.face_schemes import get_face_scheme
from rht_mmpose.datasets.face_train_val_split import train_val_indices
from rht_mmpose.utils.face_geometry import shift_heatmaps_right

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLES = osp.join(REPO, '..', 'shared', 'data', 'mmpose_samples')
BENCH = ['wflw', '300w', 'cofw', 'aflw']
PAPER = [f'rht_{m}_{b}.py' for m in ('hrnet_w48', 'res50') for b in BENCH]

pytestmark = pytest.mark.skipif(
    not osp.isdir(SAMPLES), reason='mmpose format samples not here')


def load(rel):
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        return Config.fromfile(osp.join(REPO, 'configs', rel))
    finally:
        os.chdir(cwd)


def sample_faces(bench):
    """(images by id, annotations) of the format sample json."""
    d = json.load(open(osp.join(SAMPLES, bench, f'test_{bench}.json')))
    return {i['id']: i for i in d['images']}, d['annotations'], d


def write_subset(path, d, ann_ids):
    """An mmpose-style (COCO) subset file holding some faces of ``d``."""
    anns = [a for a in d['annotations'] if a['id'] in ann_ids]
    imgs = [i for i in d['images'] if i['id'] in {a['image_id']
                                                   for a in anns}]
    # the subset files of mmpose renumber their ids (wflw2coco.py)
    anns = [dict(a, id=100 + n) for n, a in enumerate(anns)]
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(dict(images=imgs, annotations=anns, categories=[]), f)


def evaluator_on_samples(cfg, bench, tmp_path):
    """The config's test evaluator with its subset files under tmp_path."""
    ev = cfg.test_evaluator.to_dict()
    sf = ev.get('subset_file')
    if isinstance(sf, dict):
        ev['subset_file'] = {
            s: str(tmp_path / osp.basename(p))
            for s, p in sf.items()
        }
    return ev


def samples_through_pipeline(cfg, bench):
    """Packed data samples (dicts) of the format sample's faces, read with
    the config's own test dataset and pipeline."""
    init_default_scope('mmpose')
    ds_cfg = copy.deepcopy(cfg.test_dataloader.dataset.dataset.to_dict())
    ds_cfg.update(
        data_root=osp.join(SAMPLES, bench),
        ann_file=f'test_{bench}.json',
        data_prefix=dict(img=''),
        pipeline=cfg.test_dataloader.dataset.pipeline)
    dataset = DATASETS.build(ds_cfg)
    out = []
    for i in range(len(dataset)):
        item = dataset[i]
        out.append(item['data_samples'])
    return dataset, out


def predict(samples, rng):
    """Hand-built predictions: ground truth + a known offset per point."""
    outs, offsets = [], []
    for s in samples:
        gt = np.asarray(s.gt_instances.keypoints, dtype=np.float64)
        off = rng.normal(0, 3, size=gt.shape)
        d = s.to_dict()
        d['pred_instances'] = dict(keypoints=gt + off)
        outs.append(d)
        offsets.append(off[0])
    return outs, offsets


def run_metric(ev, meta, samples):
    metric = METRICS.build(ev)
    metric.dataset_meta = meta
    metric.process([], samples)
    return metric.compute_metrics(metric.results)


def summary(errs, thr_fr, thr_auc):
    errs = np.asarray(errs, dtype=np.float64)
    out = dict(FR=float(np.mean(errs > thr_fr)))
    for t in thr_auc:
        # exact area under the step CED, brute force on a fine grid check
        out[t] = float(np.mean([max(0.0, 1 - e / t) for e in errs]))
    return out


def nme_by_hand(gt, off, d):
    return sum(math.hypot(*o) for o in off) / len(off) / d


def dist(a, b):
    return math.hypot(a[0] - b[0], a[1] - b[1])


# ------------------------------------------------------------------ metrics
@pytest.mark.parametrize('model', ['hrnet_w48', 'res50'])
def test_wflw_subsets_are_per_face(model, tmp_path):
    """A photo with three faces, only one of them in the 'pose' subset."""
    cfg = load(f'rht_{model}_wflw.py')
    imgs, anns, d = sample_faces('wflw')
    photo = [a['id'] for a in anns if a['image_id'] == 12]
    assert len(photo) == 3  # the multi-face photo of the sample
    pose_face = photo[1]
    subsets = dict(
        largepose=[pose_face], expression=[photo[0], photo[2]],
        illumination=[2], makeup=[2, pose_face], occlusion=[photo[0]],
        blur=[2, photo[0], photo[1], photo[2]])
    for name, ids in subsets.items():
        write_subset(
            str(tmp_path / f'face_landmarks_wflw_test_{name}.json'), d, ids)
    dataset, samples = samples_through_pipeline(cfg, 'wflw')
    rng = np.random.default_rng(1)
    preds, offs = predict(samples, rng)
    out = run_metric(
        evaluator_on_samples(cfg, 'wflw', tmp_path), dataset.metainfo,
        preds)

    # independent: per face, inter-ocular 60 / 72 of its own annotation
    by_id, errs = {}, []
    for s, off in zip(samples, offs):
        g = np.asarray(s.gt_instances.keypoints, dtype=np.float64)[0]
        e = nme_by_hand(g, off, dist(g[60], g[72]))
        by_id[s.metainfo['id']] = e
        errs.append(e)
    names = dict(largepose='pose')
    expected = {}
    for sub, ids in [('', list(by_id))] + list(subsets.items()):
        e = [by_id[i] for i in ids]
        sfx = f'/{names.get(sub, sub)}' if sub else ''
        sm = summary(e, 0.1, [0.1])
        expected[f'NME{sfx}'] = np.mean(e)
        expected[f'NME_io{sfx}'] = np.mean(e)
        expected[f'FR@0.1{sfx}'] = sm['FR']
        expected[f'AUC@0.1{sfx}'] = sm[0.1]
    assert set(out) == set(expected)
    for k, v in expected.items():
        assert out[k] == pytest.approx(v, abs=1e-9), k
    # the pose face is not averaged with the other two faces of its photo
    assert out['NME/pose'] == pytest.approx(by_id[pose_face])
    assert out['NME/pose'] != pytest.approx(
        np.mean([by_id[i] for i in photo]))


@pytest.mark.parametrize('model', ['hrnet_w48', 'res50'])
def test_300w_full_common_challenging(model, tmp_path):
    cfg = load(f'rht_{model}_300w.py')
    imgs, anns, d = sample_faces('300w')
    write_subset(
        str(tmp_path / 'face_landmarks_300w_valid_common.json'), d,
        [anns[0]['id']])
    write_subset(
        str(tmp_path / 'face_landmarks_300w_valid_challenge.json'), d,
        [anns[1]['id']])
    dataset, samples = samples_through_pipeline(cfg, '300w')
    preds, offs = predict(samples, np.random.default_rng(2))
    out = run_metric(
        evaluator_on_samples(cfg, '300w', tmp_path), dataset.metainfo,
        preds)
    io, ip, ids = [], [], []
    for s, off in zip(samples, offs):
        g = np.asarray(s.gt_instances.keypoints, dtype=np.float64)[0]
        io.append(nme_by_hand(g, off, dist(g[36], g[45])))
        left, right = g[36:42].mean(0), g[42:48].mean(0)
        ip.append(nme_by_hand(g, off, dist(left, right)))
        ids.append(s.metainfo['id'])
    sel = dict(common=[ids.index(anns[0]['id'])],
               challenging=[ids.index(anns[1]['id'])])
    expected = {}
    for sub, idx in [('', [0, 1])] + list(sel.items()):
        sfx = f'/{sub}' if sub else ''
        e_io = [io[i] for i in idx]
        sm = summary(e_io, 0.1, [0.1, 0.07])
        expected.update({
            f'NME{sfx}': np.mean(e_io),
            f'NME_io{sfx}': np.mean(e_io),
            f'NME_ip{sfx}': np.mean([ip[i] for i in idx]),
            f'FR@0.1{sfx}': sm['FR'],
            f'AUC@0.1{sfx}': sm[0.1],
            f'AUC@0.07{sfx}': sm[0.07]
        })
    assert set(out) == set(expected)
    for k, v in expected.items():
        assert out[k] == pytest.approx(v, abs=1e-9), k


@pytest.mark.parametrize('model', ['hrnet_w48', 'res50'])
def test_300w_private_config(model):
    """The private-set config reads mmpose's 600-face test json; the sample
    faces are private-set photos (indoor_*)."""
    cfg = load(f'rht_{model}_300w_private.py')
    assert cfg.test_dataloader.dataset.dataset.ann_file == \
        'annotations/face_landmarks_300w_test.json'
    assert cfg.val_dataloader.dataset.dataset.ann_file == \
        'annotations/face_landmarks_300w_valid.json'
    dataset, samples = samples_through_pipeline(cfg, '300w')
    preds, offs = predict(samples, np.random.default_rng(3))
    out = run_metric(cfg.test_evaluator.to_dict(), dataset.metainfo, preds)
    io = [
        nme_by_hand(g, o, dist(g[36], g[45])) for g, o in zip(
            [np.asarray(s.gt_instances.keypoints)[0] for s in samples], offs)
    ]
    assert set(out) == {
        'NME', 'NME_io', 'NME_ip', 'FR@0.1', 'AUC@0.1', 'AUC@0.08',
        'AUC@0.07'
    }
    assert out['NME'] == pytest.approx(np.mean(io))
    assert out['AUC@0.08'] == pytest.approx(summary(io, 0.1, [0.08])[0.08])


@pytest.mark.parametrize('model', ['hrnet_w48', 'res50'])
def test_cofw_pupils_main_and_mmpose_normaliser(model, tmp_path):
    cfg = load(f'rht_{model}_cofw.py')
    dataset, samples = samples_through_pipeline(cfg, 'cofw')
    preds, offs = predict(samples, np.random.default_rng(4))
    out = run_metric(
        evaluator_on_samples(cfg, 'cofw', tmp_path), dataset.metainfo,
        preds)
    ip, io = [], []
    for s, off in zip(samples, offs):
        g = np.asarray(s.gt_instances.keypoints, dtype=np.float64)[0]
        ip.append(nme_by_hand(g, off, dist(g[16], g[17])))  # pupils
        io.append(nme_by_hand(g, off, dist(g[8], g[9])))  # mmpose's
    sm = summary(ip, 0.1, [0.1])
    assert set(out) == {'NME', 'NME_ip', 'NME_io', 'FR@0.1', 'AUC@0.1'}
    assert out['NME'] == pytest.approx(np.mean(ip))
    assert out['NME_ip'] == pytest.approx(np.mean(ip))
    assert out['NME_io'] == pytest.approx(np.mean(io))
    assert out['FR@0.1'] == pytest.approx(sm['FR'])
    assert out['AUC@0.1'] == pytest.approx(sm[0.1])
    # every point counts, occluded ones too (COFW's protocol)
    assert all(np.asarray(s.gt_instances.keypoints_visible).min() > 0
               for s in samples)


@pytest.mark.parametrize('model', ['hrnet_w48', 'res50'])
def test_aflw_box_size_full_and_frontal(model, tmp_path):
    cfg = load(f'rht_{model}_aflw.py')
    imgs, anns, d = sample_faces('aflw')
    write_subset(
        str(tmp_path / 'face_landmarks_aflw_test_frontal.json'), d,
        [anns[1]['id']])
    dataset, samples = samples_through_pipeline(cfg, 'aflw')
    preds, offs = predict(samples, np.random.default_rng(5))
    out = run_metric(
        evaluator_on_samples(cfg, 'aflw', tmp_path), dataset.metainfo,
        preds)
    box_size = {a['id']: a['box_size'] for a in anns}
    bs, diag, ids = [], [], []
    for s, off in zip(samples, offs):
        g = np.asarray(s.gt_instances.keypoints, dtype=np.float64)[0]
        bs.append(nme_by_hand(g, off, box_size[s.metainfo['id']]))
        w, h = g[:, 0].max() - g[:, 0].min(), g[:, 1].max() - g[:, 1].min()
        diag.append(nme_by_hand(g, off, math.hypot(w, h)))
        ids.append(s.metainfo['id'])
    assert sorted(box_size.values()) == [128.0, 362.0]
    expected = {}
    for sub, idx in [('', [0, 1]), ('frontal', [ids.index(anns[1]['id'])])]:
        sfx = f'/{sub}' if sub else ''
        e = [bs[i] for i in idx]
        sm = summary(e, 0.1, [0.1, 0.07])
        expected.update({
            f'NME{sfx}': np.mean(e),
            f'NME_box_size{sfx}': np.mean(e),
            f'NME_diag{sfx}': np.mean([diag[i] for i in idx]),
            f'FR@0.1{sfx}': sm['FR'],
            f'AUC@0.1{sfx}': sm[0.1],
            f'AUC@0.07{sfx}': sm[0.07]
        })
    assert set(out) == set(expected)
    for k, v in expected.items():
        assert out[k] == pytest.approx(v, abs=1e-9), k


def test_box_size_missing_is_named():
    metric = METRICS.build(dict(type='FaceNMEMetric', norm_mode='box_size'))
    sample = dict(
        img_id=7,
        img_path='a.jpg',
        gt_instances=dict(keypoints=np.zeros((1, 19, 2))),
        pred_instances=dict(keypoints=np.zeros((1, 19, 2))))
    with pytest.raises(KeyError, match="box_size.*data sample 7"):
        metric.process([], [sample])


# ---------------------------------------------------------------- flip test
def _flip_decode(codec_cfg, flip_indices, shift):
    """Decode the average of a perfect heatmap and the perfect heatmap of
    the flipped image flipped back (with ``shift``)."""
    codec = KEYPOINT_CODECS.build(codec_cfg)
    k = len(flip_indices)
    w_in, h_in = codec_cfg['input_size']
    rng = np.random.default_rng(0)
    kpts = rng.uniform(40, 216, size=(1, k, 2))
    vis = np.ones((1, k))
    hm = codec.encode(kpts, vis)['heatmaps'][:k]
    fl = kpts.copy()[:, flip_indices]  # the flipped image's landmark i
    fl[..., 0] = w_in - 1 - fl[..., 0]
    hm_f = codec.encode(fl, vis)['heatmaps'][:k]
    back = flip_heatmaps(
        torch.from_numpy(hm_f[None]).float(),
        flip_mode='heatmap',
        flip_indices=flip_indices,
        shift_heatmap=False)
    if shift:
        back = shift_heatmaps_right(back, shift)
    avg = (torch.from_numpy(hm[None]).float() + back) * 0.5
    pred, _ = codec.decode(avg[0].numpy())
    return np.abs(pred[0] - kpts[0]).max()


@pytest.mark.parametrize('name', PAPER)
def test_flip_test_exact_shift(name):
    cfg = load(name)
    assert cfg.model.test_cfg.flip_test
    codec = cfg.codec.to_dict()
    stride = codec['input_size'][0] / codec['heatmap_size'][0]
    assert cfg.model.test_cfg.shift_heatmap == pytest.approx(1 - 1 / stride)
    k = cfg.model.head.num_keypoints
    scheme = get_face_scheme({98: 'wflw', 68: '300w', 29: 'cofw',
                              19: 'aflw'}[k])
    flip = scheme['flip_indices']
    err = _flip_decode(codec, flip, cfg.model.test_cfg.shift_heatmap)
    assert err < 0.1  # input pixels
    # without the shift the flipped half sits half a heatmap pixel off
    assert _flip_decode(codec, flip, 0.0) > 0.3


def test_heatmap_baselines_flip_exact():
    cfg = load('baselines/res50_300w.py')
    assert cfg.codec.type == 'UDPHeatmap'
    assert cfg.model.test_cfg.flip_test
    assert cfg.model.test_cfg.shift_heatmap is False
    # UDP's own encode / decode is not exact (sigma 2 at 64x64, up to
    # 0.85 px), so the check is that the flip adds nothing to it: the
    # flipped-back heatmap equals the direct one, with no shift
    codec = KEYPOINT_CODECS.build(cfg.codec.to_dict())
    flip = get_face_scheme('300w')['flip_indices']
    kpts = np.random.default_rng(0).uniform(40, 216, size=(1, 68, 2))
    vis = np.ones((1, 68))
    hm = codec.encode(kpts, vis)['heatmaps']
    fl = kpts.copy()[:, flip]
    fl[..., 0] = 256 - 1 - fl[..., 0]
    back = flip_heatmaps(
        torch.from_numpy(codec.encode(fl, vis)['heatmaps'][None]),
        flip_mode='heatmap', flip_indices=flip, shift_heatmap=False)[0]
    assert np.abs(back.numpy() - hm).max() < 1e-5
    shifted = flip_heatmaps(
        torch.from_numpy(codec.encode(fl, vis)['heatmaps'][None]),
        flip_mode='heatmap', flip_indices=flip, shift_heatmap=True)[0]
    assert np.abs(shifted.numpy() - hm).max() > 0.1  # mmpose's 1-px shift
    for name in ('hrnet_w32_300w', 'hourglass1_300w', 'hourglass4_300w'):
        c = load(f'baselines/{name}.py')
        assert c.model.test_cfg == cfg.model.test_cfg
        assert c.codec == cfg.codec


# ----------------------------------------------------------- model choice
def _all_paper_configs():
    """The paper's configs: not the shipped models' configs beside them,
    which are our own experiments' (test_all_configs.is_local)."""
    from tests.test_configs.test_all_configs import is_local
    out = []
    for sub in ('', 'baselines', 'ablations'):
        d = osp.join(REPO, 'configs', sub)
        out += [
            osp.join(sub, f) for f in sorted(os.listdir(d))
            if f.endswith('.py') and (sub or f.startswith('rht_'))
            and not is_local(osp.join(sub, f))
        ]
    return out


@pytest.mark.parametrize('name', _all_paper_configs())
def test_no_best_checkpoint_on_test(name):
    cfg = load(name)
    ck = cfg.default_hooks.checkpoint
    assert not ck.get('save_best'), name
    assert ck.get('save_last', True)
    # one validation, after the last epoch (the reported test figure)
    assert cfg.train_cfg.val_interval == cfg.train_cfg.max_epochs
    assert cfg.auto_scale_lr.base_batch_size == \
        cfg.train_dataloader.batch_size * 8


def test_train_val_indices():
    s = train_val_indices(100, 0.05, seed=0)
    assert len(s['val']) == 5 and len(s['train']) == 95
    assert sorted(s['val'] + s['train']) == list(range(100))
    assert s == train_val_indices(100, 0.05, seed=0)
    assert s['val'] != train_val_indices(100, 0.05, seed=1)['val']
    perm = np.random.default_rng(0).permutation(100)
    assert s['val'] == sorted(perm[:5].tolist())
    with pytest.raises(ValueError, match='val_fraction 1.5'):
        train_val_indices(10, 1.5, 0)
    with pytest.raises(ValueError, match='out of 1 face'):
        train_val_indices(1, 0.5, 0)


def test_val_split_config_pool_without_val_faces(tmp_path):
    cfg = load('val_split/rht_res50_wflw_val.py')
    assert cfg.default_hooks.checkpoint.save_best == 'NME'
    assert cfg.train_cfg.val_interval == 10
    assert cfg.val_evaluator.subset_file is None
    init_default_scope('mmpose')

    def on_samples(side):
        side = copy.deepcopy(side.to_dict())
        side['dataset'].update(
            data_root=osp.join(SAMPLES, 'wflw'),
            ann_file='test_wflw.json',
            data_prefix=dict(img=''))
        side['val_fraction'] = 0.25  # 1 of the sample's 4 faces
        return DATASETS.build(side)

    val_ds = on_samples(cfg.val_dataloader.dataset.dataset)
    pool = on_samples(cfg.val_dataloader.dataset.ref_pool)
    train = on_samples(cfg.train_dataloader.dataset.dataset)
    test_pool = on_samples(cfg.test_dataloader.dataset.ref_pool)
    ids = lambda ds: {ds.get_data_info(i)['id'] for i in range(len(ds))}
    assert len(val_ds) == 1 and len(pool) == 3
    assert ids(val_ds).isdisjoint(ids(pool))
    assert ids(train) == ids(pool) == ids(test_pool)
    assert val_ds.metainfo['dataset_name'] == 'wflw'
    # the test is the paper config's
    paper = load('rht_res50_wflw.py')
    assert cfg.test_dataloader.dataset.dataset == \
        paper.test_dataloader.dataset.dataset
    assert cfg.test_evaluator == paper.test_evaluator


def test_val_split_config_alone_gives_the_split(tmp_path):
    """What mmpose's tools/train.py runs (Config.fromfile, Runner.from_cfg)
    trains with the split: no tool of ours needs to apply it."""
    from mmengine.runner import Runner
    cfg = load('val_split/rht_res50_wflw_val.py')
    paper = load('rht_res50_wflw.py')
    assert 'val_split' not in paper
    assert cfg.val_split == dict(val_fraction=0.05, seed=0, val_interval=10)
    # the expected config, written out from the paper config
    faces = paper.train_dataloader.dataset.dataset.to_dict()

    def side(split, **kwargs):
        return dict(type='FaceTrainValSplit', dataset=faces,
                    val_fraction=0.05, seed=0, split=split, **kwargs)

    expected = copy.deepcopy(paper.to_dict())
    expected['val_split'] = cfg.val_split.to_dict()
    expected['train_dataloader']['dataset']['dataset'] = side('train')
    expected['val_dataloader']['dataset'].update(
        dataset=side('val', test_mode=True), ref_pool=side('train'))
    expected['test_dataloader']['dataset']['ref_pool'] = side('train')
    expected['val_evaluator']['subset_file'] = None
    expected['train_cfg']['val_interval'] = 10
    expected['default_hooks']['checkpoint'].update(save_best='NME',
                                                   rule='less')
    assert cfg.to_dict() == expected
    # the runner mmpose's tools build from it (no training) holds the split
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    assert runner._train_dataloader.dataset.dataset == side('train')
    assert runner._val_dataloader.dataset.dataset == side('val',
                                                          test_mode=True)
    assert runner._val_dataloader.dataset.ref_pool == side('train')
    assert runner._test_dataloader.dataset.ref_pool == side('train')
    assert runner._val_evaluator == expected['val_evaluator']
    assert runner._train_loop['val_interval'] == 10
    best = [h for h in runner.hooks if hasattr(h, 'save_best')]
    assert [h.save_best for h in best] == [['NME']]
    # the config it dumps loads back to itself (nothing is applied twice)
    dumped = Config.fromfile(tmp_path / osp.basename(cfg.filename))
    assert dumped.to_dict() == runner.cfg.to_dict()


# --------------------------------------------------------- COFW occlusion
def test_cofw_occluded_landmarks_weight_zero():
    cfg = load('rht_res50_cofw.py')
    steps = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert steps.index('OccludedKeypointWeights') == \
        steps.index('GenerateTarget') + 1
    init_default_scope('mmpose')
    ds_cfg = dict(
        type='COFWDataset',
        data_root=osp.join(SAMPLES, 'cofw'),
        ann_file='test_cofw.json',
        data_prefix=dict(img=''),
        pipeline=[])
    dataset = DATASETS.build(ds_cfg)
    flip = get_face_scheme('cofw')['flip_indices']
    for do_flip in (False, True):
        pipe = []
        for t in cfg.train_dataloader.dataset.pipeline:
            t = copy.deepcopy(t.to_dict())
            if t['type'] == 'RandomFlip':
                t['prob'] = 1.0 if do_flip else 0.0
            if t['type'] in ('RandomBBoxTransform', 'RandomOcclusion',
                             'RandomGaussianBlur', 'RandomGrayscale',
                             'PackPoseInputs'):
                continue
            pipe.append(TRANSFORMS.build(t))
        for i in range(len(dataset)):
            res = dataset.get_data_info(i)
            for t in pipe:
                res = t(res)
            flags = np.asarray(res['raw_ann_info']['keypoints']).reshape(
                -1, 3)[:, 2]
            occluded = flags == 1
            if do_flip:
                occluded = occluded[flip]
            w = res['keypoint_weights'][0]
            assert occluded.any()
            assert (w[occluded] == 0).all() and (w[~occluded] == 1).all()
            # still annotated and visible for boundaries and evaluation
            assert res['keypoints_visible'].min() == 1


def test_low_resolution_reference_transform():
    import cv2
    cfg = load('ablations/rht_hrnet_w48_300w_ref_lowres32.py')
    steps = cfg.test_dataloader.dataset.ref_pipeline
    assert [s['type'] for s in steps][2:4] == ['TopdownAffine',
                                              'LowResolution']
    assert steps[3]['size'] == 32
    assert load('ablations/rht_hrnet_w48_300w_ref_lowres64.py'
                ).test_dataloader.dataset.ref_pipeline[3]['size'] == 64
    img = (np.random.default_rng(0).random((128, 128, 3)) * 255).astype(
        np.uint8)
    out = TRANSFORMS.build(dict(type='LowResolution', size=32))(
        dict(img=img.copy()))['img']
    small = cv2.resize(img, (32, 32), interpolation=cv2.INTER_CUBIC)
    assert out.shape == img.shape
    assert (out == cv2.resize(small, (128, 128),
                              interpolation=cv2.INTER_CUBIC)).all()
    with pytest.raises(ValueError, match='size 0'):
        TRANSFORMS.build(dict(type='LowResolution', size=0))

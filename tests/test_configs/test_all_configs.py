"""Every config under configs/ loads, builds its model and its metric, and
its data either builds (data here) or is made of registered parts.

Paper configs point at data/<dataset>/ (not here); their dataset configs
are also built on the two-image mmpose format samples in
../shared/data/mmpose_samples, which checks the codec's boundary scheme
against the dataset's keypoints and the reference machinery end to end.
Backbone ``Pretrained`` init_cfgs are dropped (no network); each distinct
model is built once.
"""
import copy
import glob
import re
import os
import os.path as osp
import warnings

import pytest
import torch
from mmengine import Config
from mmengine.registry import init_default_scope

import rht_mmpose  # noqa: F401  (registers everything)
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import (DATASETS, KEYPOINT_CODECS, METRICS, MODELS,
                             TRANSFORMS)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs')
SHARED = osp.join(REPO, '..', 'shared', 'data')
SAMPLES = osp.join(SHARED, 'mmpose_samples')
SAMPLE_DIRS = dict(
    WFLWDataset='wflw',
    Face300WDataset='300w',
    COFWDataset='cofw',
    AFLWDataset='aflw')

CONFIGS = sorted(
    osp.relpath(p, CONFIG_DIR)
    for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(p, CONFIG_DIR).split(os.sep))

_MODELS = {}


def is_local(name):
    """Our own experiments and smoke configs, and the shipped models'
    configs built on them: data that is here, weights from our own runs
    (no ImageNet init_cfg)."""
    if name.split(os.sep)[0] in ('experiments', 'smoke'):
        return True
    with open(osp.join(CONFIG_DIR, name)) as f:
        text = f.read()
    if "_base_ = ['experiments/" in text:
        return True
    # a shipped config built on another shipped one (its baseline twin)
    sibling = re.search(r"_base_ = \['\./([\w.]+)'\]", text)
    return sibling is not None and is_local(
        osp.join(osp.dirname(name), sibling.group(1)))


def load(name):
    # relative data roots ('../shared/data', 'work_dirs') are meant for the
    # repository root, where tools/train.py is run
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        return Config.fromfile(osp.join(CONFIG_DIR, name))
    finally:
        os.chdir(cwd)


def drop_pretrained(node):
    """Copy of a config tree with every Pretrained init_cfg set to None."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == 'init_cfg' and isinstance(v, dict) and \
                    v.get('type') == 'Pretrained':
                out[k] = None
            else:
                out[k] = drop_pretrained(v)
        return out
    if isinstance(node, (list, tuple)):
        return type(node)(drop_pretrained(v) for v in node)
    return node


def has_pretrained(node):
    if isinstance(node, dict):
        return any(
            (k == 'init_cfg' and isinstance(v, dict)
             and v.get('type') == 'Pretrained') or has_pretrained(v)
            for k, v in node.items())
    if isinstance(node, (list, tuple)):
        return any(has_pretrained(v) for v in node)
    return False


def build_model(model_cfg):
    model_cfg = drop_pretrained(model_cfg.to_dict())
    key = repr(model_cfg)
    if key not in _MODELS:
        init_default_scope('mmpose')
        _MODELS[key] = MODELS.build(model_cfg)
    return _MODELS[key]


def inner_datasets(ds_cfg):
    """(role, cfg) of the mmpose datasets inside a dataloader's dataset."""
    if ds_cfg['type'] == 'PairedReferenceDataset':
        out = [('target', ds_cfg['dataset'])]
        if ds_cfg.get('ref_pool') is not None:
            out.append(('pool', ds_cfg['ref_pool']))
        return out
    return [('target', ds_cfg)]


def codec_channels(codec_cfg, landmark_flip_indices):
    """The codec and its boundary count P, its boundary scheme resolved
    from the dataset's keypoints when the config leaves it to the codec."""
    codec = KEYPOINT_CODECS.build(codec_cfg)
    if hasattr(codec, 'flip_indices_with_boundaries'):
        channels = codec.flip_indices_with_boundaries(landmark_flip_indices)
        assert len(channels) == len(landmark_flip_indices) + \
            codec.num_boundaries
    return codec, getattr(codec, 'num_boundaries', None) or 0


def unwrap_split(ds_cfg):
    """The face dataset inside configs/val_split/'s FaceTrainValSplit."""
    while ds_cfg['type'] == 'FaceTrainValSplit':
        ds_cfg = ds_cfg['dataset']
    return ds_cfg


def dataset_meta(ds_cfg):
    cls = DATASETS.get(unwrap_split(ds_cfg)['type'])
    with warnings.catch_warnings():  # mmpose finds its metainfo file itself
        warnings.simplefilter('ignore', UserWarning)
        return parse_pose_metainfo(copy.deepcopy(cls.METAINFO))


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds(name, tmp_path):
    cfg = load(name)
    assert cfg.default_scope == 'mmpose'
    assert 'rht_mmpose' in cfg.custom_imports['imports']
    init_default_scope('mmpose')

    # model (init from ImageNet weights in every paper config)
    if not (is_local(name) or 'hourglass' in name):
        assert has_pretrained(cfg.model.backbone), name
    model = build_model(cfg.model)
    assert isinstance(model, torch.nn.Module)

    # the head decodes with the pipeline's codec
    head = cfg.model.head
    train_ds = cfg.train_dataloader.dataset
    target = inner_datasets(train_ds)[0][1]
    meta = dataset_meta(target)
    if cfg.model.type == 'RHTPoseEstimator':
        codec, p = codec_channels(train_ds.codec, meta['flip_indices'])
        assert head.decoder == train_ds.codec
        assert head.num_keypoints == meta['num_keypoints']
        assert head.num_boundaries == p
        assert model.head.out_channels == meta['num_keypoints'] + p
        gen = [t for t in train_ds.pipeline if t['type'] == 'GenerateTarget']
        assert gen and gen[0]['encoder'] == train_ds.codec
        for key in ('train_dataloader', 'val_dataloader',
                    'test_dataloader'):
            if cfg.get(key) is None or \
                    cfg[key].dataset.type != 'PairedReferenceDataset':
                continue  # no loader, or references from the model's pool
            ds = cfg[key].dataset
            assert ds.codec == train_ds.codec
            # the references the loader renders are the head's R x R
            ref_size = head.get('ref_size', 128)
            assert tuple(ds.get('ref_input_size', (128, 128))) == (
                ref_size, ref_size), (key, ref_size)
    else:
        assert head.out_channels == meta['num_keypoints']

    # pipelines and datasets are made of registered parts
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key) is None:
            continue
        ds_cfg = cfg[key].dataset
        assert DATASETS.get(ds_cfg.type) is not None, ds_cfg.type
        for _, inner in inner_datasets(ds_cfg):
            assert DATASETS.get(inner.type) is not None, inner.type
        for t in ds_cfg.pipeline:
            assert TRANSFORMS.get(t['type']) is not None, t['type']

    # metrics, with the dataset's metainfo; absent subset files -> tmp copies
    for key in ('val_evaluator', 'test_evaluator'):
        if cfg.get(key) is None:
            continue
        ev = cfg[key].to_dict()
        sf = ev.get('subset_file')
        if isinstance(sf, str) and not osp.exists(sf):
            path = tmp_path / 'subsets.json'
            path.write_text('{"common": [], "challenging": []}')
            ev['subset_file'] = str(path)
        elif isinstance(sf, dict):
            for s, p in sf.items():
                if not osp.exists(p):
                    path = tmp_path / f'{s}.txt'
                    path.write_text('0 0 some/image.jpg\n')
                    sf[s] = str(path)
        metric = METRICS.build(ev)
        metric.dataset_meta = meta  # resolves the eye points of the scheme


def _build_and_get(ds_cfg, tmp_path):
    ds_cfg = copy.deepcopy(ds_cfg)
    if ds_cfg['type'] == 'PairedReferenceDataset':
        ds_cfg['cache_dir'] = str(tmp_path / 'cache')
    dataset = DATASETS.build(ds_cfg)
    assert len(dataset) > 0
    return dataset, dataset[0]


def _check_item(item, ds_cfg):
    affine = [t for t in ds_cfg['pipeline'] if t['type'] == 'TopdownAffine']
    w, h = affine[0]['input_size']
    assert tuple(item['inputs'].shape) == (3, h, w)
    if ds_cfg['type'] == 'PairedReferenceDataset':
        flip_indices = item['data_samples'].metainfo['flip_indices']
        _, p = codec_channels(ds_cfg['codec'], flip_indices)
        k = len(flip_indices)
        r_w, r_h = ds_cfg.get('ref_input_size', (128, 128))
        assert tuple(item['data_samples'].ref_heatmaps.shape) == (k + p, r_h,
                                                                  r_w)
        assert tuple(item['data_samples'].ref_img.shape) == (3, r_h, r_w)


def _on_samples(ds_cfg):
    """The dataset config with every mmpose face dataset pointed at the
    two-image format samples of its kind."""
    ds_cfg = copy.deepcopy(ds_cfg)

    split = 'FaceTrainValSplit' in repr(ds_cfg)

    def swap(inner):
        inner = unwrap_split(inner)
        sub = SAMPLE_DIRS[inner['type']]
        inner.update(
            data_root=osp.join(SAMPLES, sub),
            ann_file=f'test_{sub}.json',
            data_prefix=dict(img=''))

    if ds_cfg['type'] == 'PairedReferenceDataset':
        swap(ds_cfg['dataset'])
        pool = ds_cfg.get('ref_pool')
        if pool is not None:
            if unwrap_split(pool)['type'] not in SAMPLE_DIRS:  # other
                return None
            swap(pool)
    else:
        swap(ds_cfg)
    if split and SAMPLE_DIRS[unwrap_split(
            ds_cfg.get('dataset', ds_cfg))['type']] != 'wflw':
        return None  # a split of two faces leaves no other reference
    return ds_cfg


PAPER = [c for c in CONFIGS if not is_local(c)]
LOCAL = [c for c in CONFIGS if is_local(c)]


def _distinct_datasets(names):
    seen, out = set(), []
    for name in names:
        cfg = load(name)
        for key in ('train_dataloader', 'test_dataloader'):
            ds = cfg[key].dataset.to_dict()
            r = repr(ds)
            if r not in seen:
                seen.add(r)
                out.append(pytest.param(ds, id=f'{name}:{key}'))
    return out


@pytest.mark.parametrize('ds_cfg', _distinct_datasets(PAPER))
def test_paper_dataset_on_format_samples(ds_cfg, tmp_path):
    init_default_scope('mmpose')
    ds_cfg = _on_samples(ds_cfg)
    if ds_cfg is None:
        pytest.skip('reference pool in another format (checked registered)')
    _, item = _build_and_get(ds_cfg, tmp_path)
    _check_item(item, ds_cfg)


@pytest.mark.skipif(
    not osp.isdir(osp.join(SHARED, '300w_subset')),
    reason='shared 300W subset not here')
@pytest.mark.parametrize('ds_cfg', _distinct_datasets(LOCAL))
def test_local_dataset_builds(ds_cfg, tmp_path):
    """Configs on data that is here: build on a few faces of it (the SIFT
    search over the full pool would take minutes on a clean clone)."""
    init_default_scope('mmpose')
    ds_cfg = copy.deepcopy(ds_cfg)
    if ds_cfg['type'] == 'PairedReferenceDataset':
        ds_cfg['dataset']['indices'] = 3
        if ds_cfg.get('ref_pool') is not None:
            ds_cfg['ref_pool']['indices'] = 4
        for inner in (ds_cfg['dataset'], ds_cfg.get('ref_pool') or {}):
            if 'cache_dir' in inner:
                inner['cache_dir'] = str(tmp_path / 'json')
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        _, item = _build_and_get(ds_cfg, tmp_path)
    finally:
        os.chdir(cwd)
    _check_item(item, ds_cfg)


def test_no_boundary_ablation_trains_and_predicts(tmp_path):
    """The only config whose codec is not LandmarkBoundaryHeatmap: one
    loss and one prediction on the 300W format samples."""
    init_default_scope('mmpose')
    cfg = load('ablations/rht_res50_300w_no_boundary.py')
    model = build_model(cfg.model)
    from mmengine.dataset import pseudo_collate
    batches = []
    for key in ('train_dataloader', 'test_dataloader'):
        ds_cfg = _on_samples(cfg[key].dataset.to_dict())
        dataset, _ = _build_and_get(ds_cfg, tmp_path)
        batch = pseudo_collate([dataset[0]])
        batches.append(model.data_preprocessor(batch, training=True))
    assert tuple(batches[0]['data_samples'][0].ref_heatmaps.shape) == (68, 128,
                                                                        128)
    torch.manual_seed(0)
    model.train()
    losses = model(**batches[0], mode='loss')
    assert torch.isfinite(losses['loss_kpt'])
    assert 'loss_trans' in losses
    model.eval()
    flip = model.test_cfg.get('flip_test')
    model.test_cfg['flip_test'] = False  # one forward is enough here
    try:
        with torch.no_grad():
            preds = model(**batches[1], mode='predict')
    finally:
        model.test_cfg['flip_test'] = flip
    assert preds[0].pred_instances.keypoints.shape == (1, 68, 2)


def test_small_input_pipelines_restate_the_common_ones():
    """experiments/rht_res18_s_300w_cpu.py restates the common pipelines for its
    128x128 codec: apart from the codec and the warp size they must stay
    the same as rht_face_common.py's (augmentation of both CPU arms), and
    its loaders must use them."""
    common = Config.fromfile(
        osp.join(CONFIG_DIR, '_base_', 'datasets', 'rht_face_common.py'))
    small = load(osp.join('experiments', 'rht_res18_s_300w_cpu.py'))
    assert small.train_dataloader.dataset.pipeline == small.train_pipeline
    assert small.val_dataloader.dataset.pipeline == small.val_pipeline
    assert small.codec.input_size == (128, 128)
    assert small.codec.heatmap_size == (64, 64)
    for key in ('train_pipeline', 'val_pipeline'):
        assert len(small[key]) == len(common[key])
        for ours, theirs in zip(small[key], common[key]):
            ours, theirs = ours.to_dict(), theirs.to_dict()
            if ours['type'] == 'TopdownAffine':
                assert ours.pop('input_size') == small.codec.input_size
                theirs.pop('input_size')
            if ours['type'] == 'GenerateTarget':
                assert ours.pop('encoder') == small.codec.to_dict()
                theirs.pop('encoder')
            assert ours == theirs
    # the rest of the codec is the common one
    for k, v in common.codec.items():
        if k not in ('input_size', 'heatmap_size'):
            assert small.codec[k] == v, k

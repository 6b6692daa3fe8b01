"""A small untrained mmpose face model (the smoke config: ResNet-18, 64x64
input, 68 points) saved as a checkpoint, for tests of the inference side."""
import os.path as osp

import torch

from tests.conftest import REPO_ROOT

SMOKE_CONFIG = osp.join(REPO_ROOT, 'configs', 'smoke',
                        'heatmap_res18_300w_samples.py')


def save_small_checkpoint(path: str, out_channels: int = 68,
                          num_keypoints_meta=68, embed_cfg: bool = True,
                          seed: int = 0) -> str:
    """Build the smoke model (head with ``out_channels``) and save it like
    mmengine does (``state_dict`` + ``meta`` with ``dataset_meta`` and
    ``cfg``)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.models import build_pose_estimator
    init_default_scope('mmpose')
    cfg = Config.fromfile(SMOKE_CONFIG)
    cfg.model.head.out_channels = out_channels
    torch.manual_seed(seed)
    model = build_pose_estimator(cfg.model)
    from rht_mmpose.apis.inference import _dataset_meta_from_config
    meta = {}
    if num_keypoints_meta is not None:
        meta['dataset_meta'] = _dataset_meta_from_config(cfg)
        meta['dataset_meta']['num_keypoints'] = num_keypoints_meta
    if embed_cfg:
        meta['cfg'] = cfg.pretty_text
    torch.save(dict(state_dict=model.state_dict(), meta=meta), path)
    return path


def small_rht_config():
    """A tiny RHT model (68 points + 13 boundaries, 64x64 input, 32x32
    heatmaps and references) as an mmengine Config with a test pipeline."""
    from mmengine.config import Config
    from tests.test_models.test_pose_estimators.test_rht_pose_estimator \
        import tiny_cfg
    model = tiny_cfg(num_keypoints=68, num_boundaries=13,
                     boundary_scheme='300w')
    codec = model['head']['decoder']
    pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', padding=1.25),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='PackPoseInputs')
    ]
    return Config(
        dict(
            default_scope='mmpose',
            custom_imports=dict(imports=['rht_mmpose'],
                                allow_failed_imports=False),
            codec=codec,
            model=model,
            test_dataloader=dict(
                dataset=dict(type='Face300WDataset', pipeline=pipeline))))


def save_small_rht_checkpoint(path: str, data_root: str,
                              num_refs: int = 3, seed: int = 0) -> str:
    """Untrained tiny RHT model with a pool of ``num_refs`` real 300-W
    train faces, saved with its config and dataset meta."""
    import glob

    from mmengine.registry import init_default_scope
    from mmpose.models import build_pose_estimator
    from rht_mmpose.apis.inference import (_dataset_meta_from_config,
                                           set_user_reference_pool)
    from rht_mmpose.utils.io import read_pts
    init_default_scope('mmpose')
    cfg = small_rht_config()
    torch.manual_seed(seed)
    model = build_pose_estimator(cfg.model)
    model.eval()
    model.dataset_meta = _dataset_meta_from_config(cfg)
    files = sorted(glob.glob(osp.join(data_root, '300w_subset', 'afw',
                                      '*.jpg')))[:num_refs]
    set_user_reference_pool(
        model, dict(images=files,
                    keypoints=[read_pts(f[:-4] + '.pts') for f in files]))
    meta = dict(dataset_meta=model.dataset_meta, cfg=cfg.pretty_text)
    torch.save(dict(state_dict=model.state_dict(), meta=meta), path)
    return path

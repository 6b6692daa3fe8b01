"""tools/analysis/reference_branch_report.py on RHT-R-lite (random init)
and 4 real HELEN test faces."""
import json
import os.path as osp
from dataclasses import replace

import pytest
import torch

from rht_mmpose.models.utils import ReferenceBatch
from tests.conftest import REPO_ROOT, load_script

TOOL = osp.join(REPO_ROOT, 'tools', 'analysis', 'reference_branch_report.py')
CONFIG = osp.join(REPO_ROOT, 'configs', 'experiments',
                  'rht_res50_lite_300w_subset.py')


report = load_script(osp.relpath(TOOL, REPO_ROOT), 'branch_report')


def save_model(path, zero_fusion):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    import rht_mmpose  # noqa: F401
    init_default_scope('mmpose')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CONFIG).model)
    model.init_weights()
    with torch.no_grad():
        for blocks in model.head.neck.fuse_blocks:
            for block in blocks:
                w = block.conv.conv.weight
                if zero_fusion:  # the references cannot reach the heatmaps
                    w.zero_()
                else:  # strong enough to move the argmax
                    w.normal_(0, 0.5)
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return path


@pytest.mark.parametrize('zero_fusion', [True, False])
def test_conditions(tmp_path, data_root, monkeypatch, zero_fusion):
    monkeypatch.setenv('RHT_DATA_ROOT', data_root)
    ckpt = save_model(str(tmp_path / 'lite.pth'), zero_fusion)
    out = str(tmp_path / 'report.json')
    rows = report.main([CONFIG, ckpt, '--num-faces', '4', '--out', out])
    assert set(rows) == set(report.CONDITIONS)
    with open(out) as f:
        saved = json.load(f)
    nmes = {c: saved['per_face'][c] for c in report.CONDITIONS}
    assert all(len(v) == 4 for v in nmes.values())
    if zero_fusion:
        # the fusion convs see the references only through zero weights:
        # every condition predicts the same landmarks
        for c in report.CONDITIONS:
            assert nmes[c] == nmes['random_train_ref'], c
    else:
        assert nmes['self_oracle'] != nmes['random_train_ref']
        assert nmes['branch_zeroed'] != nmes['random_train_ref']


def test_zeroed_features_reach_msffm():
    seen = []

    class Neck:
        def forward(self, fg, soft=None, hard=None):
            seen.append((soft, hard))

    neck = Neck()
    soft, hard = [torch.ones(1, 2, 2, 2)], [torch.ones(1, 2, 2, 2)]
    with report.zeroed_features(neck, ('hard', )):
        neck.forward(None, soft, hard)
    neck.forward(None, soft, hard)  # restored after the block
    (s0, h0), (s1, h1) = seen
    assert torch.equal(s0[0], soft[0]) and not h0[0].any()
    assert torch.equal(h1[0], hard[0])


def test_stm_index_hits_hand_built():
    from tests.test_models.test_utils.test_hard_transformer import \
        tiny_head
    torch.manual_seed(0)
    head = tiny_head().eval()
    img = torch.randn(1, 3, 32, 32)
    hm = torch.zeros(1, 3, 32, 32)
    for m, (y, x) in enumerate([(2, 3), (17, 9), (25, 30)]):
        hm[0, m, y, x] = 1.  # cells (0, 0), (4, 2), (6, 7) of the 8x8 grid
    same = ReferenceBatch(target_small=img, ref_img=img, ref_heatmaps=hm)
    with torch.no_grad():
        # the same image: every patch's best match is itself
        assert report.stm_index_hits(head, same, hm) == ([1.0], [1.0])
        # the reference's landmarks one cell lower: never exact, all near
        shifted = replace(same, ref_heatmaps=hm.roll(4, dims=2))
        assert report.stm_index_hits(head, shifted, hm) == ([0.0], [1.0])
        # landmark 2 outside the reference: two landmarks counted
        missing = replace(same, ref_heatmaps=hm * torch.tensor(
            [1., 1., 0.3]).view(1, 3, 1, 1))
        missing.ref_heatmaps[0, 1] = hm[0, 1].roll(12, dims=0)
        exact, near = report.stm_index_hits(head, missing, hm)
        assert exact == [0.5] and near == [0.5]


SHIPPED_TRAINING_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'experiments', 'rht_mnv2_longer_300w2012_cpu.py')


def test_refined_own_pool_is_the_shipped_prediction(tmp_path, data_root,
                                                     monkeypatch):
    """--refined: the own_pool condition is the bundled model as it ships
    (its pool, its selection, its refiner). Independent check: the same
    validation faces through inference_faces on their landmark boxes."""
    import cv2
    import numpy as np
    from mmengine.config import Config
    from rht_mmpose.apis import (BUNDLED_CHECKPOINT, inference_faces,
                                 init_face_model)
    from rht_mmpose.evaluation import face_nme
    monkeypatch.setenv('RHT_DATA_ROOT', data_root)
    out = str(tmp_path / 'refined.json')
    rows = report.main([
        SHIPPED_TRAINING_CONFIG, BUNDLED_CHECKPOINT, '--num-faces', '3',
        '--flip', '--refined', '--out', out
    ])
    assert set(rows) == set(report.CONDITIONS) | {report.OWN_POOL}
    with open(out) as f:
        reported = json.load(f)['per_face'][report.OWN_POOL]

    self_paired, _ = report.build_datasets(
        Config.fromfile(SHIPPED_TRAINING_CONFIG))
    model = init_face_model(checkpoint=BUNDLED_CHECKPOINT)
    expected = []
    for i in np.linspace(0, len(self_paired) - 1, 3).astype(int):
        info = self_paired.get_data_info(int(i))
        gt = np.asarray(info['keypoints'])[0]
        box = np.concatenate([gt.min(0), gt.max(0)])[None]
        pred = inference_faces(model, cv2.imread(info['img_path']),
                               box)[0].pred_instances.keypoints[0]
        expected.append(float(face_nme(pred, gt, eyes=[[36], [45]])[0]))
    np.testing.assert_allclose(reported, expected, rtol=1e-4)


def test_refined_needs_a_bundle_with_a_fitted_refiner(tmp_path, data_root,
                                                      monkeypatch):
    from mmengine.config import Config
    monkeypatch.setenv('RHT_DATA_ROOT', data_root)
    ckpt = save_model(str(tmp_path / 'lite.pth'), zero_fusion=True)
    with pytest.raises(SystemExit, match=r"embeds no config \(meta\['cfg'\]\)"):
        report.main([CONFIG, ckpt, '--num-faces', '1', '--refined'])
    # a bundle whose config declares no refiner
    bundle = torch.load(ckpt)
    bundle['meta'] = dict(cfg=Config.fromfile(CONFIG).pretty_text)
    torch.save(bundle, ckpt)
    with pytest.raises(SystemExit, match='carries no fitted shape refiner'):
        report.main([CONFIG, ckpt, '--num-faces', '1', '--refined'])

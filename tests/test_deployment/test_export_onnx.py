"""tools/deployment/export_onnx.py: export and onnxruntime parity."""
import json
import os.path as osp

import numpy as np
import onnx
import pytest

from tests.conftest import REPO_ROOT, load_script
from tests.test_apis.small_model import SMOKE_CONFIG, save_small_checkpoint

TOOL = osp.join(REPO_ROOT, 'tools', 'deployment', 'export_onnx.py')


def _load_tool():
    return load_script(osp.relpath(TOOL, REPO_ROOT), 'export_onnx')


export_onnx = _load_tool()


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    return save_small_checkpoint(
        str(tmp_path_factory.mktemp('onnx_model') / 'small.pth'))


def test_plain_model_parity_on_a_real_face(ckpt, data_root, tmp_path,
                                           capsys):
    out = str(tmp_path / 'small.onnx')
    image = osp.join(data_root, 'demo_images', 'astronaut.png')
    code = export_onnx.main(
        [SMOKE_CONFIG, ckpt, '--out', out, '--image', image])
    text = capsys.readouterr().out
    assert code == 0, text
    assert 'ok' in text
    model = onnx.load(out)
    assert [i.name for i in model.graph.input] == ['input']
    meta = json.loads({p.key: p.value
                       for p in model.metadata_props}['rht_mmpose'])
    assert meta['input_shapes']['input'] == [1, 3, 64, 64]
    assert meta['num_keypoints'] == 68

    # independent check: onnxruntime on the same crop vs the model's own
    # test-mode forward (the head's heatmaps)
    import onnxruntime as ort
    import torch
    from rht_mmpose.apis import init_face_model
    torch_model = init_face_model(SMOKE_CONFIG, ckpt)
    inputs, _ = export_onnx.prepare_face(torch_model, image)
    with torch.no_grad():
        expect = torch_model._forward(inputs[0]).numpy()
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    got = sess.run(None, {'input': inputs[0].numpy()})[0]
    assert got.shape == expect.shape and got.shape[:2] == (1, 68)
    assert np.abs(got - expect).max() < 1e-3
    assert np.abs(expect).max() > 1e-3  # not a trivially zero output


def test_old_opset_and_missing_files_are_errors(ckpt, tmp_path, capsys):
    assert export_onnx.main(
        [SMOKE_CONFIG, ckpt, '--out', str(tmp_path / 'a.onnx'),
         '--opset', '13']) == 2
    assert 'opset >= 16' in capsys.readouterr().err
    assert export_onnx.main(
        [SMOKE_CONFIG, str(tmp_path / 'none.pth'), '--out',
         str(tmp_path / 'a.onnx')]) == 2
    assert 'does not exist' in capsys.readouterr().err
    assert not osp.exists(tmp_path / 'a.onnx')


def test_fold_by_scatter_add_equals_torch_fold():
    import torch
    import torch.nn.functional as F
    x = torch.randn(2, 3 * 36, 16)
    kw = dict(kernel_size=6, padding=2, stride=2)
    np.testing.assert_allclose(
        export_onnx.fold_by_scatter_add(x, (8, 8), **kw).numpy(),
        F.fold(x, (8, 8), **kw).numpy(), atol=1e-5)


def test_rht_model_parity_with_reference_inputs(data_root, tmp_path,
                                                capsys):
    from tests.test_apis.small_model import (save_small_rht_checkpoint,
                                             small_rht_config)
    ckpt = save_small_rht_checkpoint(str(tmp_path / 'rht.pth'), data_root)
    cfg = str(tmp_path / 'rht_cfg.py')
    small_rht_config().dump(cfg)
    out = str(tmp_path / 'rht.onnx')
    code = export_onnx.main([cfg, ckpt, '--out', out])
    text = capsys.readouterr().out
    assert code == 0, text
    assert 'RHT' in text and 'ok' in text
    model = onnx.load(out)
    assert [i.name for i in model.graph.input] == [
        'input', 'ref_img', 'ref_heatmaps'
    ]
    ops = {n.op_type for n in model.graph.node}
    # STM's argmax and block gathers, HTM's affine warp
    assert {'ArgMax', 'GatherElements', 'GridSample'} <= ops, ops

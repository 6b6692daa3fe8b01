"""tools/deployment/make_bundle.py: fp16 weights of the source checkpoint,
its config embedded without the stage-1 load_from, loadable alone."""
import sys

import torch
from mmengine.config import Config

from tests.conftest import load_script
from tests.test_apis.small_model import SMOKE_CONFIG, save_small_checkpoint


def test_bundle_weights_config_and_reload(tmp_path, monkeypatch):
    stage2 = tmp_path / 'stage2.py'
    stage2.write_text(f"_base_ = [{SMOKE_CONFIG!r}]\n"
                      "load_from = 'work_dirs/stage1/epoch_40.pth'\n")
    source = save_small_checkpoint(str(tmp_path / 'epoch_20.pth'))
    out = tmp_path / 'bundle.pth'
    make_bundle = load_script('tools/deployment/make_bundle.py',
                              'rht_make_bundle')
    monkeypatch.setattr(sys, 'argv', [
        'make_bundle.py', str(stage2), source, '--out', str(out)])
    make_bundle.main()

    bundle = torch.load(str(out), map_location='cpu')
    src = torch.load(source, map_location='cpu')['state_dict']
    assert set(bundle['state_dict']) == set(src)
    for name, value in src.items():
        got = bundle['state_dict'][name]
        if value.is_floating_point():
            assert got.dtype == torch.float16, name
            assert torch.equal(got, value.half()), name
        else:
            assert torch.equal(got, value), name
    cfg = Config.fromstring(bundle['meta']['cfg'], '.py')
    assert cfg.load_from is None
    assert bundle['meta']['source_checkpoint'] == 'epoch_20.pth'
    assert not (tmp_path / 'bundle.pth.tmp').exists()

    from rht_mmpose.apis import init_face_model
    model = init_face_model(None, str(out), device='cpu')
    for name, value in model.state_dict().items():
        if name in src and value.is_floating_point():
            torch.testing.assert_close(value, src[name].half().float())

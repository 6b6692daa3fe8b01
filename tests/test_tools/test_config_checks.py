"""check_config_paths: a missing data root or load_from file is named
before the runner is built."""
import pytest
from mmengine.config import Config

from rht_mmpose.utils import check_config_paths


def test_missing_load_from_is_named(tmp_path):
    missing = str(tmp_path / 'stage1' / 'epoch_40.pth')
    with pytest.raises(FileNotFoundError, match='stage1/epoch_40.pth') as e:
        check_config_paths(Config(dict(load_from=missing)))
    assert 'stage-2' in str(e.value) and 'load_from=PATH' in str(e.value)


def test_existing_load_from_url_and_none_pass(tmp_path):
    ckpt = tmp_path / 'epoch_40.pth'
    ckpt.write_bytes(b'')
    for load_from in (str(ckpt), None,
                      'https://download.openmmlab.com/x.pth',
                      'open-mmlab://resnet18'):
        check_config_paths(Config(dict(load_from=load_from)))


def test_missing_data_root_is_named(tmp_path):
    root = str(tmp_path / 'nowhere')
    cfg = Config(dict(test_dataloader=dict(
        dataset=dict(type='PairedReferenceDataset',
                     dataset=dict(data_root=root)))))
    with pytest.raises(
            FileNotFoundError,
            match=r"test_dataloader\.dataset\.data_root '.*nowhere'"):
        check_config_paths(cfg)

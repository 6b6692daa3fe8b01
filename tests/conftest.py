"""Shared fixtures: the real data lives outside the repo (``../shared/data``)."""
import os
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_script(relpath: str, name: str):
    """Import a script of the repo (tools/..., demo/...) as a module."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO_ROOT, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_pts_offset(image_hw) -> float:
    """What a 300-W ``.pts`` point of an image of (height, width)
    ``image_hw`` must lose to become a 0-based pixel centre, as
    ``../shared/data/README.md`` describes the crops: 0.5 on a crop
    downscaled to a longer side of 512 px, else 1. Written out here, not
    imported, so that tests check the package against the data's
    description."""
    return 0.5 if max(image_hw[:2]) == 512 else 1.0


DEFAULT_DATA_ROOT = osp.normpath(osp.join(REPO_ROOT, '..', 'shared', 'data'))


def resolve_data_root() -> str:
    """Return the shared data root or raise a message naming the path and
    the variable to set."""
    root = os.environ.get('RHT_DATA_ROOT', DEFAULT_DATA_ROOT)
    if not osp.isdir(osp.join(root, '300w_subset')):
        raise FileNotFoundError(
            f'shared data not found at {root!r} (expected a folder with '
            f'300w_subset/ and mmpose_samples/); set RHT_DATA_ROOT to the '
            f'folder that holds them')
    return root


@pytest.fixture(scope='session')
def data_root() -> str:
    # Fail, never skip: CI always has ../shared/data beside the clone.
    return resolve_data_root()


@pytest.fixture(scope='session', autouse=True)
def _register_modules():
    import rht_mmpose  # noqa: F401  registers into mmpose's registries
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')

"""Checks on a loaded config that turn path mistakes into clear messages."""
import os.path as osp
from typing import Iterator, Tuple

DATA_ROOT_ENV = 'RHT_DATA_ROOT'


def _iter_datasets(cfg) -> Iterator[Tuple[str, dict]]:
    """Yield (name, dataset cfg) for every dataset of every dataloader,
    descending into wrappers (``dataset=`` / ``datasets=`` / ``ref_pool=``)."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader_cfg = cfg.get(loader, None)
        if not loader_cfg:
            continue
        stack = [(loader, loader_cfg.get('dataset', None))]
        while stack:
            name, ds = stack.pop()
            if not isinstance(ds, dict):
                continue
            yield name, ds
            for key in ('dataset', 'ref_pool'):
                if isinstance(ds.get(key, None), dict):
                    stack.append((f'{name}.{key}', ds[key]))
            for i, sub in enumerate(ds.get('datasets', None) or []):
                stack.append((f'{name}.datasets[{i}]', sub))


def check_config_paths(cfg) -> None:
    """Raise ``FileNotFoundError`` naming the missing data root of any
    dataset in ``cfg`` and the environment variable that sets it."""
    for name, ds in _iter_datasets(cfg):
        root = ds.get('data_root', None)
        if root and not osp.isdir(root):
            raise FileNotFoundError(
                f'{name}.data_root {root!r} does not exist (cwd '
                f'{osp.abspath(".")!r}). Run from the repository root with '
                f'the shared data at ../shared/data, or set {DATA_ROOT_ENV} '
                f'to the folder holding 300w_subset/ and mmpose_samples/.')
    load_from = cfg.get('load_from', None)
    # local files only: URLs and 'open-mmlab://' names are mmengine's to
    # fetch (and fail on) with their own message
    if isinstance(load_from, str) and '://' not in load_from \
            and not osp.isfile(load_from):
        raise FileNotFoundError(
            f'load_from {load_from!r} does not exist (cwd '
            f'{osp.abspath(".")!r}); a stage-2 config needs its stage-1 '
            'run first (see the config header), or pass --cfg-options '
            'load_from=PATH')

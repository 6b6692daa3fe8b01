# Copyright (c) rht_mmpose contributors. All rights reserved.
"""A validation split carved from the training faces.

The paper configs report the last checkpoint. For ``save_best``, the
configs under ``configs/val_split/`` validate on a fixed, seeded share of the
training faces instead of the test set, and train (and draw references)
from the rest only: they declare ``val_split = dict(...)`` and
:func:`val_split_overrides` turns that into their dataloaders.
"""
import copy
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmengine.config import ConfigDict
from mmengine.dataset import Compose

from mmpose.registry import DATASETS
from mmpose.utils.typing import ConfigType

SPLITS = ('train', 'val')


def train_val_indices(num_faces: int, val_fraction: float,
                      seed: int) -> dict:
    """Split ``range(num_faces)`` into train / val indices.

    A seeded permutation (``numpy.random.default_rng(seed)``) of the faces;
    its first ``round(val_fraction * num_faces)`` entries (at least one) are
    the validation faces. Both lists are returned sorted, so the training
    order of the wrapped dataset is kept.

    Args:
        num_faces (int): N, faces of the wrapped training set.
        val_fraction (float): in (0, 1).
        seed (int): seed of the permutation.

    Returns:
        dict: ``train`` and ``val``, lists of indices (disjoint, together
        ``range(N)``).
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f'val_fraction {val_fraction} must be in (0, 1)')
    if num_faces < 2:
        raise ValueError(f'cannot carve a validation split out of '
                         f'{num_faces} face(s), expected at least 2')
    n_val = min(num_faces - 1, max(1, int(round(val_fraction * num_faces))))
    perm = np.random.default_rng(seed).permutation(num_faces)
    val = sorted(int(i) for i in perm[:n_val])
    train = sorted(int(i) for i in perm[n_val:])
    return dict(train=train, val=val)


@DATASETS.register_module()
class FaceTrainValSplit:
    """One side of a seeded train / validation split of a face dataset.

    Wraps an mmpose dataset (as mmpose's ``CombinedDataset`` forwards its
    inner datasets' metainfo) and shows only the faces of ``split``: the
    same ``dataset``, ``val_fraction`` and ``seed`` give complementary
    ``'train'`` and ``'val'`` sides. Use the ``'train'`` side for the
    training faces and for the reference pool, so that no validation face
    is ever a reference.

    Args:
        dataset (dict): config of the wrapped dataset (e.g. ``WFLWDataset``
            on the training annotations), or a built dataset.
        split (str): ``'train'`` or ``'val'``.
        val_fraction (float): share of the faces kept for validation.
            Defaults to 0.05.
        seed (int): seed of the split (independent of the run's seed).
            Defaults to 0.
        pipeline (list): transforms applied by ``__getitem__``; the wrapped
            dataset's own pipeline is replaced by it. Defaults to ``[]``.
        test_mode (bool, optional): set on the wrapped dataset config when
            given (``'val'`` sides are usually ``test_mode=True``).
    """

    def __init__(self,
                 dataset: Union[ConfigType, object],
                 split: str = 'train',
                 val_fraction: float = 0.05,
                 seed: int = 0,
                 pipeline: Optional[Sequence[Union[dict, Callable]]] = None,
                 test_mode: Optional[bool] = None,
                 lazy_init: bool = False) -> None:
        if split not in SPLITS:
            raise ValueError(f'split {split!r}, expected one of {SPLITS}')
        if isinstance(dataset, dict):
            cfg = copy.deepcopy(dataset)
            cfg['pipeline'] = []
            if test_mode is not None:
                cfg['test_mode'] = test_mode
            dataset = DATASETS.build(cfg)
        self.dataset = dataset
        self.split = split
        self.val_fraction = float(val_fraction)
        self.seed = int(seed)
        self.test_mode = getattr(dataset, 'test_mode', False)
        self.pipeline = Compose(list(pipeline or []))
        self._indices: Optional[List[int]] = None
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's metainfo."""
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()
        self._indices = train_val_indices(
            len(self.dataset), self.val_fraction, self.seed)[self.split]
        self._fully_initialized = True

    def __len__(self) -> int:
        self.full_init()
        return len(self._indices)

    def get_data_info(self, idx: int) -> dict:
        self.full_init()
        return self.dataset.get_data_info(self._indices[idx])

    def __getitem__(self, idx: int) -> dict:
        return self.pipeline(self.get_data_info(idx))


def val_split_overrides(base: ConfigDict) -> tuple:
    """The keys a ``configs/val_split/`` file changes in its paper config.

    The file calls this on its merged bases (mmengine runs a config with
    ``_base_`` bound to them), so the loaded config already holds the split
    and MMPose's own ``tools/train.py`` / ``tools/test.py`` (plain
    ``Runner.from_cfg``) train and test with it. The declaration
    ``base.val_split = dict(val_fraction=0.05, seed=0, val_interval=10)``
    (``configs/val_split/_base_/val_split.py``) becomes: training on the
    ``'train'`` side of ``FaceTrainValSplit`` over the training loader's
    faces, validation on the ``'val'`` side every ``val_interval`` epochs
    with ``save_best='NME'`` and no test subsets, and the ``'train'`` side
    as the validation and test reference pools, so no validation face is
    ever a reference. The test faces and metric stay the config's.

    Args:
        base (ConfigDict): ``_base_`` of the file: a paper config merged
            with the ``val_split`` declaration.

    Returns:
        tuple: ``(train_dataloader, val_dataloader, test_dataloader,
        val_evaluator, train_cfg, default_hooks)``, dicts to merge into the
        base's (``_delete_`` where a dataset is replaced).
    """
    declared = base.val_split

    def side(split: str, **kwargs) -> dict:
        return dict(
            _delete_=True,
            type='FaceTrainValSplit',
            dataset=base.train_dataloader.dataset.dataset.to_dict(),
            val_fraction=declared.val_fraction,
            seed=declared.seed,
            split=split,
            **kwargs)

    return (dict(dataset=dict(dataset=side('train'))),
            dict(
                dataset=dict(
                    dataset=side('val', test_mode=True),
                    ref_pool=side('train'))),
            dict(dataset=dict(ref_pool=side('train'))),
            # the validation faces are training faces: no test subsets
            dict(subset_file=None),
            dict(val_interval=declared.val_interval),
            dict(checkpoint=dict(save_best='NME', rule='less')))

# RHT-R on AFLW, model selection on 5 % of the training faces
# (_base_/val_split.py).
_base_ = ['../rht_res50_aflw.py', './_base_/val_split.py']
from rht_mmpose.datasets import val_split_overrides  # noqa: E402

# the split merged in here, so any tool that loads this file trains with it
(train_dataloader, val_dataloader, test_dataloader, val_evaluator, train_cfg,
 default_hooks) = val_split_overrides(_base_)  # noqa: F821

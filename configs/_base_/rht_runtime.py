# Runtime and schedule of the RHT paper (Wan et al., TIP 2023, sec. IV-A):
# Adam, lr 1e-4 -> 1e-5 with cosine annealing over 150 epochs, batch 8 per
# GPU on 8 GPUs (`--auto-scale-lr` rescales lr for another total batch),
# BatchNorm synchronised over the GPUs, and the training-reliability hooks
# of docs/reliability.md. Every paper config inherits this file.
#
# Model selection: none. The LAST checkpoint is the reported one; the
# validation loop runs once, after the last epoch (on the test split: that
# is the reported figure, nothing is chosen with it). For save_best, use
# the configs/val_split/ variants, which validate on a seeded 5 % of the
# training faces (docs/configs.md).
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['rht_mmpose'], allow_failed_imports=False)

max_epochs = 150
base_lr = 1e-4
# one validation, after the last epoch (see above)
train_cfg = dict(
    by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=base_lr))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        begin=0,
        end=max_epochs,
        T_max=max_epochs,
        eta_min=1e-5,
        by_epoch=True,
        convert_to_iter_based=True),
]
# DECISION (the paper says "batch size 8" and 8 GPUs, not whether per GPU or
# in total): 8 images per GPU, 8 GPUs, 64 in total; lr 1e-4 belongs to 64.
# The other reading (8 in total, 1 per GPU on 8 GPUs):
#   --cfg-options train_dataloader.batch_size=1 --auto-scale-lr
# (auto_scale_lr then gives lr = 1e-4 * 8 / 64). The per-GPU batch itself
# is train_dataloader.batch_size in datasets/rht_face_common.py.
batch_per_gpu = 8
num_gpus = 8
auto_scale_lr = dict(base_batch_size=batch_per_gpu * num_gpus)
# converts BN to torch SyncBatchNorm when launched with several processes
# (mmengine ignores it in a single-process run)
sync_bn = 'torch'
randomness = dict(seed=0)

default_hooks = dict(
    # every 10 epochs and the last one; no 'best' (no model is chosen on
    # the test split)
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=10,
        max_keep_ckpts=3,
        save_last=True,
        save_best=None),
    logger=dict(type='LoggerHook', interval=50))
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='NonFiniteLossHook'),
    dict(type='RNGStateHook'),
]

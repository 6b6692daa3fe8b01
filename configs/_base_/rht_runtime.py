# Runtime and schedule of the RHT paper (Wan et al., TIP 2023, sec. IV-A):
# Adam, lr 1e-4 -> 1e-5 with cosine annealing over 150 epochs, batch 8 per
# GPU on 8 GPUs (`--auto-scale-lr` rescales lr for another total batch),
# BatchNorm synchronised over the GPUs, and the training-reliability hooks
# of docs/reliability.md. Every paper config inherits this file.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['rht_mmpose'], allow_failed_imports=False)

max_epochs = 150
base_lr = 1e-4
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
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
# 8 GPUs x 8 images
auto_scale_lr = dict(base_batch_size=64)
# converts BN to torch SyncBatchNorm when launched with several processes
# (mmengine ignores it in a single-process run)
sync_bn = 'torch'
randomness = dict(seed=0)

default_hooks = dict(
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=10,
        max_keep_ckpts=3,
        save_best='NME',
        rule='less'),
    logger=dict(type='LoggerHook', interval=50))
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='NonFiniteLossHook'),
    dict(type='RNGStateHook'),
]

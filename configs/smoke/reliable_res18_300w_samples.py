# The smoke model with every training-reliability hook on (see
# docs/reliability.md): atomic checkpoints, stop on a non-finite loss, RNG
# state in checkpoints; the learning rate changes every iteration so a
# resumed run can be compared with an uninterrupted one. Measures nothing.
_base_ = ['./heatmap_res18_300w_samples.py']

randomness = dict(seed=0)
train_cfg = dict(by_epoch=False, max_iters=6, val_interval=6)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        end_factor=1.0,
        by_epoch=False,
        begin=0,
        end=6)
]
default_hooks = dict(
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=2,
        max_keep_ckpts=2,
        save_best=None))
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='NonFiniteLossHook'),
    dict(type='RNGStateHook'),
]

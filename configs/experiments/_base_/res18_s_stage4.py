# Stage 4 of the CPU pair, the same for both arms: more epochs on stage 3's
# 2012-face training side, from the stage-3 weights (checkpoints/stage3/,
# the shipped weights without their refiner), at a higher restart rate:
# stage 3's error on its own training faces equals its validation error
# (0.0566 both, unrefined), so the model underfits. Both arms train the same
# epochs: the RHT arm's --time-budget decides them, the baseline follows its
# decision file.
_base_ = ['./res18_s_stage3.py']

max_epochs = 20  # a cap: --time-budget sets the epochs that fit
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs + 1)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.1,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-6, by_epoch=True),
]

# Stage 2 of the CPU pair, the same for both arms (each arm's stage-2
# config adds its model and its stage-1 weights): 20 more epochs (60 in
# all), a warm restart of the cosine at 2e-4. load_from restores weights
# only: AdamW's moments start from zero again, hence the short warm-up.
_base_ = ['../rht_res18_s_300w_cpu.py']
max_epochs = 20
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.1,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-6, by_epoch=True),
]

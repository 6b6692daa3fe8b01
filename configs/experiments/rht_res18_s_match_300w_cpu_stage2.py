# Stage 2 of rht_res18_s_match_300w_cpu.py: 20 more epochs from its 40-epoch weights
# (60 in all), a warm restart of the cosine at 2e-4; both arms of the CPU
# comparison get this same second stage. load_from restores weights only:
# AdamW's moments start from zero again, hence the short warm-up.
#   python tools/train.py configs/experiments/rht_res18_s_match_300w_cpu.py \
#       --work-dir work_dirs/cpu_s/rht_res18_s_match
#   python tools/train.py configs/experiments/rht_res18_s_match_300w_cpu_stage2.py \
#       --work-dir work_dirs/cpu_s/rht_res18_s_match_stage2
_base_ = ['./rht_res18_s_match_300w_cpu.py']

load_from = 'work_dirs/cpu_s/rht_res18_s_match/epoch_40.pth'
max_epochs = 20
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.1,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-6, by_epoch=True),
]

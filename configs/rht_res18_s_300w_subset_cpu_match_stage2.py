# RHT-R-S + match, stage 2: the same second stage as the baseline's
# (trans_res18_s_300w_subset_cpu_stage2.py: 20 more epochs from the 40-epoch
# weights, warm restart at 2e-4, same seed and augmentation).
#   python tools/train.py configs/rht_res18_s_300w_subset_cpu_match.py \
#       --work-dir work_dirs/cpu_s/match
#   python tools/train.py configs/rht_res18_s_300w_subset_cpu_match_stage2.py \
#       --work-dir work_dirs/cpu_s/match_stage2
_base_ = ['./rht_res18_s_300w_subset_cpu_match.py']

load_from = 'work_dirs/cpu_s/match/epoch_40.pth'
max_epochs = 20
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.1,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-6, by_epoch=True),
]

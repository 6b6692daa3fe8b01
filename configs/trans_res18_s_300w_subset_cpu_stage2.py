# Trans-R-S, stage 2: 20 more epochs from the 40-epoch weights (60 in all),
# a warm restart of the cosine at 2e-4. The loss was still falling at epoch
# 40; both arms of the CPU comparison get this same second stage
# (rht_res18_s_300w_subset_cpu_match_stage2.py).
#   python tools/train.py configs/trans_res18_s_300w_subset_cpu.py \
#       --work-dir work_dirs/cpu_s/trans
#   python tools/train.py configs/trans_res18_s_300w_subset_cpu_stage2.py \
#       --work-dir work_dirs/cpu_s/trans_stage2
_base_ = ['./trans_res18_s_300w_subset_cpu.py']

load_from = 'work_dirs/cpu_s/trans/epoch_40.pth'
max_epochs = 20
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
# load_from restores weights only: AdamW's moments start from zero again,
# hence the short warm-up
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.1,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-6, by_epoch=True),
]

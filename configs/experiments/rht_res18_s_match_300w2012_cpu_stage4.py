# Stage 4 of rht_res18_s_match: more epochs on the same 2012-face training side as
# stage 3 (AFW + HELEN train + LFPW train minus the validation split), from
# the stage-3 weights (checkpoints/stage3/, the shipped weights without their
# refiner), at a higher restart rate: stage 3's validation error on its own
# training faces equals its validation error (0.0566 both, unrefined), so
# the model underfits. Both arms train the same epochs: the RHT arm's
# --time-budget decides them, the baseline follows its decision file.
#   python tools/train.py configs/experiments/rht_res18_s_match_300w2012_cpu_stage4.py \
#       --work-dir work_dirs/cpu_s/rht_res18_s_match_2012_stage4 \
#       --time-budget 2700 --time-budget-file work_dirs/cpu_s/stage4_epochs.json
#   python tools/train.py configs/experiments/trans_res18_s_300w2012_cpu_stage4.py \
#       --work-dir work_dirs/cpu_s/trans_res18_s_2012_stage4 \
#       --time-budget-file work_dirs/cpu_s/stage4_epochs.json
_base_ = ['./rht_res18_s_match_300w2012_cpu_stage3.py']

load_from = 'checkpoints/stage3/rht_res18_s_match_300w2012_norefiner.pth'

max_epochs = 20  # a cap: --time-budget sets the epochs that fit
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs + 1)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.1,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-6, by_epoch=True),
]

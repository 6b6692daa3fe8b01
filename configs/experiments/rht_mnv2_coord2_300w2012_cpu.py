# RHT-MNv2, stage 4: 12 more epochs of stage 3 (rht_mnv2_coord_300w2012_cpu.py,
# coordinate loss on) from its last epoch, restarted at half its learning
# rate: stage 3 left the training faces' raw error near the validation one
# (Trans arm 0.0351 vs 0.0377), so the model still underfits.
#   trans_mnv2_coord2_300w2012_cpu.py   the same stage for the baseline
#   python tools/train.py configs/experiments/rht_mnv2_coord2_300w2012_cpu.py \
#       --work-dir work_dirs/mnv2/rht_mnv2_coord2
# Result (validation as stage 3): raw 0.0365 -> 0.0363, refined 0.03177
# -> 0.03180 (Trans: 0.0377 -> 0.0374, 0.03202 -> 0.03184); the pair
# shipped until stage 6 was this stage's last epoch, the schedule's end
# for both arms.
_base_ = ['./rht_mnv2_coord_300w2012_cpu.py']

load_from = 'work_dirs/mnv2/rht_mnv2_coord/epoch_15.pth'

max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.1,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-6, by_epoch=True),
]

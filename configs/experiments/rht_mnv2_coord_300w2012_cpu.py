# RHT-MNv2, stage 3: 15 more epochs from epoch 40 of
# rht_mnv2_match_300w2012_cpu.py with RHTHead's coordinate loss: the L2
# heatmap loss leaves the jaw and nose heatmaps as ridges whose decoded
# centroids sit away from their landmarks (a per-landmark bias of up to 0.24 inter-ocular distances);
# the coordinate loss trains the decoded point itself. Its weight makes
# its gradient about that of the heatmap loss at epoch 40 (gradient norms
# on one training batch: 6.2 unweighted vs 0.008).
#   trans_mnv2_coord_300w2012_cpu.py   the same stage for the baseline
#   python tools/train.py configs/experiments/rht_mnv2_coord_300w2012_cpu.py \
#       --work-dir work_dirs/mnv2/rht_mnv2_coord
# Result (validation, GT boxes, flip, 10 STM matches): raw NME_io 0.0547
# -> 0.0365, refined 0.0322 -> 0.0318 (Trans: 0.0625 -> 0.0377, 0.0326
# -> 0.0320); 47 min, one thread beside the other arm.
# (a bundle also holds a reference pool and a shape refiner, which this
# training model does not have: loading one reports them as unexpected
# keys)
_base_ = ['./rht_mnv2_match_300w2012_cpu.py']

# epoch 40 of stage 2 (the run behind the shipped weights loaded its fp16
# bundle, `git show 7c5a130:checkpoints/rht_mnv2_300w.pth`)
load_from = 'work_dirs/mnv2/rht_mnv2_match/epoch_40.pth'
model = dict(head=dict(coord_loss_weight=0.002))

max_epochs = 15
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.1,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-6, by_epoch=True),
]

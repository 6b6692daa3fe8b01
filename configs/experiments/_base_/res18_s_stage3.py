# Stage 3 of the CPU pair, the same for both arms: 6 epochs on the 2012
# training faces of 300-W (AFW + HELEN train + LFPW train) minus the
# validation split (splits/300w_train2012_val.txt, 202 faces: never trained
# on, never a reference), from the stage-2 weights (60 epochs on AFW +
# HELEN train). Every choice after it (which stage to ship, decoding,
# references, refiner) is made on the validation faces.
_base_ = ['../rht_res18_s_300w_cpu.py']
split_file = 'configs/experiments/splits/300w_train2012_val.txt'
train_faces = dict(
    type='Face300WPtsDataset',
    data_root={{_base_.data_root}},
    pts_folders=['afw', 'helen/trainset', 'lfpw/trainset'],
    cache_dir={{_base_.cache_dir}},
    split_file=split_file,
    split='train')
train_dataloader = dict(dataset=dict(dataset=train_faces))

max_epochs = 6  # what fits one 2-core session beside the rest of the work
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs + 1)
# the validation faces are evaluated after training, with the model's own
# pool (configs/experiments/bundled/*_val.py); no test faces during training
val_cfg = None
val_dataloader = None
val_evaluator = None
# tools/test.py with this config (and the reference-branch report) reads the
# validation faces, references from the training side; the test faces
# belong to the bundled configs (configs/experiments/bundled/)
test_dataloader = dict(
    dataset=dict(
        dataset=dict(train_faces, split='val', test_mode=True),
        ref_pool=train_faces))
test_evaluator = dict(subset_tags=['afw', 'helen', 'lfpw'])
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.1,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-6, by_epoch=True),
]

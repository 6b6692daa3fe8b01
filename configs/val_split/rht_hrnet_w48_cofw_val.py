# RHT-H on COFW with model selection on a validation split carved
# from the TRAINING faces (opt-in; the paper config ../rht_hrnet_w48_cofw.py
# reports its last checkpoint): a seeded 5 % of the training faces
# (FaceTrainValSplit, seed 0) is validated every 10 epochs and picks
# best_NME_epoch_*.pth; training and every reference pool (training and
# validation) use the other 95 % only, so no validation face is ever a
# reference. The test (split, references, metrics) is the paper config's.
_base_ = ['../rht_hrnet_w48_cofw.py']

split = dict(
    type='FaceTrainValSplit',
    dataset=_base_.train_faces,
    val_fraction=0.05,
    seed=0)
train_side = dict(split, split='train')
val_side = dict(split, split='val', test_mode=True)

train_dataloader = dict(dataset=dict(dataset=dict(_delete_=True, **train_side)))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(_delete_=True, **val_side),
        ref_pool=dict(_delete_=True, **train_side)))
test_dataloader = dict(
    dataset=dict(ref_pool=dict(_delete_=True, **train_side)))
# the validation faces are training faces: no test subsets
val_evaluator = dict(subset_file=None)

train_cfg = dict(val_interval=10)
default_hooks = dict(checkpoint=dict(save_best='NME', rule='less'))

# The configs/val_split/ family: a paper config with model selection on a
# validation split carved from the TRAINING faces (opt-in; the paper
# configs report their last checkpoint): a seeded 5 % of the training faces
# (FaceTrainValSplit, seed 0) is validated every 10 epochs and picks
# best_NME_epoch_*.pth; training and every reference pool (training and
# validation) use the other 95 % only, so no validation face is ever a
# reference. The test (split, references, metrics) is the paper config's.
# Each file merges rht_mmpose.datasets.val_split_overrides(_base_) into its
# paper config, so the loaded config holds the split for any tool (ours,
# mmpose's tools/train.py and tools/test.py, mim train).
val_split = dict(val_fraction=0.05, seed=0, val_interval=10)

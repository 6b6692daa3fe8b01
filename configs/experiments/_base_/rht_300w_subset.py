# RHT data on the shared real 300W subset (see ../shared/data/README.md):
# train = afw + helen/trainset (1207 faces), test = helen/testset (330).
# The .pts folders are converted on the fly into a json cached in
# `cache_dir` (Face300WPtsDataset), so a clean clone needs no data step.
# Codec (68 landmark + 13 boundary heatmaps), augmentation and reference
# modes: rht_face_common.py. Children reuse `codec` (head) and may override
# any dataloader key.
_base_ = ['../../_base_/datasets/rht_face_common.py']

data_root = '../shared/data/300w_subset'
cache_dir = 'work_dirs/rht_cache'  # the .pts -> json cache
train_folders = ['afw', 'helen/trainset']
test_folders = ['helen/testset']

train_faces = dict(
    type='Face300WPtsDataset',
    data_root=data_root,
    pts_folders=train_folders,
    cache_dir=cache_dir)
test_faces = dict(
    type='Face300WPtsDataset',
    data_root=data_root,
    pts_folders=test_folders,
    cache_dir=cache_dir,
    test_mode=True)

train_dataloader = dict(num_workers=2, dataset=dict(dataset=train_faces))
# test: the most SIFT-similar training face is the reference (paper)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(dataset=test_faces, ref_pool=train_faces))
test_dataloader = val_dataloader

# Table VI / VII: references from another dataset. The test faces of 300W
# take the most SIFT-similar face of COFW-68 (the 507 COFW test faces
# re-annotated with 68 points by Ghiasi & Fowlkes) instead of a 300W
# training face. Layout: data/cofw68/test/ holding each image next to its
# 68-point .pts file (as 300W ships), read by Face300WPtsDataset.
_base_ = ['../rht_hrnet_w48_300w.py']

cofw68_faces = dict(
    type='Face300WPtsDataset',
    data_root='data/cofw68/',
    pts_folders=['test'],
    cache_dir={{_base_.cache_dir}})

val_dataloader = dict(
    dataset=dict(
        ref_mode='sift', ref_pool=dict(_delete_=True,
                                               **cofw68_faces)))
test_dataloader = val_dataloader

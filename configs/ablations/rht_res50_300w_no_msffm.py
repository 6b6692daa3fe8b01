# Table IV, RHT-R without MSFFM: STM and HTM both, their features fused once
# at the 1x scale (32x32); 2x and 4x are plain deconvolutions.
_base_ = ['../rht_res50_300w.py']

model = dict(head=dict(fuse_scales=(1, )))

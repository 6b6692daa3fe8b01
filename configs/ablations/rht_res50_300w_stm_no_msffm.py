# Table IV "+STM" (without MSFFM): the soft transformation only, and its
# features F_S enter once, at the 1x scale (32x32), through one fusion block;
# 2x and 4x are plain deconvolutions, as in Trans-R.
_base_ = ['./rht_res50_300w_stm.py']

model = dict(head=dict(fuse_scales=(1, )))

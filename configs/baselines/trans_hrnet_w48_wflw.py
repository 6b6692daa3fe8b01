# Trans-H baseline on WFLW: RHT-H without the reference branch (same
# encoder, data, augmentation, schedule and seed; the deconvolution decoder
# predicts the 98 + 13 heatmaps from F_G alone). The reference is ignored,
# so the test uses a fixed one instead of the SIFT search.
_base_ = ['../rht_hrnet_w48_wflw.py']

model = dict(head=dict(with_reference=False))

val_dataloader = dict(dataset=dict(ref_mode='fixed', ref_index=0))
test_dataloader = val_dataloader

# Table IV "without boundaries": RHT-R on 300W predicting and transforming
# only the 68 landmark heatmaps (num_boundaries=0; the reference heatmaps
# are 68 channels too).
# How: LandmarkBoundaryHeatmap always appends its scheme's boundaries, so
# the codec becomes mmpose's MSRAHeatmap with the same landmark targets
# (256 -> 128, sigma 1.5, DARK/unbiased encoding and decoding, kernel 7);
# it drives the pipeline, the references (PairedReferenceDataset) and the
# head's decoder. The boundary loss term vanishes; nothing else changes.
_base_ = ['../rht_res50_300w.py']

landmark_codec = dict(
    type='MSRAHeatmap',
    input_size=(256, 256),
    heatmap_size=(128, 128),
    sigma=1.5,
    unbiased=True,
    blur_kernel_size=7)
codec = dict(_delete_=True, **landmark_codec)

# the parent's pipeline with its GenerateTarget step (second to last)
# encoding with the landmark codec
train_pipeline = _base_.train_pipeline
train_pipeline[-2] = dict(type='GenerateTarget', encoder=landmark_codec)

train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline, codec=codec))
val_dataloader = dict(dataset=dict(codec=codec))
test_dataloader = val_dataloader

model = dict(head=dict(num_boundaries=0, decoder=codec))

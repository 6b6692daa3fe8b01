# RHT-R-lite: RHT-R with a lighter reference branch, for the CPU latency
# target (RHT / Trans-R <= 1.4 at batch 1). The encoder (Trans-R), STM, HTM,
# the three scales and the training recipe are RHT-R's; the branch is
# thinner (measured by tools/experiments/benchmark.py, see docs/performance.md):
#   - MSFFM fusion convs 1x1 instead of 3x3 (eq. 5's "Conv")
#   - one Conv-BN-ReLU per extractor stage instead of two
#   - Q / K / V and transformed features at 128 / 64 / 32 channels
#     (1x / 2x / 4x) instead of 256 / 128 / 64
# Un-flipped forward at 256x256: 10.8 GMACs (9.9 with the pool cache)
# against RHT-R's 25.6 (17.5) and Trans-R's 9.1.
# Trained and tested exactly like configs/rht_res50_300w_subset.py.
_base_ = ['./rht_res50_300w_subset.py']

model = dict(
    head=dict(
        fusion_kernel_size=1,
        extractor_num_convs=1,
        ref_channels=(128, 64, 32)))

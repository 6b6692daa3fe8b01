"""Keypoint codecs: landmark + boundary heatmaps and the boundary tables."""
from .face_schemes import (BOUNDARY_TABLES, boundary_flip_indices,
                           boundary_scheme_from_metainfo,
                           flip_indices_with_boundaries, get_boundaries,
                           get_boundary_names, scheme_from_num_keypoints)
from .landmark_boundary_heatmap import (LandmarkBoundaryHeatmap,
                                        catmull_rom_curve,
                                        render_boundary_heatmap)

__all__ = [
    'LandmarkBoundaryHeatmap', 'BOUNDARY_TABLES', 'boundary_flip_indices',
    'boundary_scheme_from_metainfo', 'flip_indices_with_boundaries',
    'get_boundaries', 'get_boundary_names', 'scheme_from_num_keypoints',
    'catmull_rom_curve', 'render_boundary_heatmap'
]

"""Drawing of face landmark results (mmpose's PoseLocalVisualizer)."""
from .face_drawer import (FaceResultDrawer, boundary_polylines,
                          merge_face_samples)

__all__ = ['FaceResultDrawer', 'boundary_polylines', 'merge_face_samples']

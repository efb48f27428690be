"""Painting a clip: frame by frame along the optical flow, kept in a work folder, or in segments."""

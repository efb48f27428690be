"""Painting one picture: the optimiser over coarse-to-fine levels, whole or in tiles, and its recipe."""

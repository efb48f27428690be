"""Pixels: pictures, clips, optical flow and colour, and the bundled examples."""

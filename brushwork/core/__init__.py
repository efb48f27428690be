"""Words: errors, VGG19's layer names and every setting, in plain Python (no torch); and how a run is stopped."""

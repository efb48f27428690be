"""Words: errors, VGG19's layer names and every setting, in plain Python (no torch); and the stops that wait
while a picture is kept."""

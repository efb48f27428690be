"""Painting many pictures: the items, their log, and the run that skips what is done."""

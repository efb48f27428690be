"""The shape of a run before any work: levels, tiles, step budgets, memory and time (no torch)."""

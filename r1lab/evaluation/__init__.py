"""Evaluation: benchmark loaders, the shared sampling-and-scoring runner, and pure metrics (pass@k,
cons@k over answer equivalence classes, bootstrap confidence intervals)."""

"""Datasets that pass between stages (SFT examples, preference pairs, general prompts) and the demo's
synthetic non-reasoning data."""

"""Verifiers: answer extraction, math equivalence (killable workers), the code sandbox."""

"""Run directory records: metrics.jsonl, samples.jsonl, summary.json, plots."""

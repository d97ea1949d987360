"""GRPO as every RL stage runs it: rollout (prompt draw, seeds, generate, score, behaviour logprobs),
setup and resume, per-step metrics, and the one training loop (`loop.train`)."""

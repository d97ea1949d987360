"""Scale-out behind small interfaces: where rollouts come from (rollout.py: this process or Ray
rollout workers) and who updates the weights (trainer.py: data-parallel trainer ranks). On one
process both are no-ops around the same algorithm; docs/distributed.md says how to run them."""

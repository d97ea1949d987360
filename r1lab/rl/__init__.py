"""The RL maths as pure tensor functions (advantages, losses, logprobs) and the update that uses them."""

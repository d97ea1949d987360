"""r1lab: the DeepSeek-R1 training recipe as software that runs from a laptop CPU to a Ray cluster."""

import os

# On a CPU shared with other work, OpenMP threads that spin while waiting made torch 10-40x slower
# here (a SmolLM2 decode step: 0.8-8 s with spinning threads, 0.1 s passive). Passive waiting costs
# little on an idle machine. A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

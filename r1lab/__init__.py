"""r1lab: the DeepSeek-R1 training recipe as software that runs from a laptop CPU to a Ray cluster."""

__version__ = "0.1.0"

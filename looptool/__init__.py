"""looptool: a closed data-training loop for tool-calling LLMs (LoopTool, arXiv 2511.09148)."""

__version__ = "0.1.0"

"""The agent's prompts, multi-step (test fixture in ACEBench's layout; our own text)."""

MULTI_TURN_AGENT_PROMPT_SYSTEM_EN = """You are the agent. Call the APIs needed as [ApiName(key='value')], one
step at a time, reading each execution result; answer in plain text when the task is done."""

MULTI_TURN_AGENT_PROMPT_USER_EN = """APIs (JSON): {functions}
History: {history}
"""

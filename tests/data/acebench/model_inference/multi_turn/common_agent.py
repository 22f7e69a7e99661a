"""The agent's prompts, multi-turn (test fixture in ACEBench's layout; our own text)."""

MULTI_TURN_AGENT_PROMPT_SYSTEM_EN = """You are the agent. Given the APIs and the conversation so far, either call
APIs as [ApiName(key='value')] or answer the user in plain text."""

MULTI_TURN_AGENT_PROMPT_USER_EN = """APIs:
{functions}

Conversation:
{history}"""

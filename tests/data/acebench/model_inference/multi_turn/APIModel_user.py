"""The simulated user's prompts (test fixture in ACEBench's layout; our own text)."""

SYSTEM_PROMPT_TRAVEL_EN = """You play a traveller talking to an airline agent.
Instruction: {instruction}
Answer only what the agent asks. When your task is done, say "finish conversation"."""

SYSTEM_PROMPT_BASE_EN = """You play a phone owner talking to a phone assistant.
Instruction: {instruction}
Answer only what the assistant asks. When your task is done, say "finish conversation"."""

"""Scene prompts (test fixture in ACEBench's layout; our own text)."""

TRAVEL_PROMPT_EN = """
The current time is 2024-07-15 08:00. You are a travel agent: you can look up flights and book them for
registered users (user id and password required).
"""

BASE_PROMPT_EN = """
The current time is 2024-06-11 16:00. You are a phone assistant: you can send and delete messages, add
reminders and order food. Turn the Wi-Fi on before anything that needs the network.
"""

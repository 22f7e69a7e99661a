"""Prompts: chat rendering of samples for the student, and the judge / generator / agent prompts."""

from looptool.prompts.render import (
    chat_messages,
    hermes_messages,
    render_completion,
    render_prompt,
    supports_tools,
    tools_system_prompt,
)

__all__ = [
    "chat_messages",
    "hermes_messages",
    "render_completion",
    "render_prompt",
    "supports_tools",
    "tools_system_prompt",
]

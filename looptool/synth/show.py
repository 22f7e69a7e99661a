"""A sample as a person reads it: the tools offered, the conversation, the label (or reference reply)."""

from __future__ import annotations

import json
from typing import Any


def _j(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def format_sample(row: dict[str, Any]) -> str:
    tools, messages, label, meta = (_j(row[k]) for k in ("tools", "messages", "label", "meta"))
    lines = [
        f"[{meta['pattern']}] {meta['domain']} / {meta['subdomain']} / {meta['capability']}  "
        f"(id {row['sample_id']})",
        "tools: " + ", ".join(t["name"] for t in tools),
    ]
    for m in messages:
        role = m["role"]
        if role == "assistant" and m.get("tool_calls"):
            calls = [tc["function"] for tc in m["tool_calls"]]
            lines.append(
                "  assistant -> "
                + "; ".join(f"{c['name']}({json.dumps(c['arguments'], ensure_ascii=False)})" for c in calls)
            )
        elif role == "tool":
            lines.append(f"  tool {m.get('name', '')} <- {m['content']}")
        else:
            text = (m.get("content") or "").replace("\n", "\n      ")
            lines.append(f"  {role}: {text}")
    if label:
        lines.append(
            "  LABEL: "
            + "; ".join(f"{c['name']}({json.dumps(c['arguments'], ensure_ascii=False)})" for c in label)
        )
    else:
        lines.append(f"  LABEL: []  reply: {meta.get('reply')}")
    return "\n".join(lines)

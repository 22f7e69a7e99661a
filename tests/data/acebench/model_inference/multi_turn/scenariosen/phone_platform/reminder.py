"""Reminders (test fixture with ACEBench's scenario interface; our own code)."""

from model_inference.multi_turn.scenariosen.phone_platform.base_api import BaseApi


class ReminderApi(BaseApi):
    def __init__(self):
        super().__init__()
        self.reminder_list = {
            1: {"reminder_id": 1, "title": "Dentist", "description": "Check-up", "time": "2024-06-12 09:00"},
        }

    def _load_scenario(self, scenario: dict, long_context=False) -> None:
        super()._load_scenario(scenario, long_context)

    def add_reminder(self, title: str, description: str, time: str):
        if not self.logged_in:
            return {"status": False, "message": "device not logged in"}
        rid = max(self.reminder_list, default=0) + 1
        self.reminder_list[rid] = {
            "reminder_id": rid,
            "title": title,
            "description": description,
            "time": time,
        }
        return {"status": True, "message": f"reminder {title!r} added"}

    def view_reminder_by_title(self, title: str):
        for r in self.reminder_list.values():
            if r["title"] == title:
                return {"status": True, "reminder": r}
        return {"status": False, "message": f"no reminder {title!r}"}

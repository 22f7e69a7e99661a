"""Messages between six users (test fixture with ACEBench's scenario interface; our own code)."""

from model_inference.multi_turn.scenariosen.phone_platform.base_api import BaseApi

USERS = {"Ann": "U1", "Ben": "U2", "Cid": "U3", "Dee": "U4", "Eli": "U5", "Fay": "U6"}


class MessageApi(BaseApi):
    def __init__(self):
        super().__init__()
        self.max_capacity = 4
        self.inbox = {
            1: {"sender_id": "U1", "receiver_id": "U2", "message": "Lunch at noon?"},
            2: {"sender_id": "U3", "receiver_id": "U1", "message": "The report is ready."},
            3: {"sender_id": "U2", "receiver_id": "U4", "message": "Call me back."},
        }
        self.next_id = 4

    def _load_scenario(self, scenario: dict, long_context=False) -> None:
        super()._load_scenario(scenario, long_context)
        if "inbox" in scenario:
            self.inbox = {int(k): v for k, v in scenario["inbox"].items()}
            self.next_id = max(self.inbox, default=0) + 1

    def _ready(self):
        if not self.logged_in:
            return {"status": False, "message": "device not logged in"}
        if not self.wifi:
            return {"status": False, "message": "Wi-Fi is off"}
        return None

    def send_message(self, sender_name: str, receiver_name: str, message: str):
        problem = self._ready()
        if problem:
            return problem
        if sender_name not in USERS or receiver_name not in USERS:
            return {"status": False, "message": "unknown user"}
        if len(self.inbox) >= self.max_capacity:
            return {"status": False, "message": "inbox full: delete a message first"}
        self.inbox[self.next_id] = {
            "sender_id": USERS[sender_name],
            "receiver_id": USERS[receiver_name],
            "message": message,
        }
        self.next_id += 1
        return {"status": True, "message": f"message sent to {receiver_name}"}

    def delete_message(self, message_id: int):
        if message_id not in self.inbox:
            return {"status": False, "message": f"no message {message_id}"}
        del self.inbox[message_id]
        return {"status": True, "message": f"message {message_id} deleted"}

    def get_earliest_message_id(self):
        if not self.inbox:
            return {"status": False, "message": "inbox empty"}
        return {"status": True, "message_id": min(self.inbox)}

    def view_messages_between_users(self, sender_name: str, receiver_name: str):
        s, r = USERS.get(sender_name), USERS.get(receiver_name)
        found = [m["message"] for m in self.inbox.values() if m["sender_id"] == s and m["receiver_id"] == r]
        return {"status": True, "messages": found}

"""Phone base: Wi-Fi and device login (test fixture with ACEBench's scenario interface; our own code)."""


class BaseApi:
    def __init__(self):
        self.wifi = False
        self.logged_in = True

    def _load_scenario(self, scenario: dict, long_context=False) -> None:
        self.wifi = scenario.get("wifi", False)
        self.logged_in = scenario.get("logged_in", True)

    def turn_on_wifi(self):
        self.wifi = True
        return {"status": True, "message": "Wi-Fi is on"}

    def login_device(self):
        self.logged_in = True
        return {"status": True, "message": "device logged in"}

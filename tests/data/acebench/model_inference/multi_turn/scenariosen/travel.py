"""Flights (test fixture with ACEBench's scenario interface; our own code)."""


class Travel:
    def __init__(self):
        self.users = {"T100": {"password": "fly", "balance": 500.0}}
        self.flights = {"LT1": {"origin": "Oslo", "destination": "Rome", "price": 200.0, "seats": 1}}
        self.reservations = []

    def _load_scenario(self, scenario: dict, long_context=False) -> None:
        self.users = scenario.get("users", self.users)

    def get_flight_details(self, origin: str = None, destination: str = None):
        return [
            {"flight_no": no, **f}
            for no, f in self.flights.items()
            if (origin is None or f["origin"] == origin)
            and (destination is None or f["destination"] == destination)
        ]

    def reserve_flight(self, user_id: str, password: str, flight_no: str):
        user = self.users.get(user_id)
        if user is None or user["password"] != password:
            raise ValueError("authentication failed")
        flight = self.flights[flight_no]  # an unknown flight raises KeyError: the agent sees the error
        if flight["seats"] < 1 or user["balance"] < flight["price"]:
            return {"status": False, "message": "cannot book this flight"}
        flight["seats"] -= 1
        user["balance"] -= flight["price"]
        self.reservations.append({"user_id": user_id, "flight_no": flight_no})
        return {"status": True, "message": f"booked {flight_no}"}

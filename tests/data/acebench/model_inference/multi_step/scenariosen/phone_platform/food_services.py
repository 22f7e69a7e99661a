"""Food delivery (test fixture with ACEBench's scenario interface; our own code)."""

from model_inference.multi_step.scenariosen.phone_platform.base_api import BaseApi

MENUS = {"Pizza Place": {"Margherita": 30.0, "Veggie": 35.0}, "Noodle Bar": {"Ramen": 25.0}}


class FoodPlatform(BaseApi):
    def __init__(self):
        super().__init__()
        self.users = {
            "Ann": {"password": "ann-pw", "balance": 100.0},
            "Ben": {"password": "ben-pw", "balance": 20.0},
        }
        self.logged_in_users = []
        self.orders = []

    def _load_scenario(self, scenario: dict, long_context=False) -> None:
        super()._load_scenario(scenario, long_context)
        self.logged_in_users = scenario.get("logged_in_users", [])

    def login_food_platform(self, username: str, password: str):
        if not self.wifi:
            return {"status": False, "message": "Wi-Fi is off"}
        user = self.users.get(username)
        if user is None or user["password"] != password:
            return {"status": False, "message": "wrong user name or password"}
        if username not in self.logged_in_users:
            self.logged_in_users.append(username)
        return {"status": True, "message": f"{username} logged in"}

    def get_products(self, merchant_name: str):
        menu = MENUS.get(merchant_name)
        if menu is None:
            return {"status": False, "message": f"no merchant {merchant_name!r}"}
        return [{"product": p, "price": v} for p, v in menu.items()]

    def add_food_delivery_order(self, username: str, merchant_name: str, items: list):
        if username not in self.logged_in_users:
            return {"status": False, "message": f"{username} is not logged in"}
        menu = MENUS.get(merchant_name)
        if menu is None:
            return {"status": False, "message": f"no merchant {merchant_name!r}"}
        total = 0.0
        for item in items:
            if item["product"] not in menu:
                return {"status": False, "message": f"{merchant_name} has no {item['product']}"}
            total += menu[item["product"]] * item.get("quantity", 1)
        if self.users[username]["balance"] < total:
            return {"status": False, "message": "balance too low"}
        self.users[username]["balance"] -= total
        self.orders.append(
            {"user_name": username, "merchant_name": merchant_name, "items": items, "total_price": total}
        )
        return {"status": True, "message": f"order placed: {total}"}

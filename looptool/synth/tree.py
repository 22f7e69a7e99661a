"""The context tree: domain -> subdomain -> capability, as plain data.

Each :class:`Subdomain` names the entity it manages, the id parameter of that entity (``None`` when it has
none) and the slots a record of it carries in tool results. Each :class:`Capability` says:

* ``action`` shapes the simulated tool result: ``search``/``list`` return records, ``get`` one record,
  ``create`` a confirmation with a new id, ``update``/``delete``/``control`` a status, ``send`` a message id,
  ``compute`` a value.
* ``function`` is the snake_case stem of the API name (APIs may be rendered in camelCase).
* ``intents`` are infinitive phrases a user writes after "Can you ...". ``{x}`` stands for the
  entity the capability acts on (the subdomain's id parameter): "book {x}" becomes "book flight FL-20394" in a
  single turn and "book the second one" after a search result.
* ``required`` / ``optional`` are the parameters, slot names from :mod:`looptool.synth.slots` (required
  first, in schema order); ``renamed`` maps a parameter ``name`` to the slot ``base`` it takes its kind,
  values and phrasing from.

Capabilities that produce entities (``search``/``list``/``create`` with the id among their record fields)
and capabilities that require the subdomain's id form the chains of the ``multi_turn`` pattern.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Capability:
    """One leaf of the context tree: an API family."""

    action: str
    function: str
    intents: tuple[str, ...]
    description: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def params(self) -> tuple[tuple[str, bool], ...]:
        """(parameter name, required) in schema order."""
        return tuple((p, True) for p in self.required) + tuple((p, False) for p in self.optional)


@dataclass(frozen=True)
class Subdomain:
    """The entity a subdomain manages and its capabilities."""

    entity: str
    id_param: str | None
    record_fields: tuple[str, ...]
    capabilities: dict[str, Capability]


# fmt: off
TREE: dict[str, dict[str, Subdomain]] = {
    "Travel": {
        "Flights": Subdomain(
            entity="flight", id_param="flight_id",
            record_fields=("airline", "departure_time", "arrival_time", "fare", "currency"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_flights",
                    intents=("find flights", "search for flights", "look up flights"),
                    description="Search available flights between two cities on a given date.",
                    required=("origin_city", "destination_city", "departure_date"),
                    optional=("return_date", "passengers", "cabin_class", "nonstop_only", "max_price"),
                ),
                "Book": Capability(
                    action="create", function="book_flight",
                    intents=("book {x}", "reserve a seat on {x}", "get me a ticket on {x}"),
                    description="Book a seat on a specific flight for one passenger.",
                    required=("flight_id", "passenger_name", "passenger_email"),
                    optional=("seat_preference", "checked_bags"),
                ),
                "Status": Capability(
                    action="get", function="get_flight_status",
                    intents=("check the status of {x}", "see if {x} is on time"),
                    description="Get the live status (delays, gate) of a flight.",
                    required=("flight_id",),
                    optional=("departure_date",),
                ),
            },
        ),
        "Hotels": Subdomain(
            entity="hotel", id_param="hotel_id",
            record_fields=("hotel_name", "star_rating", "nightly_rate", "currency"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_hotels",
                    intents=("find a hotel", "search for hotels", "look for a place to stay"),
                    description="Search hotels in a city for a range of dates.",
                    required=("city", "check_in_date", "check_out_date"),
                    optional=("guests", "min_stars", "max_nightly_rate", "amenities"),
                ),
                "Book": Capability(
                    action="create", function="book_hotel_room",
                    intents=("book a room at {x}", "reserve {x}"),
                    description="Reserve a room at a hotel for the given dates.",
                    required=("hotel_id", "check_in_date", "check_out_date", "guest_name"),
                    optional=("room_type", "guests"),
                ),
                "Reviews": Capability(
                    action="list", function="get_hotel_reviews",
                    intents=("show me reviews of {x}", "read the reviews for {x}"),
                    description="List guest reviews of a hotel.",
                    required=("hotel_id",),
                    optional=("limit", "review_sort"),
                ),
            },
        ),
        "Car Rental": Subdomain(
            entity="rental car", id_param="car_id",
            record_fields=("car_model", "car_type", "daily_rate", "currency"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_rental_cars",
                    intents=("find a rental car", "look for a car to rent"),
                    description="Search rental cars available for pickup in a city.",
                    required=("pickup_city", "pickup_date", "dropoff_date"),
                    optional=("car_type", "automatic_only"),
                ),
                "Reserve": Capability(
                    action="create", function="reserve_rental_car",
                    intents=("reserve {x}", "book {x}"),
                    description="Reserve a rental car for a driver.",
                    required=("car_id", "driver_name", "driver_age"),
                    optional=("insurance_included", "child_seat"),
                ),
                "Quote": Capability(
                    action="get", function="get_rental_quote",
                    intents=("get a price quote for {x}", "find out what {x} would cost"),
                    description="Get the total price of renting a car for given dates.",
                    required=("car_id", "pickup_date", "dropoff_date"),
                    optional=("currency",),
                ),
            },
        ),
    },
    "Dining": {
        "Restaurants": Subdomain(
            entity="restaurant", id_param="restaurant_id",
            record_fields=("restaurant_name", "cuisine", "min_rating", "price_level"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_restaurants",
                    intents=("find a restaurant", "look for somewhere to eat", "search restaurants"),
                    description="Search restaurants in a city by cuisine, price and rating.",
                    required=("city",),
                    optional=("cuisine", "price_level", "open_now", "min_rating"),
                ),
                "Reserve": Capability(
                    action="create", function="reserve_table",
                    intents=("book a table at {x}", "reserve a table at {x}"),
                    description="Reserve a table at a restaurant.",
                    required=("restaurant_id", "reservation_date", "reservation_time", "party_size"),
                    optional=("special_request",),
                ),
                "Menu": Capability(
                    action="get", function="get_restaurant_menu",
                    intents=("show me the menu of {x}", "pull up the menu for {x}"),
                    description="Get the current menu of a restaurant.",
                    required=("restaurant_id",),
                    optional=("dietary_filter",),
                ),
            },
        ),
        "Food Delivery": Subdomain(
            entity="delivery order", id_param="order_id",
            record_fields=("restaurant_name", "delivery_eta", "order_total", "currency"),
            capabilities={
                "Order": Capability(
                    action="create", function="place_food_order",
                    intents=("order food for delivery", "place a delivery order"),
                    description="Place a food delivery order from a restaurant.",
                    required=("restaurant_name", "dishes", "delivery_address"),
                    optional=("tip_amount", "contactless_delivery"),
                ),
                "Track": Capability(
                    action="get", function="track_food_order",
                    intents=("track {x}", "check where {x} is"),
                    description="Track a food delivery order.",
                    required=("order_id",),
                ),
                "Cancel": Capability(
                    action="delete", function="cancel_food_order",
                    intents=("cancel {x}", "call off {x}"),
                    description="Cancel a food delivery order that has not been picked up.",
                    required=("order_id",),
                    optional=("cancel_reason",),
                ),
            },
        ),
        "Recipes": Subdomain(
            entity="recipe", id_param="recipe_id",
            record_fields=("recipe_title", "prep_minutes", "diet"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_recipes",
                    intents=("find a recipe", "search for recipes", "look up recipes"),
                    description="Search recipes by name, diet and preparation time.",
                    required=("recipe_query",),
                    optional=("diet", "max_prep_minutes", "ingredients"),
                ),
                "Details": Capability(
                    action="get", function="get_recipe",
                    intents=("show me {x}", "get the full instructions for {x}"),
                    description="Get ingredients and steps of a recipe.",
                    required=("recipe_id",),
                    optional=("servings",),
                ),
                "Nutrition": Capability(
                    action="get", function="get_recipe_nutrition",
                    intents=("get the nutrition facts of {x}", "tell me how many calories {x} has"),
                    description="Get nutrition facts per serving of a recipe.",
                    required=("recipe_id",),
                    optional=("servings",),
                ),
            },
        ),
    },
    "Banking": {
        "Accounts": Subdomain(
            entity="bank account", id_param="account_id",
            record_fields=("account_type", "balance", "currency"),
            capabilities={
                "List": Capability(
                    action="list", function="list_accounts",
                    intents=("list my bank accounts", "show my accounts"),
                    description="List the user's bank accounts.",
                    required=(),
                    optional=("account_type", "include_closed"),
                ),
                "Balance": Capability(
                    action="get", function="get_account_balance",
                    intents=("check the balance of {x}", "tell me how much is in {x}"),
                    description="Get the current balance of an account.",
                    required=("account_id",),
                    optional=("currency",),
                ),
                "Transfer": Capability(
                    action="create", function="transfer_funds",
                    intents=("transfer money from {x}", "send money out of {x}"),
                    description="Transfer money from an account to a recipient.",
                    required=("account_id", "recipient_name", "amount", "currency"),
                    optional=("transfer_date", "memo"),
                ),
            },
        ),
        "Cards": Subdomain(
            entity="card", id_param="card_id",
            record_fields=("card_type", "card_status", "daily_limit"),
            capabilities={
                "List": Capability(
                    action="list", function="list_cards",
                    intents=("list my cards", "show my payment cards"),
                    description="List the user's payment cards.",
                    required=(),
                    optional=("card_status",),
                ),
                "Freeze": Capability(
                    action="control", function="freeze_card",
                    intents=("freeze {x}", "block {x} for now"),
                    description="Temporarily freeze a card.",
                    required=("card_id",),
                    optional=("freeze_reason",),
                ),
                "Limit": Capability(
                    action="update", function="set_card_limit",
                    intents=("change the daily limit of {x}", "set a spending limit on {x}"),
                    description="Set the daily spending limit of a card.",
                    required=("card_id", "daily_limit", "currency"),
                ),
            },
        ),
        "Bill Pay": Subdomain(
            entity="payee", id_param="payee_id",
            record_fields=("payee_name", "payee_category"),
            capabilities={
                "Add": Capability(
                    action="create", function="add_payee",
                    intents=("add a new payee", "save a new biller"),
                    description="Add a payee for bill payments.",
                    required=("payee_name", "payee_email"),
                    optional=("payee_category",),
                ),
                "Pay": Capability(
                    action="create", function="pay_bill",
                    intents=("pay {x}", "send a payment to {x}"),
                    description="Pay a bill to a saved payee.",
                    required=("payee_id", "amount", "currency", "payment_date"),
                    optional=("memo",),
                ),
                "History": Capability(
                    action="list", function="get_payment_history",
                    intents=("show the payment history for {x}", "list past payments to {x}"),
                    description="List past payments to a payee.",
                    required=("payee_id",),
                    optional=("start_date", "end_date"),
                ),
            },
        ),
    },
    "Investing": {
        "Market Data": Subdomain(
            entity="stock", id_param=None,
            record_fields=("ticker_symbol", "last_price", "currency"),
            capabilities={
                "Quote": Capability(
                    action="get", function="get_stock_quote",
                    intents=("get a stock quote", "check the share price"),
                    description="Get the latest quote for a stock ticker.",
                    required=("ticker_symbol",),
                    optional=("exchange",),
                ),
                "History": Capability(
                    action="list", function="get_price_history",
                    intents=("get the price history", "show historical prices"),
                    description="Get daily or weekly prices of a stock between two dates.",
                    required=("ticker_symbol", "start_date", "end_date"),
                    optional=("price_interval",),
                ),
                "Screener": Capability(
                    action="search", function="screen_stocks",
                    intents=("screen stocks", "find stocks"),
                    description="Find stocks by sector, size and valuation.",
                    required=("sector",),
                    optional=("min_market_cap_billions", "max_pe_ratio", "dividend_only"),
                ),
            },
        ),
        "Trading": Subdomain(
            entity="trade order", id_param="trade_id",
            record_fields=("ticker_symbol", "trade_side", "share_quantity", "trade_status"),
            capabilities={
                "Place": Capability(
                    action="create", function="place_trade",
                    intents=("place a trade", "put in an order"),
                    description="Place a buy or sell order for shares.",
                    required=("trade_side", "share_quantity", "ticker_symbol", "order_type"),
                    optional=("limit_price",),
                ),
                "Cancel": Capability(
                    action="delete", function="cancel_trade",
                    intents=("cancel {x}", "pull {x}"),
                    description="Cancel an open trade order.",
                    required=("trade_id",),
                ),
                "Status": Capability(
                    action="get", function="get_trade_status",
                    intents=("check on {x}", "see whether {x} filled"),
                    description="Get the fill status of a trade order.",
                    required=("trade_id",),
                ),
            },
        ),
        "Portfolio": Subdomain(
            entity="portfolio", id_param="portfolio_id",
            record_fields=("portfolio_name", "total_value", "currency"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_portfolio",
                    intents=("create a portfolio", "set up a new portfolio"),
                    description="Create an investment portfolio.",
                    required=("portfolio_name", "base_currency"),
                    optional=("risk_profile",),
                ),
                "Summary": Capability(
                    action="get", function="get_portfolio_summary",
                    intents=("summarize {x}", "give me an overview of {x}"),
                    description="Get holdings and performance of a portfolio.",
                    required=("portfolio_id",),
                    optional=("currency",),
                ),
                "Rebalance": Capability(
                    action="update", function="rebalance_portfolio",
                    intents=("rebalance {x}", "adjust the allocation of {x}"),
                    description="Rebalance a portfolio to a risk profile.",
                    required=("portfolio_id", "risk_profile"),
                    optional=("dry_run",),
                ),
            },
        ),
    },
    "Payments": {
        "Exchange": Subdomain(
            entity="conversion", id_param=None,
            record_fields=("converted_amount", "exchange_rate"),
            capabilities={
                "Convert": Capability(
                    action="compute", function="convert_currency",
                    intents=("convert money", "convert an amount"),
                    description="Convert an amount between two currencies.",
                    required=("amount", "from_currency", "to_currency"),
                    optional=("rate_date",),
                ),
                "Rate": Capability(
                    action="get", function="get_exchange_rate",
                    intents=("get the exchange rate", "check the exchange rate"),
                    description="Get the exchange rate between two currencies.",
                    required=("from_currency", "to_currency"),
                    optional=("rate_date",),
                ),
                "Alert": Capability(
                    action="create", function="create_rate_alert",
                    intents=("set up an exchange rate alert", "alert me about an exchange rate"),
                    description="Notify by email when an exchange rate reaches a target.",
                    required=("from_currency", "to_currency", "target_rate", "alert_email"),
                ),
            },
        ),
        "Invoices": Subdomain(
            entity="invoice", id_param="invoice_id",
            record_fields=("client_name", "amount", "currency", "invoice_status"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_invoice",
                    intents=("create an invoice", "bill a client"),
                    description="Create and send an invoice to a client.",
                    required=("client_name", "client_email", "amount", "currency", "due_date"),
                    optional=("line_items",),
                ),
                "Remind": Capability(
                    action="send", function="send_invoice_reminder",
                    intents=("send a reminder for {x}", "nudge the client about {x}"),
                    description="Email the client a payment reminder for an invoice.",
                    required=("invoice_id",),
                    optional=("reminder_note",),
                ),
                "Status": Capability(
                    action="get", function="get_invoice_status",
                    intents=("check the status of {x}", "see if {x} was paid"),
                    description="Get whether an invoice is paid.",
                    required=("invoice_id",),
                ),
            },
        ),
        "Expenses": Subdomain(
            entity="expense", id_param="expense_id",
            record_fields=("merchant", "amount", "currency", "expense_category"),
            capabilities={
                "Log": Capability(
                    action="create", function="log_expense",
                    intents=("log an expense", "record a purchase"),
                    description="Record an expense.",
                    required=("amount", "currency", "expense_category", "expense_date"),
                    optional=("merchant", "note_body"),
                ),
                "List": Capability(
                    action="list", function="list_expenses",
                    intents=("list my expenses", "show what I spent"),
                    description="List expenses between two dates.",
                    required=("start_date", "end_date"),
                    optional=("expense_category",),
                ),
                "Delete": Capability(
                    action="delete", function="delete_expense",
                    intents=("delete {x}", "remove {x}"),
                    description="Delete a recorded expense.",
                    required=("expense_id",),
                ),
            },
        ),
    },
    "Weather": {
        "Forecast": Subdomain(
            entity="forecast", id_param=None,
            record_fields=("temperature", "conditions"),
            capabilities={
                "Daily": Capability(
                    action="get", function="get_daily_forecast",
                    intents=("get the weather forecast", "tell me the forecast"),
                    description="Daily forecast for a city for the coming days.",
                    required=("city",),
                    optional=("forecast_days", "temperature_unit"),
                ),
                "Hourly": Capability(
                    action="get", function="get_hourly_forecast",
                    intents=("get the hourly forecast", "show the hour-by-hour weather"),
                    description="Hour-by-hour forecast for a city on a date.",
                    required=("city", "date"),
                    optional=("temperature_unit",),
                ),
                "Historical": Capability(
                    action="get", function="get_historical_weather",
                    intents=("look up past weather", "find out what the weather was"),
                    description="Observed weather for a city on a past date.",
                    required=("city", "date"),
                    optional=("temperature_unit",),
                ),
            },
        ),
        "Weather Alerts": Subdomain(
            entity="alert subscription", id_param="subscription_id",
            record_fields=("city", "severity"),
            capabilities={
                "Active": Capability(
                    action="list", function="list_weather_alerts",
                    intents=("list active weather warnings", "show current weather alerts"),
                    description="List active weather warnings in a country.",
                    required=("country",),
                    optional=("severity",),
                ),
                "Subscribe": Capability(
                    action="create", function="subscribe_weather_alerts",
                    intents=("subscribe to weather alerts", "sign me up for storm alerts"),
                    description="Email weather alerts for a city.",
                    required=("city", "alert_email"),
                    optional=("severity", "alert_types"),
                ),
                "Unsubscribe": Capability(
                    action="delete", function="unsubscribe_weather_alerts",
                    intents=("cancel {x}", "unsubscribe from {x}"),
                    description="Stop a weather alert subscription.",
                    required=("subscription_id",),
                ),
            },
        ),
        "Air Quality": Subdomain(
            entity="reading", id_param=None,
            record_fields=("aqi", "dominant_pollutant"),
            capabilities={
                "Current": Capability(
                    action="get", function="get_air_quality",
                    intents=("check the air quality", "get the current AQI"),
                    description="Current air quality index for a city.",
                    required=("city",),
                    optional=("pollutants",),
                ),
                "Pollen": Capability(
                    action="get", function="get_pollen_forecast",
                    intents=("get the pollen forecast", "check pollen levels"),
                    description="Pollen levels for a city on a date.",
                    required=("city", "date"),
                    optional=("pollen_type",),
                ),
                "UV": Capability(
                    action="get", function="get_uv_index",
                    intents=("get the UV index", "check how strong the sun will be"),
                    description="UV index forecast for a city on a date.",
                    required=("city", "date"),
                ),
            },
        ),
    },
    "Healthcare": {
        "Doctors": Subdomain(
            entity="doctor", id_param="doctor_id",
            record_fields=("doctor_name", "specialty", "city"),
            capabilities={
                "Find": Capability(
                    action="search", function="find_doctors",
                    intents=("find a doctor", "look for a specialist"),
                    description="Search doctors by specialty and city.",
                    required=("specialty", "city"),
                    optional=("insurance_provider", "accepting_new_patients", "language"),
                ),
                "Book": Capability(
                    action="create", function="book_appointment",
                    intents=("book an appointment with {x}", "see {x}"),
                    description="Book an appointment with a doctor.",
                    required=("doctor_id", "appointment_date", "appointment_time", "patient_name"),
                    optional=("visit_reason",),
                ),
                "Availability": Capability(
                    action="list", function="get_doctor_availability",
                    intents=("check when {x} is free", "see the open slots of {x}"),
                    description="List free appointment slots of a doctor.",
                    required=("doctor_id", "start_date", "end_date"),
                ),
            },
        ),
        "Prescriptions": Subdomain(
            entity="prescription", id_param="prescription_id",
            record_fields=("medication", "dosage", "refills_left"),
            capabilities={
                "List": Capability(
                    action="list", function="list_prescriptions",
                    intents=("list my prescriptions", "show my medications"),
                    description="List a patient's prescriptions.",
                    required=("patient_name",),
                    optional=("active_only",),
                ),
                "Refill": Capability(
                    action="create", function="request_refill",
                    intents=("request a refill of {x}", "refill {x}"),
                    description="Request a prescription refill at a pharmacy.",
                    required=("prescription_id", "pharmacy"),
                    optional=("pickup_date",),
                ),
                "Reminder": Capability(
                    action="create", function="set_medication_reminder",
                    intents=("set a reminder for {x}", "remind me to take {x}"),
                    description="Set a daily reminder to take a medication.",
                    required=("prescription_id", "reminder_time"),
                    optional=("days_of_week",),
                ),
            },
        ),
        "Lab Results": Subdomain(
            entity="lab result", id_param="lab_order_id",
            record_fields=("test_name", "result_status"),
            capabilities={
                "List": Capability(
                    action="list", function="list_lab_results",
                    intents=("list my lab results", "show my test results"),
                    description="List a patient's lab results.",
                    required=("patient_name",),
                    optional=("start_date",),
                ),
                "Get": Capability(
                    action="get", function="get_lab_result",
                    intents=("open {x}", "show me {x}"),
                    description="Get one lab result in detail.",
                    required=("lab_order_id",),
                ),
                "Share": Capability(
                    action="send", function="share_lab_result",
                    intents=("share {x}", "send {x} to someone"),
                    description="Email a lab result to someone (for example another doctor).",
                    required=("lab_order_id", "recipient_email"),
                    optional=("message",),
                ),
            },
        ),
    },
    "Fitness": {
        "Workouts": Subdomain(
            entity="workout", id_param="workout_id",
            record_fields=("workout_type", "duration_minutes", "calories_burned"),
            capabilities={
                "Log": Capability(
                    action="create", function="log_workout",
                    intents=("log a workout", "record my workout"),
                    description="Record a completed workout.",
                    required=("workout_type", "duration_minutes", "workout_date"),
                    optional=("calories_burned", "distance_km"),
                ),
                "List": Capability(
                    action="list", function="list_workouts",
                    intents=("list my workouts", "show my training history"),
                    description="List workouts between two dates.",
                    required=("start_date", "end_date"),
                    optional=("workout_type",),
                ),
                "Delete": Capability(
                    action="delete", function="delete_workout",
                    intents=("delete {x}", "remove {x} from my log"),
                    description="Delete a logged workout.",
                    required=("workout_id",),
                ),
            },
        ),
        "Goals": Subdomain(
            entity="goal", id_param="goal_id",
            record_fields=("goal_metric", "target_value", "deadline"),
            capabilities={
                "Set": Capability(
                    action="create", function="set_fitness_goal",
                    intents=("set a fitness goal", "create a new goal"),
                    description="Create a fitness goal with a deadline.",
                    required=("goal_metric", "target_value", "deadline"),
                ),
                "Progress": Capability(
                    action="get", function="get_goal_progress",
                    intents=("check my progress on {x}", "see how I'm doing on {x}"),
                    description="Get progress towards a goal.",
                    required=("goal_id",),
                ),
                "Update": Capability(
                    action="update", function="update_fitness_goal",
                    intents=("change {x}", "update {x}"),
                    description="Change the target or deadline of a goal.",
                    required=("goal_id", "target_value"),
                    optional=("deadline",),
                ),
            },
        ),
        "Classes": Subdomain(
            entity="fitness class", id_param="class_id",
            record_fields=("class_type", "start_time", "instructor_name"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_fitness_classes",
                    intents=("find a fitness class", "look for a class"),
                    description="Search fitness classes in a city on a date.",
                    required=("city", "class_type", "class_date"),
                    optional=("start_after",),
                ),
                "Book": Capability(
                    action="create", function="book_fitness_class",
                    intents=("book {x}", "sign me up for {x}"),
                    description="Book a spot in a fitness class.",
                    required=("class_id", "member_name"),
                    optional=("bring_guest",),
                ),
                "Cancel": Capability(
                    action="delete", function="cancel_class_booking",
                    intents=("cancel my spot in {x}", "drop out of {x}"),
                    description="Cancel a fitness class booking.",
                    required=("class_id", "member_name"),
                ),
            },
        ),
    },
    "Shopping": {
        "Products": Subdomain(
            entity="product", id_param="product_id",
            record_fields=("product_name", "price", "currency", "avg_rating"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_products",
                    intents=("search for products", "find products", "shop for something"),
                    description="Search the product catalog.",
                    required=("product_query",),
                    optional=("product_category", "max_price", "min_rating", "in_stock_only", "product_sort"),
                ),
                "Details": Capability(
                    action="get", function="get_product_details",
                    intents=("show me the details of {x}", "tell me more about {x}"),
                    description="Get full details of a product.",
                    required=("product_id",),
                    optional=("include_reviews",),
                ),
                "Price Alert": Capability(
                    action="create", function="create_price_alert",
                    intents=("watch the price of {x}", "alert me when {x} gets cheaper"),
                    description="Email an alert when a product drops below a price.",
                    required=("product_id", "target_price", "alert_email"),
                ),
            },
        ),
        "Cart": Subdomain(
            entity="cart", id_param="cart_id",
            record_fields=("item_count", "cart_total", "currency"),
            capabilities={
                "Add": Capability(
                    action="create", function="add_to_cart",
                    intents=("add something to my cart", "put an item in my basket"),
                    description="Add a product to the shopping cart (creates the cart if needed).",
                    required=("product_name", "quantity"),
                    optional=("gift_wrap",),
                ),
                "View": Capability(
                    action="get", function="view_cart",
                    intents=("show me {x}", "open {x}"),
                    description="Show the contents of a cart.",
                    required=("cart_id",),
                ),
                "Checkout": Capability(
                    action="create", function="checkout_cart",
                    intents=("check out {x}", "pay for {x}"),
                    description="Check out a cart and place the order.",
                    required=("cart_id", "shipping_address", "payment_method"),
                    optional=("promo_code",),
                ),
            },
        ),
        "Orders": Subdomain(
            entity="order", id_param="shop_order_id",
            record_fields=("order_status", "order_total", "currency"),
            capabilities={
                "List": Capability(
                    action="list", function="list_orders",
                    intents=("list my orders", "show my recent orders"),
                    description="List orders placed since a date.",
                    required=("start_date",),
                    optional=("order_status",),
                ),
                "Track": Capability(
                    action="get", function="track_order",
                    intents=("track {x}", "find out where {x} is"),
                    description="Track an order.",
                    required=("shop_order_id",),
                ),
                "Return": Capability(
                    action="create", function="request_return",
                    intents=("return {x}", "start a return for {x}"),
                    description="Start a return for an order.",
                    required=("shop_order_id", "return_reason"),
                    optional=("refund_method",),
                ),
            },
        ),
    },
    "Movies": {
        "Showtimes": Subdomain(
            entity="showtime", id_param="showtime_id",
            record_fields=("movie_title", "start_time", "screen_format"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_showtimes",
                    intents=("find showtimes", "look up when a movie is playing"),
                    description="Search cinema showtimes for a movie in a city.",
                    required=("movie_title", "city", "show_date"),
                    optional=("screen_format",),
                ),
                "Buy": Capability(
                    action="create", function="buy_movie_tickets",
                    intents=("buy tickets for {x}", "get tickets to {x}"),
                    description="Buy tickets for a showtime.",
                    required=("showtime_id", "ticket_count"),
                    optional=("seat_section",),
                ),
                "Seats": Capability(
                    action="list", function="get_available_seats",
                    intents=("show the free seats for {x}", "check seats for {x}"),
                    description="List available seats for a showtime.",
                    required=("showtime_id",),
                    optional=("seat_section",),
                ),
            },
        ),
        "Streaming": Subdomain(
            entity="title", id_param="title_id",
            record_fields=("movie_title", "genre", "release_year"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_streaming_titles",
                    intents=("find something to watch", "search for shows"),
                    description="Search the streaming catalog.",
                    required=("title_query",),
                    optional=("genre", "release_year_from"),
                ),
                "Watchlist": Capability(
                    action="update", function="add_to_watchlist",
                    intents=("add {x} to my watchlist", "save {x} for later"),
                    description="Add a title to a watchlist.",
                    required=("title_id",),
                    optional=("watchlist_name",),
                ),
                "Rate": Capability(
                    action="create", function="rate_title",
                    intents=("rate {x}", "leave a rating for {x}"),
                    description="Rate a title.",
                    required=("title_id", "star_rating"),
                    optional=("review_text",),
                ),
            },
        ),
        "Cinema Club": Subdomain(
            entity="membership", id_param="membership_id",
            record_fields=("membership_tier", "renewal_date"),
            capabilities={
                "Join": Capability(
                    action="create", function="join_cinema_club",
                    intents=("join the cinema club", "get a cinema membership"),
                    description="Sign up for a cinema membership.",
                    required=("full_name", "email", "membership_tier"),
                    optional=("auto_renew",),
                ),
                "Points": Capability(
                    action="get", function="get_membership_points",
                    intents=("check the points on {x}", "see my points for {x}"),
                    description="Get loyalty points of a membership.",
                    required=("membership_id",),
                ),
                "Cancel": Capability(
                    action="delete", function="cancel_membership",
                    intents=("cancel {x}", "end {x}"),
                    description="Cancel a cinema membership.",
                    required=("membership_id",),
                    optional=("cancel_reason",),
                ),
            },
        ),
    },
    "Music": {
        "Catalog": Subdomain(
            entity="track", id_param="track_id",
            record_fields=("song_title", "artist", "duration_seconds"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_tracks",
                    intents=("search for songs", "find some music"),
                    description="Search songs in the catalog.",
                    required=("track_query",),
                    optional=("artist", "music_genre", "limit"),
                ),
                "Lyrics": Capability(
                    action="get", function="get_lyrics",
                    intents=("get the lyrics of {x}", "show me the words to {x}"),
                    description="Get the lyrics of a track.",
                    required=("track_id",),
                ),
                "Similar": Capability(
                    action="list", function="get_similar_tracks",
                    intents=("find songs like {x}", "get tracks similar to {x}"),
                    description="List tracks similar to a given track.",
                    required=("track_id",),
                    optional=("limit",),
                ),
            },
        ),
        "Playlists": Subdomain(
            entity="playlist", id_param="playlist_id",
            record_fields=("playlist_name", "track_count"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_playlist",
                    intents=("create a playlist", "make a new playlist"),
                    description="Create a playlist.",
                    required=("playlist_name",),
                    optional=("playlist_description", "public_playlist"),
                ),
                "Add": Capability(
                    action="update", function="add_song_to_playlist",
                    intents=("add a song to {x}", "put a track on {x}"),
                    description="Add a song to a playlist.",
                    required=("playlist_id", "song_title"),
                    optional=("position",),
                ),
                "Share": Capability(
                    action="send", function="share_playlist",
                    intents=("share {x}", "send {x} to a friend"),
                    description="Share a playlist by email.",
                    required=("playlist_id", "recipient_email"),
                ),
            },
        ),
        "Concerts": Subdomain(
            entity="concert", id_param="concert_id",
            record_fields=("artist", "venue_name", "concert_date"),
            capabilities={
                "Find": Capability(
                    action="search", function="find_concerts",
                    intents=("find concerts", "look for gigs"),
                    description="Find concerts of an artist in a city.",
                    required=("artist", "city"),
                    optional=("start_date", "end_date"),
                ),
                "Buy": Capability(
                    action="create", function="buy_concert_tickets",
                    intents=("buy tickets for {x}", "get tickets to {x}"),
                    description="Buy concert tickets.",
                    required=("concert_id", "ticket_count", "ticket_tier"),
                ),
                "Remind": Capability(
                    action="create", function="set_concert_reminder",
                    intents=("remind me about {x}", "set a reminder for {x}"),
                    description="Email a reminder before a concert.",
                    required=("concert_id", "reminder_email"),
                    optional=("days_before",),
                ),
            },
        ),
    },
    "Sports": {
        "Scores": Subdomain(
            entity="game result", id_param=None,
            record_fields=("home_team", "away_team", "score"),
            capabilities={
                "Live": Capability(
                    action="get", function="get_live_scores",
                    intents=("get the live scores", "check the latest scores"),
                    description="Live scores of a league, optionally for one team.",
                    required=("sport_league",),
                    optional=("team",),
                ),
                "Standings": Capability(
                    action="get", function="get_league_standings",
                    intents=("show the league table", "get the standings"),
                    description="League standings for a season.",
                    required=("sport_league", "season_year"),
                ),
                "Schedule": Capability(
                    action="list", function="get_team_schedule",
                    intents=("get the schedule of a team", "see when a team plays"),
                    description="Upcoming games of a team between two dates.",
                    required=("team", "start_date", "end_date"),
                ),
            },
        ),
        "Game Tickets": Subdomain(
            entity="game", id_param="game_id",
            record_fields=("home_team", "away_team", "game_date", "ticket_price"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_game_tickets",
                    intents=("find tickets for a game", "look for game tickets"),
                    description="Search tickets for a team's games in a city.",
                    required=("team", "city"),
                    optional=("game_date", "max_price"),
                ),
                "Buy": Capability(
                    action="create", function="buy_game_tickets",
                    intents=("buy tickets for {x}", "get seats for {x}"),
                    description="Buy tickets for a game.",
                    required=("game_id", "ticket_count", "stadium_section"),
                ),
                "Resell": Capability(
                    action="create", function="list_tickets_for_resale",
                    intents=("resell my tickets for {x}", "sell my seats for {x}"),
                    description="Offer tickets for a game on the resale market.",
                    required=("game_id", "ticket_count", "asking_price"),
                ),
            },
        ),
        "Courts": Subdomain(
            entity="court", id_param="court_id",
            record_fields=("court_name", "sport", "hourly_rate"),
            capabilities={
                "Find": Capability(
                    action="search", function="find_courts",
                    intents=("find a court", "look for a free court"),
                    description="Find sports courts free on a date.",
                    required=("court_sport", "city", "booking_date"),
                ),
                "Book": Capability(
                    action="create", function="book_court",
                    intents=("book {x}", "reserve {x}"),
                    description="Book a court for a time slot.",
                    required=("court_id", "booking_date", "start_time", "duration_minutes"),
                ),
                "Cancel": Capability(
                    action="delete", function="cancel_court_booking",
                    intents=("cancel my booking of {x}", "free up {x}"),
                    description="Cancel a court booking.",
                    required=("court_id", "booking_date"),
                ),
            },
        ),
    },
    "Real Estate": {
        "Listings": Subdomain(
            entity="home listing", id_param="listing_id",
            record_fields=("street_address", "list_price", "bedrooms"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_homes",
                    intents=("search homes for sale", "find a house to buy"),
                    description="Search homes for sale in a city.",
                    required=("city",),
                    optional=("min_bedrooms", "max_price", "property_type", "has_garage"),
                ),
                "Details": Capability(
                    action="get", function="get_listing_details",
                    intents=("show me {x}", "get the details of {x}"),
                    description="Get full details of a listing.",
                    required=("listing_id",),
                ),
                "Viewing": Capability(
                    action="create", function="schedule_viewing",
                    intents=("schedule a viewing of {x}", "arrange to see {x}"),
                    description="Book a viewing of a listed home.",
                    required=("listing_id", "viewing_date", "viewing_time", "contact_email"),
                ),
            },
        ),
        "Mortgage": Subdomain(
            entity="mortgage estimate", id_param=None,
            record_fields=("monthly_payment", "total_interest"),
            capabilities={
                "Payment": Capability(
                    action="compute", function="calculate_mortgage_payment",
                    intents=("calculate a mortgage payment", "work out my mortgage"),
                    description="Monthly payment of a fixed-rate loan.",
                    required=("loan_amount", "interest_rate", "loan_term_years"),
                    optional=("down_payment",),
                ),
                "Rates": Capability(
                    action="get", function="get_mortgage_rates",
                    intents=("get current mortgage rates", "check mortgage rates"),
                    description="Current average mortgage rates.",
                    required=("loan_term_years",),
                    optional=("country",),
                ),
                "Affordability": Capability(
                    action="compute", function="estimate_affordability",
                    intents=("estimate how much house I can afford", "check my budget"),
                    description="Estimate the maximum affordable home price.",
                    required=("annual_income", "monthly_debts"),
                    optional=("down_payment",),
                ),
            },
        ),
        "Rentals": Subdomain(
            entity="rental", id_param="rental_id",
            record_fields=("street_address", "monthly_rent", "bedrooms"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_apartments",
                    intents=("find an apartment to rent", "search rentals"),
                    description="Search apartments for rent in a city.",
                    required=("city", "max_rent"),
                    optional=("min_bedrooms", "pets_allowed", "furnished"),
                ),
                "Apply": Capability(
                    action="create", function="apply_for_rental",
                    intents=("apply for {x}", "send an application for {x}"),
                    description="Apply to rent an apartment.",
                    required=("rental_id", "full_name", "email", "move_in_date"),
                    optional=("annual_income",),
                ),
                "Contact": Capability(
                    action="send", function="contact_landlord",
                    intents=("message the landlord of {x}", "ask the landlord about {x}"),
                    description="Send a message to the landlord of a rental.",
                    required=("rental_id", "message"),
                    optional=("phone_number",),
                ),
            },
        ),
    },
    "Education": {
        "Courses": Subdomain(
            entity="course", id_param="course_id",
            record_fields=("course_title", "duration_weeks", "price"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_courses",
                    intents=("find a course", "look for online classes"),
                    description="Search online courses by subject.",
                    required=("course_subject",),
                    optional=("course_level", "max_weeks", "free_only", "language"),
                ),
                "Enroll": Capability(
                    action="create", function="enroll_in_course",
                    intents=("enroll in {x}", "sign me up for {x}"),
                    description="Enroll a student in a course.",
                    required=("course_id", "student_email"),
                    optional=("start_date",),
                ),
                "Drop": Capability(
                    action="delete", function="drop_course",
                    intents=("drop {x}", "unenroll from {x}"),
                    description="Drop a course.",
                    required=("course_id", "student_email"),
                    optional=("drop_reason",),
                ),
            },
        ),
        "Assignments": Subdomain(
            entity="assignment", id_param="assignment_id",
            record_fields=("assignment_title", "due_date"),
            capabilities={
                "List": Capability(
                    action="list", function="list_assignments",
                    intents=("list my assignments", "show what homework is due"),
                    description="List assignments of a course.",
                    required=("course_code",),
                    optional=("due_before",),
                ),
                "Submit": Capability(
                    action="create", function="submit_assignment",
                    intents=("submit {x}", "hand in {x}"),
                    description="Submit a file for an assignment.",
                    required=("assignment_id", "document_url"),
                ),
                "Extension": Capability(
                    action="create", function="request_extension",
                    intents=("ask for an extension on {x}", "get more time for {x}"),
                    description="Request a deadline extension.",
                    required=("assignment_id", "new_due_date", "extension_reason"),
                ),
            },
        ),
        "Tutoring": Subdomain(
            entity="tutor", id_param="tutor_id",
            record_fields=("tutor_name", "course_subject", "hourly_rate"),
            capabilities={
                "Find": Capability(
                    action="search", function="find_tutors",
                    intents=("find a tutor", "look for tutoring"),
                    description="Find tutors for a subject.",
                    required=("course_subject",),
                    optional=("max_hourly_rate", "online_only"),
                ),
                "Book": Capability(
                    action="create", function="book_tutoring_session",
                    intents=("book a session with {x}", "schedule tutoring with {x}"),
                    description="Book a tutoring session.",
                    required=("tutor_id", "session_date", "session_time", "duration_minutes"),
                ),
                "Review": Capability(
                    action="create", function="review_tutor",
                    intents=("review {x}", "rate {x}"),
                    description="Leave a review for a tutor.",
                    required=("tutor_id", "star_rating"),
                    optional=("review_text",),
                ),
            },
        ),
    },
    "Careers": {
        "Job Search": Subdomain(
            entity="job posting", id_param="job_id",
            record_fields=("job_title", "company", "salary"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_jobs",
                    intents=("search for jobs", "find job openings"),
                    description="Search job postings.",
                    required=("job_title", "city"),
                    optional=("remote_ok", "min_salary", "employment_type"),
                ),
                "Apply": Capability(
                    action="create", function="apply_to_job",
                    intents=("apply to {x}", "send my application to {x}"),
                    description="Apply to a job posting.",
                    required=("job_id", "full_name", "email"),
                    optional=("cover_letter",),
                ),
                "Save": Capability(
                    action="update", function="save_job",
                    intents=("save {x}", "bookmark {x}"),
                    description="Save a job posting for later.",
                    required=("job_id",),
                    optional=("job_note",),
                ),
            },
        ),
        "Resumes": Subdomain(
            entity="resume", id_param="resume_id",
            record_fields=("full_name", "updated_date"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_resume",
                    intents=("create a resume", "build my CV"),
                    description="Create a resume from profile data.",
                    required=("full_name", "email", "skills"),
                    optional=("years_experience",),
                ),
                "Feedback": Capability(
                    action="get", function="get_resume_feedback",
                    intents=("get feedback on {x}", "review {x}"),
                    description="Get automated feedback on a resume.",
                    required=("resume_id",),
                    optional=("target_role",),
                ),
                "Export": Capability(
                    action="get", function="export_resume",
                    intents=("export {x}", "download {x}"),
                    description="Export a resume as a file.",
                    required=("resume_id", "file_format"),
                ),
            },
        ),
        "Interviews": Subdomain(
            entity="interview", id_param="interview_id",
            record_fields=("candidate_name", "interview_date", "interview_time"),
            capabilities={
                "Schedule": Capability(
                    action="create", function="schedule_interview",
                    intents=("schedule an interview", "set up an interview"),
                    description="Schedule a job interview.",
                    required=("candidate_name", "interviewer_email", "interview_date", "interview_time"),
                    optional=("interview_format",),
                ),
                "Reschedule": Capability(
                    action="update", function="reschedule_interview",
                    intents=("reschedule {x}", "move {x}"),
                    description="Move an interview to a new date and time.",
                    required=("interview_id", "interview_date", "interview_time"),
                ),
                "Feedback": Capability(
                    action="create", function="submit_interview_feedback",
                    intents=("submit feedback for {x}", "write up {x}"),
                    description="Record an interviewer's verdict.",
                    required=("interview_id", "hire_recommendation"),
                    optional=("feedback_notes",),
                ),
            },
        ),
    },
    "Human Resources": {
        "Time Off": Subdomain(
            entity="leave request", id_param="leave_request_id",
            record_fields=("leave_type", "start_date", "end_date", "request_status"),
            capabilities={
                "Request": Capability(
                    action="create", function="request_time_off",
                    intents=("request time off", "book some vacation days"),
                    description="Request leave for an employee.",
                    required=("employee_id", "start_date", "end_date", "leave_type"),
                    optional=("note_body",),
                ),
                "Balance": Capability(
                    action="get", function="get_leave_balance",
                    intents=("check my leave balance", "see how many days off I have left"),
                    description="Remaining leave days of an employee.",
                    required=("employee_id",),
                    optional=("leave_type",),
                ),
                "Cancel": Capability(
                    action="delete", function="cancel_time_off",
                    intents=("cancel {x}", "withdraw {x}"),
                    description="Cancel a leave request.",
                    required=("leave_request_id",),
                ),
            },
        ),
        "Payroll": Subdomain(
            entity="payslip", id_param="payslip_id",
            record_fields=("pay_period", "net_pay", "currency"),
            capabilities={
                "List": Capability(
                    action="list", function="list_payslips",
                    intents=("list my payslips", "show my pay stubs"),
                    description="List payslips of an employee for a year.",
                    required=("employee_id", "year"),
                ),
                "Get": Capability(
                    action="get", function="get_payslip",
                    intents=("download {x}", "open {x}"),
                    description="Get one payslip as a file.",
                    required=("payslip_id",),
                    optional=("file_format",),
                ),
                "Bank": Capability(
                    action="update", function="update_bank_details",
                    intents=("update my bank details", "change where my salary goes"),
                    description="Change the bank account salary is paid into.",
                    required=("employee_id", "account_number"),
                    optional=("effective_date",),
                ),
            },
        ),
        "Directory": Subdomain(
            entity="employee", id_param="employee_id",
            record_fields=("full_name", "department", "office_city"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_employees",
                    intents=("look someone up in the directory", "find a colleague"),
                    description="Search the employee directory.",
                    required=("directory_query",),
                    optional=("department", "office_city"),
                ),
                "Profile": Capability(
                    action="get", function="get_employee_profile",
                    intents=("show the profile of {x}", "look up {x}"),
                    description="Get an employee's profile.",
                    required=("employee_id",),
                ),
                "Reports": Capability(
                    action="list", function="get_direct_reports",
                    intents=("list the direct reports of {x}", "show who reports to {x}"),
                    description="List an employee's direct reports.",
                    required=("employee_id",),
                    optional=("include_contractors",),
                ),
            },
        ),
    },
    "Email": {
        "Mailbox": Subdomain(
            entity="email", id_param="email_id",
            record_fields=("sender", "subject", "received_date"),
            capabilities={
                "Send": Capability(
                    action="send", function="send_email",
                    intents=("send an email", "email someone"),
                    description="Send an email.",
                    required=("recipient_email", "subject", "body"),
                    optional=("cc", "high_priority"),
                ),
                "Search": Capability(
                    action="search", function="search_inbox",
                    intents=("search my inbox", "find an email"),
                    description="Search the mailbox.",
                    required=("email_query",),
                    optional=("sender", "unread_only", "received_after"),
                ),
                "Archive": Capability(
                    action="update", function="archive_email",
                    intents=("archive {x}", "move {x} to the archive"),
                    description="Archive an email.",
                    required=("email_id",),
                ),
            },
        ),
        "SMS": Subdomain(
            entity="text message", id_param="sms_id",
            record_fields=("phone_number", "delivery_status"),
            capabilities={
                "Send": Capability(
                    action="send", function="send_sms",
                    intents=("send a text message", "text someone"),
                    description="Send an SMS.",
                    required=("phone_number", "message"),
                    optional=("send_time",),
                ),
                "Status": Capability(
                    action="get", function="get_sms_status",
                    intents=("check whether {x} was delivered", "get the delivery status of {x}"),
                    description="Get the delivery status of a sent SMS.",
                    required=("sms_id",),
                ),
                "Block": Capability(
                    action="control", function="block_number",
                    intents=("block a phone number", "stop texts from a number"),
                    description="Block a phone number.",
                    required=("phone_number",),
                    optional=("block_reason",),
                ),
            },
        ),
        "Team Chat": Subdomain(
            entity="channel", id_param="channel_id",
            record_fields=("channel_name", "member_count"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_channel",
                    intents=("create a chat channel", "set up a new channel"),
                    description="Create a team chat channel.",
                    required=("channel_name",),
                    optional=("private_channel", "members"),
                ),
                "Post": Capability(
                    action="send", function="post_message",
                    intents=("post a message in {x}", "write in {x}"),
                    description="Post a message in a channel.",
                    required=("channel_id", "message"),
                    optional=("pin_message",),
                ),
                "Archive": Capability(
                    action="delete", function="archive_channel",
                    intents=("archive {x}", "close {x}"),
                    description="Archive a channel.",
                    required=("channel_id",),
                ),
            },
        ),
    },
    "Productivity": {
        "Calendar": Subdomain(
            entity="calendar event", id_param="event_id",
            record_fields=("event_title", "date", "start_time"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_event",
                    intents=("add an event to my calendar", "schedule a meeting"),
                    description="Create a calendar event.",
                    required=("event_title", "date", "start_time"),
                    optional=("duration_minutes", "attendees", "location"),
                ),
                "List": Capability(
                    action="list", function="list_events",
                    intents=("show my calendar", "list my events"),
                    description="List calendar events between two dates.",
                    required=("start_date", "end_date"),
                ),
                "Delete": Capability(
                    action="delete", function="delete_event",
                    intents=("delete {x}", "remove {x} from my calendar"),
                    description="Delete a calendar event.",
                    required=("event_id",),
                    optional=("notify_attendees",),
                ),
            },
        ),
        "Tasks": Subdomain(
            entity="task", id_param="task_id",
            record_fields=("task_title", "due_date", "priority"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_task",
                    intents=("add a task", "create a to-do"),
                    description="Create a task.",
                    required=("task_title", "due_date"),
                    optional=("priority", "task_list"),
                ),
                "Complete": Capability(
                    action="update", function="complete_task",
                    intents=("mark {x} as done", "complete {x}"),
                    description="Mark a task done.",
                    required=("task_id",),
                ),
                "List": Capability(
                    action="list", function="list_tasks",
                    intents=("list my tasks", "show my to-dos"),
                    description="List tasks.",
                    required=(),
                    optional=("task_list", "include_completed", "due_before"),
                ),
            },
        ),
        "Notes": Subdomain(
            entity="note", id_param="note_id",
            record_fields=("note_title", "updated_date"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_note",
                    intents=("write a note", "save a note"),
                    description="Create a note.",
                    required=("note_title", "note_body"),
                    optional=("tags",),
                ),
                "Search": Capability(
                    action="search", function="search_notes",
                    intents=("search my notes", "find a note"),
                    description="Search notes.",
                    required=("note_query",),
                    optional=("tag",),
                ),
                "Delete": Capability(
                    action="delete", function="delete_note",
                    intents=("delete {x}", "throw away {x}"),
                    description="Delete a note.",
                    required=("note_id",),
                ),
            },
        ),
    },
    "Smart Home": {
        "Lighting": Subdomain(
            entity="light", id_param="light_id",
            record_fields=("room", "power_on", "brightness_percent"),
            capabilities={
                "List": Capability(
                    action="list", function="list_lights",
                    intents=("list my lights", "show the lights"),
                    description="List smart lights.",
                    required=(),
                    optional=("room",),
                ),
                "Set": Capability(
                    action="control", function="set_light_state",
                    intents=("change {x}", "adjust {x}"),
                    description="Turn a light on or off, with brightness and color.",
                    required=("light_id", "power_on"),
                    optional=("brightness_percent", "light_color"),
                ),
                "Schedule": Capability(
                    action="create", function="schedule_light",
                    intents=("put {x} on a schedule", "set a timer for {x}"),
                    description="Switch a light on and off at set times.",
                    required=("light_id", "on_time", "off_time"),
                    optional=("days_of_week",),
                ),
            },
        ),
        "Climate": Subdomain(
            entity="thermostat", id_param="thermostat_id",
            record_fields=("room", "current_temperature", "hvac_mode"),
            capabilities={
                "List": Capability(
                    action="list", function="list_thermostats",
                    intents=("list my thermostats", "show the thermostats"),
                    description="List thermostats in the home.",
                    required=(),
                    optional=("room",),
                ),
                "Set": Capability(
                    action="control", function="set_thermostat",
                    intents=("set {x}", "change the temperature on {x}"),
                    description="Set the target temperature of a thermostat.",
                    required=("thermostat_id", "target_temperature"),
                    optional=("hvac_mode",),
                ),
                "Schedule": Capability(
                    action="create", function="set_thermostat_schedule",
                    intents=("schedule {x}", "program {x}"),
                    description="Program a temperature from a time of day.",
                    required=("thermostat_id", "target_temperature", "start_time"),
                    optional=("days_of_week",),
                ),
            },
        ),
        "Security": Subdomain(
            entity="door lock", id_param="lock_id",
            record_fields=("lock_name", "locked", "battery_percent"),
            capabilities={
                "Lock": Capability(
                    action="control", function="lock_door",
                    intents=("lock {x}", "secure {x}"),
                    description="Lock a smart door lock.",
                    required=("lock_id",),
                    optional=("auto_relock_minutes",),
                ),
                "Guest Code": Capability(
                    action="create", function="create_guest_code",
                    intents=("create a guest code for {x}", "give a visitor access to {x}"),
                    description="Create a temporary access code for a lock.",
                    required=("lock_id", "guest_name", "valid_from", "valid_until"),
                ),
                "Camera": Capability(
                    action="get", function="get_camera_snapshot",
                    intents=("show me the camera", "get a snapshot from a camera"),
                    description="Get a still image from a security camera.",
                    required=("camera_name",),
                    optional=("night_mode",),
                ),
            },
        ),
    },
    "Automotive": {
        "Vehicle": Subdomain(
            entity="vehicle", id_param="vehicle_id",
            record_fields=("vehicle_model", "battery_percent", "odometer_km"),
            capabilities={
                "Status": Capability(
                    action="get", function="get_vehicle_status",
                    intents=("check on {x}", "get the status of {x}"),
                    description="Battery, fuel and lock status of a vehicle.",
                    required=("vehicle_id",),
                ),
                "Climate": Capability(
                    action="control", function="start_vehicle_climate",
                    intents=("pre-heat {x}", "start the climate control in {x}"),
                    description="Start the cabin climate control.",
                    required=("vehicle_id", "cabin_temperature"),
                    optional=("defrost",),
                ),
                "Lock": Capability(
                    action="control", function="lock_vehicle",
                    intents=("lock {x}", "make sure {x} is locked"),
                    description="Lock a vehicle remotely.",
                    required=("vehicle_id",),
                    optional=("honk_horn",),
                ),
            },
        ),
        "Maintenance": Subdomain(
            entity="service appointment", id_param="service_id",
            record_fields=("service_type", "service_date", "dealer"),
            capabilities={
                "Book": Capability(
                    action="create", function="book_car_service",
                    intents=("book a car service", "schedule maintenance"),
                    description="Book a maintenance appointment.",
                    required=("vehicle_id", "service_type", "service_date"),
                    optional=("dealer_city",),
                ),
                "Cancel": Capability(
                    action="delete", function="cancel_car_service",
                    intents=("cancel {x}", "call off {x}"),
                    description="Cancel a service appointment.",
                    required=("service_id",),
                ),
                "History": Capability(
                    action="list", function="get_service_history",
                    intents=("show the service history", "list past services"),
                    description="List past services of a vehicle.",
                    required=("vehicle_id",),
                    optional=("since_date",),
                ),
            },
        ),
        "EV Charging": Subdomain(
            entity="charging station", id_param="station_id",
            record_fields=("station_name", "connector_type", "power_kw"),
            capabilities={
                "Find": Capability(
                    action="search", function="find_charging_stations",
                    intents=("find a charging station", "look for a charger"),
                    description="Find EV charging stations.",
                    required=("city",),
                    optional=("connector_type", "min_power_kw", "available_now"),
                ),
                "Start": Capability(
                    action="control", function="start_charging_session",
                    intents=("start charging at {x}", "plug in at {x}"),
                    description="Start a charging session at a station.",
                    required=("station_id", "vehicle_id"),
                    optional=("max_kwh",),
                ),
                "Reserve": Capability(
                    action="create", function="reserve_charger",
                    intents=("reserve {x}", "hold a charger at {x}"),
                    description="Reserve a charger at a station.",
                    required=("station_id", "date", "start_time"),
                ),
            },
        ),
    },
    "Social Media": {
        "Posts": Subdomain(
            entity="post", id_param="post_id",
            record_fields=("post_text", "likes"),
            capabilities={
                "Publish": Capability(
                    action="create", function="publish_post",
                    intents=("publish a post", "post something"),
                    description="Publish a post now.",
                    required=("post_text",),
                    optional=("visibility", "hashtags"),
                ),
                "Schedule": Capability(
                    action="create", function="schedule_post",
                    intents=("schedule a post", "queue a post"),
                    description="Schedule a post for later.",
                    required=("post_text", "publish_date", "publish_time"),
                    optional=("visibility",),
                ),
                "Delete": Capability(
                    action="delete", function="delete_post",
                    intents=("delete {x}", "take down {x}"),
                    description="Delete a post.",
                    required=("post_id",),
                ),
            },
        ),
        "Profiles": Subdomain(
            entity="profile", id_param=None,
            record_fields=("username", "follower_count"),
            capabilities={
                "Follow": Capability(
                    action="control", function="follow_user",
                    intents=("follow someone", "follow an account"),
                    description="Follow an account.",
                    required=("username",),
                    optional=("notify_on_post",),
                ),
                "Followers": Capability(
                    action="list", function="get_followers",
                    intents=("list the followers of an account", "see who follows someone"),
                    description="List followers of an account.",
                    required=("username",),
                    optional=("limit",),
                ),
                "Block": Capability(
                    action="control", function="block_user",
                    intents=("block an account", "block someone"),
                    description="Block an account.",
                    required=("username",),
                    optional=("block_reason",),
                ),
            },
        ),
        "Social Analytics": Subdomain(
            entity="insight", id_param=None,
            record_fields=("impressions", "engagement_rate"),
            capabilities={
                "Account": Capability(
                    action="get", function="get_account_insights",
                    intents=("get the insights of an account", "show account analytics"),
                    description="Engagement metrics of an account over a period.",
                    required=("username", "start_date", "end_date"),
                    optional=("insight_metrics",),
                ),
                "Trending": Capability(
                    action="list", function="get_trending_hashtags",
                    intents=("show trending hashtags", "see what's trending"),
                    description="Trending hashtags in a country.",
                    required=("country",),
                    optional=("limit",),
                ),
                "Best Time": Capability(
                    action="compute", function="get_best_posting_time",
                    intents=("find the best time to post", "tell me when to post"),
                    description="Best hour to post for an account's audience.",
                    required=("username",),
                    optional=("weekday",),
                ),
            },
        ),
    },
    "News": {
        "Headlines": Subdomain(
            entity="article", id_param="article_id",
            record_fields=("headline", "source", "published_date"),
            capabilities={
                "Top": Capability(
                    action="list", function="get_top_headlines",
                    intents=("get the top headlines", "show me the news"),
                    description="Top headlines by category.",
                    required=("news_category",),
                    optional=("country", "limit"),
                ),
                "Search": Capability(
                    action="search", function="search_news",
                    intents=("search the news", "find articles"),
                    description="Search news articles.",
                    required=("news_query",),
                    optional=("from_date", "to_date", "language", "news_sort"),
                ),
                "Summary": Capability(
                    action="get", function="get_article_summary",
                    intents=("summarize {x}", "give me the gist of {x}"),
                    description="Summarize a news article.",
                    required=("article_id",),
                    optional=("summary_length",),
                ),
            },
        ),
        "News Subscriptions": Subdomain(
            entity="news subscription", id_param="news_subscription_id",
            record_fields=("news_topic", "digest_frequency"),
            capabilities={
                "Subscribe": Capability(
                    action="create", function="subscribe_to_topic",
                    intents=("subscribe to news about a topic", "get a news digest"),
                    description="Subscribe an email to a news topic.",
                    required=("news_topic", "email"),
                    optional=("digest_frequency",),
                ),
                "Unsubscribe": Capability(
                    action="delete", function="unsubscribe_from_topic",
                    intents=("unsubscribe from {x}", "cancel {x}"),
                    description="Cancel a news subscription.",
                    required=("news_subscription_id",),
                ),
                "List": Capability(
                    action="list", function="list_news_subscriptions",
                    intents=("list my news subscriptions", "show what I'm subscribed to"),
                    description="List subscriptions of an email.",
                    required=("email",),
                ),
            },
        ),
        "Podcasts": Subdomain(
            entity="episode", id_param="episode_id",
            record_fields=("episode_title", "podcast_name", "duration_minutes"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_podcasts",
                    intents=("find podcasts", "search for podcast episodes"),
                    description="Search podcast episodes.",
                    required=("podcast_query",),
                    optional=("max_duration_minutes",),
                ),
                "Download": Capability(
                    action="get", function="download_episode",
                    intents=("download {x}", "save {x} offline"),
                    description="Download an episode for offline listening.",
                    required=("episode_id",),
                    optional=("audio_quality",),
                ),
                "Queue": Capability(
                    action="update", function="add_episode_to_queue",
                    intents=("queue {x}", "add {x} to my queue"),
                    description="Add an episode to the play queue.",
                    required=("episode_id",),
                    optional=("play_next",),
                ),
            },
        ),
    },
    "Navigation": {
        "Directions": Subdomain(
            entity="route", id_param=None,
            record_fields=("distance_km", "duration_minutes"),
            capabilities={
                "Route": Capability(
                    action="get", function="get_directions",
                    intents=("get directions", "find a route"),
                    description="Turn-by-turn route between two addresses.",
                    required=("start_address", "destination_address", "travel_mode"),
                    optional=("avoid_tolls", "depart_time"),
                ),
                "Travel Time": Capability(
                    action="compute", function="get_travel_time",
                    intents=("estimate the travel time", "tell me how long it takes"),
                    description="Travel time between two cities.",
                    required=("origin_city", "destination_city", "travel_mode"),
                ),
                "Distance": Capability(
                    action="compute", function="get_distance",
                    intents=("get the distance", "tell me how far it is"),
                    description="Distance between two cities.",
                    required=("origin_city", "destination_city"),
                    optional=("distance_unit",),
                ),
            },
        ),
        "Places": Subdomain(
            entity="place", id_param="place_id",
            record_fields=("place_name", "place_category", "avg_rating"),
            capabilities={
                "Nearby": Capability(
                    action="search", function="search_nearby_places",
                    intents=("find places nearby", "search for places around"),
                    description="Search places of a category in a city.",
                    required=("city", "place_category"),
                    optional=("radius_km", "open_now"),
                ),
                "Details": Capability(
                    action="get", function="get_place_details",
                    intents=("tell me about {x}", "get details on {x}"),
                    description="Opening hours, address and rating of a place.",
                    required=("place_id",),
                ),
                "Save": Capability(
                    action="update", function="save_place",
                    intents=("save {x}", "add {x} to my saved places"),
                    description="Save a place to a list.",
                    required=("place_id",),
                    optional=("place_list",),
                ),
            },
        ),
        "Traffic": Subdomain(
            entity="incident", id_param=None,
            record_fields=("road", "severity"),
            capabilities={
                "Incidents": Capability(
                    action="list", function="get_traffic_incidents",
                    intents=("check the traffic", "see if there are traffic jams"),
                    description="Current traffic incidents in a city.",
                    required=("city",),
                    optional=("severity",),
                ),
                "Parking": Capability(
                    action="search", function="find_parking",
                    intents=("find parking", "look for a parking spot"),
                    description="Find parking in a city.",
                    required=("city", "arrival_time"),
                    optional=("max_hourly_rate",),
                ),
                "Tolls": Capability(
                    action="compute", function="estimate_tolls",
                    intents=("estimate the tolls", "tell me what the tolls cost"),
                    description="Estimate road tolls between two cities.",
                    required=("origin_city", "destination_city", "vehicle_class"),
                ),
            },
        ),
    },
    "Shipping": {
        "Shipments": Subdomain(
            entity="shipment", id_param="tracking_number",
            record_fields=("shipment_status", "estimated_delivery"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_shipment",
                    intents=("ship a package", "create a shipment"),
                    description="Create a shipment and print a label.",
                    required=("sender_name", "recipient_address", "package_weight_kg", "service_level"),
                    optional=("insured",),
                ),
                "Track": Capability(
                    action="get", function="track_shipment",
                    intents=("track {x}", "find out where {x} is"),
                    description="Track a shipment.",
                    required=("tracking_number",),
                ),
                "Cancel": Capability(
                    action="delete", function="cancel_shipment",
                    intents=("cancel {x}", "stop {x}"),
                    description="Cancel a shipment before pickup.",
                    required=("tracking_number",),
                    optional=("cancel_reason",),
                ),
            },
        ),
        "Rates": Subdomain(
            entity="quote", id_param=None,
            record_fields=("price", "currency", "transit_days"),
            capabilities={
                "Quote": Capability(
                    action="compute", function="get_shipping_quote",
                    intents=("get a shipping quote", "find out what shipping costs"),
                    description="Price of shipping a package between countries.",
                    required=("origin_country", "destination_country", "package_weight_kg"),
                    optional=("service_level",),
                ),
                "Customs": Capability(
                    action="compute", function="estimate_customs_duty",
                    intents=("estimate customs duty", "check import duties"),
                    description="Estimate import duty for goods.",
                    required=("destination_country", "declared_value", "currency"),
                ),
                "Pickup": Capability(
                    action="create", function="schedule_pickup",
                    intents=("schedule a pickup", "have a courier collect a parcel"),
                    description="Schedule a courier pickup.",
                    required=("pickup_address", "pickup_date"),
                    optional=("package_count",),
                ),
            },
        ),
        "Warehouse": Subdomain(
            entity="item", id_param="sku",
            record_fields=("product_name", "quantity", "warehouse_city"),
            capabilities={
                "Stock": Capability(
                    action="get", function="check_inventory",
                    intents=("check stock of {x}", "see how many of {x} we have"),
                    description="Stock level of an item.",
                    required=("sku",),
                    optional=("warehouse_city",),
                ),
                "Restock": Capability(
                    action="create", function="create_restock_order",
                    intents=("reorder {x}", "restock {x}"),
                    description="Order more units of an item.",
                    required=("sku", "quantity"),
                    optional=("expedite",),
                ),
                "Transfer": Capability(
                    action="update", function="transfer_stock",
                    intents=("move stock of {x}", "transfer units of {x}"),
                    description="Move units of an item between warehouses.",
                    required=("sku", "quantity", "from_warehouse", "to_warehouse"),
                ),
            },
        ),
    },
    "Insurance": {
        "Policies": Subdomain(
            entity="policy", id_param="policy_id",
            record_fields=("insurance_type", "coverage_amount", "premium"),
            capabilities={
                "Quote": Capability(
                    action="compute", function="get_insurance_quote",
                    intents=("get an insurance quote", "price a policy"),
                    description="Quote a premium for coverage.",
                    required=("insurance_type", "coverage_amount"),
                    optional=("deductible", "country"),
                ),
                "Details": Capability(
                    action="get", function="get_policy_details",
                    intents=("show me {x}", "get the details of {x}"),
                    description="Coverage and premium of a policy.",
                    required=("policy_id",),
                ),
                "Renew": Capability(
                    action="update", function="renew_policy",
                    intents=("renew {x}", "extend {x}"),
                    description="Renew a policy for another term.",
                    required=("policy_id",),
                    optional=("auto_renew",),
                ),
            },
        ),
        "Claims": Subdomain(
            entity="claim", id_param="claim_id",
            record_fields=("claim_status", "claim_amount"),
            capabilities={
                "File": Capability(
                    action="create", function="file_claim",
                    intents=("file a claim", "open an insurance claim"),
                    description="File a claim under a policy.",
                    required=("policy_id", "incident_date", "claim_amount", "incident_description"),
                ),
                "Status": Capability(
                    action="get", function="get_claim_status",
                    intents=("check the status of {x}", "see where {x} stands"),
                    description="Get the status of a claim.",
                    required=("claim_id",),
                ),
                "Upload": Capability(
                    action="update", function="upload_claim_document",
                    intents=("attach a document to {x}", "upload evidence for {x}"),
                    description="Attach a document to a claim.",
                    required=("claim_id", "document_url"),
                ),
            },
        ),
        "Agents": Subdomain(
            entity="agent", id_param="agent_id",
            record_fields=("agent_name", "city"),
            capabilities={
                "Find": Capability(
                    action="search", function="find_insurance_agent",
                    intents=("find an insurance agent", "look for an agent"),
                    description="Find insurance agents in a city.",
                    required=("city",),
                    optional=("insurance_type", "language"),
                ),
                "Callback": Capability(
                    action="create", function="request_callback",
                    intents=("ask {x} to call me back", "get a callback from {x}"),
                    description="Ask an agent to call back.",
                    required=("agent_id", "phone_number", "callback_date", "callback_time"),
                ),
                "Rate": Capability(
                    action="create", function="rate_agent",
                    intents=("rate {x}", "leave feedback for {x}"),
                    description="Rate an insurance agent.",
                    required=("agent_id", "star_rating"),
                    optional=("review_text",),
                ),
            },
        ),
    },
    "Government": {
        "Permits": Subdomain(
            entity="permit application", id_param="application_id",
            record_fields=("permit_type", "application_status"),
            capabilities={
                "Apply": Capability(
                    action="create", function="apply_for_permit",
                    intents=("apply for a permit", "request a permit"),
                    description="Apply for a municipal permit.",
                    required=("permit_type", "full_name", "street_address"),
                    optional=("start_date",),
                ),
                "Status": Capability(
                    action="get", function="get_permit_status",
                    intents=("check the status of {x}", "see if {x} was approved"),
                    description="Status of a permit application.",
                    required=("application_id",),
                ),
                "Withdraw": Capability(
                    action="delete", function="withdraw_permit_application",
                    intents=("withdraw {x}", "cancel {x}"),
                    description="Withdraw a permit application.",
                    required=("application_id",),
                    optional=("withdraw_reason",),
                ),
            },
        ),
        "Taxes": Subdomain(
            entity="tax estimate", id_param=None,
            record_fields=("tax_due", "effective_rate"),
            capabilities={
                "Estimate": Capability(
                    action="compute", function="estimate_income_tax",
                    intents=("estimate my income tax", "work out my taxes"),
                    description="Estimate income tax for a year.",
                    required=("annual_income", "filing_status", "country"),
                    optional=("dependents",),
                ),
                "Deadlines": Capability(
                    action="list", function="get_tax_deadlines",
                    intents=("get the tax deadlines", "tell me when taxes are due"),
                    description="Tax filing deadlines for a country and year.",
                    required=("country", "tax_year"),
                ),
                "Pay": Capability(
                    action="create", function="make_tax_payment",
                    intents=("make a tax payment", "pay my taxes"),
                    description="Pay tax owed for a year.",
                    required=("taxpayer_id", "amount", "tax_year"),
                    optional=("payment_date",),
                ),
            },
        ),
        "Civic Services": Subdomain(
            entity="appointment", id_param="civic_appointment_id",
            record_fields=("office_city", "date"),
            capabilities={
                "Polling": Capability(
                    action="get", function="find_polling_place",
                    intents=("find my polling place", "tell me where to vote"),
                    description="Polling place for an address.",
                    required=("street_address", "city"),
                ),
                "Register": Capability(
                    action="create", function="register_to_vote",
                    intents=("register to vote", "sign up to vote"),
                    description="Register a voter.",
                    required=("full_name", "birth_date", "street_address"),
                ),
                "ID Renewal": Capability(
                    action="create", function="book_id_renewal",
                    intents=("book an ID renewal appointment", "renew my ID"),
                    description="Book an appointment to renew an identity document.",
                    required=("document_type", "date", "office_city"),
                ),
            },
        ),
    },
    "Telecom": {
        "Mobile Plan": Subdomain(
            entity="phone line", id_param="line_id",
            record_fields=("plan_tier", "data_left_gb"),
            capabilities={
                "Usage": Capability(
                    action="get", function="get_data_usage",
                    intents=("check the data usage on {x}", "see how much data {x} used"),
                    description="Data used this billing month on a line.",
                    required=("line_id",),
                ),
                "Change": Capability(
                    action="update", function="change_mobile_plan",
                    intents=("change the plan of {x}", "switch {x} to another plan"),
                    description="Move a line to another plan.",
                    required=("line_id", "plan_tier"),
                    optional=("effective_date",),
                ),
                "Data Pack": Capability(
                    action="create", function="add_data_pack",
                    intents=("add data to {x}", "buy extra data for {x}"),
                    description="Add a data pack to a line.",
                    required=("line_id", "data_gb"),
                    optional=("auto_renew",),
                ),
            },
        ),
        "Support": Subdomain(
            entity="support ticket", id_param="ticket_id",
            record_fields=("issue_category", "ticket_status"),
            capabilities={
                "Outage": Capability(
                    action="get", function="check_service_outage",
                    intents=("check for an outage", "see if the network is down"),
                    description="Known outages at a postal code.",
                    required=("postal_code",),
                ),
                "Open": Capability(
                    action="create", function="open_support_ticket",
                    intents=("open a support ticket", "report a problem"),
                    description="Open a support ticket.",
                    required=("issue_category", "incident_description", "email"),
                    optional=("urgent",),
                ),
                "Status": Capability(
                    action="get", function="get_ticket_status",
                    intents=("check on {x}", "get an update on {x}"),
                    description="Status of a support ticket.",
                    required=("ticket_id",),
                ),
            },
        ),
        "Roaming": Subdomain(
            entity="roaming pass", id_param=None,
            record_fields=("destination_country", "daily_price"),
            capabilities={
                "Enable": Capability(
                    action="control", function="enable_roaming",
                    intents=("turn on roaming", "enable roaming"),
                    description="Enable roaming on a line for a trip.",
                    required=("line_id", "destination_country", "start_date"),
                    optional=("end_date",),
                ),
                "Rates": Capability(
                    action="get", function="get_roaming_rates",
                    intents=("check roaming rates", "find out what roaming costs"),
                    description="Roaming prices in a country.",
                    required=("destination_country",),
                ),
                "Disable": Capability(
                    action="control", function="disable_roaming",
                    intents=("turn off roaming", "disable roaming"),
                    description="Disable roaming on a line.",
                    required=("line_id",),
                ),
            },
        ),
    },
    "Utilities": {
        "Electricity": Subdomain(
            entity="meter", id_param="meter_id",
            record_fields=("usage_kwh", "cost"),
            capabilities={
                "Usage": Capability(
                    action="get", function="get_energy_usage",
                    intents=("check the energy usage of {x}", "see what {x} used"),
                    description="Energy used by a meter between two dates.",
                    required=("meter_id", "start_date", "end_date"),
                    optional=("granularity",),
                ),
                "Reading": Capability(
                    action="create", function="submit_meter_reading",
                    intents=("submit a reading for {x}", "send in the reading of {x}"),
                    description="Submit a meter reading.",
                    required=("meter_id", "reading_kwh", "date"),
                ),
                "Tariffs": Capability(
                    action="compute", function="compare_energy_tariffs",
                    intents=("compare energy tariffs", "find a cheaper energy plan"),
                    description="Compare tariffs for a postal code and usage.",
                    required=("postal_code", "annual_usage_kwh"),
                    optional=("green_only",),
                ),
            },
        ),
        "Utility Bills": Subdomain(
            entity="bill", id_param="bill_id",
            record_fields=("amount", "currency", "due_date"),
            capabilities={
                "List": Capability(
                    action="list", function="list_utility_bills",
                    intents=("list my utility bills", "show my bills"),
                    description="List utility bills of an account.",
                    required=("account_number",),
                    optional=("unpaid_only",),
                ),
                "Pay": Capability(
                    action="create", function="pay_utility_bill",
                    intents=("pay {x}", "settle {x}"),
                    description="Pay a utility bill.",
                    required=("bill_id", "amount", "payment_method"),
                ),
                "Dispute": Capability(
                    action="create", function="dispute_bill",
                    intents=("dispute {x}", "complain about {x}"),
                    description="Dispute a utility bill.",
                    required=("bill_id", "incident_description"),
                ),
            },
        ),
        "Outages": Subdomain(
            entity="outage report", id_param="outage_id",
            record_fields=("utility_type", "outage_status"),
            capabilities={
                "Report": Capability(
                    action="create", function="report_outage",
                    intents=("report an outage", "report that the power is out"),
                    description="Report a power, water or gas outage.",
                    required=("street_address", "utility_type"),
                    optional=("incident_description",),
                ),
                "Status": Capability(
                    action="get", function="get_outage_status",
                    intents=("check on {x}", "get an update on {x}"),
                    description="Status of a reported outage.",
                    required=("outage_id",),
                ),
                "Map": Capability(
                    action="list", function="list_outages",
                    intents=("list current outages", "show the outage map"),
                    description="Current outages in a city.",
                    required=("city",),
                    optional=("utility_type",),
                ),
            },
        ),
    },
    "Pets": {
        "Vet": Subdomain(
            entity="vet appointment", id_param="vet_appointment_id",
            record_fields=("pet_name", "date"),
            capabilities={
                "Book": Capability(
                    action="create", function="book_vet_appointment",
                    intents=("book a vet appointment", "take my pet to the vet"),
                    description="Book a vet appointment.",
                    required=("pet_name", "pet_species", "date"),
                    optional=("visit_reason",),
                ),
                "Cancel": Capability(
                    action="delete", function="cancel_vet_appointment",
                    intents=("cancel {x}", "call off {x}"),
                    description="Cancel a vet appointment.",
                    required=("vet_appointment_id",),
                ),
                "Vaccinations": Capability(
                    action="get", function="get_vaccination_records",
                    intents=("get my pet's vaccination records", "check vaccinations"),
                    description="Vaccination history of a pet.",
                    required=("pet_name",),
                ),
            },
        ),
        "Adoption": Subdomain(
            entity="adoptable pet", id_param="pet_id",
            record_fields=("pet_name", "pet_species", "age_years"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_adoptable_pets",
                    intents=("find a pet to adopt", "look for adoptable pets"),
                    description="Search pets up for adoption.",
                    required=("pet_species", "city"),
                    optional=("max_age_years", "good_with_kids"),
                ),
                "Apply": Capability(
                    action="create", function="apply_to_adopt",
                    intents=("apply to adopt {x}", "send an adoption application for {x}"),
                    description="Apply to adopt a pet.",
                    required=("pet_id", "full_name", "email"),
                    optional=("has_yard",),
                ),
                "Profile": Capability(
                    action="get", function="get_pet_profile",
                    intents=("show me {x}", "tell me about {x}"),
                    description="Get a pet's profile.",
                    required=("pet_id",),
                ),
            },
        ),
        "Pet Sitting": Subdomain(
            entity="pet sitter", id_param="sitter_id",
            record_fields=("sitter_name", "hourly_rate", "avg_rating"),
            capabilities={
                "Find": Capability(
                    action="search", function="find_pet_sitters",
                    intents=("find a pet sitter", "look for someone to watch my pet"),
                    description="Find pet sitters available for dates.",
                    required=("city", "start_date", "end_date"),
                    optional=("pet_species",),
                ),
                "Book": Capability(
                    action="create", function="book_pet_sitter",
                    intents=("book {x}", "hire {x}"),
                    description="Book a pet sitter.",
                    required=("sitter_id", "start_date", "end_date"),
                    optional=("pet_count",),
                ),
                "Review": Capability(
                    action="create", function="review_pet_sitter",
                    intents=("review {x}", "rate {x}"),
                    description="Review a pet sitter.",
                    required=("sitter_id", "star_rating"),
                    optional=("review_text",),
                ),
            },
        ),
    },
    "Events": {
        "Local Events": Subdomain(
            entity="event", id_param="event_listing_id",
            record_fields=("event_name", "venue_name", "date"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_events",
                    intents=("find events", "see what's on"),
                    description="Search local events.",
                    required=("city", "event_category"),
                    optional=("start_date", "end_date"),
                ),
                "Register": Capability(
                    action="create", function="register_for_event",
                    intents=("register for {x}", "sign up for {x}"),
                    description="Register attendees for an event.",
                    required=("event_listing_id", "full_name", "email"),
                    optional=("ticket_count",),
                ),
                "Cancel": Capability(
                    action="delete", function="cancel_event_registration",
                    intents=("cancel my registration for {x}", "drop out of {x}"),
                    description="Cancel an event registration.",
                    required=("event_listing_id", "email"),
                ),
            },
        ),
        "Venues": Subdomain(
            entity="venue", id_param="venue_id",
            record_fields=("venue_name", "capacity"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_venues",
                    intents=("find a venue", "look for an event space"),
                    description="Search venues by capacity.",
                    required=("city", "capacity"),
                    optional=("catering",),
                ),
                "Book": Capability(
                    action="create", function="book_venue",
                    intents=("book {x}", "reserve {x}"),
                    description="Book a venue for a date.",
                    required=("venue_id", "date", "start_time"),
                    optional=("guest_count",),
                ),
                "Quote": Capability(
                    action="compute", function="get_venue_quote",
                    intents=("get a quote from {x}", "ask {x} for a price"),
                    description="Price quote for an event at a venue.",
                    required=("venue_id", "guest_count", "date"),
                ),
            },
        ),
        "Conferences": Subdomain(
            entity="session", id_param="session_id",
            record_fields=("talk_title", "speaker_name", "start_time"),
            capabilities={
                "Agenda": Capability(
                    action="list", function="get_conference_agenda",
                    intents=("show the conference agenda", "list the talks"),
                    description="Agenda of a conference day.",
                    required=("conference", "date"),
                    optional=("conference_track",),
                ),
                "Bookmark": Capability(
                    action="update", function="bookmark_session",
                    intents=("bookmark {x}", "save {x} to my agenda"),
                    description="Add a session to the personal agenda.",
                    required=("session_id",),
                ),
                "Propose": Capability(
                    action="create", function="submit_talk_proposal",
                    intents=("submit a talk proposal", "propose a talk"),
                    description="Submit a talk to a call for papers.",
                    required=("talk_title", "speaker_name", "email", "talk_abstract"),
                    optional=("talk_format",),
                ),
            },
        ),
    },
    "Gaming": {
        "Leaderboards": Subdomain(
            entity="ranking", id_param=None,
            record_fields=("player_tag", "rank", "score"),
            capabilities={
                "Top": Capability(
                    action="list", function="get_leaderboard",
                    intents=("show the leaderboard", "get the top players"),
                    description="Top players of a game.",
                    required=("game_title",),
                    optional=("region", "limit"),
                ),
                "Rank": Capability(
                    action="get", function="get_player_rank",
                    intents=("look up a player's rank", "check my rank"),
                    description="Rank of a player in a game.",
                    required=("player_tag", "game_title"),
                ),
                "Stats": Capability(
                    action="get", function="get_player_stats",
                    intents=("get a player's stats", "show my stats"),
                    description="Statistics of a player in a game.",
                    required=("player_tag", "game_title"),
                    optional=("season_year",),
                ),
            },
        ),
        "Matchmaking": Subdomain(
            entity="lobby", id_param="lobby_id",
            record_fields=("game_mode", "max_players"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_lobby",
                    intents=("create a game lobby", "open a lobby"),
                    description="Create a multiplayer lobby.",
                    required=("game_title", "game_mode", "max_players"),
                    optional=("private_lobby",),
                ),
                "Join": Capability(
                    action="control", function="join_lobby",
                    intents=("join {x}", "get me into {x}"),
                    description="Join a lobby.",
                    required=("lobby_id", "player_tag"),
                ),
                "Invite": Capability(
                    action="send", function="invite_to_lobby",
                    intents=("invite friends to {x}", "send invites for {x}"),
                    description="Invite players to a lobby.",
                    required=("lobby_id", "friends"),
                ),
            },
        ),
        "Game Store": Subdomain(
            entity="store item", id_param="item_id",
            record_fields=("item_name", "price", "currency"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_game_store",
                    intents=("search the game store", "find something in the store"),
                    description="Search the game store.",
                    required=("store_query",),
                    optional=("platform", "max_price", "on_sale"),
                ),
                "Buy": Capability(
                    action="create", function="buy_game_item",
                    intents=("buy {x}", "purchase {x}"),
                    description="Buy a store item.",
                    required=("item_id",),
                    optional=("gift_recipient",),
                ),
                "Wishlist": Capability(
                    action="update", function="add_to_wishlist",
                    intents=("add {x} to my wishlist", "wishlist {x}"),
                    description="Add an item to the wishlist.",
                    required=("item_id",),
                ),
            },
        ),
    },
    "Cloud": {
        "Compute": Subdomain(
            entity="instance", id_param="instance_id",
            record_fields=("instance_name", "machine_type", "instance_state"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_instance",
                    intents=("create a VM", "spin up a server"),
                    description="Create a virtual machine.",
                    required=("instance_name", "machine_type", "cloud_region"),
                    optional=("disk_gb", "spot_instance"),
                ),
                "Stop": Capability(
                    action="control", function="stop_instance",
                    intents=("stop {x}", "shut down {x}"),
                    description="Stop a virtual machine.",
                    required=("instance_id",),
                    optional=("force",),
                ),
                "Resize": Capability(
                    action="update", function="resize_instance",
                    intents=("resize {x}", "change the machine type of {x}"),
                    description="Change the machine type of a VM.",
                    required=("instance_id", "machine_type"),
                ),
            },
        ),
        "Storage": Subdomain(
            entity="bucket", id_param="bucket_id",
            record_fields=("bucket_name", "size_gb"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_bucket",
                    intents=("create a storage bucket", "make a bucket"),
                    description="Create an object storage bucket.",
                    required=("bucket_name", "cloud_region"),
                    optional=("versioning", "storage_class"),
                ),
                "Lifecycle": Capability(
                    action="update", function="set_bucket_lifecycle",
                    intents=("set a lifecycle rule on {x}", "auto-delete old files in {x}"),
                    description="Delete objects in a bucket after some days.",
                    required=("bucket_id", "delete_after_days"),
                ),
                "Usage": Capability(
                    action="get", function="get_bucket_usage",
                    intents=("check the usage of {x}", "see how big {x} is"),
                    description="Size and object count of a bucket.",
                    required=("bucket_id",),
                ),
            },
        ),
        "Monitoring": Subdomain(
            entity="alert rule", id_param="alert_id",
            record_fields=("metric", "threshold"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_alert_rule",
                    intents=("create an alert", "set up monitoring"),
                    description="Alert by email when a metric crosses a threshold.",
                    required=("metric", "comparison", "threshold", "alert_email"),
                    optional=("window_minutes",),
                ),
                "Query": Capability(
                    action="get", function="query_metrics",
                    intents=("query a metric", "show metric values"),
                    description="Values of a metric between two dates.",
                    required=("metric", "start_date", "end_date"),
                    optional=("aggregation",),
                ),
                "Mute": Capability(
                    action="control", function="mute_alert",
                    intents=("mute {x}", "silence {x}"),
                    description="Mute an alert for some hours.",
                    required=("alert_id", "mute_hours"),
                ),
            },
        ),
    },
    "Software": {
        "Repositories": Subdomain(
            entity="repository", id_param="repo_id",
            record_fields=("repo_name", "default_branch"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_repository",
                    intents=("create a repository", "start a new repo"),
                    description="Create a code repository.",
                    required=("repo_name",),
                    optional=("private_repo", "programming_language", "license"),
                ),
                "Search": Capability(
                    action="search", function="search_code",
                    intents=("search the code", "find code"),
                    description="Search code across repositories.",
                    required=("code_query",),
                    optional=("programming_language", "limit"),
                ),
                "Branch": Capability(
                    action="create", function="create_branch",
                    intents=("create a branch in {x}", "branch off in {x}"),
                    description="Create a branch in a repository.",
                    required=("repo_id", "branch_name"),
                    optional=("from_branch",),
                ),
            },
        ),
        "Issues": Subdomain(
            entity="issue", id_param="issue_id",
            record_fields=("issue_title", "issue_state"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_issue",
                    intents=("open an issue", "file a bug"),
                    description="Open an issue in a repository.",
                    required=("repo_name", "issue_title"),
                    optional=("issue_body", "issue_labels", "assignee"),
                ),
                "Close": Capability(
                    action="update", function="close_issue",
                    intents=("close {x}", "resolve {x}"),
                    description="Close an issue.",
                    required=("issue_id",),
                    optional=("close_reason",),
                ),
                "Comment": Capability(
                    action="send", function="comment_on_issue",
                    intents=("comment on {x}", "reply to {x}"),
                    description="Comment on an issue.",
                    required=("issue_id", "comment"),
                ),
            },
        ),
        "CI": Subdomain(
            entity="build", id_param="build_id",
            record_fields=("build_status", "duration_seconds"),
            capabilities={
                "Trigger": Capability(
                    action="create", function="trigger_build",
                    intents=("start a build", "trigger CI"),
                    description="Trigger a CI build of a branch.",
                    required=("repo_name", "branch_name"),
                    optional=("run_tests",),
                ),
                "Status": Capability(
                    action="get", function="get_build_status",
                    intents=("check on {x}", "see if {x} passed"),
                    description="Status of a build.",
                    required=("build_id",),
                ),
                "Logs": Capability(
                    action="get", function="get_build_logs",
                    intents=("get the logs of {x}", "show output of {x}"),
                    description="Logs of a build.",
                    required=("build_id",),
                    optional=("tail_lines",),
                ),
            },
        ),
    },
    "CRM": {
        "Contacts": Subdomain(
            entity="contact", id_param="contact_id",
            record_fields=("full_name", "company"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_contact",
                    intents=("add a contact", "save a new contact"),
                    description="Create a CRM contact.",
                    required=("full_name", "email"),
                    optional=("company", "phone_number"),
                ),
                "Search": Capability(
                    action="search", function="search_contacts",
                    intents=("search my contacts", "find a contact"),
                    description="Search CRM contacts.",
                    required=("directory_query",),
                    optional=("company",),
                ),
                "Update": Capability(
                    action="update", function="update_contact",
                    intents=("update {x}", "change the details of {x}"),
                    description="Update a contact's details.",
                    required=("contact_id",),
                    optional=("email", "phone_number", "job_title"),
                ),
            },
        ),
        "Deals": Subdomain(
            entity="deal", id_param="deal_id",
            record_fields=("deal_name", "deal_value", "currency", "deal_stage"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_deal",
                    intents=("create a deal", "log a new opportunity"),
                    description="Create a sales deal.",
                    required=("deal_name", "deal_value", "currency", "expected_close_date"),
                    optional=("deal_stage",),
                ),
                "Stage": Capability(
                    action="update", function="update_deal_stage",
                    intents=("move {x} to another stage", "update the stage of {x}"),
                    description="Move a deal to a pipeline stage.",
                    required=("deal_id", "deal_stage"),
                ),
                "Note": Capability(
                    action="update", function="add_deal_note",
                    intents=("add a note to {x}", "write a note on {x}"),
                    description="Add a note to a deal.",
                    required=("deal_id", "note_body"),
                ),
            },
        ),
        "Cases": Subdomain(
            entity="support case", id_param="case_id",
            record_fields=("subject", "case_priority", "case_state"),
            capabilities={
                "Open": Capability(
                    action="create", function="open_case",
                    intents=("open a support case", "log a customer complaint"),
                    description="Open a customer support case.",
                    required=("customer_email", "subject", "case_priority"),
                    optional=("incident_description",),
                ),
                "Assign": Capability(
                    action="update", function="assign_case",
                    intents=("assign {x}", "hand {x} to an agent"),
                    description="Assign a case to an agent.",
                    required=("case_id", "agent_name"),
                ),
                "Resolve": Capability(
                    action="update", function="resolve_case",
                    intents=("resolve {x}", "close out {x}"),
                    description="Resolve a case.",
                    required=("case_id", "resolution_note"),
                    optional=("notify_customer",),
                ),
            },
        ),
    },
    "Libraries": {
        "Book Catalog": Subdomain(
            entity="book", id_param="book_id",
            record_fields=("book_title", "author", "published_year"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_books",
                    intents=("search the library catalog", "find books"),
                    description="Search the library catalog.",
                    required=("book_query",),
                    optional=("author", "book_format", "published_after"),
                ),
                "Availability": Capability(
                    action="get", function="check_book_availability",
                    intents=("check if {x} is available", "see if I can borrow {x}"),
                    description="Availability of a book at a branch.",
                    required=("book_id",),
                    optional=("library_branch",),
                ),
                "Hold": Capability(
                    action="create", function="place_hold",
                    intents=("put {x} on hold", "reserve {x}"),
                    description="Place a hold on a book.",
                    required=("book_id", "library_card"),
                    optional=("library_branch",),
                ),
            },
        ),
        "Loans": Subdomain(
            entity="loan", id_param="loan_id",
            record_fields=("book_title", "due_date"),
            capabilities={
                "List": Capability(
                    action="list", function="list_loans",
                    intents=("list my loans", "show what I have borrowed"),
                    description="List a card's current loans.",
                    required=("library_card",),
                    optional=("overdue_only",),
                ),
                "Renew": Capability(
                    action="update", function="renew_loan",
                    intents=("renew {x}", "extend {x}"),
                    description="Renew a loan.",
                    required=("loan_id",),
                    optional=("renew_weeks",),
                ),
                "Lost": Capability(
                    action="create", function="report_lost_item",
                    intents=("report {x} as lost", "mark {x} as lost"),
                    description="Report a borrowed item as lost.",
                    required=("loan_id",),
                ),
            },
        ),
        "Reading": Subdomain(
            entity="reading entry", id_param=None,
            record_fields=("book_title", "pages_read"),
            capabilities={
                "List": Capability(
                    action="update", function="add_to_reading_list",
                    intents=("add a book to my reading list", "save a book to read"),
                    description="Add a book to a reading list.",
                    required=("book_title",),
                    optional=("reading_list",),
                ),
                "Progress": Capability(
                    action="create", function="log_reading_progress",
                    intents=("log my reading", "record how far I read"),
                    description="Log pages read of a book.",
                    required=("book_title", "pages_read"),
                    optional=("date",),
                ),
                "Recommend": Capability(
                    action="list", function="get_book_recommendations",
                    intents=("recommend books", "suggest something to read"),
                    description="Book recommendations by genre.",
                    required=("book_genre",),
                    optional=("limit",),
                ),
            },
        ),
    },
    "Language": {
        "Translation": Subdomain(
            entity="translation", id_param=None,
            record_fields=("translated_text", "detected_language"),
            capabilities={
                "Translate": Capability(
                    action="compute", function="translate_text",
                    intents=("translate a sentence", "translate something"),
                    description="Translate text into another language.",
                    required=("source_text", "target_language"),
                    optional=("formality",),
                ),
                "Detect": Capability(
                    action="compute", function="detect_language",
                    intents=("detect the language of a text", "tell me what language this is"),
                    description="Detect the language of a text.",
                    required=("source_text",),
                ),
                "Document": Capability(
                    action="create", function="translate_document",
                    intents=("translate a document", "get a file translated"),
                    description="Translate a document file.",
                    required=("document_url", "target_language"),
                    optional=("preserve_formatting",),
                ),
            },
        ),
        "Dictionary": Subdomain(
            entity="dictionary entry", id_param=None,
            record_fields=("word", "definition"),
            capabilities={
                "Define": Capability(
                    action="get", function="define_word",
                    intents=("define a word", "look up a word"),
                    description="Dictionary definition of a word.",
                    required=("word",),
                    optional=("language",),
                ),
                "Synonyms": Capability(
                    action="list", function="get_synonyms",
                    intents=("find synonyms", "give me other words for a word"),
                    description="Synonyms of a word.",
                    required=("word",),
                    optional=("limit",),
                ),
                "Pronounce": Capability(
                    action="get", function="get_pronunciation",
                    intents=("tell me how to pronounce a word", "get a pronunciation"),
                    description="Pronunciation of a word.",
                    required=("word",),
                    optional=("accent",),
                ),
            },
        ),
        "Language Learning": Subdomain(
            entity="lesson", id_param="lesson_id",
            record_fields=("lesson_title", "proficiency_level"),
            capabilities={
                "Plan": Capability(
                    action="create", function="create_study_plan",
                    intents=("create a study plan", "plan my language learning"),
                    description="Create a language study plan.",
                    required=("target_language", "proficiency_level", "minutes_per_day"),
                ),
                "Start": Capability(
                    action="control", function="start_lesson",
                    intents=("start {x}", "open {x}"),
                    description="Start a lesson.",
                    required=("lesson_id",),
                ),
                "Quiz": Capability(
                    action="create", function="generate_vocabulary_quiz",
                    intents=("quiz me on vocabulary", "make a vocabulary quiz"),
                    description="Generate a vocabulary quiz.",
                    required=("target_language", "proficiency_level"),
                    optional=("question_count",),
                ),
            },
        ),
    },
    "Science": {
        "Math": Subdomain(
            entity="calculation", id_param=None,
            record_fields=("result",),
            capabilities={
                "Evaluate": Capability(
                    action="compute", function="evaluate_expression",
                    intents=("calculate an expression", "do some math"),
                    description="Evaluate an arithmetic expression.",
                    required=("expression",),
                    optional=("decimal_places",),
                ),
                "Solve": Capability(
                    action="compute", function="solve_equation",
                    intents=("solve an equation", "find the unknown"),
                    description="Solve an equation for a variable.",
                    required=("equation",),
                    optional=("variable",),
                ),
                "Statistics": Capability(
                    action="compute", function="compute_statistics",
                    intents=("compute statistics", "crunch some numbers"),
                    description="Summary statistics of a list of numbers.",
                    required=("numbers",),
                    optional=("statistics",),
                ),
            },
        ),
        "Units": Subdomain(
            entity="conversion", id_param=None,
            record_fields=("converted_value",),
            capabilities={
                "Convert": Capability(
                    action="compute", function="convert_units",
                    intents=("convert units", "convert a measurement"),
                    description="Convert a quantity between units.",
                    required=("quantity", "from_unit", "to_unit"),
                    renamed={"quantity": "quantity_value"},
                ),
                "Time Zones": Capability(
                    action="compute", function="convert_time_zone",
                    intents=("convert a time between time zones", "tell me what time it is elsewhere"),
                    description="Convert a time of day between time zones.",
                    required=("time", "from_timezone", "to_timezone"),
                    optional=("date",),
                ),
                "Temperature": Capability(
                    action="compute", function="convert_temperature",
                    intents=("convert a temperature", "change degrees"),
                    description="Convert a temperature between scales.",
                    required=("temperature_value", "from_scale", "to_scale"),
                ),
            },
        ),
        "Lab Notebook": Subdomain(
            entity="experiment", id_param="experiment_id",
            record_fields=("experiment_title", "date"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_experiment",
                    intents=("start a new experiment log", "create an experiment entry"),
                    description="Create an experiment in the lab notebook.",
                    required=("experiment_title", "date"),
                    optional=("hypothesis",),
                ),
                "Log": Capability(
                    action="create", function="log_measurement",
                    intents=("log a measurement for {x}", "record a reading in {x}"),
                    description="Record a measurement in an experiment.",
                    required=("experiment_id", "measurement_value", "measurement_unit"),
                    optional=("note_body",),
                ),
                "Summary": Capability(
                    action="get", function="get_experiment_summary",
                    intents=("summarize {x}", "get the results of {x}"),
                    description="Summary statistics of an experiment's measurements.",
                    required=("experiment_id",),
                ),
            },
        ),
        "Astronomy": Subdomain(
            entity="sky event", id_param=None,
            record_fields=("event_time", "visibility"),
            capabilities={
                "ISS": Capability(
                    action="list", function="get_iss_passes",
                    intents=("find when the ISS flies over", "get ISS pass times"),
                    description="Visible passes of the International Space Station over a city.",
                    required=("city",),
                    optional=("days_ahead",),
                ),
                "Sun": Capability(
                    action="get", function="get_sunrise_sunset",
                    intents=("get sunrise and sunset times", "tell me when the sun sets"),
                    description="Sunrise and sunset times for a city on a date.",
                    required=("city", "date"),
                ),
                "Moon": Capability(
                    action="get", function="get_moon_phase",
                    intents=("get the moon phase", "tell me the phase of the moon"),
                    description="Moon phase on a date.",
                    required=("date",),
                    optional=("hemisphere",),
                ),
            },
        ),
    },
    "Nonprofit": {
        "Donations": Subdomain(
            entity="donation", id_param="donation_id",
            record_fields=("charity", "amount", "currency"),
            capabilities={
                "Donate": Capability(
                    action="create", function="make_donation",
                    intents=("make a donation", "donate to a charity"),
                    description="Donate to a charity.",
                    required=("charity", "amount", "currency"),
                    optional=("recurring", "dedication"),
                ),
                "Receipt": Capability(
                    action="get", function="get_donation_receipt",
                    intents=("get a receipt for {x}", "download the receipt of {x}"),
                    description="Tax receipt for a donation.",
                    required=("donation_id",),
                    optional=("file_format",),
                ),
                "Stop": Capability(
                    action="delete", function="cancel_recurring_donation",
                    intents=("stop {x}", "cancel {x}"),
                    description="Cancel a recurring donation.",
                    required=("donation_id",),
                ),
            },
        ),
        "Volunteering": Subdomain(
            entity="opportunity", id_param="opportunity_id",
            record_fields=("organization", "cause_area", "date"),
            capabilities={
                "Search": Capability(
                    action="search", function="search_volunteer_opportunities",
                    intents=("find volunteering opportunities", "look for ways to volunteer"),
                    description="Search volunteering opportunities.",
                    required=("city", "cause_area"),
                    optional=("start_date", "remote_ok"),
                ),
                "Sign Up": Capability(
                    action="create", function="sign_up_volunteer",
                    intents=("sign me up for {x}", "volunteer for {x}"),
                    description="Sign up for a volunteering opportunity.",
                    required=("opportunity_id", "full_name", "email"),
                    optional=("shift_date",),
                ),
                "Hours": Capability(
                    action="create", function="log_volunteer_hours",
                    intents=("log hours for {x}", "record my time at {x}"),
                    description="Log volunteering hours.",
                    required=("opportunity_id", "hours_worked", "date"),
                ),
            },
        ),
        "Fundraisers": Subdomain(
            entity="campaign", id_param="campaign_id",
            record_fields=("campaign_title", "goal_amount", "raised_amount"),
            capabilities={
                "Create": Capability(
                    action="create", function="create_fundraiser",
                    intents=("start a fundraiser", "create a fundraising campaign"),
                    description="Create a fundraising campaign.",
                    required=("campaign_title", "goal_amount", "currency", "end_date"),
                ),
                "Stats": Capability(
                    action="get", function="get_campaign_stats",
                    intents=("check how {x} is doing", "get the stats of {x}"),
                    description="Amount raised and donors of a campaign.",
                    required=("campaign_id",),
                ),
                "Update": Capability(
                    action="send", function="post_campaign_update",
                    intents=("post an update on {x}", "tell donors of {x} the news"),
                    description="Post an update to a campaign's donors.",
                    required=("campaign_id", "message"),
                ),
            },
        ),
    },
    "Home Services": {
        "Cleaning": Subdomain(
            entity="cleaning booking", id_param="cleaning_booking_id",
            record_fields=("date", "start_time", "cleaner_name"),
            capabilities={
                "Book": Capability(
                    action="create", function="book_cleaning",
                    intents=("book a cleaner", "get my place cleaned"),
                    description="Book a home cleaning.",
                    required=("street_address", "date", "start_time"),
                    optional=("home_size_sqm", "deep_clean"),
                ),
                "Reschedule": Capability(
                    action="update", function="reschedule_cleaning",
                    intents=("reschedule {x}", "move {x}"),
                    description="Move a cleaning booking.",
                    required=("cleaning_booking_id", "date", "start_time"),
                ),
                "Cancel": Capability(
                    action="delete", function="cancel_cleaning",
                    intents=("cancel {x}", "call off {x}"),
                    description="Cancel a cleaning booking.",
                    required=("cleaning_booking_id",),
                ),
            },
        ),
        "Repairs": Subdomain(
            entity="repair request", id_param="repair_request_id",
            record_fields=("repair_category", "quote_amount", "currency"),
            capabilities={
                "Request": Capability(
                    action="create", function="request_repair_quote",
                    intents=("get a repair quote", "find someone to fix something"),
                    description="Request quotes for a repair.",
                    required=("repair_category", "incident_description", "postal_code"),
                    optional=("urgent",),
                ),
                "Accept": Capability(
                    action="update", function="accept_repair_quote",
                    intents=("accept the quote for {x}", "go ahead with {x}"),
                    description="Accept a repair quote and pick a date.",
                    required=("repair_request_id", "date"),
                ),
                "Status": Capability(
                    action="get", function="get_repair_status",
                    intents=("check on {x}", "get an update on {x}"),
                    description="Status of a repair request.",
                    required=("repair_request_id",),
                ),
            },
        ),
        "Moving": Subdomain(
            entity="moving quote", id_param="moving_quote_id",
            record_fields=("price", "currency", "crew_size"),
            capabilities={
                "Quote": Capability(
                    action="create", function="get_moving_quote",
                    intents=("get a moving quote", "price a move"),
                    description="Quote for a move between cities.",
                    required=("origin_city", "destination_city", "date"),
                    optional=("home_size_sqm",),
                ),
                "Book": Capability(
                    action="create", function="book_movers",
                    intents=("book movers for {x}", "confirm {x}"),
                    description="Book a quoted move.",
                    required=("moving_quote_id", "full_name", "phone_number"),
                ),
                "Storage": Capability(
                    action="create", function="rent_storage_unit",
                    intents=("rent a storage unit", "find storage space"),
                    description="Rent a storage unit.",
                    required=("city", "unit_size", "start_date"),
                    optional=("climate_controlled",),
                ),
            },
        ),
    },
}
# fmt: on
"""Domain -> subdomain -> :class:`Subdomain` (entity, id parameter, record fields, capabilities)."""

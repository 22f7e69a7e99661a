"""The constraint tree: what kind of value each parameter holds, its constraints and how people say it.

Every parameter of the context tree (:mod:`looptool.synth.tree`) is a *slot* here. A slot is one leaf of the
constraint tree (:data:`looptool.checks.surface.KINDS`: strings with a format -- date, time, email, id,
currency/country/language code, phone, URL --, enums, integer and number ranges, booleans, arrays, nested
objects) plus what the simulation needs: a description for the JSON Schema, the value pool or range to
sample from, an optional default, and the phrases a user writes it with (``{v}`` is the value as people
write it, see :func:`looptool.checks.surface.write`).

The library is written one slot a line below. Slots whose kind follows from their name (ids of the tree's
entities, ``*_email``, cities, countries, currencies) are derived by :func:`slot` so they need no line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from looptool.checks.vocab import COUNTRIES, CURRENCIES, LANGUAGES
from looptool.synth.pools import POOLS
from looptool.synth.tree import TREE


@dataclass(frozen=True)
class Slot:
    """One parameter kind with its constraints and phrasing."""

    name: str
    kind: str
    desc: str
    say: tuple[str, ...] = ()
    pool: str | None = None
    choices: tuple[str, ...] = ()
    lo: float = 0
    hi: float = 0
    step: float = 1
    default: Any = None
    prefix: str = ""
    item: str | None = None
    min_items: int = 1
    max_items: int = 3
    fields: tuple[str, ...] = ()
    yes: tuple[str, ...] = ()
    no: tuple[str, ...] = ()
    entity: str = ""
    param: str = ""
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def param_name(self) -> str:
        return self.param or self.name


# --- slot constructors: one per kind, each returns a Slot (the library below is a plain tuple of them) -------


def _say(say: tuple[str, ...], fallback: str = "{v}") -> tuple[str, ...]:
    return tuple(say) or (fallback,)


def text(name: str, desc: str, pool: str, *say: str, param: str = "", default: Any = None) -> Slot:
    return Slot(name, "string", desc, _say(say), pool=pool, param=param, default=default)


def enum(name: str, desc: str, choices: str, *say: str, default: Any = None, param: str = "") -> Slot:
    return Slot(name, "enum", desc, _say(say), choices=tuple(choices.split()), default=default, param=param)


def integer(
    name: str, desc: str, lo: int, hi: int, *say: str, default: Any = None, step: int = 1, param: str = ""
) -> Slot:
    return Slot(name, "integer", desc, _say(say), lo=lo, hi=hi, step=step, default=default, param=param)


def number(
    name: str, desc: str, lo: float, hi: float, *say: str, step: float = 1.0, default: Any = None
) -> Slot:
    return Slot(name, "number", desc, _say(say), lo=lo, hi=hi, step=step, default=default)


def flag(name: str, desc: str, yes: str, no: str, default: Any = None) -> Slot:
    return Slot(name, "boolean", desc, yes=tuple(yes.split("|")), no=tuple(no.split("|")), default=default)


def date(name: str, desc: str, *say: str, years: tuple[int, int] | None = None) -> Slot:
    """A date; ``years`` (first, last) overrides the default window of 2025-2026."""
    lo, hi = years or (0, 0)
    return Slot(name, "string:date", desc, _say(say, "on {v}"), lo=lo, hi=hi)


def time(name: str, desc: str, *say: str) -> Slot:
    return Slot(name, "string:time", desc, _say(say, "at {v}"))


def array(name: str, desc: str, item: str, lo: int, hi: int, *say: str, param: str = "") -> Slot:
    return Slot(name, "array", desc, _say(say), item=item, min_items=lo, max_items=hi, param=param)


def obj(name: str, desc: str, fields: str, *say: str) -> Slot:
    return Slot(name, "object", desc, _say(say), fields=tuple(fields.split()))


def coded(name: str, kind: str, desc: str, *say: str, default: Any = None) -> Slot:
    return Slot(name, kind, desc, _say(say), default=default)


# --- the library ------------------------------------------------------------------------------------------
# fmt: off
LIBRARY: tuple[Slot, ...] = (
    # Strings drawn from value pools
    text("agent_name", "Name of the support agent", "person", "to {v}"),
    text("account_number", "Bank or utility account number", "account_number", "for account number {v}", "on account {v}"),
    text("artist", "Artist or band name", "artist", "by {v}"),
    text("assignee", "Username of the assignee", "username", "assigned to {v}"),
    text("author", "Author name", "author", "by {v}"),
    text("body", "Email body text", "message", "saying \"{v}\"", "with the text \"{v}\""),
    text("book_query", "Words to search the catalog for", "book_query", "about {v}", "on {v}", param="query"),
    text("book_title", "Book title", "book_title", "\"{v}\"", "called \"{v}\""),
    text("branch_name", "Branch name", "branch_name", "called {v}", "named {v}"),
    text("bucket_name", "Bucket name", "bucket_name", "named {v}", "called {v}"),
    text("camera_name", "Camera name", "camera_name", "from the {v} camera"),
    text("campaign_title", "Campaign title", "campaign_title", "called \"{v}\"", "titled \"{v}\""),
    text("candidate_name", "Candidate's full name", "person", "with {v}", "for candidate {v}"),
    text("channel_name", "Channel name", "channel_name", "called {v}", "named #{v}"),
    text("charity", "Charity name", "charity", "to {v}", "for the {v}"),
    text("client_name", "Client name", "company", "for {v}", "to {v}"),
    text("code_query", "Code search query", "code_query", "for {v}", "matching \"{v}\"", param="query"),
    text("comment", "Comment text", "comment", "saying \"{v}\"", "with \"{v}\""),
    text("company", "Company name", "company", "at {v}", "from {v}"),
    text("conference", "Conference name", "conference", "for {v}", "at {v}"),
    text("course_code", "Course code", "course_code", "for {v}", "in {v}"),
    text("course_subject", "Subject to study", "course_subject", "in {v}", "on {v}", param="subject"),
    text("cover_letter", "Short cover letter", "cover_letter", "with the note \"{v}\""),
    text("deal_name", "Deal name", "deal_name", "called \"{v}\"", "named \"{v}\""),
    text("dedication", "Dedication text", "dedication", "with the dedication \"{v}\""),
    text("directory_query", "Name, team or keyword to search for", "full_text_query", "for \"{v}\"", "matching {v}", param="query"),
    text("driver_name", "Driver's full name", "person", "for {v}", "with {v} as the driver"),
    text("email_query", "Words to search emails for", "email_query", "about {v}", "for \"{v}\"", param="query"),
    text("equation", "Equation to solve", "equation", "\"{v}\"", ": {v}"),
    text("event_title", "Event title", "event_title", "called \"{v}\"", "\"{v}\""),
    text("experiment_title", "Experiment title", "experiment", "called \"{v}\"", "titled \"{v}\""),
    text("hypothesis", "Hypothesis being tested", "hypothesis", "testing whether {v}", "with the hypothesis \"{v}\""),
    text("expression", "Arithmetic expression", "expression", "\"{v}\"", ": {v}"),
    text("feedback_notes", "Free-text notes", "review_text", "with the notes \"{v}\""),
    text("from_branch", "Branch to start from", "branch_name", "from {v}", "off {v}"),
    text("full_name", "Full name", "person", "for {v}", "under the name {v}", "name: {v}"),
    text("game_title", "Game title", "game_title", "in {v}", "for {v}"),
    text("gift_recipient", "Username of the gift recipient", "username", "as a gift for {v}"),
    text("guest_name", "Guest's full name", "person", "for {v}", "under the name {v}"),
    text("incident_description", "What happened", "description", "- {v}", "saying \"{v}\""),
    text("instance_name", "Instance name", "instance_name", "named {v}", "called {v}"),
    text("issue_body", "Issue description", "description", "describing \"{v}\""),
    text("issue_title", "Issue title", "issue_title", "titled \"{v}\"", "called \"{v}\""),
    text("job_note", "Private note", "job_note", "with the note \"{v}\""),
    text("job_title", "Job title or keywords", "job_title", "for {v} roles", "as a {v}"),
    text("library_card", "Library card number", "library_card", "on card {v}", "with card {v}"),
    text("location", "Where it takes place", "location", "at {v}", "in {v}"),
    text("member_name", "Member's full name", "person", "for {v}", "for member {v}"),
    text("memo", "Memo shown to the recipient", "memo", "with the memo \"{v}\"", "memo \"{v}\""),
    text("merchant", "Merchant name", "merchant", "at {v}"),
    text("message", "Message text", "message", "saying \"{v}\"", "with the message \"{v}\""),
    text("metric", "Metric name", "metric_name", "on {v}", "for {v}"),
    text("movie_title", "Movie title", "movie_title", "for \"{v}\"", "for {v}"),
    text("news_query", "Words to search articles for", "news_query", "about {v}", "on {v}", param="query"),
    text("news_topic", "Topic to follow", "news_query", "about {v}", "on {v}"),
    text("note_body", "Note text", "note_body", "saying \"{v}\"", "with the text \"{v}\""),
    text("note_query", "Words to search notes for", "note_title", "about {v}", "called \"{v}\"", param="query"),
    text("note_title", "Note title", "note_title", "titled \"{v}\"", "called \"{v}\""),
    text("passenger_name", "Passenger's full name", "person", "for {v}", "in the name of {v}"),
    text("patient_name", "Patient's full name", "person", "for {v}", "for patient {v}"),
    text("payee_name", "Payee name", "company", "called {v}", "for {v}"),
    text("pet_name", "Pet's name", "pet_name", "for {v}", "named {v}"),
    text("pharmacy", "Pharmacy name", "pharmacy", "at {v}"),
    text("player_tag", "Player tag", "player_tag", "for {v}", "as {v}"),
    text("playlist_description", "Playlist description", "playlist_desc", "described as \"{v}\""),
    text("playlist_name", "Playlist name", "playlist_name", "called \"{v}\"", "named \"{v}\""),
    text("podcast_query", "Words to search episodes for", "podcast_query", "about {v}", "like {v}", param="query"),
    text("portfolio_name", "Portfolio name", "portfolio_name", "called \"{v}\"", "named \"{v}\""),
    text("post_text", "Post text", "post_text", "saying \"{v}\"", ": \"{v}\""),
    text("postal_code", "Postal code", "postal_code", "for {v}", "at postal code {v}"),
    text("product_name", "Product name", "product_name", "- the {v}", ": {v}"),
    text("product_query", "Words to search products for", "product_query", "for {v}", "like {v}", param="query"),
    text("promo_code", "Promotion code", "promo_code", "with code {v}", "using promo code {v}"),
    text("recipe_query", "Dish or recipe to search for", "recipe_query", "for {v}", "for some {v}", param="query"),
    text("recipient_name", "Recipient's full name", "person", "to {v}"),
    text("reminder_note", "Note added to the reminder", "message", "with the note \"{v}\""),
    text("repo_name", "Repository name", "repo_name", "in {v}", "for {v}"),
    text("resolution_note", "How it was resolved", "comment", "with the note \"{v}\""),
    text("restaurant_name", "Restaurant name", "restaurant_name", "from {v}"),
    text("review_text", "Review text", "review_text", "saying \"{v}\"", "with the comment \"{v}\""),
    text("sender_name", "Sender's full name", "person", "from {v}", "sent by {v}"),
    text("song_title", "Song title", "song_title", "\"{v}\"", "called \"{v}\""),
    text("source_text", "Text to process", "source_text", "\"{v}\"", ": \"{v}\"", param="text"),
    text("speaker_name", "Speaker's full name", "person", "by {v}", "with speaker {v}"),
    text("special_request", "Special request", "special_request", "with a note: {v}", "({v})"),
    text("start_address", "Start address", "street", "from {v}"),
    text("destination_address", "Destination address", "street", "to {v}"),
    text("store_query", "Words to search the store for", "store_query", "for {v}", "like {v}", param="query"),
    text("street_address", "Street address", "street", "at {v}", "for {v}"),
    text("subject", "Subject line", "email_subject", "with the subject \"{v}\"", "titled \"{v}\""),
    text("talk_abstract", "Talk abstract", "abstract", "with the abstract \"{v}\""),
    text("talk_title", "Talk title", "talk_title", "titled \"{v}\"", "called \"{v}\""),
    text("tag", "Tag", "tag", "tagged {v}", "with the tag {v}"),
    text("target_role", "Role to tailor the feedback to", "job_title", "for a {v} role"),
    text("task_list", "Task list name", "list_name", "in my {v} list", "on the {v} list"),
    text("task_title", "Task title", "task_title", "\"{v}\"", "called \"{v}\""),
    text("team", "Team name", "team", "for the {v}", "for {v}"),
    text("ticker_symbol", "Stock ticker symbol", "ticker", "for {v}", "of {v}", param="ticker"),
    text("title_query", "Words to search titles for", "title_query", "like {v}", "for {v}", param="query"),
    text("track_query", "Words to search songs for", "track_query", "for {v}", "like {v}", param="query"),
    text("username", "Account username", "username", "@{v}", "for {v}"),
    text("visit_reason", "Reason for the visit", "appointment_reason", "for {v}", "because of {v}"),
    text("watchlist_name", "Watchlist name", "watchlist", "on my {v} list"),
    text("word", "Word to look up", "word", "\"{v}\"", "{v}"),

    # Dates and times (ISO 8601 date, 24-hour HH:MM)
    date("appointment_date", "Appointment date", "on {v}", "for {v}"),
    date("birth_date", "Date of birth", "born {v}", "with date of birth {v}", years=(1945, 2006)),
    date("booking_date", "Booking date", "on {v}", "for {v}"),
    date("callback_date", "Callback date", "on {v}"),
    date("check_in_date", "Check-in date", "checking in {v}", "from {v}"),
    date("check_out_date", "Check-out date", "checking out {v}", "until {v}"),
    date("class_date", "Class date", "on {v}"),
    date("date", "Date", "on {v}", "for {v}"),
    date("deadline", "Deadline", "by {v}", "with a deadline of {v}"),
    date("departure_date", "Departure date", "on {v}", "departing {v}"),
    date("dropoff_date", "Drop-off date", "until {v}", "returning it {v}"),
    date("due_before", "Only items due before this date", "due before {v}"),
    date("due_date", "Due date", "due {v}", "due on {v}"),
    date("effective_date", "Date the change takes effect", "from {v}", "effective {v}"),
    date("end_date", "End date (inclusive)", "to {v}", "until {v}", "through {v}"),
    date("expected_close_date", "Expected close date", "closing by {v}", "expected to close {v}"),
    date("expense_date", "Date of the expense", "on {v}", "dated {v}"),
    date("from_date", "Earliest publication date", "from {v}", "since {v}"),
    date("game_date", "Game date", "on {v}"),
    date("incident_date", "Date of the incident", "on {v}", "that happened on {v}"),
    date("interview_date", "Interview date", "on {v}", "for {v}"),
    date("move_in_date", "Move-in date", "moving in {v}", "with a move-in date of {v}"),
    date("new_due_date", "Requested new due date", "until {v}", "to {v}"),
    date("payment_date", "Payment date", "on {v}", "scheduled for {v}"),
    date("pickup_date", "Pickup date", "from {v}", "picking up {v}", "on {v}"),
    date("publish_date", "Publication date", "on {v}"),
    date("rate_date", "Date of the rate", "as of {v}", "on {v}"),
    date("received_after", "Only emails received after this date", "received after {v}"),
    date("reservation_date", "Reservation date", "on {v}", "for {v}"),
    date("return_date", "Return date", "coming back {v}", "returning {v}"),
    date("service_date", "Service date", "on {v}", "for {v}"),
    date("session_date", "Session date", "on {v}"),
    date("shift_date", "Shift date", "on {v}", "for the shift on {v}"),
    date("show_date", "Show date", "on {v}"),
    date("since_date", "Earliest service date", "since {v}"),
    date("start_date", "Start date", "from {v}", "starting {v}"),
    date("to_date", "Latest publication date", "to {v}", "until {v}"),
    date("transfer_date", "Transfer date", "on {v}", "scheduled for {v}"),
    date("valid_from", "First day the code works", "from {v}", "valid from {v}"),
    date("valid_until", "Last day the code works", "until {v}", "valid until {v}"),
    date("viewing_date", "Viewing date", "on {v}"),
    date("workout_date", "Workout date", "on {v}"),
    time("appointment_time", "Appointment time", "at {v}"),
    time("arrival_time", "Arrival time", "arriving around {v}", "arriving at {v}"),
    time("callback_time", "Callback time", "at {v}", "around {v}"),
    time("depart_time", "Departure time", "leaving at {v}"),
    time("interview_time", "Interview time", "at {v}"),
    time("off_time", "Switch-off time", "off at {v}"),
    time("on_time", "Switch-on time", "on at {v}"),
    time("publish_time", "Publication time", "at {v}"),
    time("reminder_time", "Reminder time", "at {v}", "every day at {v}"),
    time("reservation_time", "Reservation time", "at {v}"),
    time("send_time", "Scheduled send time", "at {v}", "scheduled for {v}"),
    time("session_time", "Session time", "at {v}"),
    time("start_after", "Earliest start time", "starting after {v}", "after {v}"),
    time("start_time", "Start time", "at {v}", "starting at {v}"),
    time("time", "Time of day", "at {v}"),
    time("viewing_time", "Viewing time", "at {v}"),

    # Codes and formatted strings
    coded("phone_number", "string:phone", "Phone number in E.164 format", "at {v}", "to {v}", "on {v}"),
    coded("document_url", "string:url", "Link to the file", "from {v}", "at {v}"),
    coded("language", "string:language", "Language", "in {v}", "speaking {v}"),
    coded("target_language", "string:language", "Language to translate into", "into {v}", "to {v}"),

    # Enums
    enum("accent", "Accent", "american british australian", "in a {v} accent"),
    enum("account_type", "Account type", "checking savings credit business", "only {v} accounts", "just the {v} ones"),
    enum("aggregation", "Aggregation", "avg max min sum p95", "aggregated by {v}", "as {v}"),
    enum("audio_quality", "Audio quality", "low standard high", "in {v} quality"),
    enum("block_reason", "Why it is blocked", "spam harassment scam other", "as {v}", "(reason: {v})"),
    enum("book_format", "Format", "hardcover paperback ebook audiobook", "in {v} format", "as an {v}", param="format"),
    enum("book_genre", "Genre", "mystery fantasy biography history science_fiction romance", "in the {v} genre", "in {v}", param="genre"),
    enum("cabin_class", "Cabin class", "economy premium_economy business first", "in {v} class", "{v} class"),
    enum("cancel_reason", "Why it is cancelled", "changed_plans ordered_by_mistake schedule_conflict found_better_option no_longer_needed", "(reason: {v})", "because of {v}"),
    enum("car_type", "Car category", "economy compact suv minivan convertible luxury", "- a {v} car", "in the {v} class"),
    enum("card_status", "Card status", "active frozen expired", "that are {v}", "with status {v}"),
    enum("case_priority", "Case priority", "low normal high urgent", "with {v} priority", "priority {v}"),
    enum("cause_area", "Cause area", "environment education animals health homelessness elderly_care", "in {v}", "focused on {v}"),
    enum("class_type", "Class type", "yoga pilates spinning hiit boxing zumba", "for {v}", "- a {v} class"),
    enum("close_reason", "Why it is closed", "completed duplicate wont_fix invalid", "as {v}", "(reason: {v})"),
    enum("cloud_region", "Cloud region", "us-east-1 us-west-2 eu-west-1 eu-central-1 ap-southeast-1", "in {v}", "in region {v}", param="region"),
    enum("comparison", "Fire when the metric goes above or below the threshold", "above below", "going {v}", "when it goes {v}"),
    enum("conference_track", "Track", "backend frontend data security devops", "on the {v} track", param="track"),
    enum("connector_type", "Connector type", "CCS CHAdeMO Type2 NACS", "with {v} connectors", "for {v}"),
    enum("course_level", "Level", "beginner intermediate advanced", "at {v} level", "for {v} students", param="level"),
    enum("court_sport", "Sport", "tennis squash badminton padel basketball", "for {v}", "- a {v} court", param="sport"),
    enum("cuisine", "Cuisine", "italian japanese mexican indian thai french vegan chinese", "serving {v} food", "{v}"),
    enum("deal_stage", "Pipeline stage", "prospecting qualification proposal negotiation closed_won closed_lost", "to {v}", "at the {v} stage"),
    enum("department", "Department", "engineering marketing sales finance hr design legal support", "in {v}", "from the {v} team"),
    enum("diet", "Diet", "vegan vegetarian keto gluten_free paleo dairy_free", "that are {v}", "{v} only"),
    enum("dietary_filter", "Only show dishes fitting this diet", "vegan vegetarian gluten_free halal nut_free", "showing only {v} dishes", "with just the {v} options"),
    enum("digest_frequency", "How often the digest is sent", "daily weekly monthly", "as a {v} digest", "sent {v}"),
    enum("distance_unit", "Distance unit", "km miles", "in {v}", default="km", param="unit"),
    enum("document_type", "Document type", "passport id_card driving_licence residence_permit", "for my {v}", "to renew my {v}"),
    enum("drop_reason", "Why the course is dropped", "schedule_conflict too_difficult lost_interest financial", "(reason: {v})", "because of {v}"),
    enum("employment_type", "Employment type", "full_time part_time contract internship", "{v}", "({v})"),
    enum("event_category", "Category", "music comedy food sports art tech family", "{v} events", "in {v}", param="category"),
    enum("exchange", "Stock exchange", "NASDAQ NYSE LSE TSE", "on the {v}", "listed on {v}"),
    enum("expense_category", "Expense category", "food travel office software entertainment utilities", "under {v}", "as {v}", param="category"),
    enum("extension_reason", "Why more time is needed", "illness family_emergency technical_issues workload", "because of {v}", "(reason: {v})", param="reason"),
    enum("file_format", "File format", "pdf docx txt", "as a {v}", "in {v} format", param="format"),
    enum("filing_status", "Filing status", "single married_joint married_separate head_of_household", "filing as {v}", "with filing status {v}"),
    enum("formality", "Tone", "formal informal", "in a {v} tone"),
    enum("freeze_reason", "Why the card is frozen", "lost stolen suspicious_activity travel", "(reason: {v})", "because of {v}", param="reason"),
    enum("from_scale", "Scale of the input", "celsius fahrenheit kelvin", "from {v}"),
    enum("from_timezone", "Time zone of the input time", "America/New_York America/Los_Angeles Europe/London Europe/Paris Asia/Tokyo Australia/Sydney", "from {v} time", "in {v}"),
    enum("from_unit", "Unit of the input", "meters feet inches centimeters kilometers miles", "from {v}", "in {v}"),
    enum("from_warehouse", "Source warehouse", "north south east west central", "from the {v} warehouse"),
    enum("game_mode", "Game mode", "ranked casual co_op battle_royale", "in {v} mode", "for {v}", param="mode"),
    enum("genre", "Genre", "comedy drama thriller documentary animation horror sci_fi", "in the {v} genre", "{v}"),
    enum("goal_metric", "What the goal measures", "steps weight_kg running_km workouts_per_week", "for {v}", "on {v}", param="metric"),
    enum("granularity", "Time resolution", "hourly daily monthly", "broken down {v}", "{v}"),
    enum("hemisphere", "Hemisphere", "northern southern", "in the {v} hemisphere", default="northern"),
    enum("hire_recommendation", "Recommendation", "strong_yes yes no strong_no", "with a \"{v}\" recommendation", "recommending {v}", param="recommendation"),
    enum("hvac_mode", "HVAC mode", "heat cool auto off", "in {v} mode", param="mode"),
    enum("insurance_provider", "Accepted insurance", "Aetna Cigna BlueCross Kaiser Medicare", "that take {v}", "accepting {v} insurance", param="insurance"),
    enum("insurance_type", "Type of insurance", "home auto travel health life pet renters", "for {v} insurance", "{v} insurance"),
    enum("interview_format", "Format", "video phone onsite", "as a {v} interview", "({v})", param="format"),
    enum("issue_category", "Problem area", "billing connectivity device account other", "about {v}", "({v} issue)", param="category"),
    enum("leave_type", "Kind of leave", "vacation sick parental unpaid", "as {v} leave", "{v} leave"),
    enum("library_branch", "Library branch", "central riverside harbor northgate university", "at the {v} branch", param="branch"),
    enum("license", "License", "MIT Apache-2.0 GPL-3.0 BSD-3-Clause", "with the {v} license", "under {v}"),
    enum("light_color", "Light color", "warm_white cool_white red blue green purple", "in {v}", "set to {v}", param="color"),
    enum("machine_type", "Machine type", "e2-small e2-medium n2-standard-4 n2-highmem-8 a2-gpu", "as {v}", "of type {v}"),
    enum("membership_tier", "Membership tier", "basic silver gold platinum", "at the {v} tier", "{v} tier", param="tier"),
    enum("music_genre", "Genre", "pop rock jazz hip_hop classical electronic folk", "in {v}", "{v}", param="genre"),
    enum("news_category", "Category", "business technology sports science health entertainment politics", "in {v}", "for {v}", param="category"),
    enum("news_sort", "Sort order", "relevance newest popularity", "sorted by {v}", default="relevance", param="sort_by"),
    enum("order_status", "Order status", "processing shipped delivered returned cancelled", "that are {v}", "with status {v}", param="status"),
    enum("measurement_unit", "Unit", "mm cm g kg ml celsius seconds", "in {v}", "({v})", param="unit"),
    enum("order_type", "Order type", "market limit stop", "as a {v} order"),
    enum("payee_category", "Category", "utilities rent credit_card insurance phone", "as {v}", "under {v}", param="category"),
    enum("payment_method", "Payment method", "credit_card debit_card paypal bank_transfer", "with {v}", "by {v}"),
    enum("permit_type", "Permit type", "building parking event street_vendor tree_removal", "for a {v} permit", "- a {v} permit"),
    enum("pet_species", "Species", "dog cat rabbit bird", "- a {v}", "(a {v})", param="species"),
    enum("place_category", "Place category", "cafe museum park pharmacy gas_station supermarket", "of type {v}", "in the {v} category", param="category"),
    enum("place_list", "Saved-places list", "favorites want_to_go work travel", "to my {v} list", param="list"),
    enum("plan_tier", "Plan", "basic plus unlimited family", "to the {v} plan", "to {v}", param="plan"),
    enum("platform", "Platform", "pc playstation xbox switch", "on {v}", "for {v}"),
    enum("pollen_type", "Pollen type", "tree grass weed", "for {v} pollen"),
    enum("price_interval", "Interval between prices", "daily weekly monthly", "at {v} intervals", "{v}", default="daily", param="interval"),
    enum("price_level", "Price level", "budget moderate expensive", "in the {v} range", "{v}"),
    enum("priority", "Priority", "low medium high", "with {v} priority", "{v} priority", default="medium"),
    enum("proficiency_level", "Current level", "beginner intermediate advanced", "at {v} level", "for a {v}", param="level"),
    enum("product_category", "Category", "electronics home sports fashion kitchen toys beauty", "in {v}", "under {v}", param="category"),
    enum("product_sort", "Sort order", "relevance price_low_to_high price_high_to_low rating newest", "sorted by {v}", default="relevance", param="sort_by"),
    enum("programming_language", "Programming language", "python javascript go rust java typescript", "in {v}", "written in {v}"),
    enum("property_type", "Property type", "house apartment condo townhouse", "- a {v}", "{v} only"),
    enum("reading_list", "Reading list", "to_read favorites summer book_club", "to my {v} list", param="list"),
    enum("refund_method", "Refund method", "original_payment store_credit bank_transfer", "refunded to {v}", "as {v}"),
    enum("region", "Region", "NA EU ASIA OCE SA", "in {v}", "for the {v} region"),
    enum("repair_category", "Kind of repair", "plumbing electrical heating appliance roofing", "for a {v} job", "- {v}", param="category"),
    enum("return_reason", "Why it is returned", "damaged wrong_item too_small not_as_described changed_mind", "(reason: {v})", "because it's {v}", param="reason"),
    enum("review_sort", "Sort order", "newest highest lowest", "sorted by {v}", default="newest", param="sort_by"),
    enum("risk_profile", "Risk profile", "conservative balanced aggressive", "to a {v} profile", "with a {v} risk profile"),
    enum("room", "Room", "living_room kitchen bedroom office bathroom", "in the {v}"),
    enum("room_type", "Room type", "single double twin suite", "- a {v} room", "in a {v}"),
    enum("screen_format", "Screen format", "standard IMAX 3D Dolby", "in {v}", "on a {v} screen", param="format"),
    enum("seat_preference", "Seat preference", "window aisle middle", "with a {v} seat", "{v} seat please"),
    enum("seat_section", "Seat section", "front middle back balcony", "in the {v}", "in the {v} section", param="section"),
    enum("sector", "Sector", "technology healthcare energy finance consumer industrials", "in {v}", "in the {v} sector"),
    enum("service_level", "Service level", "economy standard express overnight", "by {v}", "with {v} service"),
    enum("service_type", "Service type", "oil_change tire_rotation brake_check annual_inspection battery_check", "for an {v}", "({v})"),
    enum("severity", "Minimum severity", "minor moderate severe extreme", "with {v} severity", "that are {v}"),
    enum("specialty", "Medical specialty", "cardiology dermatology pediatrics orthopedics neurology general_practice", "- a {v} specialist", "in {v}"),
    enum("sport_league", "League", "NBA NFL MLB NHL Premier_League La_Liga Bundesliga", "for the {v}", "in the {v}", param="league"),
    enum("stadium_section", "Section", "lower upper club courtside", "in the {v} section", param="section"),
    enum("storage_class", "Storage class", "standard nearline coldline archive", "with {v} storage", default="standard"),
    enum("summary_length", "Summary length", "short medium long", "in a {v} summary", "{v}", default="short", param="length"),
    enum("talk_format", "Format", "talk workshop lightning panel", "as a {v}", param="format"),
    enum("temperature_unit", "Temperature unit", "celsius fahrenheit", "in {v}", default="celsius", param="unit"),
    enum("ticket_tier", "Ticket tier", "general vip early_bird", "{v}", "in the {v} tier", param="tier"),
    enum("to_scale", "Scale to convert to", "celsius fahrenheit kelvin", "to {v}", "into {v}"),
    enum("to_timezone", "Time zone to convert to", "America/New_York America/Los_Angeles Europe/London Europe/Paris Asia/Tokyo Australia/Sydney", "to {v} time", "into {v}"),
    enum("to_unit", "Unit to convert to", "meters feet inches centimeters kilometers miles", "to {v}", "into {v}"),
    enum("to_warehouse", "Destination warehouse", "north south east west central", "to the {v} warehouse"),
    enum("trade_side", "Buy or sell", "buy sell", "to {v}", param="side"),
    enum("travel_mode", "Travel mode", "driving walking cycling transit", "({v})", "by {v}", param="mode"),
    enum("unit_size", "Unit size", "small medium large", "- a {v} unit", param="size"),
    enum("utility_type", "Utility", "power water gas", "for {v}", "({v})"),
    enum("variable", "Variable to solve for", "x y z", "for {v}", default="x"),
    enum("vehicle_class", "Vehicle class", "car motorcycle van truck", "for a {v}"),
    enum("visibility", "Who can see it", "public followers private", "visible to {v}", "as {v}", default="public"),
    enum("weekday", "Day of the week", "monday tuesday wednesday thursday friday saturday sunday", "on {v}", "for {v}"),
    enum("withdraw_reason", "Why it is withdrawn", "no_longer_needed wrong_details resubmitting", "(reason: {v})", param="reason"),
    enum("workout_type", "Workout type", "running cycling swimming yoga strength hiking", "- {v}", "({v})", param="type"),

    # Integers
    integer("annual_usage_kwh", "Yearly consumption in kWh", 1000, 10000, "using about {v} kWh a year", step=100),
    integer("auto_relock_minutes", "Minutes before relocking", 1, 30, "and auto-relock after {v} minutes"),
    integer("brightness_percent", "Brightness (percent)", 5, 100, "at {v}% brightness", "to {v} percent brightness", step=5),
    integer("cabin_temperature", "Cabin temperature in Celsius", 16, 28, "to {v} degrees"),
    integer("calories_burned", "Calories burned", 50, 1500, "burning {v} calories", "{v} kcal", step=10),
    integer("capacity", "Minimum number of guests", 20, 500, "for {v} people", "that holds {v} guests", step=10),
    integer("checked_bags", "Checked bags", 0, 3, "with {v} checked bags", default=0),
    integer("data_gb", "Data in GB", 1, 50, "{v} GB", "with {v} gigabytes"),
    integer("days_ahead", "How many days to look ahead", 1, 10, "over the next {v} days", default=5),
    integer("days_before", "Days before the event", 1, 14, "{v} days before", default=1),
    integer("decimal_places", "Decimal places", 0, 6, "to {v} decimal places", default=2),
    integer("delete_after_days", "Days before objects are deleted", 7, 365, "after {v} days"),
    integer("dependents", "Number of dependents", 0, 5, "with {v} dependents", default=0),
    integer("disk_gb", "Disk size in GB", 10, 500, "with a {v} GB disk", step=10, default=20),
    integer("driver_age", "Driver's age", 18, 80, "aged {v}", "who is {v} years old"),
    integer("duration_minutes", "Duration in minutes", 15, 180, "for {v} minutes", "lasting {v} minutes", step=15),
    integer("forecast_days", "Number of days", 1, 14, "for the next {v} days", default=7),
    integer("guest_count", "Number of guests", 10, 300, "for {v} guests", step=5),
    integer("guests", "Number of guests", 1, 6, "for {v} guests", "{v} people", default=1),
    integer("home_size_sqm", "Home size in square meters", 30, 300, "about {v} square meters", "for a {v} sqm home", step=5),
    integer("limit", "Maximum number of results", 1, 50, "(max {v} results)", "just the top {v}", default=10),
    integer("loan_term_years", "Loan term in years", 10, 30, "over {v} years", "for a {v}-year term", step=5),
    integer("max_age_years", "Maximum age in years", 1, 15, "up to {v} years old"),
    integer("max_duration_minutes", "Maximum length in minutes", 10, 120, "under {v} minutes", step=5),
    integer("max_kwh", "Stop after this many kWh", 10, 80, "up to {v} kWh"),
    integer("max_players", "Maximum players", 2, 16, "for {v} players"),
    integer("max_prep_minutes", "Maximum preparation time in minutes", 10, 120, "ready in under {v} minutes", step=5),
    integer("max_weeks", "Maximum length in weeks", 2, 24, "no longer than {v} weeks"),
    integer("min_bedrooms", "Minimum bedrooms", 1, 5, "with at least {v} bedrooms"),
    integer("min_power_kw", "Minimum power in kW", 7, 350, "with at least {v} kW"),
    integer("min_stars", "Minimum star rating", 1, 5, "with at least {v} stars"),
    integer("minutes_per_day", "Study minutes per day", 5, 90, "{v} minutes a day", step=5),
    integer("mute_hours", "Hours to mute", 1, 24, "for {v} hours"),
    integer("package_count", "Number of packages", 1, 10, "{v} packages", "for {v} parcels", default=1),
    integer("pages_read", "Pages read", 5, 200, "{v} pages", "- read {v} pages"),
    integer("party_size", "Number of people", 1, 12, "for {v} people", "party of {v}"),
    integer("passengers", "Number of passengers", 1, 9, "for {v} passengers", "{v} travellers", default=1),
    integer("pet_count", "Number of pets", 1, 4, "for {v} pets", default=1),
    integer("position", "Position in the playlist (1 = first)", 1, 50, "at position {v}"),
    integer("published_after", "Earliest publication year", 1950, 2025, "published after {v}"),
    integer("quantity", "Quantity", 1, 20, "{v} units", "quantity {v}"),
    integer("question_count", "Number of questions", 5, 30, "with {v} questions", default=10),
    integer("reading_kwh", "Meter reading in kWh", 1000, 99999, "of {v} kWh", "reading {v}"),
    integer("release_year_from", "Earliest release year", 1970, 2024, "released after {v}", "from {v} or later"),
    integer("renew_weeks", "Weeks to extend", 1, 4, "for {v} more weeks", default=2),
    integer("season_year", "Season (starting year)", 2015, 2025, "for the {v} season"),
    integer("servings", "Servings", 1, 12, "for {v} servings", default=4),
    integer("share_quantity", "Number of shares", 1, 500, "{v} shares", param="quantity"),
    integer("star_rating", "Rating from 1 to 5", 1, 5, "{v} stars", "with {v} stars", param="rating"),
    integer("tail_lines", "Number of last lines", 20, 500, "last {v} lines", step=10, default=100),
    integer("target_temperature", "Target temperature in Celsius", 16, 28, "to {v} degrees"),
    integer("target_value", "Target value", 1, 20000, "with a target of {v}", "of {v}"),
    integer("tax_year", "Tax year", 2020, 2025, "for {v}", "for tax year {v}"),
    integer("ticket_count", "Number of tickets", 1, 8, "{v} tickets", "for {v} tickets"),
    integer("window_minutes", "Evaluation window in minutes", 1, 60, "over {v} minutes", default=5),
    integer("year", "Year", 2020, 2025, "for {v}"),
    integer("years_experience", "Years of experience", 1, 25, "with {v} years of experience"),

    # Numbers (money, rates, measurements)
    number("amount", "Amount", 5, 5000, "for {v}", "of {v}", step=0.5),
    number("annual_income", "Annual gross income", 20000, 250000, "with an annual income of {v}", "earning {v} a year", step=1000),
    number("asking_price", "Asking price per ticket", 10, 500, "asking {v} each", "for {v} per ticket", step=5),
    number("claim_amount", "Claimed amount", 100, 20000, "for {v}", "claiming {v}", step=10),
    number("coverage_amount", "Coverage amount", 10000, 1000000, "for {v} of coverage", "covering {v}", step=5000),
    number("daily_limit", "Daily limit", 100, 5000, "to {v} a day", "of {v} per day", step=50),
    number("data_point", "A value", 1, 100, "{v}", step=0.5),
    number("deal_value", "Deal value", 1000, 500000, "worth {v}", step=500),
    number("declared_value", "Declared value of the goods", 20, 5000, "with a declared value of {v}", "worth {v}", step=5),
    number("deductible", "Deductible", 0, 5000, "with a {v} deductible", step=250),
    number("distance_km", "Distance in km", 1, 42, "covering {v} km", step=0.5),
    number("down_payment", "Down payment", 5000, 200000, "with {v} down", "putting {v} down", step=1000),
    number("goal_amount", "Fundraising goal", 500, 100000, "with a goal of {v}", "aiming for {v}", step=500),
    number("hours_worked", "Hours worked", 0.5, 12, "for {v} hours", step=0.5),
    number("interest_rate", "Annual interest rate in percent", 2, 9, "at {v}%", "with a {v}% rate", step=0.05),
    number("limit_price", "Limit price", 10, 1000, "at a limit of {v}", "limit price {v}", step=0.5),
    number("loan_amount", "Loan amount", 50000, 900000, "for a {v} loan", "borrowing {v}", step=5000),
    number("max_hourly_rate", "Maximum hourly rate", 10, 100, "for at most {v} an hour", step=5),
    number("max_nightly_rate", "Maximum price per night", 50, 600, "under {v} a night", step=10),
    number("max_pe_ratio", "Maximum price/earnings ratio", 5, 40, "with a P/E under {v}", step=1),
    number("max_price", "Maximum price", 10, 2000, "under {v}", "for at most {v}", step=10),
    number("max_rent", "Maximum monthly rent", 500, 5000, "up to {v} a month", "under {v} a month", step=50),
    number("measurement_value", "Measured value", 0.1, 1000, "of {v}", "reading {v}", step=0.1),
    number("min_market_cap_billions", "Minimum market cap in billions", 1, 500, "with a market cap over {v} billion", step=1),
    number("min_rating", "Minimum average rating", 3, 4.5, "rated {v} or higher", "with at least {v} stars", step=0.5),
    number("min_salary", "Minimum yearly salary", 30000, 200000, "paying at least {v}", step=5000),
    number("monthly_debts", "Monthly debt payments", 0, 5000, "with {v} in monthly debts", step=50),
    number("package_weight_kg", "Weight in kg", 0.5, 30, "weighing {v} kg", step=0.5),
    number("quantity_value", "Quantity to convert", 1, 1000, "{v}", step=0.5),
    number("radius_km", "Search radius in km", 1, 25, "within {v} km", step=0.5, default=5.0),
    number("target_price", "Alert below this price", 10, 1500, "below {v}", "drops under {v}", step=5),
    number("target_rate", "Target exchange rate", 0.5, 1.5, "hits {v}", "reaches {v}", step=0.01),
    number("temperature_value", "Temperature", -20, 45, "of {v} degrees", "{v} degrees", step=0.5),
    number("threshold", "Threshold", 1, 100, "{v}", "a threshold of {v}", step=1),
    number("tip_amount", "Tip", 1, 20, "with a {v} tip", "plus a {v} tip", step=0.5),

    # Booleans: how a user says true | false (each phrase mentions what the flag switches)
    flag("accepting_new_patients", "Only doctors accepting new patients", "who are accepting new patients", "even if they are not accepting new patients"),
    flag("active_only", "Only active prescriptions", "only the active ones", "active and expired ones"),
    flag("auto_renew", "Renew automatically", "with auto-renew on|set to renew automatically", "without auto-renew|no automatic renewal"),
    flag("automatic_only", "Only automatic transmission", "automatic transmission only", "manual is fine too, not only automatic"),
    flag("available_now", "Only stations free right now", "that are available right now", "even if they're not available now"),
    flag("avoid_tolls", "Avoid toll roads", "avoiding tolls", "no need to avoid tolls"),
    flag("bring_guest", "Bring a guest", "and I'm bringing a guest", "no guest this time"),
    flag("catering", "Needs catering", "with catering", "no catering needed"),
    flag("child_seat", "Add a child seat", "with a child seat", "no child seat needed"),
    flag("climate_controlled", "Climate-controlled unit", "climate-controlled", "doesn't need to be climate controlled"),
    flag("contactless_delivery", "Leave at the door", "contactless delivery please", "no contactless delivery, hand it to me"),
    flag("deep_clean", "Deep clean", "a deep clean", "just a standard clean, no deep clean"),
    flag("defrost", "Also defrost the windows", "with defrost on", "no defrost needed"),
    flag("dividend_only", "Only dividend payers", "only dividend payers", "dividends not required"),
    flag("dry_run", "Only simulate", "as a dry run", "for real, not a dry run"),
    flag("expedite", "Expedite", "expedited", "no need to expedite"),
    flag("force", "Force stop", "force it", "gracefully, don't force it"),
    flag("free_only", "Only free courses", "free ones only", "paid is fine, not only free"),
    flag("furnished", "Only furnished", "furnished", "doesn't need to be furnished"),
    flag("gift_wrap", "Gift wrap", "gift wrapped", "no gift wrap"),
    flag("good_with_kids", "Good with kids", "good with kids", "doesn't have to be good with kids"),
    flag("green_only", "Only green energy", "green energy only", "not only green tariffs"),
    flag("has_garage", "Has a garage", "with a garage", "garage not needed"),
    flag("has_yard", "Applicant has a yard", "I have a yard", "I don't have a yard"),
    flag("high_priority", "Mark as high priority", "mark it high priority", "normal priority, not high"),
    flag("honk_horn", "Honk to confirm", "and honk the horn", "without honking"),
    flag("in_stock_only", "Only items in stock", "in stock only", "out of stock items are fine too"),
    flag("include_closed", "Include closed accounts", "including closed ones", "without the closed ones"),
    flag("include_completed", "Include completed tasks", "including completed ones", "leaving out completed ones"),
    flag("include_contractors", "Include contractors", "including contractors", "excluding contractors"),
    flag("include_reviews", "Include reviews", "with the reviews", "without reviews"),
    flag("insurance_included", "Include insurance", "with insurance included", "without insurance"),
    flag("insured", "Insure the package", "insured", "no insurance needed"),
    flag("night_mode", "Night mode", "in night mode", "night mode off"),
    flag("nonstop_only", "Only nonstop flights", "nonstop only|nonstop flights only", "stops are fine, doesn't have to be nonstop"),
    flag("notify_attendees", "Notify attendees", "and notify the attendees", "without notifying attendees"),
    flag("notify_customer", "Notify the customer", "and notify the customer", "no need to notify the customer"),
    flag("notify_on_post", "Notify on new posts", "with notifications for new posts", "no post notifications"),
    flag("on_sale", "Only items on sale", "on sale", "sale or not"),
    flag("online_only", "Only online tutors", "online only", "online or in person"),
    flag("open_now", "Only places open now", "that are open now", "even if they're not open now"),
    flag("overdue_only", "Only overdue loans", "only the overdue ones", "not just overdue ones"),
    flag("pets_allowed", "Pets allowed", "that allows pets", "no pets needed"),
    flag("pin_message", "Pin the message", "and pin it", "don't pin it"),
    flag("play_next", "Play next", "to play next", "at the end, not next"),
    flag("power_on", "On (true) or off (false)", "power it on|turn the power on", "power it off|turn the power off"),
    flag("preserve_formatting", "Keep the formatting", "keeping the formatting", "formatting doesn't matter"),
    flag("private_channel", "Private channel", "as a private channel", "public, not private"),
    flag("private_lobby", "Private lobby", "private", "public, not private"),
    flag("private_repo", "Private repository", "private", "public, not private"),
    flag("public_playlist", "Public playlist", "make it public", "keep it private, not public"),
    flag("recurring", "Repeat monthly", "as a monthly recurring donation", "just once, not recurring"),
    flag("remote_ok", "Remote is fine", "remote is fine", "no remote, on-site only"),
    flag("run_tests", "Run the test suite", "with tests", "skip the tests"),
    flag("spot_instance", "Use a spot instance", "as a spot instance", "on-demand, not spot"),
    flag("unpaid_only", "Only unpaid bills", "only unpaid ones", "paid ones too, not only unpaid"),
    flag("unread_only", "Only unread emails", "unread only", "read or unread"),
    flag("urgent", "Urgent", "it's urgent", "not urgent"),
    flag("versioning", "Keep object versions", "with versioning", "no versioning"),

    # Arrays
    array("alert_types", "Kinds of alerts", "alert_type", 1, 3, "for {v} alerts"),
    array("amenities", "Required amenities", "amenity", 1, 3, "with {v}"),
    array("attendees", "Attendee emails", "attendee_email", 1, 3, "inviting {v}", "with {v}"),
    array("cc", "Emails to copy", "cc_email", 1, 2, "cc'ing {v}", "with {v} in cc"),
    array("days_of_week", "Days of the week", "day_name", 1, 5, "on {v}"),
    array("dishes", "Dishes to order", "dish_name", 1, 3, ": {v}", "- {v}"),
    array("friends", "Player tags to invite", "friend_tag", 1, 3, ": {v}", "- {v}"),
    array("hashtags", "Hashtags without #", "tag_word", 1, 3, "tagged {v}", "with the hashtags {v}"),
    array("ingredients", "Ingredients to use", "ingredient_name", 1, 3, "with {v}", "using {v}"),
    array("insight_metrics", "Metrics to include", "insight_metric", 1, 3, "covering {v}", param="metrics"),
    array("issue_labels", "Labels", "issue_label", 1, 2, "labeled {v}", param="labels"),
    array("line_items", "Billed items", "line_item", 1, 3, "for {v}"),
    array("members", "Member names", "member_first_name", 1, 4, "with {v}", "adding {v}"),
    array("numbers", "Numbers", "data_point", 3, 6, "for {v}", ": {v}"),
    array("pollutants", "Pollutants to report", "pollutant", 1, 3, "including {v}"),
    array("skills", "Skills", "skill_name", 1, 4, "with skills in {v}", "listing {v}"),
    array("statistics", "Statistics to compute", "statistic", 1, 3, "- the {v}"),
    array("tags", "Tags", "tag_word", 1, 3, "tagged {v}"),
    enum("alert_type", "Alert type", "storm flood heat snow wind", "{v}"),
    enum("amenity", "Amenity", "wifi pool parking gym breakfast spa", "{v}"),
    enum("day_name", "Day", "monday tuesday wednesday thursday friday saturday sunday", "{v}"),
    enum("insight_metric", "Metric", "impressions reach engagement followers clicks", "{v}"),
    enum("issue_label", "Label", "bug enhancement documentation ui performance", "{v}"),
    enum("pollutant", "Pollutant", "PM2.5 PM10 O3 NO2 CO", "{v}"),
    enum("statistic", "Statistic", "mean median std min max", "{v}"),
    text("dish_name", "Dish", "dish", "{v}"),
    text("friend_tag", "Player tag", "player_tag", "{v}"),
    text("tag_word", "Tag", "tag", "{v}"),
    text("ingredient_name", "Ingredient", "ingredient", "{v}"),
    text("line_item", "Item", "line_item", "{v}"),
    text("member_first_name", "Name", "first_name", "{v}"),
    text("skill_name", "Skill", "skill", "{v}"),
    coded("attendee_email", "string:email", "Email address", "{v}"),
    coded("cc_email", "string:email", "Email address", "{v}"),

    # Nested objects (fields prefixed with ? are optional)
    obj("delivery_address", "Delivery address", "street city postal_code", "to {street}, {city} {postal_code}", "delivered to {street} in {city} ({postal_code})"),
    obj("shipping_address", "Shipping address", "street city postal_code ?country", "to {street}, {city} {postal_code}", "shipping to {street}, {city}, {postal_code}"),
    obj("recipient_address", "Recipient address", "street city postal_code country", "to {street}, {city} {postal_code}, {country}", "going to {street}, {city}, {postal_code} in {country}"),
    obj("pickup_address", "Pickup address", "street city postal_code", "from {street}, {city} {postal_code}", "at {street} in {city}, {postal_code}"),
    text("street", "Street and number", "street", "{v}"),
)
# fmt: on
"""Every hand-written slot, one entry a line (derived slots: :func:`slot`)."""


def _index(library: tuple[Slot, ...]) -> dict[str, Slot]:
    out: dict[str, Slot] = {}
    for s in library:
        if s.name in out:
            raise ValueError(f"slot {s.name!r} defined twice")
        out[s.name] = s
    return out


_LIB = _index(LIBRARY)


# --- derived slots ----------------------------------------------------------------------------------------


def _humanize(name: str) -> str:
    return name.replace("_", " ")


@lru_cache(maxsize=1)
def _entities() -> dict[str, str]:
    """id slot name -> entity noun, from the tree's subdomains."""
    out: dict[str, str] = {}
    for subs in TREE.values():
        for node in subs.values():
            if node.id_param:
                out.setdefault(node.id_param, node.entity)
    return out


def _id_names() -> list[str]:
    names = set(_entities())
    for subs in TREE.values():
        for node in subs.values():
            for cap in node.capabilities.values():
                names.update(name for name, _ in cap.params if name.endswith("_id"))
    return sorted(names)


@lru_cache(maxsize=1)
def id_prefixes() -> dict[str, str]:
    """A distinct two-letter prefix for every id slot, derived from its name (stable, sorted order)."""
    used: set[str] = set()
    out: dict[str, str] = {}
    for name in _id_names():
        letters = re.sub(r"[^a-z]", "", name.removesuffix("_id")).upper()
        words = [w for w in name.removesuffix("_id").split("_") if w]
        candidates = [letters[:2]]
        if len(words) > 1:
            candidates.append((words[0][0] + words[1][0]).upper())
        candidates += [letters[0] + c for c in letters[1:]]
        candidates += [a + b for i, a in enumerate(letters) for b in letters[i + 1 :]]
        candidates += [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        for c in candidates:
            if len(c) == 2 and c not in used:
                used.add(c)
                out[name] = c
                break
    return out


def _derived(name: str) -> Slot | None:
    entity = _entities().get(name)
    if name in id_prefixes():
        entity = entity or _humanize(name.removesuffix("_id"))
        return Slot(
            name,
            "string:id",
            f"ID of the {entity}",
            (f"for {entity} {{v}}", f"for the {entity} {{v}}"),
            prefix=id_prefixes()[name],
            entity=entity,
        )
    if name.endswith("email") or name == "sender":
        h = _humanize(name.removesuffix("_email")) if name != "email" else ""
        desc = f"{h.capitalize()} email address" if h else "Email address"
        say = ("to {v}",) if name.startswith("recipient") else ("at {v}", "({v})", "using the email {v}")
        if name == "sender":
            say, desc = ("from {v}",), "Sender email address"
        return Slot(name, "string:email", desc, say)
    if name == "city" or name.endswith("_city"):
        h = _humanize(name.removesuffix("_city").removesuffix("city")).strip()
        say = {
            "origin": ("from {v}",),
            "destination": ("to {v}",),
            "pickup": ("in {v}", "picking up in {v}"),
            "dealer": ("at the dealer in {v}",),
            "office": ("in the {v} office",),
            "warehouse": ("at the {v} warehouse", "in {v}"),
        }.get(h, ("in {v}",))
        return Slot(name, "string", f"{h.capitalize()} city".strip() if h else "City", say, pool="city")
    if name == "country" or name.endswith("_country"):
        h = _humanize(name.removesuffix("_country").removesuffix("country")).strip()
        say = {"origin": ("from {v}",), "destination": ("to {v}", "in {v}")}.get(h, ("in {v}",))
        return Slot(
            name, "string:country", f"{h.capitalize()} country code".strip() if h else "Country code", say
        )
    if name == "currency" or name.endswith("_currency"):
        h = _humanize(name.removesuffix("_currency").removesuffix("currency")).strip()
        say = {
            "from": ("from {v}",),
            "to": ("to {v}", "into {v}"),
            "base": ("with {v} as the base currency",),
        }.get(h, ("in {v}",))
        return Slot(
            name,
            "string:currency",
            f"{h.capitalize()} currency".strip() if h else "Currency",
            say,
            default="USD" if name == "currency" else None,
        )
    return None


@cache
def slot(name: str) -> Slot:
    """The slot called ``name`` (library line or derived from the name); KeyError if there is none."""
    if name in _LIB:
        return _LIB[name]
    d = _derived(name)
    if d is None:
        raise KeyError(f"no slot {name!r} in the constraint tree (add a line to looptool/synth/slots.py)")
    return d


def named_slot(name: str, base: str | None = None) -> Slot:
    """Parameter ``name``'s slot: its own, or (``base`` given) slot ``base``'s kind, values and phrasing under
    the name ``name``."""
    if not base:
        return slot(name)
    b = slot(base)
    return dataclasses.replace(b, name=name, param=name, desc=b.desc)


def param_slot(token: str) -> tuple[Slot, bool]:
    """A field token of an object slot (``name`` or ``?name``) -> (slot, required)."""
    required = not token.startswith("?")
    name, _, base = token.lstrip("?").partition(":")
    return named_slot(name, base or None), required


# --- sampling ---------------------------------------------------------------------------------------------

_EXTRA_POOLS = {
    "person": None,  # first + last name
    "playlist_desc": (
        "songs for long drives",
        "quiet music for work",
        "throwbacks from the 90s",
        "sunday morning",
    ),
    "watchlist": ("Weekend", "Family Night", "Must Watch", "Documentaries"),
    "deal_name": (
        "Acme Corp renewal",
        "Northwind expansion",
        "Orbit Analytics pilot",
        "Summit Health upgrade",
        "Nimbus Systems license",
    ),
    "memo": (
        "rent for May",
        "dinner split",
        "birthday gift",
        "invoice 2291",
        "car repair",
        "concert tickets",
    ),
    "line_item": ("website design", "consulting hours", "logo package", "SEO audit", "hosting for 12 months"),
    "library_card": ("2900112345", "2900198765", "2900144556", "2900177321"),
    "promo_code": ("SPRING20", "WELCOME10", "FREESHIP", "VIP25", "SAVE15"),
}

RECORD_POOLS: dict[str, tuple[Any, ...]] = {
    "airline": ("SkyWays", "Aurora Air", "Blue Horizon", "Northwind Airlines", "Coastal Jet"),
    "hotel_name": ("Harbor View Hotel", "The Grand Plaza", "Old Town Inn", "Parkside Suites", "Hotel Lumen"),
    "car_model": ("Toyota Corolla", "VW Golf", "Ford Explorer", "Kia Sportage", "Tesla Model 3"),
    "recipe_title": POOLS["recipe_query"],
    "medication": ("Amoxicillin", "Lisinopril", "Metformin", "Atorvastatin", "Cetirizine"),
    "dosage": ("10 mg once daily", "500 mg twice daily", "20 mg at night", "5 mg as needed"),
    "test_name": ("Complete blood count", "Lipid panel", "Vitamin D", "HbA1c", "Thyroid panel"),
    "court_name": ("Court 1", "Court 3", "Center Court", "Indoor Court B"),
    "course_title": POOLS["course_subject"],
    "assignment_title": ("Essay draft", "Problem set 4", "Lab report", "Group presentation", "Reading quiz"),
    "station_name": ("Central Garage", "Mall West Chargers", "Harbor Plaza", "Airport P2"),
    "vehicle_model": ("Model Y", "ID.4", "Ioniq 5", "EV6", "Polestar 2"),
    "dealer": ("City Motors", "Riverside Auto", "Northgate Service Center"),
    "road": ("Ring Road", "Main Street", "Highway 101", "Bridge Avenue", "Harbor Tunnel"),
    "place_name": ("Cafe Aroma", "City Museum", "Green Park", "Night Pharmacy", "FreshMart"),
    "podcast_name": ("History Hour", "Startup Diaries", "Science Explained", "The Daily Brief"),
    "episode_title": ("The fall of Rome", "From garage to IPO", "How vaccines work", "Monday briefing"),
    "headline": (
        "Leaders agree on new climate targets",
        "Markets rally on rate news",
        "New telescope images released",
        "City unveils bike lane plan",
    ),
    "source": ("Daily Courier", "Global Wire", "Tech Times", "Metro News"),
    "conditions": ("sunny", "partly cloudy", "light rain", "overcast", "thunderstorms", "snow"),
    "dominant_pollutant": ("PM2.5", "PM10", "O3", "NO2"),
    "definition": (
        "lasting for a very short time",
        "showing great attention to detail",
        "able to recover quickly from difficulties",
    ),
    "translated_text": (
        "Merci pour votre aide",
        "Donde esta la estacion de tren?",
        "Die Besprechung beginnt um neun",
    ),
    "detected_language": tuple(LANGUAGES),
    "lesson_title": ("Greetings and introductions", "Ordering food", "Past tense basics", "Travel phrases"),
    "item_name": ("Golden Armor Skin", "Season 5 Battle Pass", "Soundtrack Bundle", "Turbo Wheels Pack"),
    "event_name": ("Jazz in the Park", "Street Food Festival", "Comedy Night", "Tech Meetup"),
    "venue_name": POOLS["venue_name"],
    "organization": ("City Food Bank", "Green Earth Trust", "Readers United", "Paws Rescue"),
    "default_branch": ("main",),
    "pay_period": ("January 2025", "February 2025", "March 2025", "April 2025"),
    "instructor_name": None,
    "tutor_name": None,
    "sitter_name": None,
    "cleaner_name": None,
    "doctor_name": None,
    "speaker_name": None,
}
"""Values for fields of simulated tool results that are not parameters (``None``: a person's name)."""

BASE_DATE = dt.date(2025, 1, 1)
DATE_SPAN_DAYS = 730


def pool_values(pool: str) -> tuple[str, ...]:
    if pool in POOLS:
        return POOLS[pool]
    vals = _EXTRA_POOLS.get(pool)
    if vals is None:
        raise KeyError(f"no value pool {pool!r}")
    return vals


def _person(rng: random.Random) -> str:
    return f"{rng.choice(POOLS['first_name'])} {rng.choice(POOLS['last_name'])}"


def _email(rng: random.Random) -> str:
    first = rng.choice(POOLS["first_name"]).lower()
    last = rng.choice(POOLS["last_name"]).lower()
    sep = rng.choice((".", "_", ""))
    return f"{first}{sep}{last}@{rng.choice(POOLS['email_domain'])}"


def _grid(rng: random.Random, lo: float, hi: float, step: float) -> float:
    n = int(round((hi - lo) / step))
    return round(lo + step * rng.randint(0, n), 2)


def sample(s: Slot, rng: random.Random) -> Any:
    """A value for slot ``s`` that satisfies the constraints its schema will state."""
    k = s.kind
    if k == "string":
        return _person(rng) if s.pool == "person" else rng.choice(pool_values(s.pool or "tag"))
    if k == "string:date":
        if s.lo and s.hi:
            first, last = dt.date(int(s.lo), 1, 1), dt.date(int(s.hi), 12, 31)
            return (first + dt.timedelta(days=rng.randrange((last - first).days + 1))).isoformat()
        return (BASE_DATE + dt.timedelta(days=rng.randrange(DATE_SPAN_DAYS))).isoformat()
    if k == "string:time":
        return f"{rng.randint(7, 21):02d}:{rng.choice((0, 0, 15, 30, 30, 45)):02d}"
    if k == "string:email":
        return _email(rng)
    if k == "string:id":
        return f"{s.prefix}-{rng.randint(10000, 99999)}"
    if k == "string:currency":
        return rng.choice(sorted(CURRENCIES))
    if k == "string:country":
        return rng.choice(sorted(COUNTRIES))
    if k == "string:language":
        return rng.choice(sorted(LANGUAGES))
    if k == "string:phone":
        return (
            "+"
            + rng.choice(("1", "44", "49", "33", "34", "81"))
            + "".join(str(rng.randint(0, 9)) for _ in range(9))
        )
    if k == "string:url":
        word = rng.choice(("report", "receipt", "photo", "contract", "homework", "scan"))
        return f"https://files.example.com/{word}-{rng.randint(100, 999)}.pdf"
    if k == "enum":
        return rng.choice(s.choices)
    if k == "integer":
        return int(_grid(rng, s.lo, s.hi, s.step))
    if k == "number":
        return float(_grid(rng, s.lo, s.hi, s.step))
    if k == "boolean":
        return rng.random() < 0.5
    if k == "array":
        item = slot(s.item or "tag_word")
        n = rng.randint(s.min_items, s.max_items)
        out: list[Any] = []
        for _ in range(n * 4):
            v = sample(item, rng)
            if v not in out:
                out.append(v)
            if len(out) == n:
                break
        return out
    if k == "object":
        out_obj: dict[str, Any] = {}
        for f in s.fields:
            sub, req = param_slot(f)
            if req or rng.random() < 0.5:
                out_obj[sub.name] = sample(sub, rng)
        return out_obj
    raise ValueError(f"slot {s.name}: unknown kind {k!r}")


# Argument pairs that must be ordered (first <= second, dates/times) or differ, whichever appear together.
ORDERED = (
    ("check_in_date", "check_out_date"),
    ("departure_date", "return_date"),
    ("start_date", "end_date"),
    ("pickup_date", "dropoff_date"),
    ("valid_from", "valid_until"),
    ("from_date", "to_date"),
    ("on_time", "off_time"),
)
DISTINCT = (
    ("origin_city", "destination_city"),
    ("from_currency", "to_currency"),
    ("from_unit", "to_unit"),
    ("from_scale", "to_scale"),
    ("from_timezone", "to_timezone"),
    ("from_warehouse", "to_warehouse"),
    ("origin_country", "destination_country"),
    ("start_address", "destination_address"),
)


ONLY_WITH = (("limit_price", "order_type", ("limit", "stop")),)
"""(slot, other slot, values): the slot only makes sense when the other slot has one of these values."""


def _bump(value: str, kind: str) -> str:
    if kind == "string:date":
        return (dt.date.fromisoformat(value) + dt.timedelta(days=3)).isoformat()
    h, m = (int(x) for x in value.split(":"))
    return f"{min(h + 2, 23):02d}:{m:02d}"


def fix_pairs(args: dict[str, Any], slots: dict[str, Slot], rng: random.Random) -> None:
    """Make sampled values coherent: start before end, origin different from destination (in place)."""
    for a, b in ORDERED:
        if a in args and b in args:
            x, y = sorted((args[a], args[b]))
            if x == y:
                y = _bump(x, slots[a].kind)
            args[a], args[b] = x, y
    for a, b, allowed in ONLY_WITH:
        if a in args and b in args and args[b] not in allowed:
            del args[a]
    for a, b in DISTINCT:
        if a in args and b in args:
            for _ in range(20):
                if args[a] != args[b]:
                    break
                args[b] = sample(slots[b], rng)


_NUMERIC_FIELDS: tuple[tuple[tuple[str, ...], float, float], ...] = (
    (("age_years",), 1, 12),
    (("temperature",), -5, 32),
    (("bedrooms",), 1, 5),
    (("percent",), 5, 100),
    (("rank",), 1, 500),
    (("likes", "impressions", "follower_count", "member_count"), 10, 5000),
    (("engagement_rate", "effective_rate", "exchange_rate"), 0.5, 9.5),
    (
        ("salary", "income", "raised_amount", "goal_amount", "coverage_amount", "list_price", "total_value"),
        20000.0,
        900000.0,
    ),
    (
        (
            "price",
            "amount",
            "total",
            "rate",
            "fare",
            "cost",
            "balance",
            "pay",
            "premium",
            "value",
            "_due",
            "interest",
            "payment",
            "rent",
            "limit",
        ),
        10.0,
        900.0,
    ),
    (("count", "_left", "track_count"), 1, 40),
    (("_km", "_kw", "_gb", "size_gb"), 1, 350),
    (("minutes", "seconds", "days", "weeks"), 5, 120),
    (("score",), 0, 5),
    (("_year", "years", "year"), 2015, 2025),
    (("_kwh",), 50, 900),
    (("aqi",), 10, 180),
    (("capacity",), 20, 400),
    (("crew_size",), 2, 6),
    (("odometer_km",), 1000, 90000),
    (("read",), 5, 300),
    (("quantity", "threshold"), 1, 100),
)


def record_value(name: str, rng: random.Random) -> Any:
    """A plausible value for a field of a simulated tool result (records need not be slots)."""
    if name in RECORD_POOLS:
        vals = RECORD_POOLS[name]
        return _person(rng) if vals is None else rng.choice(vals)
    try:
        return sample(slot(name), rng)
    except KeyError:
        pass
    if name.endswith(("_date", "deadline")):
        return sample(Slot(name, "string:date", ""), rng)
    if name.endswith(("_time", "_eta")):
        return sample(Slot(name, "string:time", ""), rng)
    for suffixes, lo, hi in _NUMERIC_FIELDS:
        if name.endswith(suffixes):
            return rng.randint(lo, hi) if isinstance(lo, int) else round(rng.uniform(lo, hi), 2)
    if name.endswith(("status", "state")):
        return rng.choice(("active", "pending", "confirmed", "in_progress", "completed"))
    if name.endswith(("rating",)):
        return round(rng.uniform(3.0, 5.0), 1)
    if name in ("locked", "power_on"):
        return rng.random() < 0.5
    if name.endswith("name") or name in ("instructor_name", "dealer", "organization", "sender", "source"):
        return _person(rng)
    if name.endswith(("title", "headline")):
        return rng.choice(POOLS["movie_title"] + POOLS["book_title"])
    return rng.choice(("standard", "available", "on schedule", "clear", "moderate", "good"))

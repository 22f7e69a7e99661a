"""How people write dates, currencies, countries, languages and small numbers: the words both the
synthesizer (writing values) and the grounding check (reading them back) use."""

from __future__ import annotations

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

CURRENCIES: dict[str, tuple[str, ...]] = {
    "USD": ("US dollars", "dollars", "USD"),
    "EUR": ("euros", "EUR"),
    "GBP": ("British pounds", "pounds sterling", "GBP"),
    "JPY": ("Japanese yen", "yen", "JPY"),
    "CHF": ("Swiss francs", "CHF"),
    "CAD": ("Canadian dollars", "CAD"),
    "AUD": ("Australian dollars", "AUD"),
    "INR": ("Indian rupees", "rupees", "INR"),
    "MXN": ("Mexican pesos", "MXN"),
    "BRL": ("Brazilian reais", "BRL"),
    "SEK": ("Swedish kronor", "SEK"),
    "SGD": ("Singapore dollars", "SGD"),
    "ZAR": ("South African rand", "ZAR"),
    "KRW": ("South Korean won", "KRW"),
}
"""ISO 4217 code -> how people write it (the first name is the preferred spoken form)."""

COUNTRIES: dict[str, tuple[str, ...]] = {
    "US": ("the United States", "the USA", "US"),
    "GB": ("the United Kingdom", "the UK", "GB"),
    "FR": ("France",),
    "DE": ("Germany",),
    "ES": ("Spain",),
    "IT": ("Italy",),
    "PT": ("Portugal",),
    "NL": ("the Netherlands",),
    "IE": ("Ireland",),
    "SE": ("Sweden",),
    "NO": ("Norway",),
    "PL": ("Poland",),
    "JP": ("Japan",),
    "KR": ("South Korea",),
    "IN": ("India",),
    "BR": ("Brazil",),
    "MX": ("Mexico",),
    "CA": ("Canada",),
    "AU": ("Australia",),
    "ZA": ("South Africa",),
    "KE": ("Kenya",),
    "EG": ("Egypt",),
    "SG": ("Singapore",),
    "NZ": ("New Zealand",),
}
"""ISO 3166-1 alpha-2 code -> how people write it."""

LANGUAGES: dict[str, tuple[str, ...]] = {
    "en": ("English",),
    "es": ("Spanish",),
    "fr": ("French",),
    "de": ("German",),
    "it": ("Italian",),
    "pt": ("Portuguese",),
    "nl": ("Dutch",),
    "ja": ("Japanese",),
    "ko": ("Korean",),
    "zh": ("Chinese", "Mandarin"),
    "ar": ("Arabic",),
    "hi": ("Hindi",),
    "sv": ("Swedish",),
    "pl": ("Polish",),
    "tr": ("Turkish",),
}
"""ISO 639-1 code -> how people write it."""

NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)

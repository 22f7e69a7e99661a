"""Value pools: the words people actually type, per semantic category.

Free-text parameters (cities, names, queries, titles...) draw their values from these lists; the slot library
(:mod:`looptool.synth.slots`) names the pool of each parameter. Lists are plain data: add to them freely, the
order only matters for reproducibility (values are drawn by index from a seeded RNG).
"""

from __future__ import annotations

# fmt: off
POOLS: dict[str, tuple[str, ...]] = {
    "city": (
        "Paris", "Berlin", "Madrid", "Lisbon", "Rome", "Vienna", "Prague", "Amsterdam", "Dublin", "Edinburgh",
        "Copenhagen", "Stockholm", "Oslo", "Helsinki", "Warsaw", "Budapest", "Athens", "Istanbul", "Cairo",
        "Nairobi", "Cape Town", "Lagos", "Dubai", "Mumbai", "Delhi", "Bangkok", "Singapore", "Tokyo", "Osaka",
        "Seoul", "Sydney", "Melbourne", "Auckland", "Toronto", "Vancouver", "Montreal", "Chicago", "Boston",
        "Denver", "Seattle", "Austin", "Miami", "San Diego", "Mexico City", "Bogota", "Lima", "Santiago",
        "Buenos Aires", "Sao Paulo", "Reykjavik", "Zurich", "Munich", "Barcelona", "Florence", "Krakow",
        "Porto", "Kyoto", "Hanoi", "Manila", "Marrakech",
    ),
    "first_name": (
        "Maria", "James", "Aisha", "Chen", "Lucas", "Sofia", "Omar", "Emma", "Raj", "Yuki", "Daniel", "Fatima",
        "Noah", "Elena", "Kwame", "Lena", "Mateo", "Priya", "Jonas", "Amara", "Hugo", "Ines", "Tariq", "Clara",
        "Diego", "Hana", "Victor", "Nadia", "Samuel", "Zoe", "Ivan", "Leila", "Marco", "Julia", "Kofi", "Anya",
    ),
    "last_name": (
        "Lopez", "Smith", "Khan", "Wei", "Martin", "Rossi", "Haddad", "Johnson", "Patel", "Tanaka", "Garcia",
        "Okafor", "Muller", "Novak", "Mensah", "Schmidt", "Silva", "Sharma", "Berg", "Diallo", "Dubois",
        "Costa", "Nakamura", "Fischer", "Kim", "Moreau", "Ivanova", "Hansen", "Ali", "Brown", "Santos", "Lee",
    ),
    "street": (
        "12 Oak Street", "48 Maple Avenue", "7 Harbour Road", "221 Baker Street", "95 Elm Drive",
        "3 Station Lane", "150 River Road", "64 Park Place", "18 Mill Street", "402 Cedar Court",
        "9 Church Road", "77 Hillside Avenue", "5 Orchard Way", "31 King Street", "260 Lake Shore Drive",
    ),
    "postal_code": (
        "10115", "75001", "28013", "94103", "02139", "60601", "80202", "98101", "1010", "00184", "1050",
        "2000", "3000", "M5V 2T6", "SW1A 1AA", "EC1A 1BB", "8001", "110001", "560001", "400001",
    ),
    "company": (
        "Acme Corp", "Northwind Traders", "Blue Harbor Labs", "Greenfield Foods", "Orbit Analytics",
        "Summit Health", "Riverstone Capital", "Pixel Forge", "Brightpath Learning", "Nimbus Systems",
        "Copperleaf Design", "Evergreen Logistics", "Silverline Media", "Tidewater Energy",
    ),
    "email_domain": ("example.com", "mail.com", "inbox.net", "company.org", "post.io", "webmail.co"),
    "restaurant_name": (
        "Luigi's Trattoria", "The Golden Wok", "Casa Verde", "Sakura Sushi", "The Burger Yard",
        "Taj Spice House", "Le Petit Bistro", "El Fuego Taqueria", "Green Bowl Cafe", "Ocean Grill",
        "Pho Saigon", "The Falafel Corner",
    ),
    "dish": (
        "margherita pizza", "pad thai", "chicken tikka masala", "caesar salad", "veggie burger",
        "beef burrito", "salmon sushi roll", "miso ramen", "falafel wrap", "mushroom risotto",
        "garlic bread", "mango lassi", "chocolate brownie", "tom yum soup", "spring rolls",
    ),
    "recipe_query": (
        "vegan lasagna", "banana bread", "chicken curry", "lemon risotto", "shakshuka", "beef stew",
        "pumpkin soup", "gluten-free pancakes", "tofu stir fry", "apple crumble", "fish tacos",
        "lentil dahl", "carrot cake", "mushroom stroganoff",
    ),
    "ingredient": (
        "tomatoes", "spinach", "chickpeas", "garlic", "mushrooms", "coconut milk", "quinoa", "basil",
        "feta", "sweet potatoes", "lentils", "zucchini", "ginger", "lime",
    ),
    "product_query": (
        "wireless headphones", "running shoes", "standing desk", "espresso machine", "yoga mat",
        "mechanical keyboard", "winter jacket", "air purifier", "robot vacuum", "hiking backpack",
        "electric toothbrush", "4k monitor", "cast iron skillet", "baby stroller",
    ),
    "product_name": (
        "Aurora noise-cancelling headphones", "TrailRunner 3 shoes", "FlexDesk Pro", "BaristaOne espresso maker",
        "ZenGrip yoga mat", "KeyMaster 87 keyboard", "Polar Shield jacket", "PureAir 500 purifier",
        "CleanBot S7 vacuum", "Summit 40L backpack", "SmileBright toothbrush", "Vivid 27 monitor",
    ),
    "merchant": (
        "FreshMart", "City Cafe", "QuickFuel", "Bookworm Books", "TechHub Store", "Green Grocer",
        "Metro Transit", "Sunset Cinema", "Corner Pharmacy", "Urban Gym",
    ),
    "movie_title": (
        "The Silent Harbor", "Echoes of Mars", "Midnight Express Line", "The Last Orchard", "Paper Kingdoms",
        "Neon Tides", "A Winter in Lisbon", "The Glass Mountain", "Starfall", "Brave Little Engine",
        "Shadows Over Cairo", "The Long Summer",
    ),
    "title_query": (
        "space documentaries", "korean dramas", "true crime series", "british baking shows",
        "animated movies for kids", "90s sitcoms", "nature documentaries", "spy thrillers",
        "stand-up comedy specials", "period dramas",
    ),
    "artist": (
        "Luna Park", "The Midnight Owls", "Aria Stone", "DJ Solace", "Kofi & The Rivers", "Nova Reyes",
        "Echo Valley", "The Paper Lanterns", "Mira Chen", "Big Sky Orchestra", "Velvet Static", "Jonah Blue",
    ),
    "song_title": (
        "Golden Hour", "Runaway Train", "City Lights", "Paper Planes", "Ocean Eyes", "Slow Burn",
        "Northern Star", "Hold the Line", "Summer Rain", "Wildfire", "Blue Monday Morning", "Electric Heart",
    ),
    "track_query": (
        "upbeat workout songs", "jazz piano", "lofi study beats", "acoustic covers", "80s synthpop",
        "latin dance hits", "rainy day folk", "classical for focus", "indie rock anthems", "reggae classics",
    ),
    "playlist_name": (
        "Road Trip 2025", "Morning Run", "Dinner Party", "Focus Mode", "Sunday Chill", "Gym Bangers",
        "Wedding Dance", "Late Night Drive", "Study Session", "Summer Vibes",
    ),
    "team": (
        "Chicago Bulls", "Boston Celtics", "Real Madrid", "Manchester United", "Bayern Munich",
        "Toronto Maple Leafs", "Seattle Seahawks", "New York Yankees", "Paris Saint-Germain", "Ajax",
        "Denver Nuggets", "Melbourne Storm",
    ),
    "job_title": (
        "data engineer", "product designer", "registered nurse", "backend developer", "marketing manager",
        "accountant", "project manager", "UX researcher", "sales associate", "mechanical engineer",
        "high school teacher", "customer success manager",
    ),
    "skill": (
        "Python", "SQL", "project management", "Figma", "public speaking", "data analysis", "Spanish",
        "machine learning", "negotiation", "Excel", "copywriting", "Kubernetes", "customer service",
    ),
    "course_subject": (
        "machine learning", "graphic design", "Spanish for beginners", "personal finance", "creative writing",
        "web development", "photography", "statistics", "music theory", "public speaking", "organic chemistry",
    ),
    "course_code": ("CS101", "MATH201", "BIO150", "HIST210", "ECON101", "PHYS120", "ENG205", "CHEM110"),
    "news_query": (
        "climate summit", "electric vehicles", "interest rates", "space exploration", "elections",
        "artificial intelligence regulation", "housing market", "renewable energy", "world cup",
        "vaccine research", "supply chain", "remote work",
    ),
    "podcast_query": (
        "history podcasts", "startup stories", "true crime", "science explained", "daily news briefing",
        "language learning", "comedy interviews", "personal finance tips",
    ),
    "email_subject": (
        "Quarterly report", "Meeting tomorrow", "Invoice attached", "Trip itinerary", "Project update",
        "Welcome aboard", "Dinner on Friday", "Contract draft", "Weekly sync notes", "Holiday schedule",
    ),
    "message": (
        "Running 10 minutes late", "The meeting moved to room 4B", "Please review the attached draft",
        "Happy birthday, have a great day", "Can we reschedule to next week", "The package arrived safely",
        "Lunch is on me today", "Reminder to submit your timesheets", "Thanks for your help yesterday",
        "The server maintenance is done", "See you at the station", "Dinner is at 8 tonight",
    ),
    "email_query": (
        "invoice", "flight confirmation", "password reset", "newsletter", "job offer", "receipt",
        "team offsite", "dentist appointment",
    ),
    "channel_name": (
        "design-team", "release-planning", "random", "marketing-launch", "support-escalations",
        "book-club", "oncall", "hiring-2025",
    ),
    "event_title": (
        "Team standup", "Dentist appointment", "Project kickoff", "Lunch with Sam", "Quarterly review",
        "Yoga class", "Parent-teacher meeting", "Budget planning", "Coffee with Priya", "Sprint retro",
    ),
    "location": (
        "Conference Room A", "Main Street Cafe", "Zoom", "Room 204", "City Library", "HQ lobby",
        "Central Park entrance", "Office kitchen",
    ),
    "task_title": (
        "Renew passport", "Buy groceries", "Call the plumber", "Submit expense report", "Book dentist",
        "Pay rent", "Water the plants", "Prepare slides", "Email the landlord", "Pick up dry cleaning",
    ),
    "list_name": ("Personal", "Work", "Groceries", "Home", "Errands", "Side project"),
    "note_title": (
        "Meeting notes", "Gift ideas", "Recipe tweaks", "Book quotes", "Travel checklist", "Garden plan",
        "Workout log", "Startup ideas",
    ),
    "note_body": (
        "Buy more basil and try less salt next time", "Ask Jonas about the budget numbers",
        "Pack chargers, passport and adapters", "Plant tomatoes after the last frost",
        "Read chapter 5 before Thursday", "Call the bank about the card fee",
    ),
    "tag": ("work", "ideas", "urgent", "family", "travel", "finance", "health", "reading", "home"),
    "camera_name": ("front door", "backyard", "garage", "living room", "driveway", "nursery"),
    "ticker": ("AAPL", "MSFT", "NVDA", "AMZN", "TSLA", "GOOGL", "META", "NFLX", "IBM", "ORCL", "INTC", "AMD"),
    "portfolio_name": ("Retirement", "College Fund", "Growth", "Dividend Income", "Rainy Day", "Tech Bets"),
    "pet_name": ("Biscuit", "Luna", "Max", "Milo", "Bella", "Charlie", "Coco", "Pepper", "Rocky", "Nala"),
    "charity": (
        "Red Cross", "Ocean Cleanup Fund", "City Food Bank", "Doctors Without Borders", "Local Animal Shelter",
        "Books for Kids", "Clean Water Project", "Wildlife Trust",
    ),
    "campaign_title": (
        "New roof for the community center", "School library books", "Marathon for cancer research",
        "Rescue dog shelter expansion", "Flood relief", "Community garden",
    ),
    "game_title": (
        "Starfield Legends", "Pixel Raiders", "Kingdom Forge", "Turbo Drift", "Mystic Arena",
        "Ocean Odyssey", "Galaxy Tactics", "Block Builders",
    ),
    "player_tag": (
        "ShadowFox", "PixelQueen", "NightOwl77", "BlazeRunner", "IronLotus", "ZeroGravity", "LuckyStrike",
        "FrostByte",
    ),
    "store_query": (
        "battle pass", "racing wheel skins", "soundtrack", "expansion pack", "character bundle",
        "season pass", "co-op games",
    ),
    "username": (
        "maria_travels", "chefjames", "aisha.codes", "lucas_runs", "sofia.art", "omar_photo", "emma_reads",
        "raj_builds", "yuki.designs", "daniel_tech",
    ),
    "post_text": (
        "Just finished my first half marathon!", "New blog post is live, link in bio",
        "Sunset from the rooftop tonight", "We are hiring backend engineers", "Big news coming on Monday",
        "Thank you all for 10k followers", "Trying a new recipe this weekend",
    ),
    "repo_name": (
        "payments-service", "mobile-app", "data-pipeline", "website", "ml-experiments", "infra-terraform",
        "docs-site", "auth-gateway",
    ),
    "branch_name": ("main", "develop", "feature-login", "fix-checkout-bug", "release-2.4", "hotfix-crash"),
    "code_query": (
        "retry with exponential backoff", "parse ISO dates", "jwt validation", "connection pool",
        "rate limiter", "csv export",
    ),
    "issue_title": (
        "Login button unresponsive on Safari", "Crash when uploading large files", "Typo on pricing page",
        "Dark mode colors are off", "Add export to CSV", "Slow search results",
    ),
    "comment": (
        "I can reproduce this on version 2.3", "Fixed in the latest build", "Can you share the logs?",
        "This is blocked by the API change", "Let's discuss in the standup",
    ),
    "instance_name": ("web-01", "batch-worker", "db-replica", "ci-runner", "ml-trainer", "api-gateway"),
    "bucket_name": ("company-backups", "user-uploads", "analytics-raw", "static-assets", "ml-datasets"),
    "metric_name": ("cpu_utilization", "memory_usage", "request_latency", "error_rate", "disk_io"),
    "expression": ("(12 + 7) * 3", "2 ^ 10", "sqrt(144) + 15", "45 / 9 - 2", "3.5 * 4 + 1"),
    "equation": ("2x + 6 = 14", "x^2 - 9 = 0", "3y - 4 = 11", "5z + 2 = 3z + 10"),
    "word": ("serendipity", "ephemeral", "resilient", "meticulous", "ubiquitous", "eloquent", "candid"),
    "source_text": (
        "Where is the nearest train station?", "Thank you for your help", "The meeting starts at nine",
        "I would like a table for two", "Please send me the invoice", "How much does this cost?",
    ),
    "book_query": (
        "science fiction classics", "world war two history", "mindfulness", "startup management",
        "mystery novels", "cookbooks for beginners", "poetry collections",
    ),
    "book_title": (
        "The Quiet Garden", "Northern Lights Fading", "A Short History of Maps", "The Baker's Daughter",
        "Code and Coffee", "Rivers of Stone", "The Clockmaker's Secret", "Learning to Sail",
    ),
    "author": (
        "Elena Ruiz", "Tomas Berg", "Grace Okafor", "Hiro Tanaka", "Anna Kowalski", "David Mensah",
        "Clara Dubois",
    ),
    "conference": ("PyCon", "DataSummit", "DevOpsDays", "HealthTech Forum", "FinTech Week", "DesignConf"),
    "talk_title": (
        "Scaling Postgres to a billion rows", "Designing for accessibility", "Lessons from a failed launch",
        "Testing machine learning pipelines", "Zero-downtime deployments",
    ),
    "abstract": (
        "A practical tour of what broke and how we fixed it",
        "Patterns and anti-patterns from five years in production",
        "A hands-on introduction with live examples",
    ),
    "description": (
        "Water is leaking under the kitchen sink", "Rear bumper dented in a parking lot",
        "The heating stopped working overnight", "My laptop was stolen from the car",
        "Internet drops every evening", "Cracked screen after a fall", "Power keeps flickering in the kitchen",
    ),
    "reason": (
        "plans changed", "found a better option", "ordered by mistake", "schedule conflict",
        "no longer needed", "feeling unwell",
    ),
    "pharmacy": ("CityCare Pharmacy", "HealthPlus Drugstore", "Corner Pharmacy", "MedExpress", "WellLife"),
    "department_store": ("Main Street", "Downtown", "Airport", "Harbor", "Riverside"),
    "venue_name": ("Grand Hall", "Riverside Pavilion", "The Loft", "Skyline Terrace", "Oak Barn"),
    "account_number": ("1002003004", "5566778899", "4433221100", "9988776655", "1234509876"),
    "tracking_note": ("leave at the door", "ring twice", "call on arrival", "fragile, handle with care"),
    "appointment_reason": (
        "annual checkup", "persistent cough", "back pain", "skin rash", "follow-up visit", "vaccination",
    ),
    "dedication": ("in memory of Grandma Rose", "for Amara's birthday", "in honor of our team"),
    "job_note": ("great benefits", "apply before Friday", "ask Omar for a referral", "remote friendly"),
    "cover_letter": (
        "I have five years of relevant experience and love your product",
        "I am excited to bring my skills in data analysis to your team",
    ),
    "review_text": (
        "Fantastic, would book again", "Friendly and on time", "Good value but a bit noisy",
        "Exceeded expectations", "Not bad, could be better",
    ),
    "special_request": ("window table", "high chair needed", "quiet corner", "birthday celebration"),
    "experiment": (
        "Plant growth under LED light", "Yeast fermentation rate", "Pendulum period", "Solar panel efficiency",
        "Bread dough rise time", "Battery drain in the cold",
    ),
    "hypothesis": (
        "blue light speeds up growth", "warmer water ferments faster", "longer strings swing slower",
        "dust lowers panel output",
    ),
    "full_text_query": ("Anna", "marketing", "Berlin office", "design lead", "finance team"),
}
# fmt: on
"""Category name -> values. Values are written verbatim in user text and in labels."""

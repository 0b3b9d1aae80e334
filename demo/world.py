"""Who lives in the demo world and what they say: plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "ephemera-demo"


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str
    bio: str
    private: bool = False

    @property
    def initials(self) -> str:
        words = self.display_name.split()
        return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


# The three accounts printed after a run, in every relationship a client needs to show.
FEATURED = (
    Person("alice", "Alice Martin", "Coffee, film cameras and long walks. Public account."),
    Person("bob", "Bob Okafor", "Trail runner. Bad puns. Public account."),
    Person("carol", "Carol Nguyen", "Private account: follow requests welcome.", private=True),
)

OTHERS = (
    Person("dave", "Dave Kowalski", "Bikes and bread."),
    Person("mira.photos", "Mira Haddad", "35mm and medium format."),
    Person("kenji_eats", "Kenji Sato", "Every ramen in town, ranked."),
    Person("sofia.travels", "Sofia Rossi", "Slow travel, night trains."),
    Person("liam.codes", "Liam Byrne", "Shipping side projects on weekends."),
    Person("noor.draws", "Noor Aziz", "Ink, watercolour, cats.", private=True),
    Person("theo_runs", "Theo Laurent", "Marathon #4 loading."),
    Person("ines.bakes", "Ines Duarte", "Sourdough evangelist."),
    Person("omar.films", "Omar Farouk", "Short films and long takes."),
    Person("yuki.plants", "Yuki Tanaka", "87 houseplants and counting.", private=True),
    Person("lena.climbs", "Lena Vogel", "Boulders, crimps, chalk everywhere."),
    Person("marco.cooks", "Marco Bianchi", "Nonna's recipes, my mistakes."),
    Person("priya.reads", "Priya Raman", "A book a week."),
    Person("jonas.skates", "Jonas Berg", "Concrete waves."),
    Person("amara.sings", "Amara Obi", "Choir on Tuesdays, karaoke on Fridays."),
    Person("felix.hikes", "Felix Wagner", "Ridge lines and hut breakfasts."),
    Person("chloe.paints", "Chloe Martin", "Oil on canvas, paint on everything.", private=True),
    Person("diego.surfs", "Diego Alvarez", "Dawn patrol."),
    Person("hana.knits", "Hana Kim", "Sweaters for everyone I love."),
    Person("oscar.birds", "Oscar Lind", "Binoculars always packed."),
    Person("maya.dances", "Maya Cohen", "Contemporary and salsa."),
    Person("ravi.bikes", "Ravi Patel", "Commuting by cargo bike.", private=True),
    Person("elsa.sails", "Elsa Nilsson", "Weekend sailor, weekday coder."),
    Person("tariq.jazz", "Tariq Mansour", "Upright bass."),
    Person("ada.builds", "Ada Lovelace", "Furniture from scrap wood."),
    Person("nina.snaps", "Nina Petrova", "Street photography."),
    Person("sam.gardens", "Sam Rivera", "Tomatoes and patience."),
    Person("zoe.writes", "Zoe Clarke", "Newsletter about small towns."),
    Person("spam.deals", "Best Deals", "Click my link!!!"),
)

# Signed up last: when it exists, the whole world was created and a run only prints credentials.
MARKER = Person("ephemera", "Ephemera Team", "The team behind this demo world. Say hi!")

EVERYONE = (*FEATURED, *OTHERS)

CAPTIONS = (
    "Sunday market haul",
    "Golden hour from the roof",
    "First try, not bad",
    "Trail at 6am",
    "New favourite corner",
    "Rainy day plans",
    "Made it to the top",
    "Too good not to share",
    "Weekend mood",
    "Proof I went outside",
    "Tiny victory",
    "Found this on the way home",
    "Late night snack",
    "Studio in progress",
    "Blue hour",
    "Best seat in the house",
)

STORY_LABELS = (
    "Good morning",
    "On my way",
    "Guess where",
    "Coffee #2",
    "Look at this sky",
    "Work in progress",
    "Lunch!",
    "Sunset",
    "Behind the scenes",
    "Heading out",
)

REACTIONS = ("🔥", "😍", "😂", "👏", "❤️", "😮")

# Stories of the past week their authors kept: (author, days ago, label, audience, highlight title or
# None). alice keeps every expired story in her archive; the others keep only what they highlight.
ARCHIVING = ("alice",)
KEPT_STORIES = (
    ("alice", 6, "Film day", "PUBLIC", "Film days"),
    ("alice", 5, "Developing", "FOLLOWERS", "Film days"),
    ("alice", 4, "Contact sheet", "CLOSE_FRIENDS", "Film days"),
    ("alice", 3, "Flat white", "PUBLIC", "Coffee"),
    ("alice", 2, "Rainy window", "FOLLOWERS", None),
    ("bob", 5, "Ridge loop", "PUBLIC", "Trail runs"),
    ("bob", 3, "Summit", "FOLLOWERS", "Trail runs"),
    ("carol", 4, "Sketchbook", "FOLLOWERS", "Sketches"),
)

COMMENTS = (
    "This is so good!",
    "Where is this?",
    "Need to go there",
    "The light 😍",
    "Saving this one",
    "Okay this is art",
    "Take me with you next time",
    "Haha love it",
    "How did you get that shot?",
    "Adding it to the list",
    "🔥🔥🔥",
    "Miss this place",
)

# alice and bob catch up over two days: (sender, body); the last two are still unread by alice.
ALICE_AND_BOB = (
    ("bob", "Are we still on for the trail run on Saturday?"),
    ("alice", "Yes! 7am at the north gate?"),
    ("bob", "Perfect. Bringing the thermos."),
    ("alice", "You're the best. Carol might join too."),
    ("bob", "The more the merrier 🙌"),
    ("alice", "Did you see Mira's new photos?"),
    ("bob", "The one from the roof is unreal."),
    ("alice", "Right?? I want that film stock."),
    ("bob", "I'll ask her where she gets it."),
    ("alice", "Thanks! Also: dinner Thursday?"),
    ("bob", "Thursday works. Ramen place Kenji recommended?"),
    ("alice", "Deal. 8pm."),
    ("bob", "Booked a table for three, Carol's in."),
    ("bob", "See you there!"),
)

GROUP_TITLE = "Saturday trail run"
GROUP = (
    ("alice", "Made a group so we stop losing the thread 😅"),
    ("bob", "Route: the ridge loop, about 14 km."),
    ("carol", "I'll be a bit slow, fair warning."),
    ("dave", "I'll bring bikes for the way back if anyone's tired."),
    ("theo_runs", "Count me in!"),
    ("alice", "Meeting at 7 at the north gate."),
)

ALICE_AND_CAROL = (
    ("carol", "Accepted your follow request, welcome to the private club 🙂"),
    ("alice", "Haha thanks! Love the sketches."),
    ("carol", "I'm posting more this week."),
)

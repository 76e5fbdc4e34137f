"""The mini-world's object classes and their names: what captions may call them and how they look/sound.

One table so shapes, renders, sounds and captions agree on the class list and its order (label = index).
"""

from __future__ import annotations

DEFAULT_CLASSES: tuple[str, ...] = (
    "bell", "drum", "guitar", "car", "train", "airplane", "bird", "dog",
    "chair", "table", "lamp", "bottle", "mug", "clock", "boat", "tree",
)

# Nouns a caption may use for a class (the first is the canonical name).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "bell": ("bell", "church bell", "handbell", "chime bell"),
    "drum": ("drum", "snare drum", "tom drum", "kettle drum"),
    "guitar": ("guitar", "acoustic guitar", "six string guitar"),
    "car": ("car", "automobile", "sedan", "motor car"),
    "train": ("train", "locomotive", "railway train", "steam engine"),
    "airplane": ("airplane", "aeroplane", "jet plane", "aircraft"),
    "bird": ("bird", "songbird", "sparrow", "little bird"),
    "dog": ("dog", "puppy", "hound", "doggy"),
    "chair": ("chair", "wooden chair", "seat", "stool chair"),
    "table": ("table", "wooden table", "desk", "dining table"),
    "lamp": ("lamp", "desk lamp", "floor lamp", "light"),
    "bottle": ("bottle", "glass bottle", "flask", "wine bottle"),
    "mug": ("mug", "coffee mug", "cup", "tea cup"),
    "clock": ("clock", "wall clock", "timepiece", "alarm clock"),
    "boat": ("boat", "sailboat", "ship", "little boat"),
    "tree": ("tree", "pine tree", "oak tree", "fir tree"),
}

# Named colours per class for each part role: (name, rgb). Instances jitter around these.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (200, 40, 40), "dark red": (130, 20, 25), "orange": (235, 130, 30), "yellow": (235, 210, 50),
    "gold": (210, 170, 50), "green": (50, 160, 60), "dark green": (25, 95, 35), "blue": (45, 90, 210),
    "navy": (25, 35, 110), "light blue": (120, 180, 235), "purple": (130, 60, 170), "pink": (235, 130, 170),
    "brown": (120, 75, 40), "tan": (200, 160, 110), "black": (30, 30, 30), "grey": (130, 130, 135),
    "silver": (185, 190, 200), "white": (235, 235, 235), "teal": (30, 150, 150), "cream": (240, 225, 190),
}

# Body colour choices per class (named, so captions can mention them), and an accent colour name.
PALETTES: dict[str, tuple[tuple[str, ...], str]] = {
    "bell": (("gold", "yellow", "brown"), "dark red"),
    "drum": (("red", "blue", "white"), "silver"),
    "guitar": (("tan", "brown", "orange"), "black"),
    "car": (("red", "blue", "silver", "black"), "grey"),
    "train": (("dark green", "red", "navy"), "black"),
    "airplane": (("white", "silver", "light blue"), "blue"),
    "bird": (("yellow", "blue", "brown"), "orange"),
    "dog": (("brown", "tan", "black", "white"), "dark red"),
    "chair": (("brown", "tan", "black"), "brown"),
    "table": (("brown", "tan", "white"), "brown"),
    "lamp": (("cream", "yellow", "white"), "black"),
    "bottle": (("green", "teal", "dark green"), "gold"),
    "mug": (("white", "red", "blue", "pink"), "white"),
    "clock": (("white", "cream", "silver"), "black"),
    "boat": (("white", "red", "navy"), "cream"),
    "tree": (("green", "dark green"), "brown"),
}

# How a class sounds, in caption words: verbs and sound nouns for the audio-style templates.
SOUND_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "bell": (("rings", "chimes", "tolls"), ("ringing", "chiming", "tolling")),
    "drum": (("is beaten", "is drummed", "booms"), ("drumming", "beating", "booming")),
    "guitar": (("is strummed", "is plucked", "plays"), ("strumming", "plucking", "playing")),
    "car": (("drives by", "hums", "idles"), ("engine hum", "motor noise", "idling")),
    "train": (("rattles", "clatters", "rumbles"), ("rattling", "clattering", "rumbling")),
    "airplane": (("roars", "flies over", "whooshes"), ("roaring", "jet noise", "whooshing")),
    "bird": (("chirps", "sings", "tweets"), ("chirping", "singing", "tweeting")),
    "dog": (("barks", "woofs", "yelps"), ("barking", "woofing", "yelping")),
    "chair": (("creaks", "scrapes", "squeaks"), ("creaking", "scraping", "squeaking")),
    "table": (("is knocked on", "thuds", "is tapped"), ("knocking", "thudding", "tapping")),
    "lamp": (("buzzes", "hums", "clicks on"), ("buzzing", "electric hum", "clicking")),
    "bottle": (("glugs", "bubbles", "is poured"), ("glugging", "bubbling", "pouring")),
    "mug": (("clinks", "is stirred", "is tapped with a spoon"), ("clinking", "stirring", "spoon tapping")),
    "clock": (("ticks", "tocks", "ticks steadily"), ("ticking", "tick tock", "steady ticking")),
    "boat": (("splashes", "sails on the waves", "honks its horn"), ("splashing", "waves", "foghorn")),
    "tree": (("rustles", "sways in the wind", "whispers in the breeze"), ("rustling", "leaves rustling", "wind in the leaves")),
}

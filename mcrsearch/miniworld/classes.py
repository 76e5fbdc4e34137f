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

# Named colours (rgb). Each class owns one body colour (so a tiny image tower can tell classes apart at
# 32 px, as real photos tell them apart by texture) and an accent; instances jitter around both.
COLOURS: dict[str, tuple[int, int, int]] = {
    "gold": (215, 175, 40), "red": (205, 35, 35), "orange": (240, 120, 20), "blue": (40, 80, 220),
    "dark green": (20, 100, 40), "white": (240, 240, 240), "yellow": (245, 230, 40), "brown": (125, 75, 35),
    "purple": (130, 50, 170), "tan": (205, 165, 110), "pink": (240, 130, 180), "teal": (20, 160, 160),
    "light blue": (130, 190, 240), "silver": (160, 160, 172), "navy": (25, 35, 110), "green": (70, 185, 60),
    "black": (30, 30, 30), "dark red": (120, 20, 25), "grey": (110, 110, 115), "cream": (240, 225, 190),
}

# Body colour name(s) per class, and an accent colour name.
PALETTES: dict[str, tuple[tuple[str, ...], str]] = {
    "bell": (("gold",), "dark red"), "drum": (("red",), "silver"), "guitar": (("orange",), "black"),
    "car": (("blue",), "black"), "train": (("dark green",), "black"), "airplane": (("white",), "blue"),
    "bird": (("yellow",), "orange"), "dog": (("brown",), "black"), "chair": (("purple",), "grey"),
    "table": (("tan",), "brown"), "lamp": (("pink",), "black"), "bottle": (("teal",), "gold"),
    "mug": (("light blue",), "white"), "clock": (("silver",), "black"), "boat": (("navy",), "cream"),
    "tree": (("green",), "brown"),
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


# --- The "hard" world: three variants of every base class, confusable within their group. ---------------
# A variant changes ONE attribute of its base class, expressed in every modality: the object's proportions
# (3D, image), the sound's pitch (audio), and the words a caption uses for it; the three variants of a base
# share its shape recipe, sound recipe and body colour (a confusable group), and their accent colours are
# borrowed from other groups. Looks are described in CLIP-side (visual) words and
# sounds in CLAP-side (pitch) words, so the two text corpora differ in vocabulary, as in reality.


class Variant:
    """One variant of a base class: how it deforms the shape, shifts the pitch, and what words name it."""

    def __init__(self, look: tuple[str, ...], pitch: tuple[str, ...], height: float, width: float,
                 pitch_factor: float, colour_shift: int) -> None:
        self.look, self.pitch = look, pitch
        self.height, self.width, self.pitch_factor, self.colour_shift = height, width, pitch_factor, colour_shift


VARIANTS: tuple[Variant, ...] = (
    Variant(("tall", "slender", "elongated"), ("high pitched", "shrill", "squeaky"), 1.45, 0.8, 1.5, 0),
    Variant(("wide", "broad", "chunky"), ("medium pitched", "mid range", "moderate"), 0.85, 1.35, 1.0, 5),
    Variant(("flat", "squat", "stubby"), ("low pitched", "deep", "rumbling low"), 0.55, 1.1, 0.64, 11),
)
BASE_CLASSES: tuple[str, ...] = DEFAULT_CLASSES
HARD_CLASSES: tuple[str, ...] = tuple(f"{v.look[0]}-{base}" for base in BASE_CLASSES for v in VARIANTS)


def parse_class(name: str) -> tuple[str, Variant | None]:
    """(base class, variant) of a class name; a plain base class has no variant."""
    if name in SYNONYMS:
        return name, None
    look, _, base = name.partition("-")
    for v in VARIANTS:
        if v.look[0] == look and base in SYNONYMS:
            return base, v
    raise KeyError(f"unknown mini-world class {name!r}")


def class_colours(name: str) -> tuple[str, str]:
    """(body, accent) colour names of a class: its base's body colour, and an accent that a variant
    borrows from another base class (so accents are shared across groups)."""
    base, variant = parse_class(name)
    body, accent = PALETTES[base][0][0], PALETTES[base][1]
    if variant is not None and variant.colour_shift:
        accent = PALETTES[BASE_CLASSES[(BASE_CLASSES.index(base) + variant.colour_shift) % len(BASE_CLASSES)]][0][0]
    return body, accent

"""Captions from varied templates and synonyms. Visual captions (for image pairs) mention colour and size;
sound captions (for audio pairs) mention how the thing sounds and how often; neutral ones mix both.
"""

from __future__ import annotations

import re

import numpy as np

from mcrsearch.miniworld.classes import SOUND_WORDS, SYNONYMS

_SIZES = ("small", "large", "tiny", "big", "little", "huge")
_COUNTS = {1: "once", 2: "twice", 3: "three times", 4: "four times", 5: "five times", 6: "six times",
           7: "seven times", 8: "many times"}

GENERIC = ("a {noun}", "this is a {noun}", "a {size} {noun}", "there is a {noun} here")
VISUAL = GENERIC + (
    "a photo of a {colour} {noun}",
    "a {size} {colour} {noun}",
    "a {noun} painted {colour}",
    "a picture of a {size} {noun}",
    "a rendering of a {colour} {noun} on a plain background",
    "there is a {colour} {noun} in the picture",
    "a 3d model of a {size} {colour} {noun}",
    "an image showing a {noun} that is {colour}",
)
SOUND = GENERIC + (
    "the sound of a {noun} {gerund}",
    "a {noun} {verb}",
    "a {noun} {verb} {count}",
    "you can hear a {noun} {verb}",
    "{gerund} of a {noun}",
    "a recording of a {noun} {gerund}",
    "a {size} {noun} {verb} in the distance",
    "someone records a {noun} that {verb}",
)
NEUTRAL = VISUAL + SOUND[len(GENERIC):] + (
    "a {colour} {noun} that {verb}",
)


def caption(class_name: str, colour: str, events: int, style: str, rng: np.random.Generator) -> str:
    """One caption for an instance; `style` is "visual", "sound" or "neutral"."""
    templates = {"visual": VISUAL, "sound": SOUND, "neutral": NEUTRAL}[style]
    verbs, gerunds = SOUND_WORDS[class_name]
    template = templates[int(rng.integers(len(templates)))]
    return template.format(
        noun=SYNONYMS[class_name][int(rng.integers(len(SYNONYMS[class_name])))],
        colour=colour, size=_SIZES[int(rng.integers(len(_SIZES)))],
        verb=verbs[int(rng.integers(len(verbs)))], gerund=gerunds[int(rng.integers(len(gerunds)))],
        count=_COUNTS.get(events, "several times"),
    )


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (the mini text encoders' only text processing)."""
    return re.findall(r"[a-z0-9]+", text.lower())


def vocabulary() -> list[str]:
    """Every word any template or synonym can produce, sorted: the mini text encoders' vocabulary."""
    from mcrsearch.miniworld.classes import COLOURS

    words: set[str] = set()
    for template in NEUTRAL:
        words.update(tokenize(re.sub(r"\{\w+\}", " ", template)))
    for names in SYNONYMS.values():
        for name in names:
            words.update(tokenize(name))
    for verbs, gerunds in SOUND_WORDS.values():
        for w in verbs + gerunds:
            words.update(tokenize(w))
    for w in list(COLOURS) + list(_SIZES) + list(_COUNTS.values()) + ["several"]:
        words.update(tokenize(w))
    return sorted(words)


# --- The hard world's captions: CLIP-side ones describe looks, CLAP-side ones sounds, in their own words. ---
LOOK = (
    "a photo of a {look} {colour} {noun}",
    "a {colour} {noun} with a {look} shape",
    "a {look} {noun} painted {colour}",
    "close up picture of a {look} {noun}",
    "a rendering of a {look} {noun} on a plain background",
    "an image showing a {noun} that is {look} and {colour}",
    "a {colour} {noun}",
)
HEARD = (
    "{gerund} from a {pitch} {noun}",
    "the {pitch} sound of a {noun} {gerund}",
    "audio of a {noun} that {verb}, {pitch}",
    "recording: {pitch} {gerund}, {count}",
    "you can hear something {pitch} {gerund} {count}",
    "a {pitch} {noun} {verb} {count}",
    "{gerund} noises",
)
BOTH = ("a {look} {colour} {noun} that {verb}, {pitch}", "a {pitch} {noun} {gerund}, {look} and {colour}")
# How much of its class a caption names: vague ones (no variant word, sometimes no noun) for degraded items.
_VAGUE = {"look": ("a {noun}", "a picture of a {noun}", "a {colour} thing"),
          "sound": ("a {noun} {verb}", "you can hear something {gerund}", "{gerund} noises")}


def hard_caption(class_name: str, colour: str, events: int, style: str, clarity: float,
                 rng: np.random.Generator) -> str:
    """A hard-world caption. `style`: "look" (CLIP side), "sound" (CLAP side) or "mixed" (any of them);
    `clarity` in [0, 1]: below 0.25 the caption is vague and may not name the variant (or even the noun)."""
    from mcrsearch.miniworld.classes import parse_class

    base, variant = parse_class(class_name)
    if style == "mixed":
        style = ("look", "sound", "both")[int(rng.choice(3, p=[0.4, 0.4, 0.2]))]
    pool: tuple[str, ...]
    if clarity < 0.25:
        pool = _VAGUE["sound" if style == "sound" else "look"]
    else:
        pool = {"look": LOOK, "sound": HEARD, "both": BOTH}[style]
    verbs, gerunds = SOUND_WORDS[base]
    look = variant.look if variant else ("plain",)
    pitch = variant.pitch if variant else ("plain",)
    pick = lambda words: words[int(rng.integers(len(words)))]  # noqa: E731
    return pool[int(rng.integers(len(pool)))].format(
        noun=pick(SYNONYMS[base]), colour=colour, look=pick(look), pitch=pick(pitch), verb=pick(verbs),
        gerund=pick(gerunds), count=_COUNTS.get(events, "several times"))


def hard_vocabulary() -> list[str]:
    """Every word the hard world's captions can use (a superset of `vocabulary()`), sorted."""
    from mcrsearch.miniworld.classes import VARIANTS

    words = set(vocabulary())
    for template in LOOK + HEARD + BOTH + _VAGUE["look"] + _VAGUE["sound"]:
        words.update(tokenize(re.sub(r"\{\w+\}", " ", template)))
    for v in VARIANTS:
        for w in v.look + v.pitch:
            words.update(tokenize(w))
    return sorted(words)

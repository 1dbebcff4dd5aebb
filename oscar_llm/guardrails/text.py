"""Checks that judge any text on its own: length, repeated words, banned words, numbers, names, fluency.

Each returns the problems it finds as messages (an empty list when there are none); the
feature that calls it decides what a problem is called and what it is compared with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
REPEAT_RE = re.compile(r"\b(\w+)(?:\W+\1\b){2,}", re.IGNORECASE)
# Letters and digits; "T-Shirt" is "T" and "Shirt", "Men's" is "Men" and "s".
WORD_RE = re.compile(r"[^\W_]+")
# Where a sentence (or a list item, or a part of a title) ends and the next word is capitalised anyway.
SENTENCE_BREAK_RE = re.compile(r"[.!?;:]+(?=\s|$)|[\n•·|]|\s[-–—]\s")

_NORM_SUBS = [
    (re.compile(r"['’]s\b"), ""),
    (re.compile(r"[^\w\s&]+"), " "),
    (re.compile(r"_"), " "),
    # "T-shirt", "T shirt" and "Tshirts" are written every which way; one spelling makes them one word.
    (re.compile(r"\bt\s+shirts?\b"), "tshirt"),
    (re.compile(r"\s+"), " "),
]


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces, so phrases compare whatever punctuation surrounds them."""
    text = text.lower()
    for pattern, repl in _NORM_SUBS:
        text = pattern.sub(repl, text)
    return text.strip()


def number_value(raw: str) -> Decimal | None:
    """``raw`` (a match of ``NUMBER_RE``) as a number, so "1,200" and "1200.0" are the same number."""
    try:
        return Decimal(raw.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def unknown_numbers(text: str, known: str) -> list[str]:
    """The numbers ``text`` states, as written, that do not appear in ``known``."""
    allowed = {value for raw in NUMBER_RE.findall(known) if (value := number_value(raw)) is not None}
    unknown = []
    for raw in NUMBER_RE.findall(text):
        value = number_value(raw)
        if value is not None and value not in allowed:
            unknown.append(raw)
    return unknown


def length_problems(text: str, *, min_length: int, max_length: int) -> list[str]:
    problems = []
    if len(text) < min_length:
        problems.append(f"Too short ({len(text)} characters, minimum {min_length}).")
    if len(text) > max_length:
        problems.append(f"Too long ({len(text)} characters, maximum {max_length}).")
    return problems


def repetition_problems(text: str) -> list[str]:
    """Models stuck in a loop write the same word again and again; people rarely do."""
    return ["Repeats the same word three times or more."] if REPEAT_RE.search(text) else []


def banned_word_problems(text: str, banned_words: Iterable[str]) -> list[str]:
    """Whole-word matches only, so banning "cheap" leaves "cheaper" alone."""
    lowered = f" {normalise(text)} "
    return [
        f"Contains the banned word '{word}'."
        for word in banned_words
        if normalise(word) and f" {normalise(word)} " in lowered
    ]


def words_of(text: str) -> set[str]:
    """The words of ``text`` in lower case."""
    return {word.lower() for word in WORD_RE.findall(text)}


def name_like_words(text: str, *, every_word: bool = False) -> list[str]:
    """Words written like names, in order: with a capital ("Zorbo", "UK") or letters before digits ("S3Y").

    In running text the first word of a sentence is capitalised whatever it is, so it is left out
    unless it carries a digit; ``every_word`` is for titles, where every word is capitalised and a
    brand usually comes first. Single letters (sizes, "T-Shirt") and words starting with a digit
    (the number checks' business: "100ml", "3D") are never names.
    """
    found = []
    for sentence in SENTENCE_BREAK_RE.split(text):
        for position, match in enumerate(WORD_RE.finditer(sentence)):
            word = match.group()
            if len(word) < 2 or word[0].isdigit():
                continue
            has_digit = any(c.isdigit() for c in word)
            if not has_digit and not any(c.isupper() for c in word):
                continue
            if position == 0 and not every_word and not has_digit:
                continue
            found.append(word)
    return found


def is_known_word(word: str, known: set[str] | frozenset[str]) -> bool:
    """``word`` (any case) or its singular or plural is in ``known`` (lower case)."""
    word = word.lower()
    candidates = {word, word + "s", word + "es"}
    if word.endswith("s"):
        candidates |= {word[:-1], word[:-2] if word.endswith("es") else word}
    if word.endswith("ies"):
        candidates.add(word[:-3] + "y")
    return not candidates.isdisjoint(known)


# Common English words a product text may use without the catalogue having used them first: the
# words of a sentence, and the everyday words of product copy. Together with the catalogue's own
# words they tell a made-up name from a word. Kept short on purpose: a word missing here costs a
# rejected draft (and a retry), a name wrongly here would let an invented one through.
_COMMON_WORDS_TEXT = """
    a an the this that these those it its they them their there here he she his her you your yours we our us
    i me my mine who whom whose which what when where why how all any both each every few more most other
    some such no nor not only own same so than too very can will just should would could may might must shall
    is are was were be been being have has had having do does did doing done am get gets got make makes made
    and or but if because as until while of at by for with about against between into through during before
    after above below to from up down in out on off over under again further then once also yet still even
    one two three four five six seven eight nine ten eleven twelve first second third half double single
    new now today day days night week year years time times way ways thing things part parts side sides
    look looks looking feel feels feeling fit fits fitted fitting wear wears worn wearing use used uses using
    keep keeps kept go goes going come comes came take takes took give gives let lets need needs want wants
    pair pairs pack set piece pieces item items range style styles styled styling design designs designed
    detail details detailing finish finished finishes touch touches colour colours color colors shade shades
    tone tones print prints printed pattern patterned patterns plain solid stripe stripes striped check checks
    checked checkered floral flower flowers graphic graphics logo logos text slogan dot dots polka abstract
    geometric animal camouflage camo tie dye embroidered embroidery sequin sequins lace laced textured texture
    quilted knitted knit woven ribbed washed faded distressed ripped dyed coated brushed sheer lined unlined
    size sizes sized small medium large extra xs xl xxl xxxl uk eu us usa ml g kg mg cm mm oz ltr litre liter
    men women man woman boy boys girl girls kid kids child children baby babies unisex adult adults mens
    womens ladies lady gents teen teens junior juniors infant infants toddler toddlers everyone anyone
    casual formal party sports sport sporty smart classic classics modern contemporary vintage retro
    timeless everyday daily essential essentials basic basics simple clean minimal bold bright dark light
    soft smooth rich deep pale pastel neutral warm cool cosy cozy comfortable comfort comfy relaxed easy
    lightweight light heavy heavyweight thick thin slim skinny regular straight loose tapered wide narrow
    long short cropped full mid high low tall petite plus oversized boxy tailored structured fluid flowing
    stylish elegant chic sleek polished refined sophisticated graceful pretty beautiful lovely gorgeous
    cute fun playful trendy fashionable fashion statement standout striking eye catching signature iconic
    premium luxury luxurious quality fine finest quality durable tough sturdy strong hardwearing reliable
    practical versatile functional useful handy convenient perfect ideal great good best better nice
    favourite favorite popular essential must special limited edition exclusive original authentic genuine
    natural organic pure fresh clear gentle mild lasting waterproof water resistant
    breathable stretch stretchy flexible adjustable removable detachable reversible foldable portable
    secure safe protective protection support supportive cushioned padded grip non slip anti
    summer winter spring autumn fall season seasons seasonal holiday holidays weekend weekends travel
    office work workwear evening evenings occasion occasions outing outings wedding weddings festive festival
    beach gym running training walking hiking outdoor outdoors indoor indoors city street urban home
    collar collars neck neckline round crew v scoop boat polo hood hooded hoodie sleeve sleeves sleeveless
    cuff cuffs hem hems waist waistband rise pocket pockets zip zips zipper zipped button buttons
    buttoned fastening fastenings closure closures strap straps strappy buckle buckles belt loops lining
    sole soles insole insoles upper uppers toe toes heel heels laces laced ankle knee calf
    dial dials case bezel band bracelet chain chains clasp hook hooks frame frames lens lenses handle
    handles compartment compartments shoulder cross body crossbody top bottom front back inside outside
    interior exterior edge edges trim trims panel panels seam seams stitch stitching finish
    cotton linen wool silk leather suede denim polyester nylon viscose rayon cashmere satin velvet
    canvas mesh rubber metal steel stainless gold silver rose brass wood plastic glass fabric fabrics
    material materials blend blends synthetic faux vegan fleece jersey knitwear chiffon georgette crepe
    black white grey gray red blue green yellow orange pink purple brown beige cream navy olive maroon
    khaki tan teal turquoise mustard charcoal ivory nude coral peach plum lavender lilac mint burgundy
    multi multicolour multicoloured multicolor colourful colorful metallic
    skin face body hair lip lips eye eyes nail nails hand hands foot feet leg legs arm arms
    scent fragrance fresh floral fruity woody musky spicy citrus sweet notes note finish matte glossy
    shine shiny shimmer glow radiant hydrating moisturising moisturizing nourishing
    shop store buy order orders delivery price prices value money offer offers sale gift gifts
    great add adds added pairs pair goes go team teams match matches matching complete completes
    made make crafted built cut cuts shaped shape shapes tailored finished lined
    available choice choices option options pick picks collection collections line lines brand brands
    ready wash washable machine hand care dry clean iron
"""
COMMON_WORDS = frozenset(_COMMON_WORDS_TEXT.split())

"""Product -> facts: the only things a prompt may state, read in one place for every feature.

Content, recommendations, product questions and marketing all read a product through
``product_facts``; ``facts_text`` is the one plain-text rendering (what a shopper would read),
which recommendations embed. ``catalogue_vocabulary`` is every attribute value and word the
catalogue uses, so a check can tell a value of another product from a word that is no value at
all, and a name the shop uses from one a model made up. ``article_names`` is every way of saying
what a product is (its article type and the synonyms in ``ARTICLE_SYNONYMS``). Facts
are plain dicts so the same prompts and checks serve shop products, rows of a catalogue CSV
(training and evaluation) and tests::

    {"title": "...", "product_class": "...", "category": "Women > Clothing > Dresses",
     "attributes": {"brand": "...", "gender": "...", "colour": "...", "article_type": "...", ...},
     "price": "45.00", "currency": "GBP", "in_stock": True, "description": "..."}
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .guardrails.html import plain_text
from .guardrails.text import normalise, words_of

# Attribute codes used across the plugin, and the names other catalogues use for them.
ATTRIBUTE_ALIASES: dict[str, str] = {
    "color": "colour",
    "basecolour": "colour",
    "base_colour": "colour",
    "colour": "colour",
    "articletype": "article_type",
    "article_type": "article_type",
    "gender": "gender",
    "material": "material",
    "fabric": "material",
    "size": "size",
    "brand": "brand",
    "season": "season",
    "usage": "usage",
    "mastercategory": "master_category",
    "subcategory": "sub_category",
    "year": "year",
}

# Attributes whose values are checked against the rest of the catalogue.
# Attributes whose values of other products a text may not state about this one (content.checks).
CHECKED_ATTRIBUTES = ("colour", "gender", "material", "article_type", "brand", "size", "usage", "season")

# Order in which facts are put in a prompt (segments may move some first).
FACT_ORDER = (
    "brand",
    "gender",
    "colour",
    "material",
    "article_type",
    "usage",
    "season",
    "size",
    "category",
    "product_class",
    "price",
)

# Bumped whenever ``Vocabulary`` changes shape, so no worker reads a pickle of the old one.
VOCABULARY_CACHE_KEY = "oscar_llm:vocabulary:v3"
_TAG_RE = re.compile(r"<[^>]*>")

GENDER_WORDS = ("Men", "Women", "Boys", "Girls", "Unisex")
# Words that end the brand at the start of a retailer title ("Gini and Jony Boy's ...").
_BRAND_STOP = {"men", "women", "boy", "boys", "girl", "girls", "unisex", "kids", "mens", "womens", "man", "woman"}


def normalise_attribute_code(code: str) -> str:
    key = re.sub(r"[^a-z_]", "", code.lower())
    return ATTRIBUTE_ALIASES.get(key, ATTRIBUTE_ALIASES.get(key.replace("_", ""), key))


def product_facts(product: Any) -> dict[str, Any]:
    """Read the facts of an Oscar product (a few queries; runs in workers)."""
    from oscar.core.loading import get_class

    attributes: dict[str, str] = {}
    for value in product.get_attribute_values().select_related("attribute"):
        rendered = value.value_as_text
        if rendered not in (None, ""):
            attributes[normalise_attribute_code(value.attribute.code)] = str(rendered)
    category = product.get_categories().first()
    category_path = category.full_name if category else ""
    if category and "article_type" not in attributes:
        attributes["article_type"] = category.name
    facts: dict[str, Any] = {
        "title": product.title or "",
        "product_class": product.get_product_class().name if product.get_product_class() else "",
        "category": category_path,
        "attributes": attributes,
        "description": product.description or "",
        "price": None,
        "currency": None,
        "in_stock": None,
    }
    Selector = get_class("partner.strategy", "Selector")
    info = Selector().strategy().fetch_for_product(product)
    if info.price.exists:
        facts["price"] = f"{info.price.excl_tax:.2f}"
        facts["currency"] = info.price.currency
    facts["in_stock"] = bool(info.availability.is_available_to_buy)
    from .adapter import get_adapter

    return get_adapter().product_facts(product, facts)


def brand_from_title(title: str) -> str:
    """The words before the gender word of a retailer title ("Peter England Men ..." -> "Peter England")."""
    words = title.split()
    for i, word in enumerate(words):
        key = re.sub(r"['’]s$", "", word.lower())
        if key in _BRAND_STOP:
            return " ".join(words[:i]) if i > 0 else ""
    return ""


def facts_from_fashion_row(row: dict[str, str]) -> dict[str, Any]:
    """Facts from a row of a fashion-format CSV (id, gender, masterCategory, ..., productDisplayName)."""
    title = (row.get("productDisplayName") or "").strip()
    attributes = {
        "gender": row.get("gender", ""),
        "colour": row.get("baseColour", ""),
        "article_type": row.get("articleType", ""),
        "season": row.get("season", ""),
        "usage": row.get("usage", ""),
    }
    brand = brand_from_title(title)
    if brand:
        attributes["brand"] = brand
    category = " > ".join(p for p in (row.get("masterCategory"), row.get("subCategory"), row.get("articleType")) if p)
    return {
        "title": title,
        "product_class": row.get("masterCategory", ""),
        "category": category,
        "attributes": {k: v.strip() for k, v in attributes.items() if v and v.strip() and v.strip() != "NA"},
        "description": "",
        "price": None,
        "currency": None,
        "in_stock": None,
    }


def prompt_facts(facts: dict[str, Any], kind: str) -> dict[str, str]:
    """The flat facts a prompt for ``kind`` may use: never the text being written."""
    flat: dict[str, str] = {}
    for key, value in (facts.get("attributes") or {}).items():
        if value not in (None, ""):
            flat[key] = str(value)
    for key in ("category", "product_class"):
        if facts.get(key):
            flat[key] = str(facts[key])
    if facts.get("price"):
        flat["price"] = f"{facts['price']} {facts.get('currency') or ''}".strip()
    if kind != "title" and facts.get("title"):
        flat["title"] = str(facts["title"])
    return flat


def ordered_items(flat: dict[str, str], focus: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Facts in a stable order, with the segment's focus first."""
    focus = [f for f in focus if f in flat]
    rest = [k for k in FACT_ORDER if k in flat and k not in focus]
    extra = sorted(k for k in flat if k not in focus and k not in rest)
    return [(k, flat[k]) for k in [*focus, *rest, *extra]]


def facts_hash(*parts: Any) -> str:
    payload = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def facts_text(facts: dict[str, Any]) -> str:
    """The text a product's vector is computed from: what a shopper would read about it."""
    parts = [facts.get("title") or ""]
    if facts.get("category"):
        parts.append(facts["category"])
    attributes = facts.get("attributes") or {}
    parts += [f"{k.replace('_', ' ')}: {v}" for k, v in sorted(attributes.items()) if v]
    description = (facts.get("description") or "").strip()
    if description:
        parts.append(description[:400])
    return ". ".join(p for p in parts if p)


# -- the catalogue's vocabulary ----------------------------------------------------------------
#
# A text "states" an attribute value when one of the value's surface forms appears in it as
# whole words ("Navy Blue", "T-shirt" for "Tshirts", "men's" for "Men"). The content checks
# compare what a text states with the product's own facts; the vocabulary is every value the
# catalogue uses, so a value of another product is caught.


# Plurals the suffix rules below get wrong ("scarves" is not the plural of "scarve").
_IRREGULAR_SINGULARS = {"scarves": "scarf", "accessories": "accessory", "panties": "panty", "knives": "knife"}
_IRREGULAR_PLURALS = {v: k for k, v in _IRREGULAR_SINGULARS.items()}


def _singular(word: str) -> str:
    if word in _IRREGULAR_SINGULARS:
        return _IRREGULAR_SINGULARS[word]
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def singular(word: str) -> str:
    """A lower-case word's singular, by the same rules the vocabulary's surface forms use."""
    return _singular(word)


def _plural(word: str) -> str:
    if word in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[word]
    if word.endswith(("ch", "sh", "ss", "x")):
        return word + "es"
    return word + "s"


@functools.lru_cache(maxsize=16384)
def surface_forms(attribute: str, value: str) -> frozenset[str]:
    """The phrases that state ``value`` of ``attribute`` (cached: the checks ask for the same values all the time)."""
    base = normalise(value)
    if not base:
        return frozenset()
    forms = {base}
    if attribute in ("article_type", "gender"):
        words = base.split()
        forms.add(" ".join([*words[:-1], _singular(words[-1])]))
        if not words[-1].endswith("s"):
            forms.add(" ".join([*words[:-1], _plural(words[-1])]))
    if attribute == "gender":
        forms |= {f + "s" for f in list(forms) if not f.endswith("s")}  # "mens", "womens"
    return frozenset(f for f in forms if f)


def split_values(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"\s*(?:/|,|\band\b)\s*", value) if v.strip()]


@dataclass
class Vocabulary:
    """attribute -> {surface form -> canonical value}, and every word the catalogue's texts use.

    ``words`` (lower case) is what tells a name found anywhere in the catalogue from one a model
    made up: attribute values, category names, product titles and descriptions.
    """

    forms: dict[str, dict[str, str]] = field(default_factory=dict)
    max_words: int = 1
    words: set[str] = field(default_factory=set)
    # (brand word -> brand, words of the other attributes' values), built once from ``forms``.
    _brand_words: tuple[dict[str, str], frozenset[str]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def add_text(self, text: str) -> None:
        self.words |= words_of(_TAG_RE.sub(" ", text or ""))

    def add(self, attribute: str, value: str) -> None:
        self.add_text(value)
        if not value or attribute not in CHECKED_ATTRIBUTES:
            return
        self._brand_words = None
        table = self.forms.setdefault(attribute, {})
        for form in surface_forms(attribute, value):
            table.setdefault(form, value)
            self.max_words = max(self.max_words, len(form.split()))

    @classmethod
    def from_facts(cls, facts_list: Iterable[dict[str, Any]]) -> Vocabulary:
        vocab = cls()
        for facts in facts_list:
            for attribute, value in (facts.get("attributes") or {}).items():
                for part in split_values(str(value)) if attribute != "brand" else [str(value)]:
                    vocab.add(attribute, part)
            for key in ("title", "description", "meta_description", "category", "product_class"):
                vocab.add_text(str(facts.get(key) or ""))
        return vocab

    def brand_words(self) -> tuple[dict[str, str], frozenset[str]]:
        """Each word of a brand with the (first) brand it is part of, and every word of the other attributes' values.

        The checks read them for every text (``content.checks``); they change only when a value is added.
        """
        if self._brand_words is None:
            brand_of: dict[str, str] = {}
            for form, canonical in (self.forms.get("brand") or {}).items():
                for word in form.split():
                    brand_of.setdefault(word, canonical)
            other_values = frozenset(
                word
                for attribute, table in self.forms.items()
                if attribute != "brand"
                for form in table
                for word in form.split()
            )
            self._brand_words = (brand_of, other_values)
        return self._brand_words

    def values(self, attribute: str) -> set[str]:
        return set(self.forms.get(attribute, {}).values())

    def find(self, attribute: str, tokens: list[str], masked: set[int]) -> list[tuple[str, int, int]]:
        """(canonical value, start, end) of each mention in ``tokens``, longest match first."""
        table = self.forms.get(attribute) or {}
        found: list[tuple[str, int, int]] = []
        i = 0
        while i < len(tokens):
            hit = None
            for n in range(min(self.max_words, len(tokens) - i), 0, -1):
                phrase = " ".join(tokens[i : i + n])
                if phrase in table and masked.isdisjoint(range(i, i + n)):
                    hit = (table[phrase], i, i + n)
                    break
            if hit:
                found.append(hit)
                i = hit[2]
            else:
                i += 1
        return found


def catalogue_vocabulary() -> Vocabulary:
    """Every checked attribute value and every word of the shop's catalogue (cached for a few minutes)."""
    from django.core.cache import cache
    from oscar.core.loading import get_model

    cached = cache.get(VOCABULARY_CACHE_KEY)
    if cached is not None:
        return cached
    ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
    Category = get_model("catalogue", "Category")
    Product = get_model("catalogue", "Product")
    vocab = Vocabulary()
    rows = ProductAttributeValue.objects.values_list("attribute__code", "value_text").distinct()
    for code, value in rows:
        if value:
            attribute = normalise_attribute_code(code)
            for part in split_values(value) if attribute != "brand" else [value]:
                vocab.add(attribute, part)
    for name in Category.objects.filter(numchild=0).values_list("name", flat=True):
        vocab.add("article_type", name)
    for name in Category.objects.values_list("name", flat=True):
        vocab.add_text(name)
    for title, description in Product.objects.values_list("title", "description").iterator(chunk_size=2000):
        vocab.add_text(title)
        vocab.add_text(description)
    cache.set(VOCABULARY_CACHE_KEY, vocab, 300)
    return vocab


# -- what a product is called ------------------------------------------------------------------
#
# A title must say what the product is. Shops and people call an article type by other names
# ("Deo" for a deodorant, "Tee" for a T-shirt, "Trainers" for sports shoes), so each type has
# the synonyms below besides its own name and the parts of a compound name ("Perfume and Body
# Mist" is also called "Perfume"). Keys and synonyms are matched in any case, singular or plural.
# A synonym that is itself an article type of the catalogue never names another type: the
# catalogue's own types decide ("Sandals" for a product sold as "Heels" is still a conflict).

_FOOTWEAR = ("Shoes", "Footwear")
_BAGS = ("Bag",)

ARTICLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    # clothing
    "Tshirts": ("Tee", "Polo", "Jersey", "Henley", "Singlet"),
    "Lounge Tshirts": ("Tshirt", "Tee", "Lounge Top"),
    "Tops": ("Blouse", "Crop Top", "Tank Top", "Camisole Top"),
    "Shirts": ("Overshirt",),
    "Sweaters": ("Jumper", "Pullover", "Cardigan", "Knit", "Sweater"),
    "Knitwear": ("Jumper", "Pullover", "Cardigan", "Sweater", "Knit"),
    "Sweatshirts": ("Sweat Shirt", "Hoodie", "Hoody", "Pullover"),
    "Jackets": ("Coat", "Windcheater", "Bomber", "Parka", "Gilet", "Overcoat"),
    "Rain Jacket": ("Jacket", "Raincoat", "Windcheater", "Cheater"),
    "Nehru Jackets": ("Jacket", "Bandhgala"),
    "Blazers": ("Jacket", "Sport Coat"),
    "Waistcoat": ("Gilet",),
    "Jeans": ("Denims",),
    "Trousers": ("Pants", "Chinos", "Cargos", "Slacks"),
    "Track Pants": ("Pants", "Trackpants", "Joggers", "Track Bottoms", "Sweatpants"),
    "Lounge Pants": ("Pants", "Pyjamas", "Pajamas", "Pyjama", "Joggers"),
    "Shorts": ("Bermudas", "Culottes"),
    "Lounge Shorts": ("Shorts",),
    "Capris": ("Pants", "Pedal Pushers", "Three Quarters"),
    "Dresses": ("Frock", "Gown", "Sundress"),
    "Nightdress": ("Nightie", "Nightgown", "Night Dress", "Nightwear", "Sleepwear"),
    "Night suits": ("Night Suit", "Nightsuit", "Lounge Set", "Pyjama Set", "Pajama Set", "Pyjamas", "Nightwear"),
    "Baby Dolls": ("Babydoll", "Nightdress", "Nightie", "Nightwear"),
    "Bath Robe": ("Bathrobe", "Robe"),
    "Robe": ("Bathrobe", "Dressing Gown"),
    "Jumpsuit": ("Playsuit", "Romper", "Dungarees"),
    "Rompers": ("Playsuit", "Jumpsuit"),
    "Tracksuits": ("Track Suit",),
    "Kurtas": ("Kaftan",),
    "Kurta Sets": ("Kurta", "Churidar", "Salwar", "Dupatta", "Suit", "Salwar Suit"),
    "Salwar and Dupatta": ("Patiala",),
    "Patiala": ("Salwar",),
    "Sarees": ("Sari",),
    "Lehenga Choli": ("Lehenga", "Choli"),
    "Innerwear Vests": ("Vest", "Innerwear", "Undershirt", "Muscle Tshirt", "Tank"),
    "Briefs": ("Underwear", "Hipsters", "Panty", "Panties", "Bikini Briefs"),
    "Trunk": ("Trunks", "Underwear"),
    "Boxers": ("Boxer Shorts", "Underwear"),
    "Bra": ("Bralette", "Sports Bra"),
    "Shapewear": ("Shaper", "Body Shaper"),
    "Stockings": ("Tights", "Hosiery", "Pantyhose"),
    "Tights": ("Stockings", "Hosiery", "Pantyhose"),
    "Swimwear": ("Swimsuit", "Swimming Costume", "Bikini", "Swimming Cap", "Swim Cap", "Goggles", "Swim Trunks"),
    "Clothing Set": ("Set", "Outfit"),
    # footwear
    "Casual Shoes": (*_FOOTWEAR, "Sneakers", "Trainers", "Loafers", "Moccasins", "Boots", "Plimsolls", "Pumps"),
    "Sports Shoes": (*_FOOTWEAR, "Sneakers", "Trainers", "Running Shoes", "Boots", "Spikes", "Cleats"),
    "Formal Shoes": (*_FOOTWEAR, "Brogues", "Oxfords", "Derbys", "Derby", "Loafers", "Monks", "Monk Straps"),
    "Heels": (*_FOOTWEAR, "Pumps", "Stilettos", "Stilettoes", "Peep Toes", "Wedges", "Courts", "Court Shoes"),
    "Flats": (*_FOOTWEAR, "Ballerinas", "Ballet Flats", "Pumps", "Loafers", "Mules"),
    "Sneakers": (*_FOOTWEAR, "Trainers"),
    "Boots": (*_FOOTWEAR, "Booties", "Ankle Boots"),
    "Booties": (*_FOOTWEAR, "Boots", "Ankle Boots"),
    "Loafers": (*_FOOTWEAR, "Moccasins"),
    "Sandals": ("Footwear", "Floaters", "Slippers", "Clogs", "Slides", "Sliders"),
    "Sports Sandals": ("Footwear", "Sandals", "Floaters", "Slides", "Sliders"),
    "Flip Flops": ("Footwear", "Slippers", "Chappals", "Slides", "Sliders", "Thongs"),
    # bags and small leather goods
    "Handbags": (*_BAGS, "Tote", "Sling Bag", "Slingbag", "Shoulder Bag", "Satchel", "Hobo", "Purse", "Shopper"),
    "Totes": (*_BAGS, "Tote Bag", "Shopper"),
    "Crossbody Bags": (*_BAGS, "Crossbody", "Sling Bag", "Messenger"),
    "Backpacks": (*_BAGS, "Rucksack", "Daypack", "Backpack", "Sack"),
    "Rucksacks": (*_BAGS, "Backpack", "Daypack"),
    "Laptop Bag": (*_BAGS, "Laptop Sleeve", "Sleeve", "Laptop Backpack", "Briefcase"),
    "Duffel Bag": (*_BAGS, "Duffle", "Duffle Bag", "Holdall", "Gym Bag", "Travel Bag", "Weekender"),
    "Messenger Bag": (*_BAGS, "Satchel", "Messenger"),
    "Trolley Bag": (*_BAGS, "Trolley", "Suitcase", "Luggage"),
    "Mobile Pouch": (*_BAGS, "Pouch", "Case", "Phone Case", "Camera Bag"),
    "Waist Pouch": (*_BAGS, "Pouch", "Waist Bag", "Bum Bag", "Belt Bag", "Fanny Pack"),
    "Travel Accessory": (*_BAGS, "Pouch", "Organiser", "Organizer", "Cover", "Kit"),
    "Tablet Sleeve": ("Sleeve", "Cover", "Case", "Tablet Case"),
    "Clutches": (*_BAGS, "Clutch", "Purse", "Potli", "Evening Bag"),
    "Wallets": ("Purse", "Card Holder", "Cardholder", "Passport Holder", "Billfold", "Card Case"),
    # accessories and jewellery
    "Watches": ("Timepiece", "Chronograph", "Smartwatch"),
    "Sunglasses": ("Shades", "Goggles", "Eyewear", "Aviators"),
    "Caps": ("Hat", "Beanie", "Bandana", "Baseball Cap", "Headwear"),
    "Headband": ("Hairband", "Hair Band"),
    "Scarves": ("Stole", "Shawl", "Wrap", "Muffler"),
    "Stoles": ("Scarf", "Shawl", "Wrap"),
    "Mufflers": ("Scarf",),
    "Ties": ("Necktie", "Bow Tie"),
    "Ties and Cufflinks": ("Set",),
    "Cufflinks": ("Cuff Links", "Button Covers"),
    "Gloves": ("Mittens",),
    "Wristbands": ("Sweatband",),
    "Suspenders": ("Braces",),
    "Umbrellas": ("Brolly",),
    "Water Bottle": ("Bottle", "Sipper", "Flask"),
    "Key chain": ("Keychain", "Key Ring", "Keyring", "Key Case", "Key Holder", "Key Chains"),
    "Earrings": ("Studs", "Hoops", "Jhumkas", "Drops", "Ear Cuffs"),
    "Pendant": ("Locket", "Necklace"),
    "Necklace and Chains": ("Necklaces", "Chains", "Choker"),
    "Bangle": ("Kada", "Bracelet"),
    "Bracelet": ("Bangle", "Cuff"),
    "Ring": ("Band",),
    "Jewellery Set": ("Set", "Earrings", "Pendant", "Necklace", "Jewelry Set"),
    "Accessory Gift Set": ("Set", "Gift Set", "Combo", "Pack"),
    "Shoe Accessories": ("Laces", "Shoe Laces", "Insoles", "Shoe Polish", "Shoe Care"),
    # beauty and fragrance
    "Perfume": (
        *("Fragrance", "Eau de Parfum", "Eau de Toilette", "EDP", "EDT", "Parfum", "Cologne", "Scent"),
        *("Aftershave", "After Shave"),
    ),
    "Body Mist": ("Mist", "Body Spray", "Spray", "Fragrance"),
    "Deodorant": ("Deo", "Antiperspirant", "Body Spray", "Roll On", "Spray"),
    "Fragrance Gift Set": ("Set", "Gift Set", "Perfume", "Deo", "Deodorant", "Fragrance"),
    "Lipstick": ("Lip Colour", "Lip Color", "Lipcolour", "Lipcolor", "Lip Crayon", "Lip Stick"),
    "Lip Gloss": ("Gloss", "Lip Colour", "Lip Color", "Lipcolor", "Lip Pot", "Lip Lacquer"),
    "Lip Liner": ("Lip Pencil", "Lip Contour", "Lip Definer", "Liner"),
    "Lip Care": ("Lip Balm", "Balm", "Lip Conditioner", "Lip Butter"),
    "Lip Plumper": ("Plumper",),
    "Kajal": ("Kohl", "Kajal Pencil", "Eye Pencil"),
    "Eyeliner": ("Eye Liner", "Liner", "Eye Pencil", "Eye Definer"),
    "Eyeshadow": ("Eye Shadow", "Shadow", "Eye Palette"),
    "Mascara": ("Lash",),
    "Foundation": ("Mousse", "Makeup", "Make Up", "Skin Cover", "BB Cream", "CC Cream"),
    "Primer": ("Makeup Base",),
    "Concealer": ("Corrector",),
    "Compact": ("Powder", "Compact Powder", "Pressed Powder"),
    "Highlighter": ("Illuminator", "Brightener", "Shimmer", "Strobe"),
    "Blush": ("Blusher", "Bronzer", "Rouge", "Cheek Colour"),
    "Nail Polish": ("Top Coat", "Base Coat", "Nail Lacquer", "Nail Colour", "Nail Color", "Nail Enamel", "Lacquer"),
    "Nail Essentials": ("Nail Polish Remover", "Remover", "Nail File", "Nail Care"),
    "Face Moisturisers": (
        "Moisturiser",
        "Moisturizer",
        "Cream",
        "Creme",
        "Lotion",
        "Gel",
        "Emulsion",
        "Serum",
        "Day Cream",
        "Night Cream",
        "Face Cream",
    ),
    "Moisturiser": ("Moisturizer", "Cream", "Creme", "Lotion", "Gel", "Face Cream"),
    "Face Wash": ("Facewash", "Cleanser", "Cleansing Milk", "Cleansing Lotion", "Cleansing Gel", "Face Cleanser"),
    "Cleanser": ("Face Wash", "Cleansing Milk", "Cleansing Lotion", "Cleansing Gel"),
    "Face Scrub": ("Scrub", "Polisher", "Exfoliator"),
    "Exfoliator": ("Scrub", "Polisher"),
    "Mask": ("Face Pack", "Face Mask", "Masque", "Pack"),
    "Peel": ("Peel Off",),
    "Sunscreen": ("Sun Screen", "Sunblock", "Sun Block", "Sun Cream", "Sun Lotion", "Cream", "Lotion", "Gel"),
    "Body Lotion": ("Lotion", "Body Milk", "Body Cream", "Body Butter", "Moisturiser"),
    "Eye Cream": ("Eye Gel", "Cream", "Gel"),
    "Toner": ("Tonic", "Face Toner"),
    "Makeup Remover": ("Remover", "Cleansing Water", "Micellar Water"),
    "Hair Colour": ("Hair Color", "Hair Dye", "Colour", "Color", "Dye"),
    "Beauty Accessory": ("Sharpener", "Brush", "Sponge", "Puff", "Applicator", "Mirror"),
}

# Words that may name a product in its own title but are too common to say that another
# product is something else ("Pack of 3 Socks", "Long Sleeve Top", a "Cream" shirt, a "Jersey" dress,
# an "Oxford" shirt, "Cargo" trousers, a "Boot" print, "Aviator" trainers, "Wedge" sandals).
LOOSE_ARTICLE_WORDS = frozenset(
    {
        "set", "pack", "combo", "cover", "case", "sleeve", "spray", "mist", "cream", "creme", "gel", "lotion",
        "powder", "shadow", "liner", "gloss", "polish", "lacquer", "balm", "colour", "color", "dye", "kit", "puff",
        "brush", "sponge", "mirror", "band", "cuff", "drops", "studs", "hoops", "wrap", "tank", "vest", "suit",
        "polo", "jersey", "knit", "shades", "mask", "bottle", "braces", "pouch", "organiser", "organizer",
        "makeup", "make up", "shimmer", "lash", "chains", "courts", "monks", "pumps", "spikes", "trolley",
        "messenger", "remover", "scrub", "serum", "emulsion", "mousse", "peel off", "tonic", "outfit", "sharpener",
        "applicator", "flask", "cheater", "lace", "laces", "robe", "shaper", "bikini", "underwear", "innerwear",
        "luggage", "scent", "oxford", "oxfords", "derby", "derbys", "boots", "cargos", "aviators",
        "hobo", "hat", "wedges", "sack", "slides",
    }
)  # fmt: skip

# Article types that say how a thing is sold, not what it is ("Free Gifts"): a title need not
# name them (it names the thing itself), though naming another type is still a conflict.
OPEN_ARTICLE_TYPES = frozenset({"free gift", "gift", "accessory gift set", "fragrance gift set", "travel accessory"})


def article_key(value: str) -> str:
    """``value`` as a lookup key: normalised, last word singular ("T-Shirts" -> "tshirt")."""
    words = normalise(value).split()
    return " ".join([*words[:-1], _singular(words[-1])]) if words else ""


def _synonyms_by_key() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for article_type, synonyms in ARTICLE_SYNONYMS.items():
        table[article_key(article_type)] = table.get(article_key(article_type), ()) + synonyms
    return table


_SYNONYMS_BY_KEY = _synonyms_by_key()

# Last words of a compound type that name nothing on their own ("Lip Care" is not a "Care").
_WEAK_HEAD_WORDS = frozenset({"care", "essentials", "essential", "accessory", "gift", "set", "wear", "flop", "doll"})


def is_open_article_type(article_type: str) -> bool:
    return article_key(article_type) in OPEN_ARTICLE_TYPES


@functools.lru_cache(maxsize=4096)
def article_names(article_type: str) -> frozenset[str]:
    """Every normalised phrase that names a product of ``article_type``.

    Its own forms, the forms of each part of a compound name, their synonyms, and the last word
    of a longer name ("Jacket" for a "Rain Jacket", "Shoes" for "Running Shoes").
    """
    names: set[str] = set()
    for part in {article_type, *split_values(article_type)}:
        names |= surface_forms("article_type", part)
        for synonym in _SYNONYMS_BY_KEY.get(article_key(part), ()):
            names |= surface_forms("article_type", synonym)
        words = normalise(part).split()
        if len(words) > 1 and _singular(words[-1]) not in _WEAK_HEAD_WORDS:
            names |= surface_forms("article_type", words[-1])
    return frozenset(names)


def _synonym_phrases() -> dict[str, frozenset[str]]:
    """phrase -> the article types it names, for the synonyms that say what a product is (not loose words)."""
    table: dict[str, set[str]] = {}
    for article_type, synonyms in ARTICLE_SYNONYMS.items():
        for synonym in synonyms:
            forms = surface_forms("article_type", synonym)
            if forms.isdisjoint(LOOSE_ARTICLE_WORDS):
                for form in forms:
                    table.setdefault(form, set()).add(article_type)
    return {phrase: frozenset(types) for phrase, types in table.items()}


#: Synonym phrase -> the article types it may name ("trainers" -> Sports Shoes, Casual Shoes, Sneakers).
ARTICLE_SYNONYM_PHRASES: dict[str, frozenset[str]] = _synonym_phrases()


def article_vocabulary_words() -> set[str]:
    """Every word of every synonym: words a title may use whatever the catalogue holds."""
    return {word for synonyms in ARTICLE_SYNONYMS.values() for s in synonyms for word in normalise(s).split()}


def has_written_copy(facts: Mapping[str, Any]) -> bool:
    """Whether the shop wrote copy for this product: a description with words in it.

    Supplier-feed products arrive with a coded title and no description; they are what the
    model writes copy for, never what it learns from.
    """
    return any(c.isalnum() for c in plain_text(str(facts.get("description") or "")))

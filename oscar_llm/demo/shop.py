"""Demo data for the example shop: a fashion catalogue, customers with histories, a staff login.

Everything is generated from a fixed :class:`random.Random` seed, so two runs build the same
catalogue, the same customers and the same order numbers; only the timestamps move with the
day the command runs (histories always cover the last 60 days). Nothing is read from the
network or from evaluation data sets: the brands, titles and descriptions are written here,
and the product pictures are drawn here (``pictures.py``).

Like new stock in a real shop, about 40% of the products arrive as from a supplier feed:
attributes, price and stock, a coded title ("PP DRS VSC CHRCL L") and no description. The
rest carry written copy, which is what the shop's own model learns from; the feed products
are what it writes copy for.

Running it again adds only what is missing (products are keyed by UPC, categories by path,
users by email, orders by number) and never overwrites what staff may have edited since.

The catalogue is written through Oscar's models and the orders through Oscar's own
``OrderCreator``, so signals fire exactly as they would for a real shop.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from oscar.apps.catalogue.categories import create_from_breadcrumbs
from oscar.core.loading import get_class, get_model

from oscar_llm.demo.pictures import draw_product_image
from oscar_llm.interactions import EVENT_WEIGHTS
from oscar_llm.models import FEATURE_CACHE_KEY, Feature, FeatureSwitch, Interaction, ShopVoice

T = TypeVar("T")

#: Something that wraps an iterable and reports progress; ``tqdm`` fits.
Progress = Callable[..., Iterable[Any]]

DEFAULT_SEED = 20240601
HISTORY_DAYS = 60
CURRENCY = "GBP"

UPC_PREFIX = "AF-"
PARTNER_NAME = "Alder & Finch Warehouse"
STAFF_EMAIL = "staff@example.com"
STAFF_USERNAME = "staff"
STAFF_PASSWORD = "staff-password"
CUSTOMER_PASSWORD = "demo-password"
CUSTOMER_COUNT = 25
FIRST_ORDER_NUMBER = 100001
# The share of each product type that arrives from the supplier feed, with no written copy.
SUPPLIER_SHARE = 0.4
# Pictures live under one folder per drawing version, so a changed drawing never reuses old files.
IMAGE_FOLDER = "images/products/demo-v1"

ATTRIBUTE_CODES = ("brand", "colour", "material", "size", "gender", "season", "usage")
PENDING, SHIPPED, DELIVERED = ORDER_STATUSES = ("Pending", "Shipped", "Delivered")

#: The six groups of the catalogue: a key for code and tests, and the category each one lives under.
GROUPS: dict[str, str] = {
    "womens-clothing": "Women > Clothing",
    "mens-clothing": "Men > Clothing",
    "shoes": "Shoes",
    "bags": "Bags",
    "accessories": "Accessories",
    "cosmetics": "Cosmetics",
}

SEASONS = ("Spring", "Summer", "Fall", "Winter")
WARM = ("Spring", "Summer", "Summer")
COLD = ("Fall", "Winter", "Winter")

# Brand -> price tier. Tiers place a product inside its type's price range, which is what
# makes "cheap-leaning" and "premium-leaning" customers visible in the data.
BUDGET, MID, PREMIUM = "budget", "mid", "premium"
FASHION_BRANDS: dict[str, str] = {
    "Tarn": BUDGET,
    "Pebble & Pine": BUDGET,
    "Saltmarsh": BUDGET,
    "Northwind": MID,
    "Oakridge": MID,
    "Alder & Finch": MID,
    "Kestrel": MID,
    "Calder": PREMIUM,
    "Moss & Vale": PREMIUM,
    "Harlow Row": PREMIUM,
}
BEAUTY_BRANDS: dict[str, str] = {
    "Lumen": BUDGET,
    "Fernlight": BUDGET,
    "Petal & Stone": MID,
    "Moss & Vale": PREMIUM,
    "Calder": PREMIUM,
}
TIER_BANDS: dict[str, tuple[float, float]] = {BUDGET: (0.0, 0.45), MID: (0.25, 0.75), PREMIUM: (0.55, 1.0)}

CLOTHING_COLOURS = (
    "Black",
    "White",
    "Navy Blue",
    "Grey",
    "Red",
    "Olive",
    "Beige",
    "Brown",
    "Pink",
    "Green",
    "Blue",
    "Maroon",
    "Mustard",
    "Cream",
    "Charcoal",
    "Khaki",
    "Purple",
    "Teal",
)
DENIM_COLOURS = ("Blue", "Navy Blue", "Black", "Grey")
LEATHER_COLOURS = ("Black", "Brown", "Tan", "Navy Blue", "Maroon", "Beige")
SHOE_COLOURS = ("Black", "White", "Brown", "Tan", "Navy Blue", "Grey", "Red", "Beige", "Olive")
BAG_COLOURS = ("Black", "Brown", "Tan", "Navy Blue", "Beige", "Olive", "Grey", "Maroon", "Cream")
LIP_COLOURS = ("Red", "Pink", "Maroon", "Nude", "Coral", "Brown", "Plum")
NAIL_COLOURS = ("Red", "Pink", "Maroon", "Nude", "Black", "Blue", "Green", "Purple", "Coral")
CLOTHING_SIZES = ("XS", "S", "M", "L", "XL")
WOMEN_SHOE_SIZES = ("UK 4", "UK 5", "UK 6", "UK 7", "UK 8")
MEN_SHOE_SIZES = ("UK 7", "UK 8", "UK 9", "UK 10", "UK 11")
ONE_SIZE = ("One Size",)

WOMEN, MEN, UNISEX = ("Women",), ("Men",), ("Unisex",)


@dataclass(frozen=True)
class ProductType:
    """One kind of product (say, women's dresses) and the values its attributes draw from."""

    group: str
    path: str
    product_class: str
    noun: str
    count: int
    genders: tuple[str, ...]
    materials: tuple[str, ...]
    colours: tuple[str, ...]
    usages: tuple[str, ...]
    sizes: tuple[str, ...]
    price: tuple[int, int]
    seasons: tuple[str, ...] = SEASONS
    plural: bool = False
    brands: tuple[str, ...] = tuple(FASHION_BRANDS)
    title: str = "{brand} {gender} {colour} {material} {noun}"
    # Whether the colour belongs in descriptions (a moisturiser's "White" is not worth a sentence).
    colour_in_text: bool = True


GROUP_CLASSES = {
    "womens-clothing": "Clothing",
    "mens-clothing": "Clothing",
    "shoes": "Shoes",
    "bags": "Bags",
    "accessories": "Accessories",
    "cosmetics": "Cosmetics",
}
PLURAL_NOUNS = {"Jeans", "Trousers", "Sneakers", "Boots", "Heels", "Sandals", "Flats", "Loafers", "Formal Shoes"}


def _kind(
    group: str,
    category: str,
    noun: str,
    count: int,
    genders: tuple[str, ...],
    materials: tuple[str, ...],
    colours: tuple[str, ...],
    usages: tuple[str, ...],
    price: tuple[int, int],
    seasons: tuple[str, ...] = SEASONS,
    **extra: Any,
) -> ProductType:
    """One row of the catalogue table below; the category path and product class follow from the group."""
    product_class = GROUP_CLASSES[group]
    if group == "shoes":
        path = f"Shoes > {genders[0]} > {category}"
        extra.setdefault("sizes", WOMEN_SHOE_SIZES if genders == WOMEN else MEN_SHOE_SIZES)
    else:
        path = f"{GROUPS[group]} > {category}"
        extra.setdefault("sizes", CLOTHING_SIZES if product_class == "Clothing" else ONE_SIZE)
    if product_class == "Cosmetics":
        extra.setdefault("brands", tuple(BEAUTY_BRANDS))
    extra.setdefault("plural", noun in PLURAL_NOUNS)
    return ProductType(
        group=group,
        path=path,
        product_class=product_class,
        noun=noun,
        count=count,
        genders=genders,
        materials=materials,
        colours=colours,
        usages=usages,
        price=price,
        seasons=seasons,
        **extra,
    )


ANY_GENDER = ("Women", "Men", "Unisex")
CASUAL = ("Casual",)
CFP = ("Casual", "Formal", "Party")
CF = ("Casual", "Formal")
CS = ("Casual", "Sports")
FABRICS = ("Cotton", "Linen", "Polyester", "Viscose")
FINE_FABRICS = (*FABRICS, "Silk")
SKIRT_FABRICS = ("Cotton", "Denim", "Linen", "Wool")
JACKET_FABRICS = ("Denim", "Leather", "Wool", "Polyester")
KNITS = ("Wool", "Cotton", "Cashmere")
KURTA_FABRICS = ("Cotton", "Silk", "Linen")
SHIRT_FABRICS = ("Cotton", "Linen", "Flannel", "Polyester")
TROUSER_FABRICS = ("Cotton", "Wool", "Linen", "Polyester")
SNEAKER_MATERIALS = ("Canvas", "Leather", "Mesh")
LEATHERS = ("Leather", "Suede")
W, M = "womens-clothing", "mens-clothing"
S, B, A, C = "shoes", "bags", "accessories", "cosmetics"

# fmt: off
PRODUCT_TYPES: tuple[ProductType, ...] = (
    _kind(W, "Dresses", "Dress", 14, WOMEN, FINE_FABRICS, CLOTHING_COLOURS, CFP, (25, 120)),
    _kind(W, "Tops", "Top", 13, WOMEN, FINE_FABRICS, CLOTHING_COLOURS, CFP, (12, 45)),
    _kind(W, "Jeans", "Jeans", 9, WOMEN, ("Denim",), DENIM_COLOURS, CASUAL, (30, 90)),
    _kind(W, "Skirts", "Skirt", 9, WOMEN, SKIRT_FABRICS, CLOTHING_COLOURS, CFP, (20, 70)),
    _kind(W, "Jackets", "Jacket", 9, WOMEN, JACKET_FABRICS, LEATHER_COLOURS, CF, (45, 180), COLD),
    _kind(W, "Knitwear", "Jumper", 8, WOMEN, KNITS, CLOTHING_COLOURS, CASUAL, (25, 110), COLD),
    _kind(W, "Kurtas", "Kurta", 5, WOMEN, KURTA_FABRICS, CLOTHING_COLOURS, ("Ethnic",), (20, 70)),
    _kind(M, "Shirts", "Shirt", 13, MEN, SHIRT_FABRICS, CLOTHING_COLOURS, CFP, (20, 80)),
    _kind(M, "T-Shirts", "T-Shirt", 13, MEN, ("Cotton", "Polyester"), CLOTHING_COLOURS, CS, (10, 35), WARM),
    _kind(M, "Jeans", "Jeans", 9, MEN, ("Denim",), DENIM_COLOURS, CASUAL, (30, 90)),
    _kind(M, "Jackets", "Jacket", 9, MEN, JACKET_FABRICS, LEATHER_COLOURS, (*CF, "Sports"), (50, 200), COLD),
    _kind(M, "Trousers", "Trousers", 9, MEN, TROUSER_FABRICS, CLOTHING_COLOURS, CF, (25, 90)),
    _kind(M, "Knitwear", "Jumper", 8, MEN, KNITS, CLOTHING_COLOURS, CASUAL, (25, 110), COLD),
    _kind(M, "Kurtas", "Kurta", 5, MEN, KURTA_FABRICS, CLOTHING_COLOURS, ("Ethnic",), (20, 70)),
    _kind(S, "Sneakers", "Sneakers", 8, WOMEN, SNEAKER_MATERIALS, SHOE_COLOURS, CS, (30, 120)),
    _kind(S, "Boots", "Boots", 8, WOMEN, LEATHERS, LEATHER_COLOURS, CF, (60, 180), COLD),
    _kind(S, "Heels", "Heels", 7, WOMEN, (*LEATHERS, "Satin"), LEATHER_COLOURS, ("Formal", "Party"), (40, 150)),
    _kind(S, "Sandals", "Sandals", 6, WOMEN, LEATHERS, LEATHER_COLOURS, ("Casual", "Party"), (20, 80), WARM),
    _kind(S, "Flats", "Flats", 5, WOMEN, LEATHERS, LEATHER_COLOURS, CASUAL, (25, 90)),
    _kind(S, "Sneakers", "Sneakers", 8, MEN, SNEAKER_MATERIALS, SHOE_COLOURS, CS, (30, 130)),
    _kind(S, "Boots", "Boots", 8, MEN, LEATHERS, LEATHER_COLOURS, CF, (60, 200), COLD),
    _kind(S, "Loafers", "Loafers", 6, MEN, LEATHERS, LEATHER_COLOURS, CF, (45, 150)),
    _kind(S, "Sandals", "Sandals", 5, MEN, LEATHERS, LEATHER_COLOURS, CASUAL, (20, 80), WARM),
    _kind(S, "Formal Shoes", "Formal Shoes", 6, MEN, ("Leather",), LEATHER_COLOURS, ("Formal",), (50, 190)),
    _kind(B, "Handbags", "Handbag", 10, WOMEN, ("Leather", "Faux Leather", "Canvas"), BAG_COLOURS, CFP, (30, 250)),
    _kind(B, "Backpacks", "Backpack", 9, ANY_GENDER, ("Canvas", "Nylon", "Polyester", "Leather"), BAG_COLOURS, CS,
          (25, 120)),
    _kind(B, "Totes", "Tote Bag", 8, ("Women", "Unisex"), ("Canvas", "Cotton", "Leather"), BAG_COLOURS, CASUAL,
          (15, 90)),
    _kind(B, "Crossbody Bags", "Crossbody Bag", 6, ("Women", "Unisex"), ("Leather", "Nylon", "Suede"), BAG_COLOURS,
          ("Casual", "Party"), (25, 140)),
    _kind(B, "Laptop Bags", "Laptop Bag", 5, ("Unisex", "Men"), ("Nylon", "Leather", "Canvas"), BAG_COLOURS, CF,
          (35, 150)),
    _kind(A, "Watches", "Watch", 10, ANY_GENDER, ("Stainless Steel", "Leather"),
          ("Silver", "Gold", "Black", "Brown", "Navy Blue"), ("Casual", "Formal", "Sports"), (60, 300)),
    _kind(A, "Belts", "Belt", 8, ("Men", "Women"), ("Leather", "Canvas", "Suede"), LEATHER_COLOURS, CF, (15, 60)),
    _kind(A, "Sunglasses", "Sunglasses", 8, ANY_GENDER, ("Acetate", "Metal", "Polycarbonate"),
          ("Black", "Brown", "Tortoiseshell", "Gold", "Silver"), CS, (20, 150), WARM, plural=True),
    _kind(A, "Scarves", "Scarf", 8, ANY_GENDER, ("Wool", "Silk", "Cotton", "Cashmere"), CLOTHING_COLOURS, CF,
          (12, 60), COLD),
    _kind(A, "Wallets", "Wallet", 8, ("Men", "Women"), ("Leather", "Canvas"), LEATHER_COLOURS, CF, (15, 80)),
    _kind(A, "Caps", "Cap", 5, ANY_GENDER, ("Cotton", "Polyester"), CLOTHING_COLOURS, CS, (10, 30), WARM),
    _kind(C, "Lipstick", "Lipstick", 10, WOMEN, ("Matte", "Satin", "Gloss"), LIP_COLOURS, CFP, (6, 25), sizes=("4 g",)),
    _kind(C, "Nail Polish", "Nail Polish", 8, WOMEN, ("Gel", "Matte", "Gloss"), NAIL_COLOURS, ("Casual", "Party"),
          (4, 15), sizes=("10 ml", "15 ml")),
    _kind(C, "Perfume", "Perfume", 8, ANY_GENDER, ("Eau de Parfum", "Eau de Toilette"),
          ("Clear", "Pink", "Blue", "Amber", "Black"), CFP, (25, 110), sizes=("30 ml", "50 ml", "100 ml"),
          title="{brand} {gender} {material} {size}"),
    _kind(C, "Moisturiser", "Moisturiser", 6, ANY_GENDER, ("Cream", "Gel", "Lotion"), ("White",), CASUAL, (8, 45),
          sizes=("50 ml", "100 ml"), title="{brand} {gender} {material} {noun} {size}", colour_in_text=False),
    _kind(C, "Foundation", "Foundation", 6, WOMEN, ("Liquid", "Powder", "Cream"),
          ("Ivory", "Beige", "Sand", "Honey", "Caramel"), CFP, (10, 40), sizes=("30 ml",)),
)
# fmt: on


@dataclass(frozen=True)
class ProductSpec:
    """Everything about one demo product, decided before anything touches the database."""

    index: int
    type: ProductType
    attributes: dict[str, str]
    title: str
    description: str
    meta_description: str
    price: Decimal
    num_in_stock: int
    # 0.0 = cheapest of its type, 1.0 = dearest; what price-leaning customers browse by.
    price_rank: float = 0.0
    # Arrived from the supplier feed: a coded title and no description or meta description.
    from_supplier: bool = False

    @property
    def upc(self) -> str:
        return f"{UPC_PREFIX}{self.index:06d}"

    @property
    def partner_sku(self) -> str:
        return f"AFW-{self.index:06d}"

    @property
    def gender(self) -> str:
        return self.attributes["gender"]

    @property
    def image_name(self) -> str:
        """Where its picture is stored: named by what is drawn, so a file is never reused for another."""
        what = slugify(f"{self.type.noun} {self.attributes['colour']}")
        return f"{IMAGE_FOLDER}/{self.upc.lower()}-{what}.png"


@dataclass
class DemoSummary:
    """What the shop holds after a run (``created`` counts what this run added)."""

    products: int = 0
    images: int = 0
    categories: int = 0
    customers: int = 0
    orders: int = 0
    baskets: int = 0
    interactions: int = 0
    staff_email: str = STAFF_EMAIL
    seconds: float = 0.0
    created: dict[str, int] = field(default_factory=dict)
    # An account with the demo staff email or username existed and is not a superuser: left as it was.
    staff_left_alone: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        new = self.created
        return (
            f"Demo shop ready in {self.seconds:.1f}s: {self.products} products ({new.get('products', 0)} new, "
            f"{self.images} with pictures), "
            f"{self.categories} categories, {self.customers} customers ({new.get('customers', 0)} new), "
            f"{self.orders} orders, {self.baskets} open baskets, {self.interactions} interactions; "
            f"staff login {self.staff_email}"
        )


# --- Copy -------------------------------------------------------------------------------------


def _article(phrase: str) -> str:
    word = phrase.lower()
    # "a unisex ...": the "u" is said "you".
    return "an" if word[:1] in "aeiou" and not word.startswith("uni") else "a"


def _usage_phrase(ptype: ProductType, usage: str) -> str:
    if ptype.product_class == "Cosmetics":
        return f"{usage.lower()} looks"
    return "sports" if usage == "Sports" else f"{usage.lower()} wear"


def _noun_phrase(ptype: ProductType, attrs: dict[str, str]) -> str:
    """The product in running text: "navy blue cotton dress", "unisex black canvas backpack"."""
    words = []
    if attrs["gender"] == "Unisex":
        words.append("unisex")
    if ptype.colour_in_text:
        words.append(attrs["colour"].lower())
    words.append(attrs["material"].lower())
    if "{noun}" in ptype.title:
        words.append(ptype.noun.lower())
    return " ".join(words)


def build_title(ptype: ProductType, attrs: dict[str, str]) -> str:
    """A retailer-style title made only of the product's own attribute values."""
    return " ".join(ptype.title.format(noun=ptype.noun, **attrs).split())


# Codes a lookup table fixes where the rule below would give two values one code.
CODE_OVERRIDES = {"Polycarbonate": "PC", "One Size": "OS"}


def supplier_code(value: str, length: int = 3) -> str:
    """A supplier's short code for a value: initials of a phrase ("Eau de Parfum" -> "EDP"), else
    the word's first letter and consonants ("Viscose" -> "VSC", "Charcoal" -> "CHRCL" at 5)."""
    if value in CODE_OVERRIDES:
        return CODE_OVERRIDES[value]
    words = [w for w in re.split(r"[\s&-]+", value.upper()) if w]
    if len(words) > 1:
        return "".join(w[0] for w in words)
    word = words[0] if words else "X"
    letters = word[0] + "".join(c for c in word[1:] if c not in "AEIOU")
    # "DRESS" -> "DRSS" -> "DRS": a doubled letter says nothing more.
    squeezed = "".join(c for i, c in enumerate(letters) if i == 0 or c != letters[i - 1])
    return squeezed[:length]


def supplier_size(size: str) -> str:
    """The size as a feed writes it: "UK 7" -> "UK7", "50 ml" -> "50ML", "One Size" -> "OS"."""
    return CODE_OVERRIDES.get(size, size.replace(" ", "").upper())


def supplier_title(ptype: ProductType, attrs: dict[str, str]) -> str:
    """The title a supplier feed gives a product: brand, article, material, colour codes and size."""
    return " ".join(
        (
            supplier_code(attrs["brand"]),
            supplier_code(ptype.noun),
            supplier_code(attrs["material"]),
            supplier_code(attrs["colour"], 5),
            supplier_size(attrs["size"]),
        )
    )


def build_description(ptype: ProductType, attrs: dict[str, str], rng: random.Random) -> str:
    """Two to four plain sentences stating only this product's facts (the size is the only number).

    The product-copy checks compare generated text with these facts, so the human-written
    baseline must not state anything the attributes do not hold either.
    """
    desc = _noun_phrase(ptype, attrs)
    brand = attrs["brand"]
    plural = ptype.plural
    it, its_verb, obj = ("They", "are", "them") if plural else ("It", "is", "it")
    this = "These" if plural else "This"
    a_desc = f"a pair of {desc}" if plural else f"{_article(desc)} {desc}"
    who = {"Women": "women", "Men": "men"}.get(attrs["gender"], "everyone")
    usage = _usage_phrase(ptype, attrs["usage"])
    season = attrs["season"].lower()
    size = attrs["size"]

    intro = rng.choice(
        [
            f"{a_desc[0].upper()}{a_desc[1:]} from {brand}, made for {who}.",
            f"{this} {desc} by {brand} {its_verb} designed for {who}.",
            f"{brand} made {this.lower()} {desc} with {who} in mind.",
        ]
    )
    usage_sentence = rng.choice(
        [
            f"{it} {its_verb} an easy choice for {usage}.",
            f"Made for {usage}.",
            f"{it} {'suit' if plural else 'suits'} {usage} well.",
        ]
    )
    season_sentence = rng.choice(
        [
            f"A good pick for {season}.",
            f"{'Use' if ptype.product_class == 'Cosmetics' else 'Wear'} {obj} through {season}.",
            f"{it} {'work' if plural else 'works'} well in {season}.",
        ]
    )
    if size == "One Size":
        size_sentence = f"{it} {'come' if plural else 'comes'} in one size."
    elif ptype.product_class == "Cosmetics":
        size_sentence = f"Each pack holds {size}."
    else:
        size_sentence = rng.choice([f"Available in size {size}.", f"{this} {its_verb} size {size}."])

    extras = [usage_sentence, season_sentence, size_sentence]
    keep = sorted(rng.sample(range(3), rng.randint(1, 3)))
    return " ".join([intro, *(extras[i] for i in keep)])


def build_meta_description(ptype: ProductType, attrs: dict[str, str], title: str) -> str:
    """One sentence for search results, from the same facts as the title."""
    size = attrs["size"]
    size_part = "" if "{size}" in ptype.title else (", one size" if size == "One Size" else f", size {size}")
    return f"{title}{size_part}, for {_usage_phrase(ptype, attrs['usage'])} in {attrs['season'].lower()}."


def _price(ptype: ProductType, tier: str, rng: random.Random) -> Decimal:
    low, high = ptype.price
    band_low, band_high = TIER_BANDS[tier]
    raw = low + (high - low) * rng.uniform(band_low, band_high)
    if raw >= 100:
        return Decimal(int(round(raw / 5.0)) * 5).quantize(Decimal("0.01"))
    return Decimal(max(int(round(raw)), 2)) - Decimal("0.01")


def build_catalogue(seed: int = DEFAULT_SEED) -> list[ProductSpec]:
    """The demo catalogue as plain data: same seed, same products, whatever the database holds."""
    rng = random.Random(seed)
    specs: list[ProductSpec] = []
    titles: set[str] = set()
    # Either title may end up on the product, so both must be unique.
    codes: set[str] = set()
    for ptype in PRODUCT_TYPES:
        brand_tiers = BEAUTY_BRANDS if ptype.product_class == "Cosmetics" else FASHION_BRANDS
        for _ in range(ptype.count):
            # Draw until the title is new; the spaces are large enough that this ends quickly.
            for _attempt in range(50):
                attrs = {
                    "brand": rng.choice(ptype.brands),
                    "colour": rng.choice(ptype.colours),
                    "material": rng.choice(ptype.materials),
                    "size": rng.choice(ptype.sizes),
                    "gender": rng.choice(ptype.genders),
                    "season": rng.choice(ptype.seasons),
                    "usage": rng.choice(ptype.usages),
                }
                title = build_title(ptype, attrs)
                code = supplier_title(ptype, attrs)
                if title not in titles and code not in codes:
                    break
            else:  # pragma: no cover - only if someone shrinks the value lists too far
                raise ValueError(f"Cannot find a unique title for {ptype.path}")
            titles.add(title)
            codes.add(code)
            specs.append(
                ProductSpec(
                    index=len(specs) + 1,
                    type=ptype,
                    attributes=attrs,
                    title=title,
                    description=build_description(ptype, attrs, rng),
                    meta_description=build_meta_description(ptype, attrs, title),
                    price=_price(ptype, brand_tiers[attrs["brand"]], rng),
                    num_in_stock=rng.randint(8, 60),
                )
            )
    # About 5% sold out, so availability shows up on the storefront and in recommendations.
    sold_out = set(rng.sample(range(len(specs)), round(len(specs) * 0.05)))
    specs = [_replace(spec, num_in_stock=0) if i in sold_out else spec for i, spec in enumerate(specs)]
    return _with_price_ranks(_with_supplier_feed(specs, seed))


def _with_supplier_feed(specs: list[ProductSpec], seed: int) -> list[ProductSpec]:
    """Turn ``SUPPLIER_SHARE`` of every product type into supplier-feed products.

    Per type, so that every type has written copy to learn from and feed products to write for.
    A generator of its own keeps the rest of the catalogue what the main seed makes it.
    """
    rng = random.Random(f"{seed}:supplier-feed")
    by_type: dict[str, list[int]] = {}
    for position, spec in enumerate(specs):
        by_type.setdefault(spec.type.path, []).append(position)
    chosen: set[int] = set()
    for positions in by_type.values():
        chosen.update(rng.sample(positions, round(len(positions) * SUPPLIER_SHARE)))
    return [
        _replace(
            spec,
            title=supplier_title(spec.type, spec.attributes),
            description="",
            meta_description="",
            from_supplier=True,
        )
        if position in chosen
        else spec
        for position, spec in enumerate(specs)
    ]


def _replace(spec: ProductSpec, **changes: Any) -> ProductSpec:
    return ProductSpec(**{**{f: getattr(spec, f) for f in spec.__dataclass_fields__}, **changes})


def _with_price_ranks(specs: list[ProductSpec]) -> list[ProductSpec]:
    by_type: dict[str, list[ProductSpec]] = {}
    for spec in specs:
        by_type.setdefault(spec.type.path, []).append(spec)
    ranks: dict[int, float] = {}
    for group in by_type.values():
        ordered = sorted(group, key=lambda s: (s.price, s.index))
        for position, spec in enumerate(ordered):
            ranks[spec.index] = position / max(len(ordered) - 1, 1)
    return [_replace(spec, price_rank=ranks[spec.index]) for spec in specs]


# --- Customers ----------------------------------------------------------------------------------

FIRST_NAMES = {
    "Women": (
        "Amelia",
        "Isla",
        "Freya",
        "Maya",
        "Priya",
        "Zara",
        "Elsie",
        "Nora",
        "Ruby",
        "Hannah",
        "Leah",
        "Iris",
        "Mabel",
    ),
    "Men": ("Oliver", "Arjun", "Theo", "Samuel", "Kwame", "Rory", "Felix", "Hugo", "Tomasz", "Ewan", "Jonah", "Callum"),
}
LAST_NAMES = (
    "Ashworth",
    "Bramley",
    "Chandra",
    "Dalton",
    "Ellery",
    "Fairbairn",
    "Greaves",
    "Hollis",
    "Iqbal",
    "Jessop",
    "Kaur",
    "Lowther",
    "Mensah",
    "Nakamura",
    "Okafor",
    "Pemberton",
    "Quayle",
    "Rowntree",
    "Sutcliffe",
    "Thorne",
    "Underwood",
    "Varga",
    "Whitlock",
    "Yardley",
    "Zielinski",
)
STREETS = ("Mill Lane", "Station Road", "Church Street", "Orchard Close", "Victoria Road", "Queens Walk", "Park Avenue")
TOWNS = (
    ("Leeds", "LS6 2QT"),
    ("Bristol", "BS7 8NX"),
    ("York", "YO10 3HP"),
    ("Norwich", "NR2 4LF"),
    ("Exeter", "EX4 6BD"),
    ("Brighton", "BN2 1RE"),
    ("Sheffield", "S11 8YA"),
    ("Cardiff", "CF24 4QJ"),
)


@dataclass(frozen=True)
class CustomerProfile:
    """Who a demo customer is and what they tend to browse, so segments mean something."""

    number: int
    first_name: str
    last_name: str
    gender: str
    price_level: str  # "cheap" or "premium"
    order_count: int
    has_open_basket: bool
    first_order_number: int

    @property
    def email(self) -> str:
        return f"customer{self.number:02d}@example.com"

    @property
    def username(self) -> str:
        return f"customer{self.number:02d}"

    @property
    def order_numbers(self) -> list[str]:
        return [str(self.first_order_number + i) for i in range(self.order_count)]


def build_customers(seed: int = DEFAULT_SEED, count: int = CUSTOMER_COUNT) -> list[CustomerProfile]:
    """The demo customers as plain data; order numbers follow from the seed alone."""
    profiles = []
    next_number = FIRST_ORDER_NUMBER
    for number in range(1, count + 1):
        rng = random.Random(f"{seed}:customer:{number}")
        gender = "Women" if number % 2 else "Men"
        # Every fifth customer has not ordered yet; that leaves "most" with 1-3 orders.
        order_count = 0 if number % 5 == 0 else rng.randint(1, 3)
        profiles.append(
            CustomerProfile(
                number=number,
                first_name=FIRST_NAMES[gender][(number - 1) // 2 % len(FIRST_NAMES[gender])],
                last_name=LAST_NAMES[(number * 7) % len(LAST_NAMES)],
                gender=gender,
                # Alternate in pairs so both genders get both price levels.
                price_level="cheap" if (number // 2) % 2 == 0 else "premium",
                order_count=order_count,
                has_open_basket=number % 4 in (1, 2),
                first_order_number=next_number,
            )
        )
        next_number += order_count
    return profiles


# --- The builder --------------------------------------------------------------------------------


def _no_progress(iterable: Iterable[T], **_kwargs: Any) -> Iterable[T]:
    return iterable


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DemoShopBuilder:
    """Builds (or completes) the demo shop; each ``ensure_*`` step is safe to run again."""

    product_chunk_size = 40

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        *,
        progress: Progress | None = None,
        now: datetime | None = None,
        staff_password: str | None = STAFF_PASSWORD,
        customer_password: str | None = CUSTOMER_PASSWORD,
    ):
        self.seed = seed
        # The published demo passwords, or others chosen by the command (None: no password login).
        self.staff_password = staff_password
        self.customer_password = customer_password
        self.staff_left_alone = False
        self.progress: Progress = progress or _no_progress
        self.now = now or timezone.now()
        self.catalogue = build_catalogue(seed)
        self.profiles = build_customers(seed)
        self.created: dict[str, int] = {
            "products": 0,
            "images": 0,
            "customers": 0,
            "orders": 0,
            "baskets": 0,
            "interactions": 0,
            "staff": 0,
        }
        self._products: dict[str, Any] = {}
        self.country: Any = None

    # Models are looked up when used so a shop that forks an Oscar app gets its own classes.
    @staticmethod
    def _model(app: str, name: str) -> Any:
        return get_model(app, name)

    def run(self) -> DemoSummary:
        started = timezone.now()
        self.ensure_catalogue()
        self.ensure_staff_user()
        self.ensure_customers()
        self.switch_features_on()
        self.ensure_support()
        self.ensure_questions()
        self.ensure_marketing()
        self.ensure_experiment()
        summary = self.summary()
        summary.seconds = (timezone.now() - started).total_seconds()
        return summary

    # Catalogue

    def ensure_catalogue(self) -> None:
        ProductClass = self._model("catalogue", "ProductClass")
        ProductAttribute = self._model("catalogue", "ProductAttribute")
        Partner = self._model("partner", "Partner")
        Product = self._model("catalogue", "Product")
        with transaction.atomic():
            classes, attributes = {}, {}
            for name in sorted({t.product_class for t in PRODUCT_TYPES}):
                pclass, _ = ProductClass.objects.get_or_create(
                    name=name, defaults={"requires_shipping": True, "track_stock": True}
                )
                classes[name] = pclass
                for code in ATTRIBUTE_CODES:
                    attributes[name, code], _ = ProductAttribute.objects.get_or_create(
                        product_class=pclass,
                        code=code,
                        defaults={"name": code.capitalize(), "type": ProductAttribute.TEXT},
                    )
            categories = {path: create_from_breadcrumbs(path) for path in sorted({t.path for t in PRODUCT_TYPES})}
            partner, _ = Partner.objects.get_or_create(name=PARTNER_NAME)

        upcs = [spec.upc for spec in self.catalogue]
        existing = set(Product.objects.filter(upc__in=upcs).values_list("upc", flat=True))
        missing = [spec for spec in self.catalogue if spec.upc not in existing]
        chunks = list(_chunks(missing, self.product_chunk_size))
        for chunk in self.progress(chunks, desc="Products", total=len(chunks), unit="batch"):
            with transaction.atomic():
                self._create_products(chunk, classes, attributes, categories, partner)
        self.created["products"] += len(missing)
        self._products = {p.upc: p for p in Product.objects.filter(upc__in=upcs)}
        self.ensure_images()

    def ensure_images(self) -> None:
        """A drawn picture for every demo product that has none (an image staff added is kept).

        The files are named by product and drawing, so a run on a fresh database reuses the
        files an earlier run left in MEDIA_ROOT instead of drawing them again.
        """
        ProductImage = self._model("catalogue", "ProductImage")
        storage = ProductImage._meta.get_field("original").storage
        pictured = set(
            ProductImage.objects.filter(product__upc__in=list(self._products)).values_list("product__upc", flat=True)
        )
        todo = [spec for spec in self.catalogue if spec.upc in self._products and spec.upc not in pictured]
        chunks = list(_chunks(todo, self.product_chunk_size))
        for chunk in self.progress(chunks, desc="Pictures", total=len(chunks), unit="batch"):
            rows = []
            for spec in chunk:
                name = spec.image_name
                if not storage.exists(name):
                    # The storage may pick another name (a file appeared meanwhile); keep what it chose.
                    picture = draw_product_image(spec.type.noun, spec.attributes["colour"])
                    name = storage.save(name, ContentFile(picture))
                rows.append(ProductImage(product=self._products[spec.upc], original=name, display_order=0))
            ProductImage.objects.bulk_create(rows)
            self.created["images"] += len(rows)

    def _create_products(
        self,
        specs: Sequence[ProductSpec],
        classes: dict[str, Any],
        attributes: dict[tuple[str, str], Any],
        categories: dict[str, Any],
        partner: Any,
    ) -> None:
        """Save each product (so product signals fire), then its rows in bulk: the run stays fast."""
        Product = self._model("catalogue", "Product")
        ProductAttributeValue = self._model("catalogue", "ProductAttributeValue")
        ProductCategory = self._model("catalogue", "ProductCategory")
        StockRecord = self._model("partner", "StockRecord")
        values, links, records = [], [], []
        for spec in specs:
            product = Product(
                upc=spec.upc,
                title=spec.title,
                description=spec.description,
                meta_description=spec.meta_description,
                product_class=classes[spec.type.product_class],
                structure=Product.STANDALONE,
                is_public=True,
            )
            product.save()
            values += [
                ProductAttributeValue(
                    product=product, attribute=attributes[spec.type.product_class, code], value_text=value
                )
                for code, value in spec.attributes.items()
            ]
            links.append(ProductCategory(product=product, category=categories[spec.type.path]))
            records.append(
                StockRecord(
                    product=product,
                    partner=partner,
                    partner_sku=spec.partner_sku,
                    price_currency=CURRENCY,
                    price=spec.price,
                    num_in_stock=spec.num_in_stock,
                )
            )
        ProductAttributeValue.objects.bulk_create(values)
        ProductCategory.objects.bulk_create(links)
        StockRecord.objects.bulk_create(records)

    # Users

    def ensure_staff_user(self) -> Any:
        """The dashboard login, created if missing. An account that already has the demo's email or
        username is left exactly as it is: never promoted, never given the published password."""
        User = get_user_model()
        user = User.objects.filter(email__iexact=STAFF_EMAIL).first()
        if user is None:
            user = User.objects.filter(username=STAFF_USERNAME).first()
        if user is not None:
            self.staff_left_alone = not user.is_superuser
            return user
        user = User(username=STAFF_USERNAME, email=STAFF_EMAIL, first_name="Sam", last_name="Staff")
        user.set_password(self.staff_password)  # None: an unusable password
        user.is_staff = True
        user.is_superuser = True
        user.save()
        self.created["staff"] = 1
        return user

    def ensure_customers(self) -> None:
        """Create the customers that do not exist yet, each with its whole history in one transaction.

        A customer who already exists is left alone, history and all: that is what makes a second
        run add nothing, and a run interrupted halfway resume where it stopped.
        """
        User = get_user_model()
        emails = {e.lower() for e in User.objects.values_list("email", flat=True)}
        todo = [p for p in self.profiles if p.email not in emails]
        if not todo:
            return
        self._prepare_checkout()
        # One hash for every demo customer: they share a published password, and hashing it
        # 25 times would dominate the run.
        password_hash = make_password(self.customer_password)  # None: an unusable password
        for profile in self.progress(todo, desc="Customers", total=len(todo), unit="customer"):
            with transaction.atomic():
                user = User.objects.create(
                    username=profile.username,
                    email=profile.email,
                    first_name=profile.first_name,
                    last_name=profile.last_name,
                    password=password_hash,
                )
                self._build_history(profile, user)
            self.created["customers"] += 1

    def _prepare_checkout(self) -> None:
        Country = self._model("address", "Country")
        self.country, _ = Country.objects.get_or_create(
            iso_3166_1_a2="GB",
            defaults={
                "iso_3166_1_a3": "GBR",
                "iso_3166_1_numeric": "826",
                "name": "United Kingdom of Great Britain and Northern Ireland",
                "printable_name": "United Kingdom",
                "is_shipping_country": True,
            },
        )
        if not self.country.is_shipping_country:
            self.country.is_shipping_country = True
            self.country.save(update_fields=["is_shipping_country"])

    def _pool(self, profile: CustomerProfile, *, in_stock: bool = False) -> list[ProductSpec]:
        cheap = profile.price_level == "cheap"
        return [
            spec
            for spec in self.catalogue
            if spec.gender in (profile.gender, "Unisex")
            and (spec.price_rank <= 0.5 if cheap else spec.price_rank >= 0.5)
            and (spec.num_in_stock > 0 or not in_stock)
        ]

    def _pick(self, profile: CustomerProfile, rng: random.Random, *, in_stock: bool = False) -> ProductSpec:
        """Mostly the customer's own segment, now and then anything (people browse outside their taste)."""
        if rng.random() < 0.85:
            pool = self._pool(profile, in_stock=in_stock)
        else:
            pool = [s for s in self.catalogue if s.num_in_stock > 0 or not in_stock]
        return rng.choice(pool)

    def _build_history(self, profile: CustomerProfile, user: Any) -> None:
        rng = random.Random(f"{self.seed}:history:{profile.number}")
        events: list[Interaction] = []

        def record(event: str, spec: ProductSpec, when: datetime) -> None:
            events.append(
                Interaction(
                    user=user,
                    product=self._products[spec.upc],
                    event=event,
                    weight=EVENT_WEIGHTS.get(event, 1.0),
                    created_at=when,
                )
            )

        # Browsing; the orders and the basket below add a view before each product they hold.
        for _ in range(rng.randint(8, 24)):
            record(Interaction.Event.VIEW, self._pick(profile, rng), self._ago(rng, days=HISTORY_DAYS))

        address_seed = (rng.randint(2, 180), rng.choice(STREETS), *rng.choice(TOWNS))
        # Orders in date order, so older numbers are older orders.
        order_dates = sorted(self._ago(rng, days=HISTORY_DAYS - 1, min_days=1) for _ in profile.order_numbers)
        for number, placed_at in zip(profile.order_numbers, order_dates, strict=True):
            lines = self._distinct(profile, rng, rng.randint(1, 3))
            for spec in lines:
                record(Interaction.Event.VIEW, spec, placed_at - timedelta(minutes=rng.randint(20, 240)))
                record(Interaction.Event.BASKET, spec, placed_at - timedelta(minutes=rng.randint(2, 15)))
            if self._place_order(profile, user, number, lines, placed_at, address_seed):
                for spec in lines:
                    record(Interaction.Event.PURCHASE, spec, placed_at)

        if profile.has_open_basket:
            added_at = self._ago(rng, days=3)
            lines = self._distinct(profile, rng, rng.randint(1, 3))
            for spec in lines:
                record(Interaction.Event.VIEW, spec, added_at - timedelta(minutes=rng.randint(5, 60)))
                record(Interaction.Event.BASKET, spec, added_at)
            self._open_basket(user, lines, added_at)

        Interaction.objects.bulk_create(events)
        # Count the receivers' purchase rows too: they are part of this customer's new history.
        self.created["interactions"] += Interaction.objects.filter(user=user).count()

    def _distinct(self, profile: CustomerProfile, rng: random.Random, count: int) -> list[ProductSpec]:
        chosen: dict[str, ProductSpec] = {}
        while len(chosen) < count:
            spec = self._pick(profile, rng, in_stock=True)
            chosen[spec.upc] = spec
        return list(chosen.values())

    def _ago(self, rng: random.Random, *, days: int, min_days: int = 0) -> datetime:
        seconds = rng.randint(min_days * 86400, days * 86400)
        return (self.now - timedelta(seconds=seconds)).replace(microsecond=0)

    def _strategy(self, user: Any) -> Any:
        return get_class("partner.strategy", "Selector")().strategy(user=user)

    def _open_basket(self, user: Any, lines: list[ProductSpec], added_at: datetime) -> None:
        Basket = self._model("basket", "Basket")
        basket = Basket.objects.create(owner=user, status=Basket.OPEN)
        basket.strategy = self._strategy(user)
        for spec in lines:
            basket.add_product(self._products[spec.upc], 1)
        Basket.objects.filter(pk=basket.pk).update(date_created=added_at)
        self.created["baskets"] += 1

    def _place_order(
        self,
        profile: CustomerProfile,
        user: Any,
        number: str,
        lines: list[ProductSpec],
        placed_at: datetime,
        address_seed: tuple,
    ) -> bool:
        """Place one order through Oscar's ``OrderCreator``, as checkout would, then backdate it.

        Returns whether the caller should record the purchase interactions itself.
        """
        Order = self._model("order", "Order")
        if Order.objects.filter(number=number).exists():
            # Taken by a real checkout since; skip rather than renumber (numbers must stay stable).
            return False
        Basket = self._model("basket", "Basket")
        ShippingAddress = self._model("order", "ShippingAddress")
        Free = get_class("shipping.methods", "Free")
        OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
        OrderCreator = get_class("order.utils", "OrderCreator")

        basket = Basket.objects.create(owner=user)
        basket.strategy = self._strategy(user)
        for spec in lines:
            basket.add_product(self._products[spec.upc], 1)
        basket.freeze()
        house, street, town, postcode = address_seed
        address = ShippingAddress.objects.create(
            first_name=profile.first_name,
            last_name=profile.last_name,
            line1=f"{house} {street}",
            line4=town,
            postcode=postcode,
            country=self.country,
        )
        method = Free()
        shipping_charge = method.calculate(basket)
        total = OrderTotalCalculator().calculate(basket, shipping_charge)
        age = self.now - placed_at
        status = DELIVERED if age > timedelta(days=20) else SHIPPED if age > timedelta(days=5) else PENDING
        signal_time = timezone.now()
        order = OrderCreator().place_order(
            basket=basket,
            total=total,
            shipping_method=method,
            shipping_charge=shipping_charge,
            user=user,
            shipping_address=address,
            order_number=number,
            status=status,
        )
        basket.submit()
        Basket.objects.filter(pk=basket.pk).update(date_created=placed_at, date_submitted=placed_at)
        Order.objects.filter(pk=order.pk).update(date_placed=placed_at)
        if status != PENDING:
            # Shipped goods have left the warehouse: turn the allocation into a stock movement.
            for line in order.lines.select_related("stockrecord"):
                line.stockrecord.consume_allocation(line.quantity)
        self.created["orders"] += 1
        # A receiver may already have logged the purchase when order_placed fired; date those
        # rows to the order and let the caller skip its own, so nothing is counted twice.
        logged = Interaction.objects.filter(
            user=user, event=Interaction.Event.PURCHASE, created_at__gte=signal_time
        ).update(created_at=placed_at)
        return logged == 0

    # Switches

    def switch_features_on(self) -> None:
        """Every feature on, once the products exist (switching on may queue work for them)."""
        enabled = set(FeatureSwitch.objects.filter(enabled=True).values_list("feature", flat=True))
        for feature in Feature:
            # Re-saving a switch that is already on would queue a whole-catalogue job again.
            if feature.value not in enabled:
                FeatureSwitch.set(feature.value, enabled=True)
        ShopVoice.objects.get_or_create(pk=1)
        # FeatureSwitch.states() caches for a few seconds; drop it so this process sees the change.
        cache.delete(FEATURE_CACHE_KEY)

    def ensure_support(self) -> None:
        """The shop's policy articles and a few tickets about demo customers' real orders."""
        from oscar_llm.demo.support import ensure_support_demo

        for key, count in ensure_support_demo([p.email for p in self.profiles]).items():
            self.created[key] = self.created.get(key, 0) + count

    def ensure_questions(self) -> None:
        """A handful of product questions, answered by the worker as soon as it starts."""
        from oscar_llm.demo.qa import ensure_questions

        self.created["questions"] = self.created.get("questions", 0) + ensure_questions(
            [p.email for p in self.profiles]
        )

    def ensure_experiment(self) -> None:
        """A running experiment on the basket page's block, counting what visitors do."""
        from oscar_llm.demo.experiments import ensure_experiment

        self.created["experiments"] = self.created.get("experiments", 0) + ensure_experiment()

    def ensure_marketing(self) -> None:
        """Consent, segments, a 20% offer and one campaign whose copy the worker writes, ready for review."""
        from oscar_llm.demo.marketing import ensure_marketing_demo

        for key, count in ensure_marketing_demo([p.email for p in self.profiles], now=self.now).items():
            self.created[key] = self.created.get(key, 0) + count

    # Summary

    def summary(self) -> DemoSummary:
        Product = self._model("catalogue", "Product")
        Category = self._model("catalogue", "Category")
        Order = self._model("order", "Order")
        Basket = self._model("basket", "Basket")
        customers = get_user_model().objects.filter(email__in=[p.email for p in self.profiles])
        ProductImage = self._model("catalogue", "ProductImage")
        upcs = [s.upc for s in self.catalogue]
        return DemoSummary(
            products=Product.objects.filter(upc__in=upcs).count(),
            images=ProductImage.objects.filter(product__upc__in=upcs).values("product").distinct().count(),
            categories=Category.objects.count(),
            customers=customers.count(),
            orders=Order.objects.filter(user__in=customers).count(),
            baskets=Basket.open.filter(owner__in=customers).count(),
            interactions=Interaction.objects.filter(user__in=customers).count(),
            staff_email=STAFF_EMAIL,
            created=dict(self.created),
        )


def create_demo_shop(
    seed: int = DEFAULT_SEED,
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
    staff_password: str | None = STAFF_PASSWORD,
    customer_password: str | None = CUSTOMER_PASSWORD,
) -> DemoSummary:
    """Build or complete the demo shop and say what it holds. Safe to run any number of times."""
    builder = DemoShopBuilder(
        seed, progress=progress, now=now, staff_password=staff_password, customer_password=customer_password
    )
    summary = builder.run()
    summary.staff_left_alone = builder.staff_left_alone
    return summary

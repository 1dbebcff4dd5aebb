"""Product pictures for the demo shop, drawn with Pillow: the article's silhouette in its colour.

A shop without pictures does not look like a shop, and the demo must not download any. Each
picture is a flat drawing (a dress, a boot, a watch...) filled with the product's colour on a
light background, with a darker outline so that white and cream articles still stand out.
Oscar's thumbnailer makes the card, gallery and basket sizes from it.

Drawing is deterministic (same article and colour, same bytes) and cheap: the shapes are drawn
at twice the size and halved, which smooths their edges for a few milliseconds per picture.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw

Colour = tuple[int, int, int]
Point = tuple[float, float]

PICTURE_SIZE = 600
# Drawn this many times larger, then reduced: cheap anti-aliasing.
SUPERSAMPLE = 2
BACKGROUND: Colour = (242, 241, 238)
SHADOW: Colour = (226, 225, 221)
FALLBACK_COLOUR: Colour = (150, 150, 155)

#: Every colour the demo catalogue uses; an unknown name is drawn in a neutral grey.
COLOURS: dict[str, Colour] = {
    "Amber": (222, 140, 30),
    "Beige": (214, 196, 160),
    "Black": (36, 36, 38),
    "Blue": (48, 96, 186),
    "Brown": (111, 72, 44),
    "Caramel": (176, 110, 54),
    "Charcoal": (64, 66, 70),
    "Clear": (222, 234, 238),
    "Coral": (245, 118, 96),
    "Cream": (243, 234, 208),
    "Gold": (212, 172, 60),
    "Green": (46, 125, 70),
    "Grey": (128, 128, 132),
    "Honey": (206, 150, 70),
    "Ivory": (246, 240, 222),
    "Khaki": (189, 176, 124),
    "Maroon": (118, 28, 44),
    "Mustard": (214, 165, 40),
    "Navy Blue": (31, 45, 84),
    "Nude": (226, 180, 158),
    "Olive": (107, 112, 52),
    "Pink": (238, 150, 180),
    "Plum": (112, 44, 88),
    "Purple": (110, 60, 150),
    "Red": (196, 36, 44),
    "Sand": (220, 196, 150),
    "Silver": (192, 194, 200),
    "Tan": (196, 150, 100),
    "Teal": (0, 128, 128),
    "Tortoiseshell": (120, 72, 30),
    "White": (252, 252, 250),
}
METAL: Colour = (188, 190, 196)
DARK: Colour = (40, 40, 44)
SOLE: Colour = (236, 234, 228)
LENS: Colour = (52, 54, 60)


def colour_of(name: str) -> Colour:
    """The RGB of a catalogue colour name ("navy blue" or "Navy Blue"); grey when unknown."""
    return COLOURS.get(" ".join(name.split()).title(), FALLBACK_COLOUR)


def _mix(colour: Colour, other: Colour, share: float) -> Colour:
    r, g, b = (round(c + (o - c) * share) for c, o in zip(colour, other, strict=True))
    return (r, g, b)


def _light(colour: Colour) -> bool:
    r, g, b = colour
    return 0.299 * r + 0.587 * g + 0.114 * b > 150


class Pen:
    """Draws on a 100 x 100 grid scaled to the canvas, in the product's colour and its shades."""

    def __init__(self, image: Image.Image, colour: Colour) -> None:
        self.draw = ImageDraw.Draw(image)
        self.scale = image.width / 100
        self.colour = colour
        self.outline = _mix(colour, (0, 0, 0), 0.45)
        # Seams, buttons and stitching: visible on both dark and light articles.
        self.accent = _mix(colour, (0, 0, 0), 0.3) if _light(colour) else _mix(colour, (255, 255, 255), 0.35)
        self.width = max(2, round(self.scale * 0.7))

    def points(self, points: Sequence[Point]) -> list[tuple[float, float]]:
        return [(x * self.scale, y * self.scale) for x, y in points]

    def box(self, box: Sequence[float]) -> list[float]:
        return [v * self.scale for v in box]

    def poly(self, points: Sequence[Point], fill: Colour | None = None) -> None:
        self.draw.polygon(self.points(points), fill=fill or self.colour, outline=self.outline, width=self.width)

    def rect(
        self,
        box: Sequence[float],
        fill: Colour | None = None,
        radius: float = 0,
        *,
        outline: Colour | None = None,
        hollow: bool = False,
        width: float = 1.0,
    ) -> None:
        self.draw.rounded_rectangle(
            self.box(box),
            radius=radius * self.scale,
            fill=None if hollow else fill or self.colour,
            outline=outline or self.outline,
            width=max(1, round(self.width * width)),
        )

    def ellipse(self, box: Sequence[float], fill: Colour | None = None, outline: Colour | None = None) -> None:
        self.draw.ellipse(self.box(box), fill=fill or self.colour, outline=outline or self.outline, width=self.width)

    def line(self, points: Sequence[Point], colour: Colour | None = None, width: float = 1.0) -> None:
        self.draw.line(self.points(points), fill=colour or self.accent, width=max(1, round(self.width * width)))

    def arc(
        self, box: Sequence[float], start: float, end: float, colour: Colour | None = None, width: float = 1.0
    ) -> None:
        self.draw.arc(self.box(box), start, end, fill=colour or self.outline, width=max(1, round(self.width * width)))

    def dots(self, points: Sequence[Point], radius: float = 1.2, colour: Colour | None = None) -> None:
        for x, y in points:
            self.draw.ellipse(self.box((x - radius, y - radius, x + radius, y + radius)), fill=colour or self.accent)


# --- clothing --------------------------------------------------------------------------------------

NECK = [(42, 14), (50, 20), (58, 14)]


def _garment(pen: Pen, sleeves: str, hem: float = 86, half_width: float = 16) -> None:
    """A top seen from the front: "none", "short" or "long" sleeves, the hem at ``hem``."""
    left, right = 50 - half_width, 50 + half_width
    if sleeves == "long":
        right_side = [(68, 17), (84, 60), (76, 63), (right, 36)]
        left_side = [(left, 36), (24, 63), (16, 60), (32, 17)]
    elif sleeves == "short":
        right_side = [(68, 17), (81, 33), (73, 40), (right, 33)]
        left_side = [(left, 33), (27, 40), (19, 33), (32, 17)]
    else:
        right_side = [(62, 15), (right, 30)]
        left_side = [(left, 30), (38, 15)]
    pen.poly([*NECK, *right_side, (right, hem), (left, hem), *left_side])


def shirt(pen: Pen) -> None:
    _garment(pen, "long")
    pen.poly([(42, 14), (50, 22), (45, 26), (40, 17)])  # collar
    pen.poly([(58, 14), (50, 22), (55, 26), (60, 17)])
    pen.line([(50, 22), (50, 86)])
    pen.dots([(52.5, y) for y in (32, 44, 56, 68, 80)])


def t_shirt(pen: Pen) -> None:
    _garment(pen, "short")
    pen.arc((42, 8, 58, 22), 20, 160, width=1.2)


def top(pen: Pen) -> None:
    _garment(pen, "none", hem=82, half_width=15)
    pen.arc((40, 6, 60, 24), 20, 160, colour=pen.accent)


def jumper(pen: Pen) -> None:
    _garment(pen, "long")
    for y in (80, 83):
        pen.line([(35, y), (65, y)])
    pen.line([(17, 57), (24, 60)])
    pen.line([(76, 60), (83, 57)])
    pen.arc((42, 9, 58, 23), 20, 160, width=1.2)


def jacket(pen: Pen) -> None:
    _garment(pen, "long", hem=84, half_width=17)
    pen.poly([(42, 14), (50, 46), (44, 34), (38, 20)], fill=pen.accent)  # lapels
    pen.poly([(58, 14), (50, 46), (56, 34), (62, 20)], fill=pen.accent)
    pen.line([(50, 46), (50, 84)], colour=pen.outline)
    pen.dots([(53, 56), (53, 68)], radius=1.5, colour=pen.outline)
    pen.line([(37, 66), (45, 66)], colour=pen.outline)
    pen.line([(55, 66), (63, 66)], colour=pen.outline)


def kurta(pen: Pen) -> None:
    _garment(pen, "long", hem=94, half_width=17)
    pen.line([(50, 20), (50, 40)])
    pen.dots([(51.8, y) for y in (25, 31, 37)])
    pen.line([(33, 78), (33, 94)], colour=BACKGROUND, width=0.8)  # side slits
    pen.line([(67, 78), (67, 94)], colour=BACKGROUND, width=0.8)


def dress(pen: Pen) -> None:
    pen.poly([(39, 10), (43, 10), (46, 18), (54, 18), (57, 10), (61, 10), (62, 26), (58, 40), (77, 90), (23, 90),
              (42, 40), (38, 26)])  # fmt: skip
    pen.line([(42, 40), (58, 40)])
    pen.line([(46, 52), (40, 88)], width=0.6)
    pen.line([(54, 52), (60, 88)], width=0.6)


def skirt(pen: Pen) -> None:
    pen.rect((34, 20, 66, 28))
    pen.poly([(34, 28), (66, 28), (77, 82), (23, 82)])
    for top_x, bottom_x in ((42, 38), (50, 50), (58, 62)):
        pen.line([(top_x, 30), (bottom_x, 80)], width=0.6)


def trousers(pen: Pen, jeans: bool = False) -> None:
    pen.poly([(32, 10), (68, 10), (72, 92), (56, 92), (50, 36), (44, 92), (28, 92)])
    pen.line([(32.5, 17), (67.5, 17)], colour=pen.outline)
    pen.line([(50, 17), (50, 34)], colour=pen.outline)
    if jeans:
        pen.arc((30, 8, 46, 30), 0, 90, colour=pen.accent)  # pockets
        pen.arc((54, 8, 70, 30), 90, 180, colour=pen.accent)
        pen.line([(31, 90), (34, 20)], width=0.5)
        pen.line([(69, 90), (66, 20)], width=0.5)
    else:
        pen.line([(40, 20), (37, 90)], width=0.5)  # creases
        pen.line([(60, 20), (63, 90)], width=0.5)


def jeans(pen: Pen) -> None:
    trousers(pen, jeans=True)


# --- shoes (seen from the side, toe to the right) ----------------------------------------------


def sneakers(pen: Pen) -> None:
    pen.poly([(16, 68), (18, 46), (30, 42), (44, 50), (62, 54), (80, 60), (86, 68)])
    pen.rect((14, 66, 88, 76), fill=SOLE, radius=3)
    pen.line([(40, 50), (46, 44)], colour=SOLE)
    pen.line([(46, 52), (52, 46)], colour=SOLE)
    pen.line([(52, 54), (58, 48)], colour=SOLE)
    pen.line([(22, 58), (66, 62)], width=0.6)


def boots(pen: Pen) -> None:
    pen.poly([(24, 14), (46, 14), (48, 54), (70, 60), (82, 68), (84, 78), (22, 78)])
    pen.rect((20, 76, 86, 82), fill=DARK, radius=2)
    pen.rect((22, 80, 36, 88), fill=DARK)  # heel
    pen.line([(24, 20), (46, 20)], width=0.6)
    pen.line([(46, 50), (52, 62)], width=0.6)


def heels(pen: Pen) -> None:
    # A court shoe: a tall heel counter, a low opening, the toe box, a stiletto under the heel.
    pen.poly([(22, 58), (30, 64), (28, 92), (25, 92)], fill=DARK)
    pen.poly([(18, 40), (34, 52), (52, 64), (66, 64), (80, 68), (90, 76), (89, 84), (60, 84), (44, 78), (30, 66),
              (22, 60)])  # fmt: skip
    pen.poly([(20, 44), (34, 53), (50, 63), (44, 66), (30, 58), (22, 52)], fill=pen.outline)  # the opening


def sandals(pen: Pen) -> None:
    pen.rect((14, 74, 88, 82), fill=pen.outline, radius=4)
    pen.rect((16, 70, 86, 76), radius=3)
    pen.arc((54, 52, 82, 90), 180, 360, colour=pen.colour, width=4)
    pen.arc((34, 50, 62, 90), 180, 360, colour=pen.colour, width=4)
    pen.arc((14, 44, 38, 94), 180, 300, colour=pen.colour, width=3)


def flats(pen: Pen) -> None:
    pen.poly([(16, 66), (22, 58), (36, 60), (58, 60), (76, 64), (88, 72), (86, 80), (16, 80)])
    pen.ellipse((24, 55, 56, 65), fill=pen.outline)  # opening
    pen.rect((14, 78, 88, 83), fill=pen.outline, radius=2)


def loafers(pen: Pen) -> None:
    pen.poly([(16, 64), (20, 52), (38, 54), (58, 56), (76, 62), (88, 70), (86, 80), (16, 80)])
    pen.ellipse((22, 49, 44, 59), fill=pen.outline)
    pen.line([(52, 58), (58, 68)], colour=pen.outline)
    pen.line([(58, 68), (70, 66)], colour=pen.outline)
    pen.rect((14, 78, 88, 84), fill=DARK, radius=2)


def formal_shoes(pen: Pen) -> None:
    loafers(pen)
    for x in (44, 48, 52):
        pen.line([(x, 56), (x + 4, 60)], colour=pen.accent)


# --- bags ---------------------------------------------------------------------------------------


def handbag(pen: Pen) -> None:
    pen.arc((32, 14, 68, 62), 180, 360, width=3)
    pen.poly([(24, 40), (76, 40), (82, 86), (18, 86)])
    pen.rect((46, 46, 54, 52), fill=METAL)
    pen.line([(24, 48), (76, 48)], width=0.6)


def backpack(pen: Pen) -> None:
    pen.arc((40, 8, 60, 26), 180, 360, width=2.5)
    pen.rect((26, 18, 74, 90), radius=14)
    pen.rect((33, 56, 67, 84), radius=6, fill=pen.accent)
    pen.line([(36, 60), (64, 60)], colour=pen.outline)
    pen.line([(32, 34), (68, 34)], width=0.6)


def tote_bag(pen: Pen) -> None:
    pen.arc((30, 14, 48, 54), 180, 360, width=2.5)
    pen.arc((52, 14, 70, 54), 180, 360, width=2.5)
    pen.rect((22, 34, 78, 90), radius=2)
    pen.line([(22, 42), (78, 42)], width=0.6)


def crossbody_bag(pen: Pen) -> None:
    pen.line([(32, 54), (50, 10), (68, 54)], colour=pen.outline, width=1.6)
    pen.rect((28, 50, 72, 84), radius=7)
    pen.poly([(28, 56), (72, 56), (72, 66), (50, 72), (28, 66)], fill=pen.accent)
    pen.dots([(50, 68)], radius=2, colour=METAL)


def laptop_bag(pen: Pen) -> None:
    pen.arc((38, 22, 62, 48), 180, 360, width=3)
    pen.rect((12, 36, 88, 82), radius=5)
    pen.rect((24, 52, 76, 74), radius=3, fill=pen.accent)
    pen.line([(12, 44), (88, 44)], width=0.6)


def wallet(pen: Pen) -> None:
    pen.rect((18, 32, 82, 72), radius=5)
    pen.poly([(18, 34), (82, 34), (82, 50), (18, 50)], fill=pen.accent)
    pen.dots([(74, 50)], radius=2.2, colour=METAL)


# --- accessories --------------------------------------------------------------------------------


def watch(pen: Pen) -> None:
    pen.rect((40, 6, 60, 36), radius=3)
    pen.rect((40, 64, 60, 94), radius=3)
    pen.dots([(50, 80), (50, 86)], radius=1.2, colour=pen.outline)
    pen.rect((69, 46, 74, 54), fill=METAL, radius=1)  # crown
    pen.ellipse((28, 28, 72, 72), fill=METAL, outline=_mix(METAL, (0, 0, 0), 0.4))
    pen.ellipse((33, 33, 67, 67), fill=(250, 250, 248))
    pen.line([(50, 50), (50, 38)], colour=DARK, width=1.2)
    pen.line([(50, 50), (59, 54)], colour=DARK, width=1.2)
    pen.dots([(50, 36), (64, 50), (50, 64), (36, 50)], radius=0.8, colour=DARK)


def belt(pen: Pen) -> None:
    pen.rect((10, 44, 92, 56), radius=3)
    pen.dots([(70, 50), (76, 50), (82, 50)], radius=1.2, colour=pen.outline)
    pen.rect((12, 40, 28, 60), radius=2, outline=METAL, hollow=True, width=3)
    pen.line([(20, 50), (30, 50)], colour=METAL, width=1.5)


def sunglasses(pen: Pen) -> None:
    pen.line([(16, 46), (4, 42)], colour=pen.colour, width=2)
    pen.line([(84, 46), (96, 42)], colour=pen.colour, width=2)
    pen.arc((44, 40, 56, 52), 200, 340, colour=pen.colour, width=2.5)
    for box in ((14, 40, 46, 66), (54, 40, 86, 66)):
        pen.rect(box, fill=LENS, radius=10, outline=pen.colour, width=3)
    pen.line([(20, 48), (26, 44)], colour=(120, 122, 130), width=1)
    pen.line([(60, 48), (66, 44)], colour=(120, 122, 130), width=1)


def scarf(pen: Pen) -> None:
    pen.poly([(30, 14), (70, 14), (72, 30), (62, 36), (66, 86), (52, 86), (50, 38), (44, 38), (46, 80), (32, 80),
              (36, 34), (28, 28)])  # fmt: skip
    for y in (28, 52, 70):
        pen.line([(36, y), (64, y)], width=0.6)
    pen.line([(34, 80), (34, 86)], width=0.6)
    pen.line([(40, 80), (40, 86)], width=0.6)
    pen.line([(56, 86), (56, 92)], width=0.6)
    pen.line([(62, 86), (62, 92)], width=0.6)


def cap(pen: Pen) -> None:
    pen.draw.pieslice(pen.box((22, 28, 78, 84)), 180, 360, fill=pen.colour, outline=pen.outline, width=pen.width)
    pen.poly([(70, 54), (92, 58), (90, 64), (66, 60)])
    pen.line([(22, 56), (78, 56)], colour=pen.outline)
    pen.line([(50, 28), (50, 56)], width=0.6)
    pen.dots([(50, 28)], radius=2, colour=pen.outline)


# --- cosmetics ----------------------------------------------------------------------------------


def lipstick(pen: Pen) -> None:
    pen.rect((36, 56, 64, 92), fill=DARK, radius=2)
    pen.rect((40, 44, 60, 58), fill=METAL)
    pen.poly([(42, 46), (42, 24), (58, 14), (58, 46)])


def nail_polish(pen: Pen) -> None:
    pen.rect((40, 12, 60, 46), fill=DARK, radius=2)
    pen.rect((30, 44, 70, 88), radius=8)
    pen.line([(36, 52), (36, 78)], colour=_mix(pen.colour, (255, 255, 255), 0.5), width=1.2)


def perfume(pen: Pen) -> None:
    pen.rect((40, 14, 60, 30), fill=(212, 172, 60), radius=2)
    pen.rect((45, 28, 55, 38), fill=METAL)
    pen.rect((26, 36, 74, 88), radius=9)
    pen.rect((36, 56, 64, 70), fill=(250, 250, 248), radius=1)


def moisturiser(pen: Pen) -> None:
    pen.rect((22, 36, 78, 52), fill=(168, 190, 180), radius=3)
    pen.rect((24, 50, 76, 86), radius=6)
    pen.rect((34, 60, 66, 74), fill=(168, 190, 180), radius=1)


def foundation(pen: Pen) -> None:
    pen.rect((44, 12, 56, 22), fill=DARK)
    pen.line([(56, 15), (64, 15)], colour=DARK, width=1.5)
    pen.rect((40, 20, 60, 34), fill=DARK, radius=1)
    pen.rect((32, 32, 68, 90), radius=5)
    pen.rect((38, 58, 62, 72), fill=(250, 250, 248), radius=1)


def generic(pen: Pen) -> None:
    """Anything without its own drawing: a parcel with a tag."""
    pen.rect((24, 34, 76, 86), radius=4)
    pen.line([(24, 50), (76, 50)], colour=pen.outline)
    pen.line([(50, 34), (50, 86)], colour=pen.outline)
    pen.arc((40, 20, 60, 40), 180, 360, width=2)


Drawing = Callable[[Pen], None]

#: Article (the catalogue's noun, singular or plural, any case) -> drawing.
SHAPES: dict[str, Drawing] = {
    "dress": dress,
    "top": top,
    "blouse": top,
    "shirt": shirt,
    "t-shirt": t_shirt,
    "tshirt": t_shirt,
    "jumper": jumper,
    "sweater": jumper,
    "jacket": jacket,
    "coat": jacket,
    "kurta": kurta,
    "skirt": skirt,
    "trousers": trousers,
    "jeans": jeans,
    "sneakers": sneakers,
    "boots": boots,
    "heels": heels,
    "sandals": sandals,
    "flats": flats,
    "loafers": loafers,
    "formal shoes": formal_shoes,
    "handbag": handbag,
    "backpack": backpack,
    "tote bag": tote_bag,
    "crossbody bag": crossbody_bag,
    "laptop bag": laptop_bag,
    "wallet": wallet,
    "watch": watch,
    "belt": belt,
    "sunglasses": sunglasses,
    "scarf": scarf,
    "cap": cap,
    "lipstick": lipstick,
    "nail polish": nail_polish,
    "perfume": perfume,
    "moisturiser": moisturiser,
    "foundation": foundation,
}


def shape_for(article: str) -> Drawing:
    """The drawing of an article ("Dress", "Dresses", "Formal Shoes"), or the generic parcel."""
    key = " ".join(article.lower().split())
    for candidate in (key, key.removesuffix("es"), key.removesuffix("s"), f"{key}s"):
        if candidate in SHAPES:
            return SHAPES[candidate]
    return generic


def draw_product_image(article: str, colour: str, size: int = PICTURE_SIZE) -> bytes:
    """A ``size`` x ``size`` PNG of ``article`` in ``colour`` on a light background."""
    big = size * SUPERSAMPLE
    image = Image.new("RGB", (big, big), BACKGROUND)
    pen = Pen(image, colour_of(colour))
    pen.draw.ellipse(pen.box((20, 90, 80, 97)), fill=SHADOW)
    shape_for(article)(pen)
    image = image.reduce(SUPERSAMPLE)
    out = io.BytesIO()
    # Flat colours compress well even at a fast setting; the demo draws hundreds of these.
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()

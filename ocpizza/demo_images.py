"""Pictures for the demo chain, drawn with Pillow (no network, same result every time)."""

import io
import math
import random

from django.core.files.images import ImageFile
from PIL import Image, ImageDraw, ImageFilter
from wagtail.images import get_image_model

CRUST = (222, 170, 90)
SAUCE = (190, 45, 30)
CREAM_SAUCE = (245, 236, 210)
CHEESE = (250, 226, 150)


def _pizza(seed, toppings, base=SAUCE, size=800):
    rnd = random.Random(seed)
    img = Image.new("RGB", (size, int(size * 0.75)), (90, 60, 40))
    draw = ImageDraw.Draw(img)
    # wooden board stripes
    for y in range(0, img.height, 24):
        shade = 80 + rnd.randint(-8, 8)
        draw.rectangle((0, y, size, y + 23), fill=(shade + 30, shade, shade - 30))
    cx, cy, r = size // 2, img.height // 2, int(img.height * 0.45)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=CRUST)
    inner = int(r * 0.86)
    draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=base)
    for _ in range(26):
        x, y = cx + rnd.randint(-inner + 30, inner - 30), cy + rnd.randint(-inner + 30, inner - 30)
        if (x - cx) ** 2 + (y - cy) ** 2 < (inner - 25) ** 2:
            blob = rnd.randint(18, 38)
            draw.ellipse((x - blob, y - blob, x + blob, y + blob), fill=CHEESE)
    for colour, count, radius in toppings:
        for _ in range(count):
            angle_r = rnd.uniform(0, inner - 30)
            angle = rnd.uniform(0, 6.283)
            x = cx + int(angle_r * math.cos(angle))
            y = cy + int(angle_r * math.sin(angle))
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
    return img.filter(ImageFilter.SMOOTH)


def _drink(seed, colour, label):
    img = Image.new("RGB", (800, 600), (250, 240, 225))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((330, 120, 470, 540), radius=40, fill=colour)
    draw.rectangle((370, 60, 430, 130), fill=colour)
    draw.rectangle((330, 280, 470, 380), fill=label)
    return img


def _dessert(seed, colour, topping):
    img = Image.new("RGB", (800, 600), (248, 236, 220))
    draw = ImageDraw.Draw(img)
    draw.ellipse((160, 380, 640, 520), fill=(255, 255, 255))
    draw.rounded_rectangle((260, 250, 540, 450), radius=30, fill=colour)
    draw.rounded_rectangle((260, 240, 540, 290), radius=20, fill=topping)
    return img


def _scene(seed, sky, ground, awning):
    rnd = random.Random(seed)
    img = Image.new("RGB", (1600, 900), sky)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 620, 1600, 900), fill=ground)
    draw.rectangle((300, 220, 1300, 640), fill=(236, 222, 200))
    for i in range(10):
        draw.rectangle((300 + i * 100, 220, 350 + i * 100, 300), fill=awning if i % 2 else (255, 255, 255))
    draw.rectangle((420, 360, 760, 600), fill=(60, 45, 35))
    draw.rectangle((840, 360, 1180, 600), fill=(255, 210, 120))
    for _ in range(30):
        x, y = rnd.randint(0, 1600), rnd.randint(0, 200)
        draw.ellipse((x, y, x + 6, y + 6), fill=(255, 255, 255))
    return img


def _save(title, picture):
    model = get_image_model()
    existing = model.objects.filter(title=title).first()
    if existing:
        return existing
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85)
    slug = "".join(c if c.isalnum() else "-" for c in title.lower())
    return model.objects.create(title=title, file=ImageFile(buffer, name=f"demo-{slug}.jpg"))


TOPPING_COLOURS = {
    "Jambon": (230, 150, 150),
    "Champignons": (200, 180, 150),
    "Olives noires": (40, 30, 30),
    "Chorizo": (170, 40, 30),
    "Poivrons": (60, 150, 60),
    "Oignons rouges": (150, 60, 120),
    "Basilic": (40, 120, 40),
    "Lardons": (210, 120, 100),
    "Merguez": (140, 50, 30),
    "Anchois": (120, 90, 80),
    "Crevettes": (240, 140, 110),
    "Chèvre": (255, 255, 250),
    "Pommes de terre": (235, 200, 120),
    "Ananas": (250, 220, 80),
    "Piment": (220, 20, 20),
    "Roquette": (70, 140, 50),
    "Jambon cru": (200, 90, 90),
    "Burrata": (255, 253, 245),
    "Gorgonzola": (220, 230, 200),
    "Bœuf haché": (110, 60, 40),
    "Œuf": (255, 200, 40),
    "Tomates cerises": (220, 40, 40),
    "Aubergines": (80, 40, 90),
    "Courgettes": (100, 160, 70),
}


def product_image(title, *, category, ingredients=(), cream_base=False, seed=0):
    if category == "drink":
        picture = _drink(
            seed, (120 + seed * 37 % 120, 40 + seed * 53 % 150, 30 + seed * 29 % 180), (255, 255, 255)
        )
    elif category == "dessert":
        picture = _dessert(seed, (120 + seed * 31 % 100, 80 + seed * 17 % 80, 50), (250, 240, 230))
    else:
        toppings = [(TOPPING_COLOURS[name], 10, 16) for name in ingredients if name in TOPPING_COLOURS]
        picture = _pizza(seed, toppings, base=CREAM_SAUCE if cream_base else SAUCE)
    return _save(title, picture)


def scene_image(title, *, seed=0):
    rnd = random.Random(seed)
    sky = (120 + rnd.randint(0, 60), 170 + rnd.randint(0, 40), 220)
    return _save(title, _scene(seed, sky, (120, 110, 100), (179, 38, 30)))


def hero_image():
    picture = _pizza(99, [((40, 120, 40), 14, 18), ((170, 40, 30), 16, 20)], size=1600)
    return _save("Bandeau — pizza sortie du four", picture)

"""Make the images of issue 10 that are not photos: the key-figures chart and the stand-ins.

The chart is drawn from the key figures printed in the issue itself. Stand-ins hold the
place of the original's photos, which are not available; each is marked ``stand_in: true``
in the issue so that tools can list what editors still have to supply.

Run: .venv/bin/python tools/make_figures.py  (writes into issues/images/)
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "issues" / "images"
LATO = ROOT / "fonts" / "lato"
NAVY, TEAL, TINT, INK, MUTED = (21, 54, 95), (19, 124, 128), (233, 241, 244), (29, 36, 48), (86, 98, 112)


def font(face: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(LATO / f"Lato-{face}.ttf"), size)


#: The words each image prints, by language: the French edition's images are its own
#: (``translated: true`` in both issue files), not the English ones.
WORDS = {
    "en": {
        "title": "France’s voluntary contributions to UNODC, 2018",
        "unit": "euros",
        "bars": [
            ("General voluntary contributions to UNODC", 1_830_000, "€1,830,000"),
            (
                "Contribution to the Human Trafficking and\nMigrant Smuggling Section (HTMSS)",
                163_500,
                "€163,500",
            ),
        ],
        "photo": "Photo to come",
        "subjects": {
            "fedotov": "Mr Yuri Fedotov, UNODC",
            "falconi": "Mr Jean-Louis Falconi, 27th CCPCJ",
            "charpentier": "Ms Caroline Charpentier, 27th CCPCJ",
            "bus-des-femmes": "Les amis du bus des femmes",
            "global-reports": "Global reports: covers",
        },
    },
    "fr": {
        "title": "Contributions volontaires de la France à l’ONUDC, 2018",
        "unit": "euros",
        "bars": [
            ("Contributions volontaires\ngénérales à l’ONUDC", 1_830_000, "1\u202f830\u202f000\u00a0€"),
            (
                "Contribution à la Section de la traite des\npersonnes et du trafic de migrants",
                163_500,
                "163\u202f500\u00a0€",
            ),
        ],
        "photo": "Photo à venir",
        "subjects": {
            "fedotov": "M. Iouri Fedotov, ONUDC",
            "falconi": "M. Jean-Louis Falconi, 27e CPCJP",
            "charpentier": "Mme Caroline Charpentier, 27e CPCJP",
            "bus-des-femmes": "Les amis du bus des femmes",
            "global-reports": "Rapports mondiaux : couvertures",
        },
    },
}


def named(name: str, language: str) -> str:
    """``chart.png`` in English, ``chart.fr.png`` in French."""
    stem, dot, suffix = name.rpartition(".")
    return name if language == "en" else f"{stem}.{language}{dot}{suffix}"


def chart(language: str) -> None:
    """France's voluntary contributions to UNODC in 2018, in euros (from the key figures)."""
    words = WORDS[language]
    bars = words["bars"]
    k = 1.2  # 2400 px over the 178 mm text width: over 300 dpi in print
    width, height = round(2000 * k), round(620 * k)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text(
        (0, 0),
        words["title"],
        font=font("Black", round(54 * k)),
        fill=NAVY,
    )
    draw.text((0, 74 * k), words["unit"], font=font("Regular", round(38 * k)), fill=MUTED)
    left, right, top, bar_h, gap = 760 * k, width - 330 * k, 170 * k, 130 * k, 90 * k
    scale = (right - left) / max(v for _, v, _ in bars)
    for i, (label, value, printed) in enumerate(bars):
        y = top + i * (bar_h + gap)
        draw.multiline_text(
            (0, y + bar_h / 2),
            label,
            font=font("Regular", round(38 * k)),
            fill=INK,
            anchor="lm",
            spacing=round(8 * k),
        )
        end = left + max(6, round(value * scale))
        draw.rectangle((left, y, end, y + bar_h), fill=TEAL if i else NAVY)
        draw.text(
            (end + 24 * k, y + bar_h / 2), printed, font=font("Black", round(52 * k)), fill=NAVY, anchor="lm"
        )
    draw.line((left, top - 20 * k, left, height - 20 * k), fill=MUTED, width=round(3 * k))
    img.save(OUT / named("key-figures-chart.png", language), optimize=True)


def stand_in(name: str, language: str, size: tuple[int, int] = (1200, 800)) -> None:
    """A flat placeholder that cannot be mistaken for a photo."""
    img = Image.new("RGB", size, TINT)
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle((0, 0, w - 1, h - 1), outline=(185, 201, 211), width=6)
    words = WORDS[language]
    draw.text((w / 2, h / 2 - 40), words["photo"], font=font("Black", 52), fill=NAVY, anchor="mm")
    draw.text(
        (w / 2, h / 2 + 40),
        words["subjects"][name.split(".")[0]],
        font=font("Regular", 32),
        fill=MUTED,
        anchor="mm",
    )
    # JPEG, as a real photo would be: WeasyPrint embeds JPEG data as it is, while it
    # decodes and re-encodes every PNG (about 25 ms each for issue 10's sizes).
    img.save(OUT / named(name, language), quality=85, optimize=True, progressive=False)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for language in WORDS:
        chart(language)
        stand_in("fedotov.jpg", language, (1200, 800))
        stand_in("falconi.jpg", language, (960, 540))
        stand_in("charpentier.jpg", language, (960, 540))
        stand_in("bus-des-femmes.jpg", language, (900, 600))
        stand_in("global-reports.jpg", language, (1050, 675))


if __name__ == "__main__":
    main()

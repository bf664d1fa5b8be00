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


def chart() -> None:
    """France's voluntary contributions to UNODC in 2018, in euros (from the key figures)."""
    bars = [
        ("General voluntary contributions to UNODC", 1_830_000, "€1,830,000"),
        ("Contribution to the Human Trafficking and\nMigrant Smuggling Section (HTMSS)", 163_500, "€163,500"),
    ]
    k = 1.2  # 2400 px over the 178 mm text width: over 300 dpi in print
    width, height = round(2000 * k), round(620 * k)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text(
        (0, 0),
        "France’s voluntary contributions to UNODC, 2018",
        font=font("Black", round(54 * k)),
        fill=NAVY,
    )
    draw.text((0, 74 * k), "euros", font=font("Regular", round(38 * k)), fill=MUTED)
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
    img.save(OUT / "key-figures-chart.png", optimize=True)


def stand_in(name: str, subject: str, size: tuple[int, int] = (1200, 800)) -> None:
    """A flat placeholder that cannot be mistaken for a photo."""
    img = Image.new("RGB", size, TINT)
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle((0, 0, w - 1, h - 1), outline=(185, 201, 211), width=6)
    draw.text((w / 2, h / 2 - 40), "Photo to come", font=font("Black", 52), fill=NAVY, anchor="mm")
    draw.text((w / 2, h / 2 + 40), subject, font=font("Regular", 32), fill=MUTED, anchor="mm")
    # JPEG, as a real photo would be: WeasyPrint embeds JPEG data as it is, while it
    # decodes and re-encodes every PNG (about 25 ms each for issue 10's sizes).
    img.save(OUT / name, quality=85, optimize=True, progressive=False)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    chart()
    stand_in("fedotov.jpg", "Mr Yuri Fedotov, UNODC", (1200, 800))
    stand_in("falconi.jpg", "Mr Jean-Louis Falconi, 27th CCPCJ", (960, 540))
    stand_in("charpentier.jpg", "Ms Caroline Charpentier, 27th CCPCJ", (960, 540))
    stand_in("bus-des-femmes.jpg", "Les amis du bus des femmes", (900, 600))
    stand_in("global-reports.jpg", "Global reports: covers", (1050, 675))


if __name__ == "__main__":
    main()

"""Draw the add-in's icons (addin/officejs/assets/icon-SIZE.png): a rounded
green square with three rising bars and a target line. Run once after a
design change: .venv/bin/python scripts/make_icons.py"""

from pathlib import Path

from PIL import Image, ImageDraw

ASSETS = Path(__file__).resolve().parents[1] / "addin" / "officejs" / "assets"
SIZES = (16, 32, 64, 80)
GREEN, WHITE, GOLD = (16, 124, 65, 255), (255, 255, 255, 255), (255, 200, 61, 255)


def icon(size: int) -> Image.Image:
    scale = 8  # draw large, then shrink: smooth edges at 16 px too
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=GREEN)
    margin, gap = big * 0.2, big * 0.07
    width = (big - 2 * margin - 2 * gap) / 3
    floor = big - margin
    for i, height in enumerate((0.3, 0.5, 0.72)):
        left = margin + i * (width + gap)
        draw.rectangle((left, floor - height * big, left + width, floor), fill=WHITE)
    line = floor - 0.6 * big
    draw.rectangle((margin * 0.6, line - big * 0.03, big - margin * 0.6, line + big * 0.03), fill=GOLD)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    ASSETS.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        icon(size).save(ASSETS / f"icon-{size}.png", optimize=True)


if __name__ == "__main__":
    main()

"""Makes the OCR tests' images: pages of nothing but printed words, which the PP-OCR models in
../shared/models/ocr read. Deterministic (seeded) for one Pillow version: `make ocr-fixtures`
installs the pinned one and writes them to .build/ocr-fixtures (images are not committed).

    python3 Tests/Fixtures/ocr/make_text_images.py OUT_DIR

det/calib and det/eval: 224x224 pages of black words on light paper, for the text detector.
cls/calib and cls/eval: 48x192 crops of one line, upright or turned 180 degrees, for the
direction classifier; labels.tsv gives 0 (upright) or 1 (turned), its classes.
rec/calib and rec/eval: 48x320 upright lines of two to four words, for the text recognizer."""
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFont

WORDS = ("whittle compress budget kernel model channel ternary quantize runtime layer photo paper "
         "river garden window market orange silver planet rocket coffee number letter").split()


def line(rng, count):
    return " ".join(rng.choice(WORDS) for _ in range(count))


def page(rng):
    image = Image.new("RGB", (224, 224), tuple(rng.randint(215, 255) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    y = rng.randint(4, 20)
    while y < 190:
        size = rng.randint(14, 26)
        draw.text((rng.randint(4, 30), y), line(rng, rng.randint(1, 3)), fill=tuple(rng.randint(0, 60) for _ in range(3)),
                  font=ImageFont.load_default(size=size))
        y += size + rng.randint(8, 30)
    return image


def crop(rng, turned):
    image = Image.new("RGB", (192, 48), tuple(rng.randint(215, 255) for _ in range(3)))
    ImageDraw.Draw(image).text((rng.randint(2, 12), rng.randint(6, 12)), line(rng, 2), fill=(20, 20, 20),
                               font=ImageFont.load_default(size=rng.randint(20, 26)))
    return image.rotate(180) if turned else image


def text_line(rng):
    image = Image.new("RGB", (320, 48), tuple(rng.randint(215, 255) for _ in range(3)))
    ImageDraw.Draw(image).text((rng.randint(2, 12), rng.randint(6, 12)), line(rng, rng.randint(2, 4)),
                               fill=tuple(rng.randint(0, 60) for _ in range(3)), font=ImageFont.load_default(size=rng.randint(18, 24)))
    return image


def main():
    out = sys.argv[1]
    rng = random.Random(17)
    for part, count in (("calib", 10), ("eval", 6)):
        folder = os.path.join(out, "det", part)
        os.makedirs(folder, exist_ok=True)
        for i in range(count):
            page(rng).save(os.path.join(folder, f"page{i}.png"), optimize=True)
        folder = os.path.join(out, "cls", part)
        os.makedirs(folder, exist_ok=True)
        rows = ["file\tclass_index"]
        for i in range(count * 2):
            turned = i % 2
            crop(rng, turned).save(os.path.join(folder, f"line{i}.png"), optimize=True)
            rows.append(f"line{i}.png\t{turned}")
        with open(os.path.join(folder, "labels.tsv"), "w") as f:
            f.write("\n".join(rows) + "\n")
    lines = random.Random(23)  # a stream of its own: the det and cls images stay as they were
    for part, count in (("calib", 16), ("eval", 8)):
        folder = os.path.join(out, "rec", part)
        os.makedirs(folder, exist_ok=True)
        for i in range(count):
            text_line(lines).save(os.path.join(folder, f"line{i}.png"), optimize=True)


if __name__ == "__main__":
    main()

"""Real handwriting's three causes of misreads, each with an image that failed before and reads now, and the
dev sets (USPS, Semeion) read as a user's scans when this machine has them."""

import json
from pathlib import Path

import numpy as np
import pytest
import realsets
from PIL import Image, ImageDraw
from strokes import cropped_tight, form_cell, frame_filling, on_squared_paper, pen_digit

from lenet_keras.cli import main
from lenet_keras.runtime.images import to_mnist
from lenet_keras.runtime.strokes import MNIST_WIDTH, fill_outlines, match_pen, stroke_width
from lenet_keras.runtime.tflite import TFLiteClassifier

INT8 = Path(__file__).resolve().parents[1] / "saved_models" / "lenet5_int8.tflite"


@pytest.fixture(scope="module")
def classifier():
    return TFLiteClassifier(INT8)


def _read(classifier, image):
    return int(classifier.predict(to_mnist(image)[None])[0][0])


def test_a_digit_drawn_on_a_wide_canvas_is_no_speck(mnist, classifier):
    """Before: a digit a seventh of a 1920x1080 canvas's height, drawn with a 2-4 px brush as in a paint program,
    was under 8% of the canvas's width, so it was dropped as a speck and came out blank ("no digit found")."""
    _, (x_test, y_test) = mnist
    indices = range(5000, 5020)
    pages = []
    for k, i in enumerate(indices):
        page = np.full((1080, 1920), 255, np.uint8)
        digit = pen_digit(x_test[i], 300, 2 + k % 3)  # its ink 120-145 px tall, under 8% of 1920
        top, left = 300 + 20 * (k % 5), 200 + 70 * k
        page[top : top + 300, left : left + 300] = np.minimum(page[top : top + 300, left : left + 300], digit)
        pages.append(page)
    seen = np.stack([to_mnist(page) for page in pages])
    assert seen.reshape(len(seen), -1).any(axis=1).sum() >= 19  # a 1 of a 3-px brush is still too little ink
    assert np.mean(classifier.predict(seen)[0] == y_test[list(indices)]) >= 0.9


def test_a_digit_drawn_with_a_1px_pen_is_widened_and_read(mnist, classifier):
    """Before: a 1-px line is thin and flat by the ruled-line test, so 78% of these came out blank (read "1")."""
    _, (x_test, y_test) = mnist
    indices = range(5000, 5030)
    seen = np.stack([to_mnist(pen_digit(x_test[i], 200, 1)) for i in indices])
    assert seen.reshape(len(seen), -1).any(axis=1).all()  # nothing blank
    widths = [stroke_width(s > 127) / (MNIST_WIDTH * 20) for s in seen]
    assert 0.6 < np.median(widths) < 1.6  # MNIST's pen, not a hairline
    assert np.mean(classifier.predict(seen)[0] == y_test[list(indices)]) >= 0.9


def test_a_bold_0_that_fills_a_small_frame_reads_0(classifier):
    """Before: most of a 16x16 crop of a bold 0 is ink, so the image's median took the paper for the ink and
    the hole was read as the digit (47 of USPS's 89 misreads came out blank)."""
    image = Image.new("L", (16, 16), 255)
    ImageDraw.Draw(image).ellipse((1, 0, 14, 15), outline=0, width=5)  # 61% of the pixels are ink
    assert _read(classifier, np.asarray(image)) == 0


def test_a_dot_or_blot_is_no_digit_and_no_error(tmp_path, capsys):
    """Before: a 7x6 px dot of marker ink measured 4.3 px wide, and the filter that narrows bold strokes to
    MNIST's pen was as wide as the dot: nothing was left, and to_mnist raised IndexError. A bigger dot (a stray
    click on a drawing pad) read "4 (99.6%)" or "0 (99.2%)". Now narrowing stops before strokes vanish, and
    ink that is still solid after it, with no strokes, is no digit."""
    small = Image.new("L", (56, 56), 255)
    ImageDraw.Draw(small).ellipse((25, 25, 31, 30), fill=0)
    big = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(big).ellipse((190, 190, 230, 225), fill=0)
    dot = np.zeros((7, 6), np.float32)
    dot[1:-1, :] = dot[:, 1:-1] = 1.0
    assert match_pen(dot).max() >= 0.5  # narrowed, not erased
    paths = []
    for name, image in (("dot.png", small), ("blot.png", big)):
        assert not to_mnist(np.asarray(image)).any()
        image.save(tmp_path / name)
        paths.append(str(tmp_path / name))
    assert main(["predict", *paths]) == 0
    assert capsys.readouterr().out.count("no digit found") == 2


def test_a_small_image_on_uneven_paper_keeps_its_digit(mnist, classifier):
    """Before: in an image under 64 px the paper was one level, so a smooth slope of light (fog, a shadow across
    a thumbnail) was taken for the paper's noise; with a noise that high no ink counted as strong and 6 of these 100
    came out blank. Now a small image's light is evened out as a photo's is when its paper is uneven."""
    _, (x_test, y_test) = mnist
    indices = list(range(5000, 5100))
    rng = np.random.default_rng(0)
    foggy = []
    for i in indices:
        field = Image.fromarray((rng.random((4, 4)) * 255).astype(np.uint8)).resize((28, 28), Image.Resampling.BICUBIC)
        foggy.append(np.clip(x_test[i] + 0.5 * np.asarray(field, np.float32), 0, 255).astype(np.uint8))
    seen = np.stack([to_mnist(image) for image in foggy])
    assert seen.reshape(len(seen), -1).any(axis=1).all()  # none blank
    assert np.mean(classifier.predict(seen)[0] == y_test[indices]) >= 0.97


def test_a_digit_cropped_to_its_box_reads_like_the_same_digit_with_a_margin(mnist, classifier):
    _, (x_test, y_test) = mnist
    indices = list(range(5000, 5100))
    for size in (16, 64):
        seen = np.stack([to_mnist(frame_filling(x_test[i], size)) for i in indices])
        assert np.mean(classifier.predict(seen)[0] == y_test[indices]) >= 0.97, size


def test_a_5_whose_bar_is_not_joined_keeps_its_bar(classifier):
    """Before: with a fine pen on a large page the bar, a few pixels of ink, was dropped as a speck."""
    image = Image.new("L", (600, 600), 250)
    draw = ImageDraw.Draw(image)
    draw.line([(230, 170), (380, 170)], fill=20, width=3)  # the bar, with a gap before the body
    draw.line([(225, 190), (215, 300)], fill=20, width=3)
    draw.arc((190, 260, 390, 450), start=-150, end=140, fill=20, width=3)
    seen = to_mnist(np.asarray(image))
    top_row = np.flatnonzero(seen.max(axis=1) > 127)[0]
    assert (seen[top_row : top_row + 3] > 127).any(axis=0).sum() >= 8  # the bar is there: wide ink at the top
    assert _read(classifier, np.asarray(image)) == 5


def test_grey_specks_around_a_digit_are_not_taken_for_its_pieces(mnist, classifier):
    """Before: any piece near the digit and big enough for it joined it, grey spatter too, so the box grew and
    the digit shrank: 97 of these 100 changed and 88% read right. A piece must now be as dark as the digit."""
    from PIL import ImageFilter

    _, (x_test, y_test) = mnist
    indices = list(range(5000, 5100))
    rng = np.random.default_rng(0)
    spattered = []
    for i in indices:
        away = np.asarray(Image.fromarray(x_test[i]).filter(ImageFilter.MaxFilter(5))) == 0  # not touching it
        dots = Image.fromarray(((rng.random((28, 28)) < 0.03) & away).astype(np.uint8) * 150)
        spattered.append(np.maximum(x_test[i], np.asarray(dots.filter(ImageFilter.MaxFilter(3)))))
    seen = np.stack([to_mnist(image) for image in spattered])
    clean = np.stack([to_mnist(x_test[i]) for i in indices])
    assert np.mean(np.abs(seen.astype(int) - clean).max(axis=(1, 2)) <= 40) >= 0.95  # the digit as without them
    assert np.mean(classifier.predict(seen)[0] == y_test[indices]) >= 0.97


def test_a_digit_that_a_stain_joins_to_the_border_is_still_the_digit(mnist, classifier):
    """Before: in a small image a component on the border scored a tenth of its area, so a digit that a grey stain
    joined to the border lost to a grey blot in a corner: 73 of these 100 lost the digit, 42% read right."""
    _, (x_test, y_test) = mnist
    indices = list(range(5000, 5100))
    stained = []
    for i in indices:
        image = x_test[i].copy()
        rows, cols = np.nonzero(image > 127)
        bottom, column = rows.max(), cols[rows.argmax()]
        image[bottom:, column : column + 2] = np.maximum(image[bottom:, column : column + 2], 150)  # to the border
        image[1:5, 1:5] = np.maximum(image[1:5, 1:5], 150)  # a blot in a corner, off the border
        stained.append(image)
    seen = np.stack([to_mnist(image) for image in stained])
    assert np.mean(classifier.predict(seen)[0] == y_test[indices]) >= 0.95


def test_a_thin_line_zigzagging_across_a_digit_is_not_the_digit(mnist, classifier):
    """Before: a 1-px zigzag from border to border (tests/corruptions.py, after MNIST-C) joined the digit it
    crossed, so the digit's box was the whole image: 48% of these read right. In a small image whose digit
    stands clear of the border, 1-px lines that run into the border are dropped."""
    from corruptions import corrupted

    _, (x_test, y_test) = mnist
    indices = list(range(5000, 5100))
    seen = np.stack([to_mnist(image) for image in corrupted("zigzag", x_test[indices])])
    assert np.mean(classifier.predict(seen)[0] == y_test[indices]) >= 0.8


def test_bands_inverted_at_the_edges_of_a_small_image_are_not_its_paper(mnist, classifier):
    """Before: with the 7 columns at each side inverted (MNIST-C's stripe), the bright bands outvoted the dark
    paper, so the paper was taken for ink and the digit read as a block with a hole: 17% of these read right.
    Now the side of a small image is decided inside any band that ends at a straight edge across it."""
    from corruptions import corrupted

    _, (x_test, y_test) = mnist
    indices = list(range(5000, 5100))
    seen = np.stack([to_mnist(image) for image in corrupted("edge stripes", x_test[indices])])
    assert np.mean(classifier.predict(seen)[0] == y_test[indices]) >= 0.7


def test_a_small_form_cell_with_its_frame_reads_its_digit(mnist, classifier):
    """Before: a 48 px cell cut from a form with its 2-px frame: the dark frame on the border outvoted the
    paper, and the frame joined the digit as one component around it: 15% of these read right (a digit that
    touches the frame: 69%). Now bands of solid ink from a straight edge to the border are cut off."""
    _, (x_test, y_test) = mnist
    indices = list(range(5000, 5100))
    for margin, tight in ((2, False), (0, True)):
        seen = np.stack([to_mnist(form_cell(x_test[i], margin=margin, tight=tight)) for i in indices])
        assert np.mean(classifier.predict(seen)[0] == y_test[indices]) >= 0.9


def test_a_blank_image_is_no_digit_in_text_json_and_python(tmp_path, capsys, classifier):
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 200), 240).save(blank)
    assert main(["predict", str(INT8), str(blank)]) == 0
    assert capsys.readouterr().out.strip() == f"{blank}: no digit found"
    assert main(["predict", str(INT8), str(blank), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["digit"] is None and result["reason"] == "no digit found" and len(result["top"]) == 1
    [verdict] = classifier.predict_files([blank])
    assert verdict["digit"] is None and verdict["reason"] == "no digit found"


# The shipped int8 model's top digit, in its three views (views.py), reads 98.21% and 93.53% (one view: 97.91% and
# 93.53%); issue 16's goals are 98.0% and 94% (README).
@pytest.mark.parametrize(("name", "least"), [("usps", 0.98), ("semeion", 0.93)])
def test_dev_sets_read_as_scans(name, least, classifier):
    """Release 1.1 read 95.6% and 86.7% of them."""
    folder = realsets.folder(name)
    if folder is None:
        pytest.skip(f"no copy of {name}: set LENET_{name.upper()}_DIR")
    images, labels = realsets.LOADERS[name](folder)
    score = realsets.score(realsets.read_as_files(classifier, images), labels)
    assert score["accuracy"] >= least, score


def test_a_digit_on_squared_paper_keeps_its_strokes(mnist, classifier):
    """Before: across squared paper a path meets the other family of lines every few pixels, so paths along a
    stroke were taken for ruled lines, and a stroke crossing a line at a slant is as thin as the line there: the
    strokes were cut into specks, and 11 of these 20 came out blank ("no digit found"; 11 read right). Now a
    ruled line must be mostly ink of its own and no thicker than the lines measure, and its pixels with ink
    close on both sides of it stay."""
    _, (x_test, y_test) = mnist
    indices = range(5000, 5020)
    grids = [(24, 176, 1, 4), (14, 185, 1, 5), (30, 148, 2, 5)]  # step, grey level, width; the pen
    pages = [on_squared_paper(x_test[i], *grids[k % 3]) for k, i in enumerate(indices)]
    seen = np.stack([to_mnist(page) for page in pages])
    assert seen.reshape(len(seen), -1).any(axis=1).all()  # nothing blank
    assert np.mean(classifier.predict(seen)[0] == y_test[list(indices)]) >= 0.9


def test_a_bold_digit_cropped_tight_at_photo_size_is_dark_on_paper(mnist, classifier):
    """Before: a photo's paper was the side most of it is, and a bold digit cropped tight at 100 px is more than
    half ink, so the paper between its strokes was read as the digit: 11 of these 20 read right. Now a border
    mostly bright outvotes the rest, as it does in a small image."""
    _, (x_test, y_test) = mnist
    bold = [i for i in range(5000, 6000) if (cropped_tight(x_test[i]) < 128).mean() > 0.5][:20]
    assert len(bold) == 20
    seen = np.stack([to_mnist(cropped_tight(x_test[i])) for i in bold])
    assert np.mean(classifier.predict(seen)[0] == y_test[bold]) >= 0.95


def test_digits_drawn_as_outlines_are_read_as_their_strokes(mnist, classifier):
    """Before: MNIST-C's canny edges (1-px lines around each stroke, tests/corruptions.py) made a 1 a thin ring,
    read as 0 or 8: 57 of these 100 read right. Now the long, narrow holes inside outlined strokes are filled."""
    from corruptions import corrupted

    _, (x_test, y_test) = mnist
    indices = list(range(5000, 5100))
    seen = np.stack([to_mnist(image) for image in corrupted("canny edges (MNIST-C's)", x_test[indices])])
    assert np.mean(classifier.predict(seen)[0] == y_test[indices]) >= 0.88


def test_only_outlines_are_filled_not_a_narrow_0_or_a_small_loop():
    """An outlined bar (a 1-px ring round a 3 x 18 inside) is filled; a narrow 0 drawn with 2-px lines, a round
    loop with a tail (a 9's) and an ordinary MNIST-width stroke stay as they are."""
    outlined = np.zeros((20, 5), np.float32)
    outlined[[0, -1], :] = outlined[:, [0, -1]] = 1  # a 1-px outline
    filled = fill_outlines(outlined)
    assert filled.min() == 1.0
    narrow_0 = np.zeros((20, 8), np.float32)
    narrow_0[:2], narrow_0[-2:], narrow_0[:, :2], narrow_0[:, -2:] = 1, 1, 1, 1  # 2-px lines round a 4 x 16 inside
    nine = np.zeros((20, 10), np.float32)
    nine[0, 2:9] = nine[7, 2:9] = nine[0:8, 2] = nine[0:8, 8] = 1  # a round loop
    nine[7:, 8] = 1  # its tail
    bar = np.zeros((20, 4), np.float32)
    bar[:, 1:4] = 1
    for ink in (narrow_0, nine, bar):
        assert np.array_equal(fill_outlines(ink), ink)

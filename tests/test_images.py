"""lenet_keras.runtime.images: user images in, MNIST's form out, checked against what MNIST looks like."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lenet_keras.runtime.images import load_image, load_images, to_mnist


def draw_seven(size=(240, 320), ink=0, paper=255, mode="L"):
    """A thick dark "7" on light paper, the usual photo or scan of a digit."""
    image = Image.new(mode, size, paper)
    w, h = size
    draw = ImageDraw.Draw(image)
    draw.line([(0.25 * w, 0.2 * h), (0.75 * w, 0.2 * h), (0.4 * w, 0.8 * h)], fill=ink, width=w // 10)
    return image


def center_of_mass(image):
    ys, xs = np.indices(image.shape)
    total = image.sum(dtype=np.float64)
    return (ys * image).sum() / total, (xs * image).sum() / total


def assert_mnist_form(digit):
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    assert rows[-1] - rows[0] < 20 + 2 and cols[-1] - cols[0] < 20 + 2  # the 20 px box, plus antialiased edges
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) >= 18
    cy, cx = center_of_mass(digit)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    assert digit.max() == 255 and digit[0].max() == 0  # light digit, dark background


def close(a, b, tolerance=8):
    return np.abs(a.astype(int) - b.astype(int)).mean() < tolerance


def test_dark_on_light_and_light_on_dark_give_the_same_mnist_digit():
    seven = np.asarray(draw_seven())
    dark_on_light, light_on_dark = to_mnist(seven), to_mnist(255 - seven)
    assert_mnist_form(dark_on_light)
    assert close(dark_on_light, light_on_dark, tolerance=1)


def test_a_thin_one_is_scaled_to_20_px_tall_and_centered():
    image = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(image).line([(150, 20), (170, 260)], fill=0, width=30)
    assert_mnist_form(to_mnist(np.asarray(image)))


def test_an_mnist_digit_stays_nearly_unchanged():
    disk = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(disk).ellipse([8, 4, 20, 23], outline=255, width=3)  # 13x20 ring, center of mass (13.5, 14)
    digit = np.asarray(disk)
    assert np.corrcoef(digit.ravel(), to_mnist(digit).ravel().astype(float))[0, 1] > 0.9


@pytest.mark.parametrize("size", [(240, 320), (2400, 3200)])  # the larger one is shrunk strip by strip first
def test_transparent_background_is_paper(tmp_path, size):
    seven = draw_seven(size)
    rgba = Image.new("RGBA", seven.size, (0, 0, 0, 0))  # transparent black: read as white paper, not black
    rgba.putalpha(Image.eval(seven, lambda v: 255 - v))
    rgba.save(tmp_path / "seven.png")
    assert close(load_image(tmp_path / "seven.png"), to_mnist(np.asarray(seven)), tolerance=1)


def test_white_ink_on_a_transparent_canvas_is_the_digit(tmp_path):
    """Before: a dark-mode pad's export, white strokes on transparent pixels, was all white on white paper:
    no digit found. Its shape is all in alpha, so it is read on black, as the pad showed it."""
    seven = draw_seven()
    rgba = Image.new("RGBA", seven.size, (255, 255, 255, 0))
    rgba.putalpha(Image.eval(seven, lambda v: 255 - v))
    rgba.save(tmp_path / "seven.png")
    assert close(load_image(tmp_path / "seven.png"), to_mnist(np.asarray(seven)), tolerance=1)
    Image.new("RGBA", seven.size, (255, 255, 255, 0)).save(tmp_path / "empty.png")
    assert not load_image(tmp_path / "empty.png").any()  # a canvas with nothing drawn is still blank


def test_16_bit_png_matches_8_bit(tmp_path):
    seven = np.asarray(draw_seven(ink=60, paper=200))  # mid-grays: clipping 16-bit values to 255 would lose the digit
    Image.fromarray(seven).save(tmp_path / "seven8.png")
    Image.fromarray(seven.astype(np.uint16) * 257).save(tmp_path / "seven16.png")
    assert Image.open(tmp_path / "seven16.png").mode.startswith("I")
    assert close(load_image(tmp_path / "seven16.png"), load_image(tmp_path / "seven8.png"), tolerance=1)


def test_animated_gif_uses_its_first_frame(tmp_path):
    seven, one = draw_seven(), Image.new("L", (240, 320), 255)
    ImageDraw.Draw(one).line([(120, 40), (120, 280)], fill=0, width=24)
    seven.save(tmp_path / "anim.gif", save_all=True, append_images=[one], duration=100, loop=0)
    digit = load_image(tmp_path / "anim.gif")
    assert close(digit, to_mnist(np.asarray(seven)), tolerance=2)
    assert not close(digit, to_mnist(np.asarray(one)))


def test_jpeg_bmp_tiff_and_exif_rotation(tmp_path):
    seven = draw_seven(mode="RGB")
    expected = to_mnist(np.asarray(seven))
    for name in ("seven.jpg", "seven.bmp", "seven.tif"):
        seven.save(tmp_path / name)
        assert close(load_image(tmp_path / name), expected), name
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display", as a phone held upright writes it
    seven.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "rotated.png", exif=exif)
    assert close(load_image(tmp_path / "rotated.png"), expected)


def test_a_big_colour_photo_is_read_as_its_grey_levels_before_it_is_shrunk(tmp_path):
    """A colour picture over the working size goes grey first (one channel to shrink, not three): byte for byte
    its grey version, blue ink included; and a big colour JPEG reads within a grey level of its grey copy."""
    photo = draw_seven(size=(1200, 1600), ink=(20, 40, 150), paper=(235, 230, 220), mode="RGB")
    photo.save(tmp_path / "colour.png")
    photo.convert("L").save(tmp_path / "grey.png")
    digit = load_image(tmp_path / "colour.png")
    assert_mnist_form(digit)
    assert np.array_equal(digit, load_image(tmp_path / "grey.png"))
    photo.save(tmp_path / "colour.jpg", quality=90)
    assert close(load_image(tmp_path / "colour.jpg"), digit, tolerance=1)


def test_npy_round_trip(tmp_path):
    seven = np.asarray(draw_seven())
    expected = to_mnist(seven)
    arrays = {
        "uint8.npy": seven,
        "float01.npy": seven / 255.0,
        "int_range.npy": seven.astype(np.int32) * 1000 - 5,
        "rgb.npy": np.repeat(seven[..., None], 3, axis=2),
        "gray_channel.npy": seven[..., None],
    }
    for name, array in arrays.items():
        np.save(tmp_path / name, array)
        assert close(load_image(tmp_path / name), expected, tolerance=1), name
    assert load_images([tmp_path / "uint8.npy", tmp_path / "rgb.npy"]).shape == (2, 28, 28)


@pytest.mark.parametrize("value", [0, 255, 128])
def test_blank_images_give_zeros(value):
    assert not to_mnist(np.full((50, 40), value, np.uint8)).any()
    noise = np.random.default_rng(0).integers(120, 126, (50, 40))
    assert not to_mnist(noise).any()


def test_huge_png_is_processed(tmp_path):
    image = Image.new("L", (10000, 10000), 255)
    ImageDraw.Draw(image).ellipse([4000, 3000, 5500, 7000], outline=0, width=300)
    image.save(tmp_path / "huge.png", compress_level=1)
    del image
    assert_mnist_form(load_image(tmp_path / "huge.png"))


def png_claiming_size(path, width, height):
    """A tiny PNG whose header claims width x height pixels, as a decompression bomb does."""
    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:33] = ihdr + struct.pack(">I", zlib.crc32(ihdr))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("size", [(13000, 12000), (20000, 20000)])  # over our cap; over Pillow's own
def test_decompression_bomb_is_refused(tmp_path, size):
    png_claiming_size(tmp_path / "bomb.png", *size)
    message = r"bomb\.png: more than 150 million pixels, a possible decompression bomb; downscale it\."
    with pytest.raises(ValueError, match=message):
        load_image(tmp_path / "bomb.png")


def test_bad_files_give_one_clear_sentence(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not a picture\n")
    (tmp_path / "text.npy").write_text("not an array\n")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(tmp_path / "cube.npy", np.zeros((4, 4, 4, 4)))
    np.save(tmp_path / "nan.npy", np.full((4, 4), np.nan))
    Image.new("L", (100, 100)).save(tmp_path / "cut.png")
    (tmp_path / "truncated.png").write_bytes((tmp_path / "cut.png").read_bytes()[:60])
    expected = {
        "missing.png": r"missing\.png: no such file; check the path\.",
        "empty.png": r"empty\.png: the file is empty \(0 bytes\); save the image again\.",
        "text.png": r"text\.png: not an image; use a PNG, JPEG, BMP, GIF, TIFF or \.npy file\.",
        "text.npy": r"text\.npy: not a valid \.npy file; save the array with numpy\.save\.",
        "objects.npy": r"objects\.npy: the \.npy file holds Python objects, which are never unpickled",
        "cube.npy": r"cube\.npy: unsupported array shape \(4, 4, 4, 4\); expected \(H, W\) or \(H, W, C\) with C",
        "nan.npy": r"nan\.npy: the array holds NaN or infinite values",
        "truncated.png": r"truncated\.png: the file is corrupt or truncated \(.*\); save it again\.",
    }
    for name, message in expected.items():
        with pytest.raises(ValueError, match=message):
            load_image(tmp_path / name)
    with pytest.raises(ValueError, match=r"unsupported array dtype complex128"):
        to_mnist(np.zeros((4, 4), complex))

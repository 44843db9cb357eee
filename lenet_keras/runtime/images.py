"""Turn a user's image file or array into MNIST's form, the way MNIST itself was made.

MNIST digits are light on a dark background, scaled so the longer side of the ink's
bounding box is 20 px, then placed in a 28x28 field with their center of mass at the
center. Numpy and Pillow only: no TensorFlow here.
"""

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from lenet_keras.runtime.masks import bounds
from lenet_keras.runtime.paper import find_ink
from lenet_keras.runtime.sides import paper_side
from lenet_keras.runtime.strokes import fill_outlines, is_blot, match_pen

__all__ = ["load_image", "load_images", "to_mnist"]

SIZE, BOX, CENTER = 28, 20, 14.0  # MNIST's field, digit box, and center of mass (pixel-index coordinates)
INK_THRESHOLD = 0.2  # of the brightest ink: what counts for the bounding box
# Of the ink's height: wider ink is no digit. The widest of MNIST's 60,000 training digits, USPS's and Semeion's
# are 2.5, 2.67 and 1.33 times as wide as tall; a dash drawn by hand is 5 or more.
WIDEST = 3.0
WORK_SIZE = 1024  # downscale to this long side before any float work, to bound memory and time
MAX_PIXELS = 150_000_000  # decompression-bomb cap; Pillow itself refuses from 179 MP, so it cannot be higher
LIGHT_INK_CONTRAST = 12.0  # grey levels: less than this on white paper, with more in alpha, is light ink on nothing
PLAIN_MODES = ("L", "RGB", "RGBA", "I", "F", "I;16", "I;16L", "I;16B", "I;16N")  # modes Pillow resizes well


class _InputError(ValueError):
    """A readable file or array that this module cannot use; its message is one sentence for the user."""


def _scale(a):
    """Any numeric array -> float32 in 0..255: values in [0, 1] (floats, booleans) are scaled by 255, values
    in 0..255 kept, other ranges min-max scaled."""
    a = a.astype(np.float32)
    lo, hi = float(a.min()), float(a.max())
    if not np.isfinite(lo) or not np.isfinite(hi):
        raise _InputError("the array holds NaN or infinite values; replace them with pixel values.")
    if lo >= 0 and hi <= 1:
        return a * 255
    if lo >= 0 and hi <= 255:
        return a
    return (a - lo) * (255 / (hi - lo))


def _to_gray(array):
    """(H, W) or (H, W, C) numeric array -> (H, W) float32 in 0..255, transparent pixels read as white paper."""
    a = np.asarray(array)
    if a.dtype.kind not in "biuf":
        raise _InputError(f"unsupported array dtype {a.dtype}; expected an array of numbers.")
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4))) or a.size == 0:
        raise _InputError(f"unsupported array shape {a.shape}; expected (H, W) or (H, W, C) with C = 1, 3 or 4.")
    a = _scale(a)
    if a.ndim == 2 or a.shape[2] == 1:
        return a.reshape(a.shape[:2])
    gray = a[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601 luma, as Pillow's convert("L")
    if a.shape[2] == 4:
        alpha = a[..., 3] / 255
        on_white = gray * alpha + 255 * (1 - alpha)
        # White ink on a transparent canvas (a dark-mode drawing pad's export) vanishes on white paper: all its
        # shape is in the alpha channel, so it is seen on black, as the pad showed it (it was "no digit found").
        if np.ptp(on_white) < LIGHT_INK_CONTRAST <= np.ptp(alpha) * 255:
            return gray * alpha
        return on_white
    return gray


def _center(digit):
    """Place a (h, w) digit, values 0..1, in a 28x28 field with its center of mass at (14, 14)."""
    h, w = digit.shape
    total = max(float(digit.sum()), 1e-6)
    ys, xs = np.indices(digit.shape)
    cy, cx = (ys * digit).sum() / total, (xs * digit).sum() / total
    # Clipping the shift keeps a lopsided digit inside the field, as a 20 px box always fits.
    top = int(np.clip(round(CENTER - cy), 0, SIZE - h))
    left = int(np.clip(round(CENTER - cx), 0, SIZE - w))
    canvas = np.zeros((SIZE, SIZE), np.float32)
    canvas[top : top + h, left : left + w] = digit
    return np.round(canvas * 255).astype(np.uint8)


def _crop(ink):
    """The box of the ink that counts (above INK_THRESHOLD of the brightest)."""
    top, bottom, left, right = bounds(ink > INK_THRESHOLD * float(ink.max()))
    return ink[top:bottom, left:right]


def to_mnist(array):
    """Image array (H, W) or (H, W, C) -> uint8 (28, 28) in MNIST's form; all zeros when there is no ink, or
    only a solid blot of it, or ink far wider than tall."""
    gray, paper_is_bright = paper_side(_to_gray(array))  # less a cell's frame, or the table around a sheet
    if paper_is_bright:  # a dark digit on bright paper, the usual photo or scan
        gray = 255 - gray
    ink = find_ink(gray)  # 0..1, zero away from the digit: light evened out, ruled lines and specks dropped
    if not (ink > INK_THRESHOLD).any():
        return np.zeros((SIZE, SIZE), np.uint8)
    box = _crop(ink)
    # A dot or a blot has no strokes to read (it read "4", "0" or "8" at over 93%); a dash, an underline or a
    # word is flatter than any digit.
    if is_blot(box) or box.shape[1] > WIDEST * box.shape[0]:
        return np.zeros((SIZE, SIZE), np.uint8)
    box = np.ascontiguousarray(_crop(match_pen(fill_outlines(box))))  # outlined strokes filled, then MNIST's pen
    h, w = box.shape
    size = (max(1, round(w * BOX / max(h, w))), max(1, round(h * BOX / max(h, w))))
    digit = np.asarray(Image.fromarray(box).resize(size, Image.Resampling.LANCZOS))
    return _center(np.clip(digit, 0, 1))  # LANCZOS rings slightly past 0..1


def _shrink(image):
    """Box-downscale a big decoded image a strip at a time; resizing it whole would copy it (RGBA twice)."""
    factor = max(image.size) // WORK_SIZE
    if factor < 2:
        return image
    rows = 64  # output rows per strip
    out = Image.new(image.mode, (-(-image.width // factor), -(-image.height // factor)))
    for top in range(0, out.height, rows):
        strip = image.crop((0, top * factor, image.width, min((top + rows) * factor, image.height)))
        out.paste(strip.resize((out.width, min(rows, out.height - top)), Image.Resampling.BOX), (0, top))
    return out


def _decode(image):
    """Opened Pillow image -> numpy array no larger than WORK_SIZE on its long side."""
    # A colour photo to be shrunk is read as its grey levels first, the luma `_to_gray` takes after (rounded to
    # whole levels): a JPEG then decodes its luma alone, and the shrinking filters one channel, not three.
    grey_first = max(image.size) > WORK_SIZE and "transparency" not in image.info
    mode = "L" if grey_first and image.mode == "RGB" else image.mode
    image.draft(mode, (WORK_SIZE, WORK_SIZE))  # JPEG: decode at 1/2..1/8 scale
    ImageOps.exif_transpose(image, in_place=True)  # phone photos store their rotation in EXIF
    if image.mode in ("P", "PA", "LA", "La", "RGBa") or "transparency" in image.info:
        image = image.convert("RGBA")  # keeps transparency, which is paper
    elif image.mode not in PLAIN_MODES:
        image = image.convert("L" if image.mode == "1" else "RGB")  # Pillow would resize "1" without antialiasing
    if grey_first and image.mode == "RGB":
        image = image.convert("L")  # ITU-R 601 luma, as `_to_gray`
    image = _shrink(image)
    image.thumbnail((WORK_SIZE, WORK_SIZE), Image.Resampling.LANCZOS)
    array = np.asarray(image)
    return array / np.float32(257) if image.mode.startswith("I;16") else array  # 16-bit -> 0..255


def _read_npy(path):
    try:  # the header alone gives dtype and shape, so nothing is loaded before they are checked
        with open(path, "rb") as f:
            fmt = np.lib.format
            read_header = fmt.read_array_header_1_0 if fmt.read_magic(f) == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = read_header(f)
    except ValueError:
        raise _InputError("not a valid .npy file; save the array with numpy.save.") from None
    if dtype.hasobject:
        raise _InputError("the .npy file holds Python objects, which are never unpickled; save a numeric array.")
    return np.load(path, allow_pickle=False)


def load_image(path):
    """Read a PNG, JPEG, BMP, GIF (first frame), TIFF or .npy file -> uint8 (28, 28) in MNIST's form."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file; check the path.")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty (0 bytes); save the image again.")
    try:
        if path.suffix.lower() == ".npy":
            return to_mnist(_read_npy(path))
        # Pillow warns from 89 MP; a 100 MP scan is fine here, as it is downscaled before any float work.
        with warnings.catch_warnings(action="ignore", category=Image.DecompressionBombWarning):
            with Image.open(path) as image:  # reads the header only, so the size is checked before decoding
                if image.size[0] * image.size[1] > MAX_PIXELS:
                    raise Image.DecompressionBombError
                return to_mnist(_decode(image))
    except _InputError as e:
        raise ValueError(f"{path}: {e}") from None
    except Image.DecompressionBombError:
        limit = MAX_PIXELS // 10**6
        message = f"more than {limit} million pixels, a possible decompression bomb; downscale it."
        raise ValueError(f"{path}: {message}") from None
    except Image.UnidentifiedImageError:
        raise ValueError(f"{path}: not an image; use a PNG, JPEG, BMP, GIF, TIFF or .npy file.") from None
    except PermissionError:
        raise ValueError(f"{path}: permission denied; make the file readable.") from None
    except Exception as e:  # corrupt data fails inside the decoders in many ways (OSError, SyntaxError, EOFError, ...)
        reason = f"{type(e).__name__}: {e}"
        raise ValueError(f"{path}: the file is corrupt or truncated ({reason}); save it again.") from None


def load_images(paths):
    """Read several image files -> uint8 (N, 28, 28)."""
    images = [load_image(p) for p in paths]
    return np.stack(images) if images else np.zeros((0, SIZE, SIZE), np.uint8)

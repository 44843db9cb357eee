"""Find the digit's ink in a photo or scan of paper: even out the light, separate ink from paper, keep the digit.

Numpy and Pillow only (scipy.ndimage alone would double `predict`'s start-up time). Works on an
image whose ink is already the bright side; `images.to_mnist` decides the polarity and does the rest.
"""

import numpy as np
from PIL import Image

from lenet_keras.runtime.masks import (
    border_pixels,
    dilate,
    label,
    median,
    on_border,
    paint,
    rank_filter,
    runs,
    thin_part,
)
from lenet_keras.runtime.strokes import stroke_width

__all__ = ["find_ink"]

CLEAN_SIZE = 320  # long side at which the ink is found; the digit ends up 20 px tall, so this is plenty
LIGHT_SIZE = 64  # long side at which the paper's brightness is estimated; light changes slowly
PAGE = 128  # px on the long side: a picture this big may be a page with a shadow on it, a smaller one is a crop
SMALL = 64  # images under this on the long side are arrays or thumbnails, not photos: no ruled lines
LIGHT_WINDOW = 0.5  # of the image's long side: wider than any stroke, so the opening keeps paper only
EVEN_LIGHT = 2.0  # of 255: paper whose level varies less than this (median deviation) is evenly lit
SHADE_WINDOW = 0.08  # of the image's long side: wider than a stroke, narrower than a shadow cast over the page
STROKES_ACROSS = 3  # stroke widths: the shade window is at least this wide (strokes meet, bend, have grey edges)
SHADE_AREA = 0.1  # of the picture: a shadow cast over the page is at least this big; a grey part of a stroke is not
SHADE = (0.1, 0.6)  # of the darkest ink: a wide region this much darker than the paper is shade (a marker is more)
MIN_CONTRAST = 12.0  # of 255: less than this between ink and paper is a blank image (UCI's 0-16 digits are not)
LINE_LENGTH = 0.75  # of the image's width: a thin run this long is a ruled line, not a stroke
LINE_GAP = 0.05  # of the image's width: gaps this short in a ruled line are noise
LINE_FILL = 0.5  # of a ruled line's span: at least this is ink (a path across squared paper's other lines is not)
CROSSING = 3  # coarse px: runs this short on a path are other lines crossing it, not the line's own ink
BRIDGE = 3  # px at CLEAN_SIZE: a line's pixels with ink this close on both sides stay: a stroke crossing it stays whole
LINE_SLOPES = np.linspace(-0.1, 0.1, 11)  # ruled lines tilted up to about 6 degrees
MIN_PIECE = 0.03  # of the digit's main stroke area: smaller pieces near it are specks, not parts of the digit
MIN_EXTENT = 0.15  # of the digit's main stroke's height or width: shorter pieces near it are specks
PIECE_INK = 0.75  # of the digit's darkest ink: a piece near it whose darkest ink is fainter is a stain, not a stroke


def _resize(a, shape, resample=Image.Resampling.BILINEAR):
    """Float (H, W) array -> float32 array of `shape`."""
    return np.asarray(Image.fromarray(a.astype(np.float32), "F").resize(shape[::-1], resample))


def _paper_of_small(x):
    """The paper's level in a small image: the median of the pixels darker than Otsu's threshold."""
    below = x[x < _otsu(x)]
    return float(median(below)) if below.size else float(x.min())


def _opening(a, k):
    """Grey opening of a float (H, W) array by a k x k square, what is wider than k stays. Padded first: an
    opening that pads at each step would read the paper near the border from further in, which under a
    vignette is brighter, and the border's darker paper would pass for ink."""
    padded = np.pad(a, k, mode="edge")
    return rank_filter(rank_filter(padded, k, np.min), k, np.max)[k:-k, k:-k]


def paper_level(x):
    """Ink-bright image (H, W) -> the paper under it (H, W): a grey opening wider than any stroke, smoothed."""
    scale = min(1.0, LIGHT_SIZE / max(x.shape))
    small = _resize(x, (max(1, round(x.shape[0] * scale)), max(1, round(x.shape[1] * scale))), Image.Resampling.BOX)
    k = 2 * int(LIGHT_WINDOW * max(small.shape) / 2) + 1
    smooth = rank_filter(_opening(small, k), 2 * (k // 8) + 1, np.mean)  # rounds the opening's corners, not a vignette
    return _resize(smooth, x.shape)


def _under(x, smooth, brightest, peak, k):
    """-> the paper under an opening of k, where it is paper rather than ink, and its shade (how much darker than
    the brightest paper it is). An opening of the raw pixels follows the paper's grain down; of smoothed
    pixels, it leaves a sharp edge of shadow a line of ink. The higher of the two does neither."""
    opened = np.maximum(_opening(smooth, k), _opening(x, k))
    shade = opened - brightest
    return opened, shade < SHADE[1] * peak, shade


def with_shade(x, paper):
    """Ink-bright photo (H, W) and its paper level -> the paper level under a shadow cast from beyond the
    picture (a hand, a phone, a pen), if there is one. `paper_level`'s opening is half the picture wide, so a
    shadow narrower than that was taken for ink and the digit read inside a grey bar, and a wider one left
    its edge as a line. A shadow is a region darker than the brightest paper, wider than any stroke, fainter
    than the ink, that reaches the border and covers a tenth of the picture at least; where there is one, the
    paper is an opening a stroke cannot fill, except where that opening is as dark as the ink (a marker's
    stroke wider than the opening)."""
    if max(x.shape) < PAGE:  # UCI's 8x8 digits enlarged to 64 px: grey edges of strokes filling it passed for shade
        return paper
    smooth = rank_filter(x, 3, np.mean)
    sample = paper[::4, ::4].ravel()
    brightest = float(np.partition(sample, sample.size // 10)[sample.size // 10])  # the paper out of any shade
    peak = float(smooth.max()) - brightest  # the darkest ink (not a noisy pixel) on that paper's scale
    if peak < MIN_CONTRAST:
        return paper
    # Wider than the strokes of the darkest ink, with room for where they meet or bend and for their grey edges.
    ink_width = stroke_width(smooth - brightest > SHADE[1] * peak)
    k = 2 * int(max(SHADE_WINDOW * max(x.shape), STROKES_ACROSS * ink_width) / 2) + 1
    # Whether there is a shadow is decided at half the resolution, a quarter of the work: a shadow is wider than
    # the window. Of 2,550 photos and stroke images, one came out otherwise than at full size, read the same.
    half = _resize(x, (x.shape[0] // 2, x.shape[1] // 2), Image.Resampling.BOX)
    k_half = 2 * (k // 4) + 1
    _, paper_like, shade = _under(half, rank_filter(half, 3, np.mean), brightest, peak, k_half)
    wide = _opening((paper_like & (shade > SHADE[0] * peak)).astype(np.float32), k_half) > 0.5
    if float(on_border(label(wide)[0]).mean()) < SHADE_AREA:
        return paper
    opened, paper_like, _ = _under(x, smooth, brightest, peak, k)
    # Where the paper level is already near the opening (light falling off across the page, which it follows)
    # it stays: on squared paper the opening's finer level lifted the grid and noise into the digit's picture.
    near = SHADE[0] * peak
    follow = paper_like * np.clip(2 * np.abs(opened - paper) / near - 1, 0, 1)
    return (paper + follow * (opened - paper)).astype(np.float32)


def _otsu(values, bins=128):
    """The threshold that best splits values into two classes (Otsu, 1979); a histogram, so no sort."""
    lo, hi = float(values.min()), float(values.max())
    step = (hi - lo) / bins or 1.0
    hist = np.bincount(np.minimum((values.ravel() - lo) / step, bins - 1).astype(np.int64), minlength=bins)
    p = hist / hist.sum()
    levels = lo + step * np.arange(bins)
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * levels)
    between = (m0[-1] * w0 - m0) ** 2 / np.maximum(w0 * (1 - w0), 1e-12)
    return float(levels[int(np.argmax(between[:-1])) + 1])


def _ruled_lines(mask):
    """Pixels of mask on a long, thin, nearly horizontal line that are not also part of a thicker stroke."""
    h, w = mask.shape
    coarse = mask[: h // 2 * 2, : w // 2 * 2].reshape(h // 2, 2, w // 2, 2).any(axis=(1, 3))  # 4x fewer pixels
    coarse[1:] |= coarse[:-1].copy()  # a pixel of slack, so a line tilted between two slopes still counts
    ch, cw = coarse.shape
    reach = int(np.ceil(np.abs(LINE_SLOPES).max() * cw / 2)) + 1
    padded = np.zeros((ch + 2 * reach, cw), bool)
    padded[reach : reach + ch] = coarse
    cols = np.arange(cw)
    on_line = np.zeros_like(padded)
    for slope in LINE_SLOPES:
        rows = (np.arange(ch + 2 * reach)[:, None] + np.round(slope * (cols - cw / 2)).astype(int)).clip(
            0, len(padded) - 1
        )
        sheared = padded[rows, cols]
        r, s, e = runs(sheared)
        if len(r) == 0:
            continue
        # A faint line breaks up under noise; runs in a row with short gaps between them are one line.
        joined = np.r_[False, (r[1:] == r[:-1]) & (s[1:] - e[:-1] <= LINE_GAP * cw)]
        first, last = np.flatnonzero(~joined), np.r_[np.flatnonzero(~joined)[1:], len(r)] - 1
        # Across squared paper a path meets the other family of lines every few pixels, gaps short enough to
        # join: such a path (along a 1's stroke, say) is long but mostly paper and crossings, and taking it for
        # a line cut the stroke away.
        filled = np.add.reduceat(np.where(e - s > CROSSING, e - s, 0), first)
        long = (e[last] - s[first] >= LINE_LENGTH * cw) & (filled >= LINE_FILL * (e[last] - s[first]))
        if long.any():
            r, s, e = r[first[long]], s[first[long]], e[last[long]]
            hit = paint(sheared.shape, r, s, e, np.ones(len(r), np.float32)) > 0
            on_line[rows[hit], np.broadcast_to(cols, rows.shape)[hit]] = True
    on_line = np.repeat(np.repeat(on_line[reach : reach + ch], 2, axis=0), 2, axis=1)
    on_line = np.pad(on_line, ((0, h - 2 * ch), (0, w - 2 * cw))) & mask
    if not on_line.any():
        return on_line
    r, s, e = runs(mask.T)  # a stroke crossing a line is taller there than the line is thick
    height = paint(mask.T.shape, r, s, e, (e - s).astype(np.float32)).T
    # The lines' own thickness, measured on them (most of their pixels are bare line): a thin stroke lying along a
    # line for a stretch, as a 1 along squared paper's vertical lines, is thicker than the line alone there.
    widest = _line_width(h)
    bare = height[on_line & (height <= widest)]
    return on_line & (height <= min(widest, float(median(bare)) + 1 if bare.size else widest))


def _between(mask, axis):
    """Pixels with mask within BRIDGE px on both sides along `axis` (0: above and below)."""
    before = np.zeros_like(mask)
    after = np.zeros_like(mask)
    for k in range(1, BRIDGE + 1):
        if axis == 0:
            before[k:] |= mask[:-k]
            after[:-k] |= mask[k:]
        else:
            before[:, k:] |= mask[:, :-k]
            after[:, :-k] |= mask[:, k:]
    return before & after


def _line_width(h):
    """The thickest a ruled line is in an image h pixels tall, after blur and thresholding."""
    return max(2, round(0.015 * h))


def _threads(mask):
    """Lines 1 px wide that run into the border of a small image whose digit stands clear of the border with
    strokes wider than that: a line drawn across the digit (a zigzag, a strike), not the digit. Empty for a
    digit drawn that thin (a 1-px pen, an 8x8 image) and for a tight crop, whose digit's own thin ends touch
    the border (a Semeion scan: 5.3 points of Semeion were lost without this)."""
    thin = thin_part(mask)
    wide = mask & ~thin
    if border_pixels(wide).any() or thin.sum() > 0.5 * mask.sum():
        return np.zeros_like(mask)
    return on_border(label(thin)[0])


def _keep_digit(labels, count, strong, ink, photo):
    """Labels of the digit: the heaviest component with strong ink, preferring one off the border, plus
    sizeable components near it (a 4 or a 5 often comes in pieces). In a photo, a component on the border
    must reach into the middle of the image: the table in a corner, a shadow or a page edge does not."""
    if count == 0:
        return []
    h, w = labels.shape
    flat = labels.ravel()
    area = np.bincount(flat, minlength=count + 1)[1:]
    has_strong = np.bincount(flat, weights=strong.ravel(), minlength=count + 1)[1:] > 0
    peak = np.zeros(count + 1, np.float32)
    np.maximum.at(peak, flat, ink.ravel())
    peak = peak[1:]
    ys, xs = np.indices(labels.shape)
    top = np.full(count + 1, h)
    bottom = np.full(count + 1, -1)
    left = np.full(count + 1, w)
    right = np.full(count + 1, -1)
    np.minimum.at(top, flat, ys.ravel())
    np.maximum.at(bottom, flat, ys.ravel())
    np.minimum.at(left, flat, xs.ravel())
    np.maximum.at(right, flat, xs.ravel())
    top, bottom, left, right = top[1:], bottom[1:], left[1:], right[1:]
    border = (top == 0) | (left == 0) | (bottom == h - 1) | (right == w - 1)
    central = (top < 0.75 * h) & (bottom > 0.25 * h) & (left < 0.75 * w) & (right > 0.25 * w)
    width = right - left + 1
    # A piece of a ruled line is thin and flat. Without "flat", a digit drawn with a 1-px pen (thin, but as tall
    # as it is wide) was taken for one and dropped: 78% of MNIST digits redrawn so on a 280 px canvas came out blank.
    flat = bottom - top + 1 <= 2 * _line_width(h)
    rule = (area <= _line_width(h) * width) & (width >= 4 * _line_width(h)) & flat
    extent = np.maximum(bottom - top, right - left) + 1
    # Judged by the picture's short side: on a wide canvas (a 1920x1080 drawing) a digit a seventh of its height
    # was under 8% of its width and dropped as a speck.
    speck = (area < 1e-3 * min(h, w) ** 2) | (extent < 0.08 * min(h, w)) if photo else area < 2
    candidate = has_strong & ~speck & (~border | central | (not photo)) & ~(rule & photo)
    if not candidate.any():
        return []
    if photo:
        score = area * np.where(border, 0.1, 1.0)
    else:
        # In a small image the digit often touches the border (a tight crop, or a stain that joins it and runs
        # there): a tenth of its area lost to a speck cluster off the border, and the digit was dropped (a
        # spattered 6 became a grey square). Here the border costs half, and faint ink counts for less.
        score = area * peak * np.where(border, 0.5, 1.0)
    score = np.where(candidate, score, -1.0)
    main = int(np.argmax(score))
    kept = {main}
    box = [top[main], bottom[main], left[main], right[main]]
    # A piece of the digit (a 5's bar, a stroke past a gap) is judged against the digit, not the image: in a
    # photo where the digit is small, a bar a tenth of the picture wide was a speck by the image's measure.
    # A thin flat piece may be the digit's own bar if it lies within the digit's width; a piece of a ruled
    # line runs past it.
    piece = has_strong & (area >= MIN_PIECE * area[main]) & (extent >= MIN_EXTENT * extent[main]) & (area >= 2)
    # A piece of the digit was written with the digit's pen: a spatter of grey dots or noise is fainter.
    piece &= peak >= PIECE_INK * peak[main]
    piece &= ~border | central | (not photo)
    for _ in range(3):  # a piece that joins can bring another into reach
        margin = 0.25 * max(box[1] - box[0], box[3] - box[2]) + 1
        within = (left >= box[2] - margin) & (right <= box[3] + margin)
        near = (
            piece
            & (~(rule & photo) | within)
            & (~border | border[main])
            & (top <= box[1] + margin)
            & (bottom >= box[0] - margin)
            & (left <= box[3] + margin)
            & (right >= box[2] - margin)
        )
        new = set(np.flatnonzero(near).tolist()) - kept
        if not new:
            break
        kept |= new
        idx = list(kept)
        box = [top[idx].min(), bottom[idx].max(), left[idx].min(), right[idx].max()]
    return [i + 1 for i in kept]


def find_ink(x):
    """Ink-bright image (H, W) float 0..255 -> the digit's ink (h, w) float32 in 0..1, zero off the digit;
    all zeros when there is no digit. (h, w) is (H, W) shrunk to CLEAN_SIZE on the long side."""
    scale = min(1.0, CLEAN_SIZE / max(x.shape))
    if scale < 1:
        x = _resize(x, (max(1, round(x.shape[0] * scale)), max(1, round(x.shape[1] * scale))), Image.Resampling.BOX)
    small = max(x.shape) < SMALL  # an array or a thumbnail, not a photo: no ruled lines, no border clutter
    # A small image is often a tight crop whose digit covers most of the border (USPS's and Semeion's scans:
    # 47 of USPS's 89 misreads came out blank when the border's median was taken for the paper), so its evenly
    # lit paper is the darker side of Otsu's split of the whole image. Unevenly lit, it is evened out as a
    # photo is: taken as one level, a slope of light (fog, a shadow over a thumbnail) passed for the paper's
    # noise, so high that no ink counted as strong (6 of 100 foggy MNIST digits came out blank).
    paper = paper_level(x)
    sample = paper[::4, ::4]  # medians of a smooth map: every 4th pixel says the same, sooner
    level = float(median(sample))
    if float(median(np.abs(sample - level))) < EVEN_LIGHT:  # evenly lit: one level, so ink on the border stays ink
        paper = np.full(x.shape, _paper_of_small(x) if small else level, np.float32)
    if not small:
        paper = with_shade(x, paper)
    contrast = x - paper  # ink above the local paper, in grey levels
    if float(contrast.max()) < MIN_CONTRAST:  # white or black paper, unevenly lit or not, or faint noise
        return np.zeros(x.shape, np.float32)
    ink = contrast / np.maximum(255 - paper, MIN_CONTRAST)  # relative to how bright the paper is there
    otsu = _otsu(ink)
    step = 1 if small else 2  # a quarter of a photo's pixels is plenty for a noise level
    paper_only = ink[::step, ::step][ink[::step, ::step] < otsu]
    spread = 1.4826 * float(median(np.abs(paper_only - median(paper_only))))  # the paper's own noise
    high = max(otsu, 4 * spread)
    strong = ink > high  # surely ink
    weak = ink > max(0.5 * high, 3 * spread)  # ink if it touches strong ink: faint strokes, a stroke's edges
    ink = np.clip(ink - 2 * spread, 0, None)  # the paper's noise is not ink, even next to a stroke
    if not small:
        across, down = _ruled_lines(weak), _ruled_lines(weak.T).T
        rest = weak & ~across & ~down
        # Where a thin stroke crosses a line at a slant it is as thin as the line, and went with it: on squared
        # paper a stroke crossed a line every few pixels and fell apart into specks. A line's pixels with other
        # ink close on both sides of the line join the stroke's pieces again.
        weak = rest | (across & _between(rest, 0)) | (down & _between(rest, 1))
    else:
        weak &= ~_threads(weak)
    labels, count = label(weak)
    kept = np.isin(labels, _keep_digit(labels, count, strong, ink, photo=not small))
    if not kept.any():
        return np.zeros(x.shape, np.float32)
    r = 1 + max(x.shape) // 64  # the anti-aliased edge of a stroke, below the threshold, belongs to it
    near = dilate(kept, r)
    digit = np.where(near, ink, 0).astype(np.float32)
    return digit / float(digit.max())

"""Avatar images: the upload decoded for real, checked, re-encoded square and small.

Only PNG, JPEG, WebP and GIF are accepted, recognised by their first bytes and then
decoded by Pillow (never trusting the client's content type or file name). Before
any pixel is decoded the image's size is checked against COLLAB_AVATAR_MAX_PIXELS
and COLLAB_AVATAR_MAX_SIDE (a small file can declare a huge image: a decompression
bomb). The first frame is turned upright (EXIF orientation), cropped to a centred
square and resized to SIZE x SIZE, then encoded anew as WebP (PNG where Pillow has
no WebP encoder): nothing of the upload's metadata (EXIF, GPS, ICC, comments) is kept.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError, features

from collab.accounts.errors import AccountError

SIZE = 256
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
CONTENT_TYPES = {"webp": "image/webp", "png": "image/png"}


@dataclass(frozen=True)
class Avatar:
    data: bytes
    extension: str  # "webp" or "png"
    version: str  # the content's hash: ETag and URL version

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.extension]


def too_large(max_bytes: int) -> AccountError:
    return AccountError(f"an avatar is at most {max_bytes} bytes", "avatar_too_large", 413)


def _sniffed_format(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _corrupt() -> AccountError:
    return AccountError("the image could not be decoded (damaged or truncated)", "avatar_corrupt")


def process_avatar(data: bytes, max_bytes: int, max_pixels: int, max_side: int) -> Avatar:
    """The avatar made from an upload; AccountError with the reason when it cannot be one."""
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    kind = _sniffed_format(data)
    if kind is None:
        raise AccountError("an avatar must be a PNG, JPEG, WebP or GIF image", "avatar_unsupported_type", 415)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[kind])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _dimensions(max_pixels, max_side) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise _corrupt() from exc
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels or max(width, height) > max_side:
            raise _dimensions(max_pixels, max_side)
        try:
            if kind == "JPEG":
                image.draft("RGB", (SIZE * 2, SIZE * 2))  # decode at a fraction of the size
            image.seek(0)
            image.load()
            upright = ImageOps.exif_transpose(image)
            has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            converted = upright.convert("RGBA" if has_alpha else "RGB")
            square = ImageOps.fit(converted, (SIZE, SIZE), method=Image.Resampling.LANCZOS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _dimensions(max_pixels, max_side) from exc
        except MemoryError:
            raise
        except Exception as exc:
            raise _corrupt() from exc
    return _encode(square)


def _dimensions(max_pixels: int, max_side: int) -> AccountError:
    return AccountError(
        f"an avatar image has at most {max_pixels} pixels and {max_side} pixels per side",
        "avatar_dimensions_too_large",
    )


def _encode(image: Image.Image) -> Avatar:
    out = io.BytesIO()
    if features.check("webp"):
        image.save(out, "WEBP", quality=85, method=4)
        extension = "webp"
    else:  # pragma: no cover - Pillow's wheels carry WebP
        image.save(out, "PNG", optimize=True)
        extension = "png"
    data = out.getvalue()
    return Avatar(data, extension, hashlib.sha256(data).hexdigest()[:16])

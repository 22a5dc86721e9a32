"""Photos of work orders on disk: <data_dir>/workorders/<order id>/<random>.<ext>.

Only JPEG, PNG and WebP images are kept, recognised by their first bytes (never
by the uploaded name or the browser's content type); the stored name is random,
so nothing from the upload reaches the file system, and the uploaded name is kept
only for display. The file is written under a temporary name and renamed into
place whole.
"""
import os
import secrets
from pathlib import Path

PHOTO_MAX_BYTES = 8 * 1024 * 1024
STORED_NAME_CHARS = set("0123456789abcdef.jpgnwebp")
TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class NotAnImage(ValueError):
    pass


def sniff(head: bytes) -> str | None:
    """'jpg', 'png', 'webp' or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def order_dir(root: Path, order_id: int) -> Path:
    return Path(root) / "workorders" / str(int(order_id))


def save_photo(root: Path, order_id: int, stream, max_bytes: int = PHOTO_MAX_BYTES):
    """Store an uploaded image; (stored_name, content_type, size). NotAnImage when it
    is not one of the accepted types or is larger than max_bytes."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise NotAnImage(f"larger than {max_bytes // (1024 * 1024)} MB")
    ext = sniff(data[:16])
    if ext is None:
        raise NotAnImage("not a JPEG, PNG or WebP image")
    folder = order_dir(root, order_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    part = folder / (name + ".part")
    with open(part, "wb") as fh:
        fh.write(data)
    os.replace(part, folder / name)
    return name, TYPES[ext], len(data)


def photo_path(root: Path, order_id: int, stored_name: str) -> Path:
    """The file of a stored photo; ValueError for a name this module did not make."""
    if not stored_name or set(stored_name) - STORED_NAME_CHARS or "/" in stored_name \
            or stored_name.startswith("."):
        raise ValueError(f"not a stored photo name: {stored_name!r}")
    return order_dir(root, order_id) / stored_name

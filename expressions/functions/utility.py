"""Utility built-ins: JSON, base64, URL encoding, uuid, hashes.

json_decode and base64_decode answer null for bad input rather than failing: they are
how a workflow probes untrusted text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from flowscript.expressions.functions.common import eval_error, integer, text
from flowscript.expressions.functions.lazy import lazy
from flowscript.expressions.functions.registry import builtin
from flowscript.expressions.limits import EvalContext
from flowscript.expressions.printing import to_json_limited
from flowscript.expressions.values import normalize_int

if TYPE_CHECKING:
    import uuid as _uuid
else:
    _uuid = lazy("uuid")

_HASHES = (
    "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_512", "blake2b", "blake2s",
)


@builtin("utility", context=True)
def json_encode(ctx: EvalContext, value: Any, indent: Any = None) -> str:
    """json_encode(value, indent?)
    The value as JSON text, compact unless an indent (spaces) is given; numbers print as in
    JavaScript (3, not 3.0) and NaN/Infinity as null."""
    width = None if indent is None else max(0, min(10, integer(indent)))
    return to_json_limited(value, ctx, width or None)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_int(digits: str) -> int | float:
    return normalize_int(int(digits)) if len(digits) < 300 else float(digits)


@builtin("utility")
def json_decode(s: Any) -> Any:
    """json_decode(s)
    The value a JSON text denotes, or null when it is not valid JSON."""
    if not isinstance(s, str):
        return None
    try:
        return json.loads(s, parse_constant=_reject_constant, parse_int=_parse_int)
    except (ValueError, RecursionError):
        return None


@builtin("utility", context=True)
def pretty(ctx: EvalContext, value: Any, indent: Any = 2) -> str:
    """pretty(value, indent=2)
    The value as indented JSON."""
    width = 2 if indent is None else max(0, min(10, integer(indent)))
    return to_json_limited(value, ctx, width or None)


@builtin("utility")
def base64_encode(s: Any) -> str | None:
    """base64_encode(s)
    The UTF-8 bytes of s in base64."""
    if s is None:
        return None
    return base64.b64encode(text(s).encode("utf-8", "surrogatepass")).decode("ascii")


@builtin("utility")
def base64_decode(s: Any) -> str | None:
    """base64_decode(s)
    The text whose UTF-8 bytes s encodes (standard or URL-safe alphabet, padding optional);
    null when s is not base64."""
    if not isinstance(s, str):
        return None
    data = "".join(s.split()).replace("-", "+").replace("_", "/")
    data += "=" * (-len(data) % 4)
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", "replace")


@builtin("utility")
def url_encode(s: Any) -> str:
    """url_encode(s)
    s percent-encoded as JavaScript's encodeURIComponent does ("a b&c" -> "a%20b%26c")."""
    return quote(text(s).encode("utf-8", "replace"), safe="-_.!~*'()")


@builtin("utility")
def url_decode(s: Any) -> str:
    """url_decode(s)
    s with %XX sequences decoded ("+" stays "+", as decodeURIComponent)."""
    return unquote(text(s), errors="replace")


@builtin("utility")
def uuid() -> str:
    """uuid()
    A random UUID (version 4)."""
    return str(_uuid.uuid4())


@builtin("utility", name="hash")
def hash_(s: Any, algorithm: Any = "sha256") -> str | None:
    """hash(s, algorithm="sha256")
    The hex digest of the UTF-8 bytes of s: md5, sha1, sha256, sha512 (and sha224, sha384,
    sha3_256, sha3_512, blake2b, blake2s)."""
    if s is None:
        return None
    name = "sha256" if algorithm is None else text(algorithm).lower().replace("-", "")
    name = {"sha3256": "sha3_256", "sha3512": "sha3_512"}.get(name, name)
    if name not in _HASHES:
        raise eval_error(f"unknown hash algorithm {text(algorithm)!r} ({', '.join(_HASHES)})")
    return hashlib.new(name, text(s).encode("utf-8", "surrogatepass")).hexdigest()

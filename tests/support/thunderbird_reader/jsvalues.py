"""JavaScript values as Thunderbird's JXON view holds them, and String() of them."""

from __future__ import annotations

import math
from typing import Any, Final


class Undefined:
    def __repr__(self) -> str:
        return "undefined"


UNDEF: Final = Undefined()
JS_SPACE: Final = "\t\n\v\f\r \xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    map(chr, range(0x2000, 0x200B))
)


def js_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return {dict: "[object Object]", Undefined: "undefined"}.get(type(value), str(value))


def falsy(value: Any) -> bool:
    number = isinstance(value, float) and (value == 0 or math.isnan(value))
    return value is UNDEF or value is False or value == "" or number

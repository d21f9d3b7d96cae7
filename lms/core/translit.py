"""Transliteration of Cyrillic for logins (the passport-style scheme of ГОСТ Р 52535.1-2006)."""

_TABLE = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "tc", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "iu", "я": "ia",
}


def transliterate(text: str) -> str:
    return "".join(_TABLE.get(c, _TABLE.get(c.lower(), c)) for c in text.lower())

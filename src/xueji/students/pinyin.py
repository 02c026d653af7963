"""The pinyin of a name: search keys (张三 = zhangsan = zs) and the 姓名拼音 item.

pypinyin reads a character as it is read in ordinary words; as a surname some characters
are read differently (单 shàn, not dān), and pypinyin has no surname mode, so the common
ones are listed here. Minority names with the middle dot (阿依古丽·买买提) put the given
name first and have no Chinese surname, so they are read as written.
"""

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

MIDDLE_DOT = "\u00b7"

# Surnames read differently from the character's everyday reading.
SURNAME_READINGS: dict[str, list[str]] = {
    "单": ["shan"],
    "曾": ["zeng"],
    "解": ["xie"],
    "仇": ["qiu"],
    "朴": ["piao"],
    "查": ["zha"],
    "区": ["ou"],
    "翟": ["zhai"],
    "乐": ["yue"],
    "覃": ["qin"],
    "缪": ["miao"],
    "盖": ["ge"],
    "召": ["shao"],
    "种": ["chong"],
    "秘": ["bi"],
    "繁": ["po"],
    "员": ["yun"],
    "折": ["she"],
    "句": ["gou"],
    "隗": ["wei"],
    "尉迟": ["yu", "chi"],
    "万俟": ["mo", "qi"],
    "长孙": ["zhang", "sun"],
    "单于": ["chan", "yu"],
}

# Two-character surnames, so the display splits 欧阳修 as "Ouyang Xiu".
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 西门 端木 "
    "独孤 南宫 万俟 闻人 轩辕 澹台 申屠 太史 呼延 钟离 宗政 濮阳 公冶 仲孙 单于 赫连 "
    "拓跋 百里 东郭 第五 司空 左丘 谷梁 淳于 公羊 梁丘 乐正 壤驷".split()
)

_LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z '\-]*$")
_QUERY_DROP = re.compile(r"[\s'’‘`]+")


def _syllables(text: str, *, display: bool = False) -> list[str]:
    return list(_cached_syllables(text, display))


# Surnames and given names repeat from student to student: an import of 100,000 rows asks
# pypinyin (a phrase-dictionary walk, some 15 µs a name) for far fewer distinct strings.
@lru_cache(maxsize=100_000)
def _cached_syllables(text: str, display: bool) -> tuple[str, ...]:
    return tuple(
        syllable
        for syllable in lazy_pinyin(text, style=Style.NORMAL, errors="ignore", v_to_u=display)
        if syllable.isalpha()
    )


def _split_surname(name: str) -> tuple[str, str]:
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def _surname_syllables(surname: str, *, display: bool = False) -> list[str]:
    reading = SURNAME_READINGS.get(surname)
    if reading is None:
        return _syllables(surname, display=display)
    return list(reading)


def _parts(name: str, *, display: bool = False) -> list[list[str]]:
    """The name's pinyin, as lists of syllables per written part: [surname, given] for a
    Chinese name, one part per dot-separated part of a minority name."""
    name = "".join(name.split())
    if MIDDLE_DOT in name:
        return [_syllables(part, display=display) for part in name.split(MIDDLE_DOT)]
    surname, given = _split_surname(name)
    return [_surname_syllables(surname, display=display), _syllables(given, display=display)]


def _is_latin(name: str) -> bool:
    return bool(_LATIN_NAME.match(name.strip()))


def pinyin_keys(name: str) -> tuple[str, str]:
    """("zhangsan", "zs") for 张三: the full pinyin without spaces and the initials."""
    name = (name or "").strip()
    if not name:
        return "", ""
    if _is_latin(name):
        words = re.split(r"[\s\-']+", name.lower())
        return "".join(words), "".join(word[0] for word in words if word)
    syllables = [syllable for part in _parts(name) for syllable in part]
    return "".join(syllables).lower(), "".join(s[0] for s in syllables).lower()


def _join_given(syllables: list[str]) -> str:
    """Syllables of one part run together, with the apostrophe before a, o or e (Xi'an)."""
    text = ""
    for syllable in syllables:
        if text and syllable[0] in "aoe":
            text += "'"
        text += syllable
    return text


def display_pinyin(name: str) -> str:
    """ "Zhang San" for 张三, "Ouyang Xiu" for 欧阳修, "Ayiguli Maimaiti" for 阿依古丽·买买提:
    the 姓名拼音 item when the registrar leaves it blank (GB/T 28039 style)."""
    name = (name or "").strip()
    if not name:
        return ""
    if _is_latin(name):
        return " ".join(name.split())
    words = [_join_given(part) for part in _parts(name, display=True)]
    return " ".join(word.capitalize() for word in words if word)


def normalise_query(text: str) -> str:
    """Search input as the keys are stored: lower case, without spaces and apostrophes."""
    text = unicodedata.normalize("NFKC", text or "")
    return _QUERY_DROP.sub("", text).lower()

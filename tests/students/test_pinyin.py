"""The pinyin of a name: search keys (张三 = zhangsan = zs) and the 姓名拼音 item."""

from hypothesis import given, settings
from hypothesis import strategies as st

from xueji.students.pinyin import display_pinyin, normalise_query, pinyin_keys


def test_it_gives_the_full_pinyin_and_the_initials():
    assert pinyin_keys("张三") == ("zhangsan", "zs")


def test_it_reads_surnames_as_surnames():
    assert pinyin_keys("单雄信") == ("shanxiongxin", "sxx")
    assert pinyin_keys("曾国藩")[0] == "zengguofan"
    assert pinyin_keys("解缙")[0] == "xiejin"


def test_it_drops_the_middle_dot_of_minority_names():
    assert pinyin_keys("阿依古丽·买买提") == ("ayigulimaimaiti", "ayglmmt")


def test_it_keys_a_foreign_name_by_its_letters():
    assert pinyin_keys("John Smith") == ("johnsmith", "js")


def test_a_blank_name_has_blank_keys():
    assert pinyin_keys("") == ("", "")
    assert display_pinyin("") == ""


def test_it_writes_the_name_pinyin_with_the_surname_apart():
    assert display_pinyin("张三") == "Zhang San"
    assert display_pinyin("王小明") == "Wang Xiaoming"
    assert display_pinyin("欧阳修") == "Ouyang Xiu"
    assert display_pinyin("阿依古丽·买买提") == "Ayiguli Maimaiti"
    assert display_pinyin("王西安") == "Wang Xi'an"
    assert display_pinyin("吕布") == "Lü Bu"
    assert display_pinyin("John  Smith") == "John Smith"


def test_it_normalises_search_input():
    assert normalise_query(" Zhang San ") == "zhangsan"
    assert normalise_query("xi'an") == "xian"
    assert normalise_query("ＺＳ") == "zs"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_pinyin_never_raises_and_keys_are_lowercase(text):
    full, initials = pinyin_keys(text)
    assert full == full.lower() and initials == initials.lower()
    display_pinyin(text)
    normalise_query(text)

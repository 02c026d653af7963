"""Synthetic people for the benchmark: names, ID numbers, addresses and families.

Names follow the national surname frequencies (王, 李, 张 ... with a long tail, a few
compound surnames and minority names with the middle dot) and the given-name characters
of children born 2010-2020, so name prefixes are as selective as in a real registry.
Search keys and the 姓名拼音 item come from the product's own functions
(students/pinyin.py), ID numbers carry the product's check character
(students/identity.py), so the data passes the product's own validation.

Everything is drawn from one seeded random generator: the same seed gives the same
people, so a cached dataset and a fresh one are the same data.
"""

from __future__ import annotations

import datetime
import random
import re
from functools import lru_cache

from xueji.students.identity import check_character
from xueji.students.pinyin import display_pinyin, pinyin_keys

# Surnames with their weight in 1/10,000 of the population, after the 2020 census lists.
_SURNAME_TABLE = (
    "王725 李719 张683 刘538 陈453 杨308 赵229 黄223 周189 吴205 徐162 孙154 胡116 朱131 高108 "
    "林107 何112 郭115 马144 罗95 梁89 宋79 郑92 谢84 韩72 唐76 冯70 于57 董60 萧20 程50 曹68 "
    "袁59 邓69 许74 傅30 沈44 曾64 彭65 吕47 苏49 卢42 蒋56 蔡55 贾31 丁46 魏48 薛18 叶51 阎17 "
    "余54 潘57 杜52 戴10 夏30 钟39 汪36 田62 任45 姜41 范35 方27 石33 姚43 谭38 廖32 邹25 熊23 "
    "金34 陆37 郝10 孔10 白26 崔40 康10 毛10 邱21 秦22 江20 史12 顾10 侯14 邵10 孟24 龙13 万10 "
    "段16 雷15 钱10 汤5 尹19 黎10 易5 常8 武10 乔6 贺10 赖5 龚10 文6 单3 仇2 解2 查2 翟3 欧阳3 "
    "司马1 诸葛1 上官1 尉迟1 "
)
SURNAMES: tuple[tuple[str, int], ...] = tuple(
    (match[1], int(match[2]))
    for match in re.finditer(r"(\D+)(\d+)", _SURNAME_TABLE.replace(" ", ""))
)
BOY_CHARACTERS = (
    "子浩宇轩俊博文睿泽辰铭昊然航杰豪鹏飞晨阳明哲嘉天佑锦程奕承志凯瑞鑫家乐宏梓沐"
    "一煜祺智宸正伟雨鸿振书逸远思建国强磊涛斌超勇军亮刚毅诚峰彬晟翰林皓钧"
)
GIRL_CHARACTERS = (
    "梓涵一诺欣怡紫萱依思雨桐可馨语佳诗若汐梦瑶妍蕊晨曦雅琪嫣悦婉清静芯彤萱婷颖雪"
    "然安若曦慧敏丽芳娜琳璐瑾露晴岚菲媛娇妮珊蓉莹倩洁美玉兰秀英佩"
)
# The popular given names of children born 2010-2020 (the public registration statistics).
POPULAR_BOYS = (
    "子轩 浩宇 浩然 宇轩 宇航 梓豪 俊熙 皓轩 子墨 博文 一鸣 晨阳 思远 梓睿 俊杰 泽宇 明哲 "
    "嘉豪 天佑 文博 锦程 子豪 奕辰 昊然 宇泽 承泽 睿泽 子睿 沐阳 一航 煜祺 智宸 鹏飞 振宇 "
    "铭轩 家乐 宏宇 奕博 梓航 浩轩 俊宇 宇辰 天翊 皓宇 子涵 明轩 思源 弘毅 嘉懿 致远"
).split()
POPULAR_GIRLS = (
    "梓涵 一诺 欣怡 紫萱 梓萱 依诺 思涵 雨桐 可馨 语桐 佳怡 诗涵 若汐 梦瑶 欣妍 雨萱 芯蕊 "
    "晨曦 雅琪 语嫣 雨涵 佳琪 梓琪 思琪 艺涵 诗琪 静怡 欣悦 可欣 婉清 梦琪 雨欣 紫涵 佳欣 "
    "一涵 梓妍 语汐 欣然 若曦 安琪 子涵 诗雨 梓晴 思彤 雨嘉 佳宜 依依 沐晴 芷若 语桐"
).split()
MINORITY_NAMES = (
    "阿依古丽·买买提 热依汗·艾力 古丽娜尔·吐尔逊 阿卜杜拉·艾山 迪丽拜尔·阿不都 努尔艾力·库尔班 "
    "帕提古丽·赛买提 伊力哈木·托合提"
).split()
FATHER_GIVEN = "建国 志强 伟 磊 军 海涛 明 勇 超 涛 斌 鹏 强 刚 亮 建华 国强 春雷 洪涛 永刚".split()
MOTHER_GIVEN = "丽 娟 静 敏 艳 芳 红梅 秀英 玉兰 丽娜 晓燕 春梅 海燕 桂芝 凤霞 慧 霞 玲".split()
# Characters read alike, for registrations a registrar misspelt (a homophone duplicate).
_HOMOPHONE_PAIRS = (
    "子梓 梓子 宇雨 雨宇 浩昊 昊浩 晨辰 辰晨 佳嘉 嘉佳 欣馨 馨欣 琪淇 杰捷 萱轩 轩萱 涵含 怡仪 "
    "博柏 泽择 "
)
HOMOPHONES = {pair[0]: pair[1] for pair in _HOMOPHONE_PAIRS.split()}
TOWN_NAMES = (
    "城关 东城 西城 南关 北关 新华 兴隆 太平 和平 永安 长安 马集 胡集 李庄 王楼 张寨 "
    "刘集 高庙 杨柳 柳林 双河 石桥 三里 南阳 大义 鸡黍 羊山 霄云 司马 化雨 卜集 金桥 "
    "杜庄 孙楼 黄屯 周营 吴店 赵洼 鱼山 王丕 高河 鸣鹿 肖云 羊村 樊楼 花园 梁宝寺 "
    "张黄 何营 崔口 唐口 岳庄 马营 满硐 南旺 白石 义桥 郭仓 苑庄 寅寺 康驿 次邱"
).split()
VILLAGE_SUFFIXES = "庄 楼 集 屯 营 寨 店 洼 村 湖".split()
STREETS = "人民路 中心街 建设路 文化路 解放路 胜利街 光明路 新华街 府前街 奎星路".split()
EMPLOYERS = (
    "务农 个体经营 在外务工 县人民医院 某建筑公司 某超市 运输个体 县第一实验小学 某物流公司 "
    "某机械厂 镇卫生院 某食品公司 "
).split()
SPECIALTIES = ("书法", "绘画", "篮球", "足球", "舞蹈", "钢琴", "武术", "朗诵", "围棋", "乒乓球")
MOBILE_PREFIXES = "134 135 136 137 138 139 150 151 152 157 158 159 182 187 188 177 178".split()
# Cohort sizes relative to each other: births in China peaked in 2016-2017 and fell after.
COHORT = {1: 0.84, 2: 0.9, 3: 1.0, 4: 1.1, 5: 1.06, 6: 1.02, 7: 1.0, 8: 0.99, 9: 0.97}


@lru_cache(maxsize=500_000)
def keys_of(name: str) -> tuple[str, str]:
    """The product's search keys ("zhangsan", "zs"); names repeat, so they are cached."""
    return pinyin_keys(name)


@lru_cache(maxsize=500_000)
def display_of(name: str) -> str:
    """The product's 姓名拼音 ("Zhang San"), as validation fills it in."""
    return display_pinyin(name)[:100]


def homophone(name: str) -> str | None:
    """The same name in other characters read alike, if one is known."""
    for position in range(len(name) - 1, 0, -1):
        other = HOMOPHONES.get(name[position])
        if other is not None:
            candidate = name[:position] + other + name[position + 1 :]
            if keys_of(candidate)[0] == keys_of(name)[0]:
                return candidate
    return None


def birth_window(grade: int, school_year: int) -> tuple[datetime.date, datetime.date]:
    """Six years old on 31 August of the primary entry year, as the entry rule wants."""
    entry = school_year - (grade - 1)
    return datetime.date(entry - 7, 9, 1), datetime.date(entry - 6, 8, 31)


def stage_entry_year(grade: int, school_year: int) -> int:
    """The year the student entered the stage of this grade (入学年月, kept on transfer)."""
    return school_year - (grade - 1) if grade <= 6 else school_year - (grade - 7)


class People:
    """One county's people, from one seeded generator.

    ID numbers are unique by construction: a sequence is counted per address code, birth
    date and sex, and each county draws its migrants from address codes no other county
    of the dataset uses, so counties can be generated one at a time.
    """

    def __init__(self, seed: int, home_area: str, outside_areas: list[str]):
        self.rng = random.Random(seed)
        self.home_area = home_area
        self.outside_areas = outside_areas or [home_area]
        self.surnames = [name for name, _weight in SURNAMES]
        self.cumulative = []
        total = 0
        for _name, weight in SURNAMES:
            total += weight
            self.cumulative.append(total)
        self._counters: dict[tuple[str, datetime.date, str], int] = {}

    # --- names -------------------------------------------------------------------------

    def surname(self) -> str:
        return self.rng.choices(self.surnames, cum_weights=self.cumulative)[0]

    def given(self, sex: str) -> str:
        """Given names concentrate: six in ten are among the popular names of their years,
        the others are drawn from the characters parents like (one in seven just one)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.6:
            return rng.choice(POPULAR_BOYS if sex == "1" else POPULAR_GIRLS)
        pool = BOY_CHARACTERS if sex == "1" else GIRL_CHARACTERS
        if roll < 0.66:
            return rng.choice(pool)
        return rng.choice(pool) + rng.choice(pool)

    def child_name(self, sex: str) -> tuple[str, str]:
        """(name, surname); one in a thousand is a minority name with the middle dot."""
        if self.rng.random() < 0.001:
            name = self.rng.choice(MINORITY_NAMES)
            return name, name
        surname = self.surname()
        return surname + self.given(sex), surname

    # --- numbers ------------------------------------------------------------------------

    def id_number(self, area: str, born: datetime.date, sex: str) -> str:
        """A valid 居民身份证号 never given before in this dataset: odd 17th digit for a
        man, even for a woman, and the product's check character."""
        key = (area, born, sex)
        count = self._counters.get(key, 0)
        if count >= 500:
            raise ValueError(f"no ID number left for {key}")
        self._counters[key] = count + 1
        sequence = count * 2 + (1 if sex == "1" else 0)
        first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
        return first17 + check_character(first17)

    def j_number(self, area: str, born: datetime.date) -> str:
        """A J national number (no usable ID number): division + birth date + sequence."""
        key = (area, born, "J")
        count = self._counters.get(key, 0) + 1
        self._counters[key] = count
        body = f"{area}{born:%Y%m%d}{count:03d}"
        return "J" + body + check_character(body)

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def date_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        return first + datetime.timedelta(days=self.rng.randrange((last - first).days + 1))

    def area(self) -> str:
        """Where the child was first registered: at home, or (4%) a migrant's county."""
        if self.rng.random() < 0.04:
            return self.rng.choice(self.outside_areas)
        return self.home_area

    # --- places and families -------------------------------------------------------------

    def address(self, county_name: str, township_name: str, town: bool) -> str:
        rng = self.rng
        if town:
            return f"{county_name}{township_name}{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
        village = self.surname()[0] + rng.choice(VILLAGE_SUFFIXES)
        return f"{county_name}{township_name}{village}村{rng.randrange(1, 200)}号"

    def parents(self, surname: str, child_born: datetime.date, area: str) -> list[dict]:
        """Father and mother as the household register shows them; both are guardians in
        seven families of ten, the father alone in the others."""
        rng = self.rng
        year = child_born.year
        both = rng.random() < 0.7
        members = []
        for position, (relation, sex, given, age, guardian) in enumerate(
            (
                ("1", "1", rng.choice(FATHER_GIVEN), rng.randint(24, 38), True),
                ("2", "2", rng.choice(MOTHER_GIVEN), rng.randint(22, 35), both),
            ),
            start=1,
        ):
            born = self.date_between(
                datetime.date(year - age, 1, 1), datetime.date(year - age, 12, 28)
            )
            family_name = surname if position == 1 and len(surname) <= 2 else self.surname()
            members.append(
                {
                    "position": position,
                    "name": family_name + given,
                    "relation": relation,
                    "ethnicity": "01",
                    "employer": rng.choice(EMPLOYERS),
                    "phone": self.mobile(),
                    "is_guardian": guardian,
                    "id_type": "1",
                    "id_number": self.id_number(area, born, sex),
                    "position_title": "",
                }
            )
        return members

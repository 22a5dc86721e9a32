"""The sound files FreeSWITCH's say modules play, with what each one says.

Read from the module sources (src/mod/say/mod_say_zh/mod_say_zh.c and
mod_say_en/mod_say_en.c, FreeSWITCH 1.11.1) for the say types the IVR uses:
NUMBER (PRONOUNCED; COUNTED), ITEMS ITERATED (digit strings), CURRENCY and
CURRENT_DATE. Both modules play `<sound_prefix>/<name>.wav`; the build renders
each name into paths.say_dir(prompts_dir, language). Time of day, time
measurement, IP addresses and spelling are not covered.
"""

ZH_DIGITS = "零一二三四五六七八九"
EN_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
           "fourteen fifteen sixteen seventeen eighteen nineteen").split()
EN_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy",
           8: "eighty", 9: "ninety"}
EN_ORDINALS = ("first second third fourth fifth sixth seventh eighth ninth").split()
EN_DAYS = "Sunday Monday Tuesday Wednesday Thursday Friday Saturday".split()
EN_MONTHS = ("January February March April May June July August September October "
             "November December").split()

# The money is renminbi: mod_say_en names the files dollar(s)/cent(s), and
# mod_say_zh's "zh" interface dollar/cent; what they say is yuan and fen.
ZH = {
    # zh_say_general_count: ITERATED plays digits/<c>; PRONOUNCED builds 亿/万/千/百/十
    **{f"digits/{n}": ZH_DIGITS[n] for n in range(10)},
    "digits/10": "十",
    "digits/100": "百",
    "digits/1000": "千",
    "digits/10000": "万",
    "digits/100000000": "亿",
    "digits/ordinal": "第",  # NUMBER COUNTED
    # zh_CN_say_money (interface zh_CN): 元, then one digit each for 角 分 厘
    "currency/negative": "负",
    "currency/yuan": "元",
    "currency/jiao": "角",
    "currency/fen": "分",
    "currency/li": "厘",
    # zh_say_money (interface zh): <count> dollar <count> cent
    "currency/dollar": "元",
    "currency/cent": "分",
    # zh_say_time, CURRENT_DATE: year digit by digit 年, month 月, day 日, weekday
    "time/year": "年",
    "time/month": "月",
    "time/day": "日",
    **{f"time/day-{n}": "星期" + "日一二三四五六"[n] for n in range(7)},
}

EN = {
    # en_say_general_count / play_group: 0-19, the tens, hundred, thousand, million
    **{f"digits/{n}": EN_ONES[n] for n in range(20)},
    **{f"digits/{n}0": word for n, word in EN_TENS.items()},
    "digits/hundred": "hundred",
    "digits/thousand": "thousand",
    "digits/million": "million",
    # COUNTED (the day of the month): h-1..h-9 and h-20..h-90; 10-19 play the cardinals
    **{f"digits/h-{n + 1}": word for n, word in enumerate(EN_ORDINALS)},
    **{f"digits/h-{n}0": word[:-1] + "ieth" for n, word in EN_TENS.items()},
    # en_say_money: [negative] <count> dollar(s) [and <count> cent(s)]
    "currency/negative": "minus",
    "currency/dollar": "yuan",
    "currency/dollars": "yuan",
    "currency/and": "and",
    "currency/cent": "fen",
    "currency/cents": "fen",
    # en_say_time, CURRENT_DATE: weekday, month, day (COUNTED), year (PRONOUNCED_YEAR)
    **{f"time/day-{n}": day for n, day in enumerate(EN_DAYS)},
    **{f"time/mon-{n}": month for n, month in enumerate(EN_MONTHS)},
}

SAY_FILES = {"zh": ZH, "en": EN}

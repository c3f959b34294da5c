"""The clean records of one sample year: one polars frame per ledger, typed as the templates say.

These are the rows a perfect loader would end up with. `figures.py` computes the report's
figures from them, and `messy.py` dresses them up as the spreadsheets clerks really send.
Every frame is built column-wise from a numpy Generator, so the same functions can give a
benchmark 100k–4M rows (`scale`).

Period-ledger frames carry `_month`, the month of the file that holds the row (usually the
row's own month); every frame carries `_tag`, which marks the few rows that exist to carry a
documented clerk mistake (`None` elsewhere).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl

from flows.sample import fakes
from flows.sample.workdays import nth_workdays_after

DEFAULT_SEED = 20240101
BASE_YEAR = 2024


@dataclasses.dataclass(frozen=True)
class Targets:
    """How many rows and how much of each amount one year's ledgers hold."""

    campaigns: int = 12
    campaign_rows: int = 120
    joint_tasks: int = 4
    joint_rows: int = 8
    random_tasks: int = 6
    random_rows: int = 30
    venue_inspections: int = 888
    online_patrols: int = 60
    person_times: int = 1776
    relic_patrols: int = 109
    confiscated_rows: int = 16
    books_confiscated: int = 684
    removed_rows: int = 28
    books_removed: int = 6032
    cases: int = 31
    fined_cases: int = 20
    fines: int = 13650
    confiscating_cases: int = 9
    confiscated_yuan: int = 7050
    hotline: int = 48
    accidents: int = 0
    publicity_events: int = 153
    theme_day_events: int = 27
    online_events: int = 30
    posters: int = 72460
    leaflets: int = 31000
    banners: int = 114
    reach: int = 81200
    wechat_posts: int = 226
    xi_studies: int = 21
    xi_trainings: int = 3
    meetings: int = 6
    warning_sessions: int = 4
    other_sessions: int = 14
    officers: int = 10
    expired_certs: int = 0
    reviewers: int = 2
    qualified_reviewers: int = 1


# Amounts that clerks write in round numbers: the multiple each is drawn in.
ROUNDING = {"posters": 10, "leaflets": 10, "reach": 100, "fines": 50, "confiscated_yuan": 50}
# Counts that stay small whatever the year (people, tasks, incidents).
STEADY = {"accidents", "qualified_reviewers", "reviewers", "expired_certs", "officers"}


def targets_for(year: int, seed: int = DEFAULT_SEED, scale: float = 1.0) -> Targets:
    """Return the targets of a year: the published 2024 figures, others varied by 5–25%."""
    base = Targets()
    values = dataclasses.asdict(base)
    if year != BASE_YEAR:
        rng = np.random.default_rng([seed, year, 1])
        for name, value in values.items():
            if name in STEADY:
                continue
            factor = 1 + rng.choice([-1, 1]) * rng.uniform(0.05, 0.25)
            step = ROUNDING.get(name, 1)
            new = round(value * factor / step) * step
            values[name] = new if new != value else value + step
        values["accidents"] = int(rng.integers(0, 2))
        values["expired_certs"] = int(rng.integers(0, 2))
        ratio = values["venue_inspections"] / base.venue_inspections
        values["person_times"] = round(base.person_times * ratio * rng.uniform(0.97, 1.03))
    if scale != 1.0:
        for name, value in values.items():
            if name not in STEADY:
                values[name] = max(1, round(value * scale)) if value else 0
    values["campaigns"] = min(values["campaigns"], values["campaign_rows"])
    values["joint_tasks"] = min(values["joint_tasks"], values["joint_rows"])
    values["random_tasks"] = min(values["random_tasks"], values["random_rows"])
    values["person_times"] = max(
        values["person_times"], values["venue_inspections"] + values["online_patrols"]
    )
    return Targets(**values)


# ---------------------------------------------------------------- helpers


def _days_in_months(year: int, months: np.ndarray) -> np.ndarray:
    start = np.array([f"{year}-{m:02d}" for m in range(1, 13)], dtype="datetime64[M]")
    lengths = ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(int)
    return lengths[months - 1]


def dates_in_months(rng: np.random.Generator, year: int, months: np.ndarray) -> np.ndarray:
    """Draw one day inside each given month of a year."""
    months = np.asarray(months, dtype=np.int64)
    first = np.datetime64(f"{year}-01", "M") + (months - 1)
    offset = (rng.random(len(months)) * _days_in_months(year, months)).astype(np.int64)
    return first.astype("datetime64[D]") + offset


def dates_in_year(
    rng: np.random.Generator, year: int, n: int, last: dt.date | None = None
) -> np.ndarray:
    """Draw n sorted days of a year, up to `last`."""
    start = np.datetime64(dt.date(year, 1, 1))
    stop = np.datetime64(last or dt.date(year, 12, 31))
    span = int((stop - start).astype(int)) + 1
    return np.sort(start + rng.integers(0, span, n))


def split_total(
    rng: np.random.Generator, total: int, n: int, minimum: int = 0, step: int = 1
) -> np.ndarray:
    """Split a total into n parts of at least `minimum`, each a multiple of `step`."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    units = total // step - n * (minimum // step)
    weights = rng.gamma(2.0, 1.0, n)
    parts = rng.multinomial(max(units, 0), weights / weights.sum())
    return (parts + minimum // step) * step


def _date_series(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype("datetime64[D]")).cast(pl.Date)


def _texts(values: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(values, dtype=object).tolist(), dtype=pl.Utf8)


def _pick(rng: np.random.Generator, values: list[str] | np.ndarray, n: int, p=None) -> np.ndarray:
    return np.asarray(values)[rng.choice(len(values), n, p=p)]


# ---------------------------------------------------------------- vocabularies

CAMPAIGNS = [
    ("元旦春节文化市场专项检查", 1), ("全国两会期间文化市场专项检查", 3),
    ("清明节文物安全专项检查", 4), ("“五一”假期文化和旅游市场专项检查", 5),
    ("中高考期间娱乐场所噪音专项检查", 6), ("端午节文化市场专项检查", 6),
    ("暑期文化市场专项检查", 7), ("“护苗”出版物市场专项检查", 8),
    ("秋季开学校园周边文化市场专项检查", 9), ("中秋国庆文化和旅游市场专项检查", 10),
    ("冬季文化场所安全生产专项检查", 11), ("年末岁尾文化市场专项检查", 12),
]  # fmt: skip

VENUE_SUFFIX = {
    "网吧": "网吧", "歌舞娱乐场所": "KTV", "游艺娱乐场所": "游艺厅", "出版物经营单位": "书店",
    "印刷企业": "印刷厂", "演出场所": "剧场", "旅行社": "旅行社", "星级饭店": "大酒店",
}  # fmt: skip
SCENIC = [
    "火石寨国家森林公园",
    "将台堡红军长征会师纪念园",
    "党家岔震湖景区",
    "龙王坝村乡村旅游景区",
]
RELIC_SITES = [
    ("将台堡红军会师旧址", "全国重点文物保护单位"), ("单家集陕甘支队旧址", "全国重点文物保护单位"),
    ("火石寨石窟", "自治区级文物保护单位"), ("扫竹岭石窟", "自治区级文物保护单位"),
    ("兴隆镇古城遗址", "自治区级文物保护单位"), ("西吉堡子山烽火台", "县级文物保护单位"),
    ("硝河城遗址", "县级文物保护单位"), ("月亮山古堡遗址", "县级文物保护单位"),
    ("偏城乡古墓群", "县级文物保护单位"), ("红耀乡清真寺旧址", "县级文物保护单位"),
    ("苏堡古城", "县级文物保护单位"), ("马莲乡长城烽燧", "未定级不可移动文物"),
    ("田坪乡古窑址", "未定级不可移动文物"), ("沙沟乡堡子遗址", "未定级不可移动文物"),
]  # fmt: skip
ONLINE_VENUES = ["抖音西吉本地直播账号", "快手西吉本地直播账号", "微信视频号本地账号",
                 "网络游戏运营平台", "网络表演经营平台"]  # fmt: skip
INSPECTED_TYPES = ["网吧", "歌舞娱乐场所", "游艺娱乐场所", "出版物经营单位", "印刷企业",
                   "演出场所", "A级旅游景区", "旅行社", "星级饭店", "文物保护单位"]  # fmt: skip
INSPECTED_WEIGHTS = np.array([22, 14, 6, 14, 5, 4, 10, 8, 7, 10], dtype=float)


def venue_pool(rng: np.random.Generator, per_type: int = 8) -> pl.DataFrame:
    """Draw the county's inspectable venues: type and name."""
    frames = []
    for venue_type, suffix in VENUE_SUFFIX.items():
        names = fakes.shop_names(rng, per_type * 3, suffix).unique(maintain_order=True)[:per_type]
        frames.append(pl.DataFrame({"venue_type": venue_type, "venue_name": names}))
    frames.append(pl.DataFrame({"venue_type": "A级旅游景区", "venue_name": SCENIC}))
    frames.append(
        pl.DataFrame({"venue_type": "文物保护单位", "venue_name": [s for s, _ in RELIC_SITES[:6]]})
    )
    frames.append(pl.DataFrame({"venue_type": "网络平台", "venue_name": ONLINE_VENUES}))
    return pl.concat(frames)


def pick_venues(rng: np.random.Generator, pool: pl.DataFrame, types: np.ndarray) -> pl.DataFrame:
    """Pick one venue of each given type from the pool."""
    pool = pool.with_columns(
        pl.int_range(pl.len()).over("venue_type").alias("k"),
        pl.len().over("venue_type").alias("size"),
    )
    want = pl.DataFrame({"venue_type": types, "u": rng.random(len(types))})
    sizes = pool.group_by("venue_type").agg(pl.first("size"))
    want = want.join(sizes, on="venue_type", how="left", maintain_order="left")
    want = want.with_columns((pl.col("u") * pl.col("size")).cast(pl.Int64).alias("k"))
    out = want.join(
        pool.select("venue_type", "k", "venue_name"),
        on=["venue_type", "k"],
        how="left",
        maintain_order="left",
    )
    return out.select("venue_name", "venue_type")


def name_lists(
    rng: np.random.Generator, names: list[str], counts: np.ndarray, cap: int = 4
) -> pl.Series:
    """Pick, for each row, `count` distinct names (at most `cap`) from a list."""
    n = len(counts)
    start = rng.integers(0, len(names), n)
    columns = []
    for j in range(cap):
        picked = np.asarray(names)[(start + j) % len(names)]
        columns.append(pl.Series(f"n{j}", picked).set(pl.Series(counts <= j), None))
    frame = pl.DataFrame(columns)
    return frame.select(pl.concat_list(pl.all()).list.drop_nulls().alias("names")).to_series()


# ---------------------------------------------------------------- ledgers


def staff(year: int, rng: np.random.Generator, t: Targets) -> pl.DataFrame:
    """Draw the roster at the end of the year: officers, legal reviewers, office staff."""
    n = t.officers + t.reviewers + 2
    names = fakes.person_names(rng, n * 4).unique(maintain_order=True)[:n]
    roles = ["执法"] * t.officers + ["法制审核"] * t.reviewers + ["综合"] * 2
    valid = _date_series(np.datetime64(dt.date(year + 1, 1, 1)) + rng.integers(0, 3 * 365, n))
    expired = _date_series(np.datetime64(dt.date(year, 3, 1)) + rng.integers(0, 200, n))
    frame = pl.DataFrame(
        {
            "name": names,
            "role": roles,
            "cert_no": f"6404{year % 100:02d}"
            + pl.Series(rng.integers(0, 99999, n)).cast(pl.Utf8).str.zfill(5),
        }
    )
    pos = pl.int_range(pl.len())
    return (
        frame.with_columns(
            pl.when((pos >= t.officers - t.expired_certs) & (pos < t.officers))
            .then(expired)
            .otherwise(valid)
            .alias("cert_valid_until"),
            (pl.col("role").eq("法制审核") & (pos < t.officers + t.qualified_reviewers)).alias(
                "bar_qualified"
            ),
            pl.lit(None, pl.Utf8).alias("_tag"),
        )
        .with_columns(
            pl.when(pl.col("role") == "综合")
            .then(None)
            .otherwise(pl.col("cert_no"))
            .alias("cert_no"),
            pl.when(pl.col("role") == "综合")
            .then(None)
            .otherwise(pl.col("cert_valid_until"))
            .alias("cert_valid_until"),
        )
        .select("name", "cert_no", "cert_valid_until", "role", "bar_qualified", "_tag")
    )


def certified_officers(roster: pl.DataFrame, year: int) -> list[str]:
    """Return the officers whose certificate holds all year: the ones named in ledgers."""
    ok = roster.filter(
        (pl.col("role") == "执法") & (pl.col("cert_valid_until") >= dt.date(year, 12, 31))
    )
    return ok["name"].to_list()


def inspections(
    year: int, rng: np.random.Generator, t: Targets, officers: list[str], pool: pl.DataFrame
) -> pl.DataFrame:
    """Draw the year's inspections: campaigns, spot checks, daily visits and online patrols."""
    n_daily = t.venue_inspections - t.campaign_rows - t.joint_rows - t.random_rows
    camp_k = np.arange(t.campaign_rows) % t.campaigns
    names = [
        f"{CAMPAIGNS[k % 12][0]}" + (f"（第{k // 12 + 1}轮）" if k >= 12 else "")
        for k in range(t.campaigns)
    ]
    camp_month = np.array([CAMPAIGNS[k % 12][1] for k in range(t.campaigns)])[camp_k]
    joint_k = np.arange(t.joint_rows) % t.joint_tasks
    joint_month = np.array([3, 6, 9, 11])[joint_k % 4]
    rand_k = np.arange(t.random_rows) % t.random_tasks
    rand_month = (2 + 2 * (rand_k % 6))[:]  # Feb, Apr, … Dec
    types = np.concatenate(
        [
            np.full(t.campaign_rows, "专项检查"),
            np.full(t.joint_rows, "联合抽查"),
            np.full(t.random_rows, "双随机抽查"),
            np.full(n_daily, "日常检查"),
            np.full(t.online_patrols, "网上巡查"),
        ]
    )
    days = np.concatenate(
        [
            dates_in_months(rng, year, camp_month),
            dates_in_months(rng, year, joint_month),
            dates_in_months(rng, year, rand_month),
            dates_in_year(rng, year, n_daily),
            dates_in_year(rng, year, t.online_patrols),
        ]
    )
    n = len(types)
    online = types == "网上巡查"
    venue_types = np.where(
        online,
        "网络平台",
        _pick(rng, INSPECTED_TYPES, n, INSPECTED_WEIGHTS / INSPECTED_WEIGHTS.sum()),
    )
    # Officers go out in twos; a few visits take three, some (and every online patrol) one.
    people = np.where(online, 1, 2)
    offline = np.flatnonzero(~online)
    diff = t.person_times - int(people.sum())
    if diff >= 0:
        people[offline] += rng.multinomial(diff, np.full(len(offline), 1 / len(offline)))
    else:
        people[rng.choice(offline, -diff, replace=False)] = 1
    twos = np.flatnonzero(people == 2)
    k = min(len(twos) // 2, max(1, n // 25))
    swap = rng.choice(twos, 2 * k, replace=False)
    people[swap[:k]] += 1
    people[swap[k:]] -= 1
    result = np.where(
        online,
        "未发现问题",
        _pick(rng, ["未发现问题", "责令整改", "立案查处"], n, [0.8, 0.17, 0.03]),
    )
    spot = (types == "联合抽查") | (types == "双随机抽查")
    disclosed = np.where(spot, days + rng.integers(5, 16, n), np.datetime64("NaT"))
    campaign = np.where(
        types == "专项检查",
        np.asarray(names)[np.concatenate([camp_k, np.zeros(n - len(camp_k), int)])],
        None,
    )
    task = np.full(n, None, dtype=object)
    task[types == "联合抽查"] = [f"西文旅联抽〔{year}〕{k + 1}号" for k in joint_k]
    task[types == "双随机抽查"] = [f"西文旅双随机〔{year}〕{k + 1}号" for k in rand_k]
    venues = pick_venues(rng, pool, venue_types)
    frame = pl.DataFrame(
        {
            "inspection_date": _date_series(days),
            "inspection_type": types,
            "campaign": _texts(campaign),
            "spot_check_task": _texts(task),
            "venue_name": venues["venue_name"],
            "venue_type": venues["venue_type"],
            "inspectors": people.astype(np.int64),
            "officers": name_lists(rng, officers, people),
            "result": result,
            "disclosed_on": _date_series(disclosed),
            "note": _texts(np.where(result == "责令整改", "已下达整改通知书", None)),
        }
    ).sort("inspection_date", maintain_order=True)
    frame = frame.with_columns(
        pl.col("inspection_date").dt.month().cast(pl.Int64).alias("_month"),
        pl.lit(None, pl.Utf8).alias("_tag"),
    )
    # A daily visit in July names a helper who is not on the roster (a documented mistake).
    july = frame.with_row_index().filter(
        (pl.col("_month") == 7)
        & (pl.col("inspection_type") == "日常检查")
        & (pl.col("inspectors") >= 2)
    )["index"][0]
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == july)
        .then(pl.concat_list(pl.col("officers").list.first(), pl.lit("杨立新")))
        .otherwise(pl.col("officers"))
        .alias("officers"),
        pl.when(pl.int_range(pl.len()) == july)
        .then(pl.lit("officer_not_on_roster"))
        .otherwise(pl.col("_tag"))
        .alias("_tag"),
    )
    # The January file also holds a visit of 30 December of the year before.
    late = (
        frame.filter(pl.col("inspection_type") == "日常检查")
        .head(1)
        .with_columns(
            pl.lit(dt.date(year - 1, 12, 30)).alias("inspection_date"),
            pl.lit(1, pl.Int64).alias("_month"),
            pl.lit("outside_period").alias("_tag"),
        )
    )
    return pl.concat([late, frame])


def relic_patrols(
    year: int, rng: np.random.Generator, t: Targets, officers: list[str]
) -> pl.DataFrame:
    """Draw the year's patrols of immovable relics."""
    n = t.relic_patrols
    days = dates_in_year(rng, year, n)
    site = rng.integers(0, len(RELIC_SITES), n)
    people = rng.choice([1, 2, 3], n, p=[0.35, 0.5, 0.15])
    issue = rng.random(n) < 0.08
    sites = np.array([s for s, _ in RELIC_SITES])
    levels = np.array([lv for _, lv in RELIC_SITES])
    frame = pl.DataFrame(
        {
            "patrol_date": _date_series(days),
            "site_name": sites[site],
            "protection_level": levels[site],
            "patrollers": name_lists(rng, officers, people),
            "inspectors": people.astype(np.int64),
            "issues_found": np.where(
                issue, _pick(rng, ["保护围栏破损", "标志碑倾斜", "周边有取土痕迹"], n), "无"
            ),
            "action_taken": np.where(issue, "已上报并督促属地乡镇整改", "无"),
        }
    ).with_columns(
        pl.col("patrol_date").dt.month().cast(pl.Int64).alias("_month"),
        pl.lit(None, pl.Utf8).alias("_tag"),
    )
    # The March file carries one patrol of the last day of February (counted: it is in the year).
    last_feb = dt.date(year, 3, 1) - dt.timedelta(days=1)
    first = pl.int_range(pl.len()) == 0
    return frame.with_columns(
        pl.when(first).then(pl.lit(last_feb)).otherwise(pl.col("patrol_date")).alias("patrol_date"),
        pl.when(first).then(pl.lit(3, pl.Int64)).otherwise(pl.col("_month")).alias("_month"),
        pl.when(first).then(pl.lit("outside_period")).otherwise(pl.col("_tag")).alias("_tag"),
    ).sort("_month", "patrol_date", maintain_order=True)


TITLES = ["盗版《平凡的世界》", "非法出版物《周易预测学》", "侵权盗版教辅《五年高考三年模拟》",
          "盗版《小学生必背古诗词》", "无版号游戏光盘", "非法出版物《风水宝典》",
          "盗版《哈利·波特与魔法石》", "侵权盗版《新华字典》", "盗版《三体》", "非法报刊《健康养生报》"]  # fmt: skip


def publications(
    year: int, rng: np.random.Generator, t: Targets, pool: pl.DataFrame, cases: pl.DataFrame
) -> pl.DataFrame:
    """Draw the year's seizures and removals of illegal publications."""
    n_c, n_r = t.confiscated_rows, t.removed_rows
    n = n_c + n_r
    action = np.concatenate([np.full(n_c, "收缴"), np.full(n_r, "下架")])
    qty = np.concatenate(
        [split_total(rng, t.books_confiscated, n_c, 1), split_total(rng, t.books_removed, n_r, 1)]
    )
    days = np.concatenate([dates_in_year(rng, year, n_c), dates_in_year(rng, year, n_r)])
    venues = pick_venues(rng, pool, np.full(n, "出版物经营单位"))
    linked = (action == "收缴") & (rng.random(n) < 0.3)
    case_nos = cases["case_no"].to_numpy()
    case_no = np.where(linked, case_nos[rng.integers(0, len(case_nos), n)], None)
    frame = pl.DataFrame(
        {
            "action_date": _date_series(days),
            "venue_name": venues["venue_name"],
            "title": _pick(rng, TITLES, n),
            "action": action,
            "quantity": qty.astype(np.int64),
            "case_no": _texts(case_no),
        }
    ).sort("action_date", maintain_order=True)
    frame = frame.with_columns(
        pl.col("action_date").dt.month().cast(pl.Int64).alias("_month"),
        pl.lit(None, pl.Utf8).alias("_tag"),
    )
    # One seizure late in the year cites a case number the register never had (a documented mistake).
    seized = frame.with_row_index().filter(pl.col("action") == "收缴")
    late = seized.filter(pl.col("_month") >= 9)
    row = late["index"][0] if len(late) else seized["index"][-1]
    hit = pl.int_range(pl.len()) == row
    return frame.with_columns(
        pl.when(hit)
        .then(pl.lit(f"西文旅罚〔{year}〕{t.cases + 60}号"))
        .otherwise(pl.col("case_no"))
        .alias("case_no"),
        pl.when(hit).then(pl.lit("case_not_found")).otherwise(pl.col("_tag")).alias("_tag"),
    )


VIOLATIONS = [
    ("接纳未成年人进入互联网上网服务营业场所", "网吧"),
    ("未按规定核对、登记上网消费者有效身份证件", "网吧"),
    ("歌舞娱乐场所播放含有禁止内容的曲目", "歌舞娱乐场所"),
    ("游艺娱乐场所设置未经内容核查的游戏游艺设备", "游艺娱乐场所"),
    ("发行无合法来源出版物", "出版物经营单位"),
    ("未经许可擅自从事出版物零售业务", "出版物经营单位"),
    ("旅行社未与旅游者签订书面旅游合同", "旅行社"),
    ("未经批准擅自举办营业性演出", "演出场所"),
    ("印刷企业未按规定承印验证", "印刷企业"),
]  # fmt: skip


def cases(year: int, rng: np.random.Generator, t: Targets, pool: pl.DataFrame) -> pl.DataFrame:
    """Draw the year's administrative penalty cases, all decided, published and closed."""
    n = t.cases
    filed = dates_in_year(rng, year, n - 2, dt.date(year, 10, 31))
    decided = filed + rng.integers(5, 41, n - 2)
    # Two December cases carry documented mistakes: a late publication and a mistyped ID.
    late_filed = np.datetime64(dt.date(year, 11, 18))
    late_decided = nth_workdays_after(
        np.array([np.datetime64(dt.date(year, 11, 29))]), np.array([1]), year
    )
    id_filed = nth_workdays_after(
        np.array([np.datetime64(dt.date(year, 12, 1))]), np.array([1]), year
    )
    id_decided = nth_workdays_after(id_filed, np.array([4]), year)
    filed = np.concatenate([filed, [late_filed], id_filed])
    decided = np.concatenate([decided, late_decided, id_decided])
    lag = np.concatenate([rng.integers(1, 6, n - 2), [10, 2]])
    disclosed = nth_workdays_after(decided, lag, year)
    closed = np.minimum(
        np.maximum(decided + rng.integers(3, 21, n), disclosed),
        np.datetime64(dt.date(year, 12, 31)),
    )
    violation = rng.integers(0, len(VIOLATIONS), n)
    venue_type = np.array([v for _, v in VIOLATIONS])[violation]
    person = rng.random(n) < 0.4
    shops = pick_venues(rng, pool, venue_type)["venue_name"]
    fined = np.zeros(n, dtype=np.int64)
    fined[rng.choice(n, t.fined_cases, replace=False)] = split_total(
        rng, t.fines, t.fined_cases, 200, 50
    )
    conf = np.zeros(n, dtype=np.int64)
    conf[rng.choice(n, t.confiscating_cases, replace=False)] = split_total(
        rng, t.confiscated_yuan, t.confiscating_cases, 100, 50
    )
    frame = pl.DataFrame(
        {
            "filed_on": _date_series(filed),
            "party_person": person,
            "person": fakes.person_names(rng, n),
            "shop": shops,
            "resident_id": fakes.resident_ids(rng, n),
            "uscc": fakes.credit_codes(rng, n),
            "phone": fakes.phones(rng, n),
            "violation": np.array([v for v, _ in VIOLATIONS])[violation],
            "venue_type": venue_type,
            "decided_on": _date_series(decided),
            "fine_yuan": fined,
            "confiscated_yuan": conf,
            "disclosed_on": _date_series(disclosed),
            "closed_on": _date_series(closed),
            "_tag": pl.Series(
                [None] * (n - 2) + ["disclosure_late", "id_check_digit"], dtype=pl.Utf8
            ),
        }
    ).sort("filed_on", maintain_order=True)
    frame = frame.with_columns(
        pl.format("西文旅罚〔{}〕{}号", pl.lit(year), pl.int_range(1, pl.len() + 1)).alias(
            "case_no"
        ),
        pl.when("party_person").then("person").otherwise("shop").alias("party"),
        pl.when("party_person").then(pl.lit("个人")).otherwise(pl.lit("单位")).alias("party_type"),
        pl.when("party_person").then("resident_id").otherwise("uscc").alias("party_id"),
        pl.col("fine_yuan").cast(pl.Float64),
        pl.col("confiscated_yuan").cast(pl.Float64),
        pl.lit(True).alias("legal_review"),
        (pl.col("fine_yuan") + pl.col("confiscated_yuan") >= 1000).alias("collective_review"),
        pl.lit(True).alias("recorded"),
        pl.lit(False).alias("reconsideration"),
        pl.lit(False).alias("litigation"),
    )
    frame = frame.with_columns(
        pl.when(pl.col("_tag") == "id_check_digit")
        .then(pl.col("party_id").map_elements(fakes.break_check, return_dtype=pl.Utf8))
        .otherwise(pl.col("party_id"))
        .alias("party_id"),
    )
    return frame.select(
        "case_no",
        "filed_on",
        "party",
        "party_type",
        "party_id",
        "phone",
        "violation",
        "venue_type",
        "decided_on",
        "fine_yuan",
        "confiscated_yuan",
        "legal_review",
        "collective_review",
        "recorded",
        "disclosed_on",
        "closed_on",
        "reconsideration",
        "litigation",
        "_tag",
    )


HOTLINE_TOPICS = [
    ("投诉", "反映{shop}深夜噪音扰民"), ("举报", "举报{shop}接纳未成年人上网"),
    ("咨询", "咨询旅行社退费政策"), ("投诉", "投诉旅行社强制购物"), ("求助", "求助协调景区门票退款"),
    ("建议", "建议增加公共图书馆开放时间"), ("举报", "举报{shop}销售盗版图书"), ("其他", "反映景区停车收费问题"),
]  # fmt: skip


def hotline(year: int, rng: np.random.Generator, t: Targets, pool: pl.DataFrame) -> pl.DataFrame:
    """Draw the year's 12345 tickets, all answered on time and closed, and one carried over."""
    n = t.hotline
    received = np.concatenate(
        [
            [np.datetime64(dt.date(year - 1, 12, 27))],
            dates_in_year(rng, year, n, dt.date(year, 12, 20)),
        ]
    )
    due = nth_workdays_after(received, np.full(n + 1, 5), year)
    replied = nth_workdays_after(received, rng.integers(1, 6, n + 1), year)
    closed = np.minimum(replied + rng.integers(0, 4, n + 1), np.datetime64(dt.date(year, 12, 31)))
    topic = rng.integers(0, len(HOTLINE_TOPICS), n + 1)
    shops = pick_venues(rng, pool, _pick(rng, ["网吧", "歌舞娱乐场所", "出版物经营单位"], n + 1))[
        "venue_name"
    ]
    callers = fakes.person_names(rng, n + 1).str.slice(0, 1)
    texts = np.array([text for _, text in HOTLINE_TOPICS])[topic]
    content_text = (
        pl.DataFrame(
            {
                "c": callers,
                "t": np.where(rng.random(n + 1) < 0.5, "先生", "女士"),
                "p": fakes.phones(rng, n + 1),
                "s": shops,
                "x": texts,
            }
        )
        .select(
            pl.format(
                "市民{}{}（电话{}）{}",
                "c",
                "t",
                "p",
                pl.col("x").str.replace("{shop}", pl.col("s"), literal=True),
            )
        )
        .to_series()
    )
    numbers = pl.Series(rng.permutation(n + 1) + 1).cast(pl.Utf8).str.zfill(6)
    frame = pl.DataFrame(
        {
            "ticket_no": _date_series(received).dt.strftime("%Y%m%d") + numbers,
            "received_on": _date_series(received),
            "category": np.array([c for c, _ in HOTLINE_TOPICS])[topic],
            "content": content_text,
            "due_on": _date_series(due),
            "replied_on": _date_series(replied),
            "closed_on": _date_series(closed),
            "satisfaction": _pick(rng, ["满意", "基本满意", "未评价"], n + 1, [0.75, 0.15, 0.1]),
            "_tag": pl.Series(["carried_over"] + [None] * n, dtype=pl.Utf8),
        }
    )
    return frame


def safety_incidents(
    year: int, rng: np.random.Generator, t: Targets, pool: pl.DataFrame
) -> pl.DataFrame:
    """Draw the year's safety incidents (usually none)."""
    n = t.accidents
    days = dates_in_year(rng, year, n)
    venues = pick_venues(rng, pool, np.full(n, "网吧"))
    return pl.DataFrame(
        {
            "occurred_on": _date_series(days),
            "venue_name": venues["venue_name"],
            "severity": pl.Series(["一般"] * n, dtype=pl.Utf8),
            "deaths": np.zeros(n, dtype=np.int64),
            "injuries": np.ones(n, dtype=np.int64),
            "description": pl.Series(["顾客下楼梯时滑倒受轻伤，已送医治疗"] * n, dtype=pl.Utf8),
        }
    ).with_columns(
        pl.col("occurred_on").dt.month().cast(pl.Int64).alias("_month"),
        pl.lit(None, pl.Utf8).alias("_tag"),
    )


THEME_DATES = [("世界读书日", 4, 23), ("知识产权宣传周", 4, 26), ("文化和自然遗产日", 6, 8),
               ("国际禁毒日", 6, 26), ("国家宪法日", 12, 4)]  # fmt: skip
THEME_TITLES = {
    "世界读书日": "“4·23世界读书日”全民阅读暨版权保护宣传", "知识产权宣传周": "知识产权宣传周版权法进景区活动",
    "文化和自然遗产日": "文化和自然遗产日文物保护法宣传", "国际禁毒日": "“6·26”国际禁毒日娱乐场所禁毒宣传",
    "国家宪法日": "“12·4”国家宪法日宪法宣传周集中宣传", "送戏下乡": "法治文艺送戏下乡演出",
    "三下乡": "文化科技卫生“三下乡”普法宣传", "日常普法": "文化市场法律法规进经营场所宣传",
    "其他": "平安建设法治宣传",
}  # fmt: skip
KINDS = ["机关", "学校", "景区", "企业", "社区", "农村"]


def publicity_events(year: int, rng: np.random.Generator, t: Targets) -> pl.DataFrame:
    """Draw the year's publicity events, their printed matter and their reach."""
    n, n_theme = t.publicity_events, t.theme_day_events
    theme_k = np.arange(n_theme) % len(THEME_DATES)
    theme_days = np.array([np.datetime64(dt.date(year, m, d)) for _, m, d in THEME_DATES])[theme_k]
    theme_days = theme_days + rng.integers(-2, 3, n_theme)
    other = _pick(
        rng, ["送戏下乡", "三下乡", "日常普法", "其他"], n - n_theme, [0.2, 0.1, 0.6, 0.1]
    )
    themes = np.concatenate([np.array([x for x, _, _ in THEME_DATES])[theme_k], other])
    days = np.concatenate([theme_days, dates_in_year(rng, year, n - n_theme)])
    online = np.zeros(n, dtype=bool)
    online[rng.choice(n, t.online_events, replace=False)] = True
    kind = np.where(online, "网络", _pick(rng, KINDS, n))
    offline = np.flatnonzero(~online)

    def spread(total: int, share: float, minimum: int, step: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.int64)
        chosen = rng.choice(offline, max(1, int(len(offline) * share)), replace=False)
        out[chosen] = split_total(rng, total, len(chosen), minimum, step)
        return out

    reach = split_total(rng, t.reach, n, 100, 100)
    frame = (
        pl.DataFrame(
            {
                "event_date": _date_series(days),
                "theme": themes,
                "mode": np.where(online, "线上", "线下"),
                "venue_kind": kind,
                "posters": spread(t.posters, 0.7, 50, 10),
                "leaflets": spread(t.leaflets, 0.6, 50, 10),
                "banners": spread(t.banners, 0.75, 1, 1),
                "reach": reach,
            }
        )
        .with_columns(
            pl.col("theme").replace_strict(THEME_TITLES, return_dtype=pl.Utf8).alias("title"),
        )
        .sort("event_date", maintain_order=True)
    )
    return frame.select(
        "event_date",
        "title",
        "theme",
        "mode",
        "venue_kind",
        "posters",
        "leaflets",
        "banners",
        "reach",
        pl.col("event_date").dt.month().cast(pl.Int64).alias("_month"),
        pl.lit(None, pl.Utf8).alias("_tag"),
    )


POST_TITLES = {
    "法律法规解读": "《{}》新规解读", "以案释法": "以案释法｜{}典型案例", "普法活动": "我局开展{}普法宣传活动",
    "工作动态": "西吉县文旅局{}工作动态", "其他": "西吉文旅｜{}",
}  # fmt: skip
POST_TOPICS = ["互联网上网服务营业场所管理条例", "娱乐场所管理条例", "文物保护法", "旅游法",
               "出版管理条例", "营业性演出管理条例", "安全生产法"]  # fmt: skip


def wechat_posts(year: int, rng: np.random.Generator, t: Targets) -> pl.DataFrame:
    """Draw the year's posts on the bureau's WeChat account."""
    n = t.wechat_posts
    sections = _pick(rng, list(POST_TITLES), n, [0.25, 0.15, 0.3, 0.2, 0.1])
    topics = _pick(rng, POST_TOPICS, n)
    slug_chars = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"))
    slugs = fakes._join_chars(slug_chars[rng.integers(0, len(slug_chars), (n, 22))])
    frame = (
        pl.DataFrame(
            {
                "posted_on": _date_series(dates_in_year(rng, year, n)),
                "section": sections,
                "topic": topics,
                "reads": rng.integers(120, 4000, n),
                "url": np.char.add("https://mp.weixin.qq.com/s/", slugs),
            }
        )
        .with_columns(
            pl.col("section").replace_strict(POST_TITLES, return_dtype=pl.Utf8).alias("tmpl"),
        )
        .with_columns(
            pl.col("tmpl").str.replace("{}", pl.col("topic"), literal=True).alias("title")
        )
    )
    frame = frame.with_columns(
        pl.col("posted_on").dt.month().cast(pl.Int64).alias("_month"),
        pl.lit(None, pl.Utf8).alias("_tag"),
    )
    # An October post's link was pasted without its scheme (a documented mistake).
    octo = frame.with_row_index().filter(pl.col("_month") == 10)["index"][0]
    hit = pl.int_range(pl.len()) == octo
    frame = frame.with_columns(
        pl.when(hit)
        .then(pl.col("url").str.replace("https://", ""))
        .otherwise(pl.col("url"))
        .alias("url"),
        pl.when(hit).then(pl.lit("url")).otherwise(pl.col("_tag")).alias("_tag"),
    )
    return frame.select("posted_on", "title", "section", "reads", "url", "_month", "_tag")


LAWS = ["《中华人民共和国宪法》", "《中华人民共和国行政处罚法》", "《中华人民共和国安全生产法》",
        "《中华人民共和国文物保护法》", "《中华人民共和国旅游法》", "《娱乐场所管理条例》"]  # fmt: skip


def study_sessions(year: int, rng: np.random.Generator, t: Targets) -> pl.DataFrame:
    """Draw the year's study sessions and trainings of the leadership and staff."""
    blocks = [
        (
            t.xi_studies,
            _pick(rng, ["会前学法", "专题讲座", "集中学习"], t.xi_studies, [0.5, 0.2, 0.3]),
            "习近平法治思想",
        ),
        (t.xi_trainings, np.full(t.xi_trainings, "专题培训"), "习近平法治思想"),
        (t.meetings, np.full(t.meetings, "法治政府建设会议"), "其他"),
        (t.warning_sessions, np.full(t.warning_sessions, "警示教育"), "警示教育"),
        (
            t.other_sessions,
            _pick(rng, ["会前学法", "集中学习", "专题培训"], t.other_sessions),
            None,
        ),
    ]
    formats = np.concatenate([b[1] for b in blocks])
    topics = np.concatenate(
        [
            np.full(b[0], b[2]) if b[2] else _pick(rng, ["党纪学习教育", "法律法规"], b[0])
            for b in blocks
        ]
    )
    n = len(formats)
    # Sessions gather in the working months; August and the Spring Festival month stay empty.
    months = _pick(rng, [1, 3, 4, 5, 6, 7, 9, 10, 11, 12], n)
    content = np.where(
        topics == "习近平法治思想",
        "习近平法治思想学习纲要",
        np.where(topics == "警示教育", "观看警示教育片", _pick(rng, LAWS, n)),
    )
    frame = pl.DataFrame(
        {
            "held_on": _date_series(dates_in_months(rng, year, months)),
            "format": formats,
            "topic": topics,
            "content": content,
            "speaker": _pick(rng, ["局党组书记", "局长", "法制股股长", "县司法局特邀讲师"], n),
            "attendees": rng.integers(12, 60, n),
            "hours": rng.choice([1.0, 1.5, 2.0, 3.0], n),
        }
    ).sort("held_on", maintain_order=True)
    return frame.with_columns(
        pl.col("held_on").dt.month().cast(pl.Int64).alias("_month"),
        pl.lit(None, pl.Utf8).alias("_tag"),
    )


def truth_frames(
    year: int, seed: int = DEFAULT_SEED, scale: float = 1.0, targets: Targets | None = None
) -> dict[str, pl.DataFrame]:
    """Draw the clean rows of every ledger for one year (deterministic in year, seed, scale).

    `targets` replaces the year's own (`targets_for`): another county's figures (`flows.sample.org`).
    """
    t = targets if targets is not None else targets_for(year, seed, scale)
    rng = np.random.default_rng([seed, year])
    roster = staff(year, rng, t)
    officers = certified_officers(roster, year)
    pool = venue_pool(rng)
    case_frame = cases(year, rng, t, pool)
    return {
        "inspections": inspections(year, rng, t, officers, pool),
        "relic_patrols": relic_patrols(year, rng, t, officers),
        "publications": publications(year, rng, t, pool, case_frame),
        "cases": case_frame,
        "hotline": hotline(year, rng, t, pool),
        "safety_incidents": safety_incidents(year, rng, t, pool),
        "publicity_events": publicity_events(year, rng, t),
        "wechat_posts": wechat_posts(year, rng, t),
        "study_sessions": study_sessions(year, rng, t),
        "staff": roster,
    }

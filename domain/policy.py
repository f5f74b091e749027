"""Policies as data: deadlines, reminders, lights, escalation, caps, the calendar.

Every number has a default and a validator; an operator file (TOML, read by
``settings.policy_file``) overrides any of them, and may give a unit class (分类考核)
its own rules. Example::

    version = "2027-01"
    extension_cap = 3
    reminder_working_days = [5, 1]

    [deadlines]
    immediate = 10

    [[escalation]]
    level = 1
    working_days_after_deadline = 1

    [[calendar.years]]          # the State Council notice for a new year
    year = 2027
    holidays = [2027-01-01, 2027-02-06]
    workdays = [2027-02-14]

    [classes.township]          # units whose class is "township": these override the base
    label = "乡镇"
    reminder_working_days = [3, 1]
    [classes.township.deadlines]
    immediate = 5

Parsing a mapping into a ``PolicyBook`` happens here; reading the file does not.
"""

from __future__ import annotations

import functools
import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.duplicates import Lexicon, lexicon_from_mapping
from domain.vocabulary import CaseKind, EscalationLevel
from domain.workdays import (
    DEFAULT_FIXED_HOLIDAYS,
    CalendarYear,
    CountedDate,
    InvalidRule,
    WorkingCalendar,
    package_years,
)

__all__ = [
    "DEFAULT_BOOK",
    "DEFAULT_POLICY",
    "CalendarPolicy",
    "DeadlinePolicy",
    "EscalationStep",
    "Policy",
    "PolicyBook",
    "PolicyInvalid",
    "PolicyProblem",
    "YearSource",
    "policy_book_from_mapping",
    "policy_book_from_toml",
    "policy_from_toml",
]

YearSource = Literal["official", "operator", "provisional"]

_Frozen = ConfigDict(frozen=True, extra="forbid")


class CalendarPolicy(BaseModel):
    model_config = _Frozen

    use_package: bool = True  # start from the chinese_calendar package's years
    years: tuple[CalendarYear, ...] = ()  # operator additions and corrections, per whole year
    fixed_holidays: tuple[tuple[int, int], ...] = DEFAULT_FIXED_HOLIDAYS  # for unknown years

    @field_validator("fixed_holidays")
    @classmethod
    def _valid_month_days(cls, value: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        for month, day in value:
            try:
                date(2024, month, day)  # a leap year, so 2-29 passes; raises on nonsense
            except ValueError:
                raise InvalidRule(
                    "bad_month_day",
                    f"[{month}, {day}] 不是有效的月、日",
                    f"[{month}, {day}] is not a valid month and day",
                ) from None
        return value

    def calendar(self) -> WorkingCalendar:
        return _build_calendar(self)

    def year_source(self, year: int) -> YearSource:
        """Where a year's working days come from: the operator's file wins over the package."""
        if any(known.year == year for known in self.years):
            return "operator"
        if self.use_package and any(known.year == year for known in package_years()):
            return "official"
        return "provisional"

    def with_years(self, years: Iterable[CalendarYear]) -> CalendarPolicy:
        """These years added, each replacing an earlier entry for the same year."""
        added = tuple(years)
        replaced = {year.year for year in added}
        kept = tuple(year for year in self.years if year.year not in replaced)
        return self.model_copy(update={"years": (*kept, *added)})


@lru_cache(maxsize=8)
def _build_calendar(policy: CalendarPolicy) -> WorkingCalendar:
    if policy.use_package:
        return WorkingCalendar.chinese(policy.years, policy.fixed_holidays)
    return WorkingCalendar(policy.years, policy.fixed_holidays)


class DeadlinePolicy(BaseModel):
    """Default deadlines by kind, in working days from the day the case opens."""

    model_config = _Frozen

    immediate: int = Field(default=10, ge=1, le=1_000)  # 立行立改
    time_limited: int = Field(default=60, ge=1, le=1_000)  # 限期整改
    long_term: int = Field(default=250, ge=1, le=5_000)  # 长期整改: about a year

    def working_days(self, kind: CaseKind) -> int:
        return {
            CaseKind.IMMEDIATE: self.immediate,
            CaseKind.TIME_LIMITED: self.time_limited,
            CaseKind.LONG_TERM: self.long_term,
        }[kind]


class EscalationStep(BaseModel):
    model_config = _Frozen

    level: EscalationLevel
    working_days_after_deadline: int = Field(ge=1, le=1_000)


_DEFAULT_LADDER = (
    EscalationStep(level=EscalationLevel.URGE, working_days_after_deadline=1),
    EscalationStep(level=EscalationLevel.FORMAL_SUPERVISION, working_days_after_deadline=5),
    EscalationStep(level=EscalationLevel.LISTED_SUPERVISION, working_days_after_deadline=10),
    EscalationStep(
        level=EscalationLevel.ACCOUNTABILITY_RECOMMENDED, working_days_after_deadline=20
    ),
)


@lru_cache(maxsize=32)
def _zone(utc_offset_hours: int) -> timezone:
    """The fixed zone of an offset (made once: ``today`` runs for every event a fold reads)."""
    return timezone(timedelta(hours=utc_offset_hours))


class DuplicateWords(BaseModel):
    """The operator's words for the duplicate check (减负), added to the shipped
    lexicon (``application/duplicate_lexicon.toml``): ``synonyms`` maps a canonical form to
    its variants (abbreviations, synonyms, spelled-out forms); ``fillers`` are deleted
    before comparing; ``objects`` and ``object_suffixes`` name objects, programmes and
    places (two findings about different ones are not duplicates)."""

    model_config = _Frozen

    # canonical form -> variants; a TOML table, kept as sorted pairs (policies are hashed)
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fillers: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    object_suffixes: tuple[str, ...] = ()

    @field_validator("synonyms", mode="before")
    @classmethod
    def _table(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            # A variant list that is neither text nor a list (``{a = 3}``) is left for the
            # field's own validation, which names the key, instead of failing here.
            return sorted(
                (k, (v,) if isinstance(v, str) else tuple(v) if isinstance(v, list | tuple) else v)
                for k, v in value.items()
            )
        return value

    def lexicon(self) -> Lexicon:
        """These words as a lexicon (to extend the shipped one with)."""
        return _lexicon(self)


@functools.lru_cache(maxsize=32)
def _lexicon(words: DuplicateWords) -> Lexicon:
    data = words.model_dump(mode="json")
    data["synonyms"] = {k: list(v) for k, v in words.synonyms}
    return lexicon_from_mapping(data)


class Policy(BaseModel):
    model_config = _Frozen

    # The operator's name for this edition of the rules (recorded in each case it opens).
    version: str = Field(default="builtin", min_length=1, max_length=64)
    # The unit class (分类考核) whose section was applied; None: the base rules.
    unit_class: str | None = None
    deadlines: DeadlinePolicy = DeadlinePolicy()
    # Reminders this many working days before the deadline.
    reminder_working_days: tuple[int, ...] = (5, 3, 1)
    # Yellow when this many working days or fewer remain (the deadline day counts).
    yellow_working_days: int = Field(default=5, ge=0, le=1_000)
    escalation: tuple[EscalationStep, ...] = _DEFAULT_LADDER
    extension_cap: int = Field(default=2, ge=0, le=100)
    look_back_days: int = Field(default=180, ge=0, le=3_650)  # 回头看, calendar days
    # The old bigram measure's threshold (``domain.duplicates.find_duplicate``); findings
    # are now judged by ``judge`` in two bands:
    duplicate_threshold: Decimal = Field(default=Decimal("0.6"), ge=0, le=1)
    # At least this score: merged into the open case without asking.
    duplicate_auto_threshold: Decimal = Field(default=Decimal("0.55"), ge=0, le=1)
    # At least this score (and under the automatic one): a person decides.
    # Above 0: at 0 every open case of the unit would be "possibly the same problem".
    duplicate_possible_threshold: Decimal = Field(default=Decimal("0.25"), gt=0, le=1)
    duplicates: DuplicateWords = DuplicateWords()
    utc_offset_hours: int = Field(default=8, ge=-12, le=14)  # China has one zone, no DST
    calendar: CalendarPolicy = CalendarPolicy()

    @field_validator("reminder_working_days")
    @classmethod
    def _positive_unique(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(days < 1 for days in value) or len(set(value)) != len(value):
            raise InvalidRule(
                "reminder_days",
                "提醒天数须为互不相同的正整数（工作日）",
                "reminder offsets must be distinct positive working-day counts",
            )
        return tuple(sorted(value, reverse=True))

    @field_validator("escalation")
    @classmethod
    def _ladder(cls, value: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
        levels = [int(step.level) for step in value]
        if levels != list(range(1, len(levels) + 1)):
            raise InvalidRule(
                "escalation_levels",
                f"升级层级须从 1 起逐级排列、不跳级（现为 {levels}）",
                f"escalation levels must start at 1 and rise one by one (found {levels})",
            )
        days = [step.working_days_after_deadline for step in value]
        if days != sorted(set(days)):
            raise InvalidRule(
                "escalation_days",
                f"每一级升级须晚于上一级（逾期工作日数现为 {days}）",
                f"each escalation level must come strictly later than the last (found {days})",
            )
        return value

    @model_validator(mode="after")
    def _duplicate_bands(self) -> Policy:
        if self.duplicate_possible_threshold > self.duplicate_auto_threshold:
            raise InvalidRule(
                "duplicate_bands",
                "疑似重复阈值不得高于自动合并阈值",
                "the possible-duplicate threshold must not exceed the automatic one",
            )
        return self

    # -- derived ------------------------------------------------------------------------

    def working_calendar(self) -> WorkingCalendar:
        return self.calendar.calendar()

    def today(self, now: datetime) -> date:
        """The business date of a moment, in China Standard Time (naive = already local)."""
        return self.business_dates((now,))[0]

    def business_dates(self, moments: Iterable[datetime]) -> list[date]:
        """``[today(m) for m in moments]``, the zone looked up once: a fold asks for the
        date of every event it reads. A moment already at the zone's offset (as the
        log's are) is in the zone: its own date is the business date."""
        zone = _zone(self.utc_offset_hours)
        offset = zone.utcoffset(None)
        days = []
        for moment in moments:
            at = moment.utcoffset()
            if at is None or at == offset:  # naive = already local
                days.append(moment.date())
            else:
                days.append(moment.astimezone(zone).date())
        return days

    def start_of(self, day: date) -> datetime:
        """The first moment of a business date, as an aware datetime (for timers)."""
        return datetime.combine(day, time(), _zone(self.utc_offset_hours))

    def default_deadline(self, kind: CaseKind, start: date) -> CountedDate:
        return self.working_calendar().add_working_days(start, self.deadlines.working_days(kind))

    def escalation_step(self, level: int) -> EscalationStep | None:
        return next((step for step in self.escalation if step.level == level), None)

    # -- identity and the calendar's growth ---------------------------------------------

    def fingerprint(self) -> str:
        """SHA-256 of the rules' content (not their version name or class): two
        policies with the same hash decide every case the same way."""
        return _fingerprint(self)

    def with_calendar_years(self, years: Iterable[CalendarYear]) -> Policy:
        """The same rules on a calendar that knows these years (a notice arrived)."""
        added = tuple(years)
        if not added:
            return self
        return self.model_copy(update={"calendar": self.calendar.with_years(added)})


@lru_cache(maxsize=64)
def _fingerprint(policy: Policy) -> str:
    content = policy.model_dump(mode="json", exclude={"version", "unit_class"})
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


DEFAULT_POLICY = Policy()


def policy_from_toml(text: str) -> Policy:
    """The base rules of a policy file's text (its class sections are not read)."""
    data: dict[str, Any] = tomllib.loads(text)
    data.pop("classes", None)
    data.pop("default_class", None)
    return Policy.model_validate(data)


# -- the operator's file: base rules, unit classes ---------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One thing wrong in a policy file: the key (dotted path) and what, in both languages."""

    key: str
    code: str
    zh: str
    en: str

    def message(self, language: str) -> str:
        return self.en if language == "en" else self.zh


class PolicyInvalid(ValueError):
    """A policy file that cannot be used; ``problems`` lists every error found."""

    def __init__(self, problems: Iterable[PolicyProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.key}: {p.en}" for p in self.problems))


class PolicyBook(BaseModel):
    """The rules in force: the base policy, and one resolved policy per unit class."""

    model_config = _Frozen

    base: Policy = DEFAULT_POLICY
    classes: dict[str, Policy] = Field(default_factory=dict)  # class -> base + its section
    labels: dict[str, str] = Field(default_factory=dict)  # class -> its display name
    default_class: str | None = None  # for units whose class is not set

    def for_class(self, unit_class: str | None) -> Policy:
        """The rules for a unit of this class; a class the file does not name gets the base."""
        name = unit_class or self.default_class
        if name is None:
            return self.base
        return self.classes.get(name, self.base)

    def knows_class(self, unit_class: str) -> bool:
        return unit_class in self.classes

    def label(self, unit_class: str) -> str:
        return self.labels.get(unit_class, unit_class)


DEFAULT_BOOK = PolicyBook()

# Keys that only the base may set: the calendar and the clock are the same for every unit.
_BASE_ONLY = frozenset({"version", "calendar", "utc_offset_hours", "classes", "default_class"})
_CLASS_NAME_MAX = 32

# pydantic error type -> (zh, en); ``{…}`` are filled from the error's context.
_ERROR_TEXT: dict[str, tuple[str, str]] = {
    "extra_forbidden": ("未知的键", "unknown key"),
    "missing": ("缺少此项", "required key is missing"),
    "int_type": ("应为整数", "must be a whole number"),
    "int_parsing": ("应为整数", "must be a whole number"),
    "int_from_float": ("应为整数", "must be a whole number"),
    "bool_type": ("应为 true 或 false", "must be true or false"),
    "bool_parsing": ("应为 true 或 false", "must be true or false"),
    "string_type": ("应为文本（加引号）", "must be text (in quotes)"),
    "string_too_short": ("不能为空", "must not be empty"),
    "string_too_long": ("太长（最多 {max_length} 个字符）", "too long (at most {max_length})"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than_equal": ("不能大于 {le}", "must be at most {le}"),
    "greater_than": ("须大于 {gt}", "must be greater than {gt}"),
    "less_than": ("须小于 {lt}", "must be less than {lt}"),
    "date_type": ("应为日期，如 2027-01-01", "must be a date like 2027-01-01"),
    "date_parsing": ("应为日期，如 2027-01-01", "must be a date like 2027-01-01"),
    "date_from_datetime_parsing": ("应为日期，如 2027-01-01", "must be a date like 2027-01-01"),
    "date_from_datetime_inexact": ("应为日期，不带时间", "must be a date without a time"),
    "decimal_type": ('应为小数，如 "0.6"', 'must be a decimal like "0.6"'),
    "decimal_parsing": ('应为小数，如 "0.6"', 'must be a decimal like "0.6"'),
    "list_type": ("应为列表 [...]", "must be a list [...]"),
    "tuple_type": ("应为列表 [...]", "must be a list [...]"),
    "set_type": ("应为列表 [...]", "must be a list [...]"),
    "frozen_set_type": ("应为列表 [...]", "must be a list [...]"),
    "too_short": ("项数太少", "has too few items"),
    "too_long": ("项数太多", "has too many items"),
    "dict_type": ("应为表（[节]）", "must be a table ([section])"),
    "model_type": ("应为表（[节]）", "must be a table ([section])"),
    "model_attributes_type": ("应为表（[节]）", "must be a table ([section])"),
    "enum": ("取值无效，可选 {expected}", "invalid value; expected {expected}"),
    "int_enum": ("取值无效，可选 {expected}", "invalid value; expected {expected}"),
}


def _key(prefix: str, loc: Iterable[int | str]) -> str:
    key = prefix
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else str(part)
    return key or "(file)"


def _problems(exc: ValidationError, prefix: str) -> list[PolicyProblem]:
    found = []
    for error in exc.errors():
        context = error.get("ctx") or {}
        cause = context.get("error")
        key = _key(prefix, error["loc"])
        if isinstance(cause, InvalidRule):
            found.append(PolicyProblem(key, cause.code, cause.zh, cause.en))
            continue
        kind = error["type"]
        zh, en = _ERROR_TEXT.get(kind, (error["msg"], error["msg"]))
        values = {name: value for name, value in context.items() if name != "error"}
        try:
            zh_values = {name: str(value).replace(" or ", " 或 ") for name, value in values.items()}
            zh, en = zh.format(**zh_values), en.format(**values)
        except (KeyError, IndexError):
            zh, en = error["msg"], error["msg"]
        found.append(PolicyProblem(key, kind, zh, en))
    return found


def _merged(base: Mapping[str, Any], section: Mapping[str, Any]) -> dict[str, Any]:
    """``section`` over ``base``: tables merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in section.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = _merged(below, value)
        else:
            merged[key] = value
    return merged


def _validated(
    data: Mapping[str, Any], prefix: str, problems: list[PolicyProblem]
) -> Policy | None:
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems(exc, prefix))
        return None


def policy_book_from_mapping(data: Mapping[str, Any]) -> PolicyBook:
    """A policy file's content (as TOML parses it) checked and resolved, or
    ``PolicyInvalid`` listing every problem with its key."""
    problems: list[PolicyProblem] = []
    raw = dict(data)
    classes_raw = raw.pop("classes", {})
    default_class = raw.pop("default_class", None)
    if "unit_class" in raw:
        raw.pop("unit_class")
        problems.append(
            PolicyProblem(
                "unit_class",
                "extra_forbidden",
                "未知的键（单位类别的规则写在 [classes.<类别>] 节中）",
                "unknown key (a unit class's rules go in a [classes.<class>] section)",
            )
        )
    base = _validated(raw, "", problems)
    classes: dict[str, Policy] = {}
    labels: dict[str, str] = {}
    if not isinstance(classes_raw, Mapping):
        problems.append(PolicyProblem("classes", "dict_type", *_ERROR_TEXT["dict_type"]))
        classes_raw = {}
    for name, section in classes_raw.items():
        prefix = f"classes.{name}"
        if not name.strip() or len(name) > _CLASS_NAME_MAX:
            problems.append(
                PolicyProblem(
                    prefix,
                    "class_name",
                    f"类别名须为 1 到 {_CLASS_NAME_MAX} 个字符",
                    f"a class name has 1 to {_CLASS_NAME_MAX} characters",
                )
            )
            continue
        if not isinstance(section, Mapping):
            problems.append(PolicyProblem(prefix, "dict_type", *_ERROR_TEXT["dict_type"]))
            continue
        rules = dict(section)
        label = rules.pop("label", name)
        if not isinstance(label, str) or not label.strip():
            problems.append(
                PolicyProblem(f"{prefix}.label", "string_type", *_ERROR_TEXT["string_type"])
            )
            label = name
        for key in sorted(_BASE_ONLY & rules.keys()):
            rules.pop(key)
            problems.append(
                PolicyProblem(
                    f"{prefix}.{key}",
                    "class_key_not_allowed",
                    "只能在文件顶层设置，不能按单位类别设置",
                    "can be set only at the top of the file, not per unit class",
                )
            )
        # On a broken base, check the section against the defaults: its own errors only.
        merged = _merged(raw if base is not None else {}, rules)
        resolved = _validated({**merged, "unit_class": name}, prefix, problems)
        if resolved is not None:
            classes[name] = resolved
            labels[name] = label
    if default_class is not None and not (
        isinstance(default_class, str) and default_class in classes_raw
    ):
        problems.append(
            PolicyProblem(
                "default_class",
                "unknown_class",
                f"未定义的单位类别 {default_class!r}（须有 [classes.{default_class}] 节）",
                f"unknown unit class {default_class!r} (no [classes.{default_class}] section)",
            )
        )
    if problems or base is None:
        raise PolicyInvalid(problems)
    return PolicyBook(base=base, classes=classes, labels=labels, default_class=default_class)


def policy_book_from_toml(text: str) -> PolicyBook:
    """``policy_book_from_mapping`` of TOML text; ``tomllib.TOMLDecodeError`` on bad syntax."""
    return policy_book_from_mapping(tomllib.loads(text))

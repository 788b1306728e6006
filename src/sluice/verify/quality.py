"""Data-quality checks on a replica: keys, required columns, orphans and row-count drift.

A copy can succeed and still leave duplicate keys, NULLs or orphans behind. These checks run on
the target, read-only, and report every finding as a `CheckResult` rather than stopping early."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sluice.copy.finish import count_orphans
from sluice.copy.staging import live_table
from sluice.core.errors import ConfigError, InputFileError
from sluice.core.schema import ForeignKey, Table
from sluice.core.urls import DbUrl, redact_all
from sluice.dialects import get_dialect

SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class CheckResult:
    """One finding; `value` is the offending row count, or the drift ratio for row_count_drift."""

    check: str  # primary_key_unique | primary_key_not_null | not_null | orphans | row_count_drift
    table: str
    column: str | None  # comma-joined for multi-column keys, None for table-level checks
    severity: str  # "error" or "warning"
    passed: bool
    value: float
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class OrphanRule:
    """A logical foreign key whose orphans are counted; passes while count <= max_orphans."""

    foreign_key: ForeignKey
    severity: str = "warning"
    max_orphans: int = 0

    def problems(self, at: str) -> list[str]:
        fk, n, out = self.foreign_key, self.max_orphans, []
        if self.severity not in SEVERITIES:
            out.append(f"{at}: severity {self.severity!r} is not one of {SEVERITIES}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            out.append(f"{at}: max_orphans must be an integer >= 0, not {n!r}")
        if not (fk.ref_table and fk.columns and len(fk.columns) == len(fk.ref_columns)):
            out.append(f"{at}: needs ref_table, and columns and ref_columns of equal length")
        return out

    def to_dict(self) -> dict:
        fk, rule = self.foreign_key, {"severity": self.severity, "max_orphans": self.max_orphans}
        cols, refs = list(fk.columns), list(fk.ref_columns)
        return {"columns": cols, "ref_table": fk.ref_key, "ref_columns": refs, **rule}


@dataclass(frozen=True)
class TableRules:
    """Checks beyond the key checks every table gets."""

    required: tuple[str, ...] = ()  # columns that must not be NULL (beyond the primary key)
    orphans: tuple[OrphanRule, ...] = ()
    drift_tolerance: float | None = None  # |target-source|/max(source,1) allowed; None: no check

    def problems(self, table: str) -> list[str]:
        at, tol, out = f"tables.{table}", self.drift_tolerance, []
        number = isinstance(tol, (int, float)) and not isinstance(tol, bool)
        if tol is not None and (not number or tol < 0):
            out.append(f"{at}.drift_tolerance must be a number >= 0 or null, not {tol!r}")
        for i, rule in enumerate(self.orphans):
            out += rule.problems(f"{at}.orphans[{i}]")
            if rule.foreign_key.table_key != table:
                out.append(f"{at}.orphans[{i}]: key belongs to {rule.foreign_key.table_key!r}")
        return out

    def to_dict(self) -> dict:
        orphans = [o.to_dict() for o in self.orphans]
        return {**asdict(self), "required": list(self.required), "orphans": orphans}


_TABLE_KEYS = ("drift_tolerance", "orphans", "required")
_ORPHAN_KEYS = ("columns", "max_orphans", "ref_columns", "ref_table", "severity")


@dataclass(frozen=True)
class QualityRules:
    """Rules per table name; tables absent from `tables` get only the key checks."""

    tables: Mapping[str, TableRules] = field(default_factory=dict)

    def for_table(self, name: str) -> TableRules:
        return self.tables.get(name, TableRules())

    def problems(self) -> list[str]:
        return [p for name, rules in self.tables.items() for p in rules.problems(name)]

    @classmethod
    def from_dict(cls, d: Any) -> QualityRules:
        """Parse plain JSON/YAML data, reporting every problem at once in one ConfigError."""
        problems: list[str] = []
        top = _mapping(d, "quality rules", ("tables",), problems)
        raw_tables = _mapping(top.get("tables") or {}, "tables", None, problems)
        rules = cls({str(n): _table_rules(str(n), r, problems) for n, r in raw_tables.items()})
        problems += rules.problems()
        if problems:
            raise ConfigError("invalid quality rules:\n  - " + "\n  - ".join(problems))
        return rules

    def to_dict(self) -> dict:
        """The plain form `from_dict` reads back."""
        return {"tables": {name: r.to_dict() for name, r in self.tables.items()}}


def _table_rules(table: str, raw: Any, problems: list[str]) -> TableRules:
    at = f"tables.{table}"
    r = _mapping(raw, at, _TABLE_KEYS, problems)
    listed = r.get("orphans") or []
    if not isinstance(listed, list):
        problems.append(f"{at}.orphans must be a list")
        listed = []
    orphans = tuple(
        _orphan_rule(table, o, f"{at}.orphans[{i}]", problems) for i, o in enumerate(listed)
    )
    required = _names(r.get("required") or [], f"{at}.required", problems)
    return TableRules(required, orphans, r.get("drift_tolerance"))


def _orphan_rule(table: str, raw: Any, at: str, problems: list[str]) -> OrphanRule:
    o = _mapping(raw, at, _ORPHAN_KEYS, problems)
    cols = _names(o.get("columns"), f"{at}.columns", problems)
    refs = _names(o.get("ref_columns"), f"{at}.ref_columns", problems)
    # tables by qualified key (ADR 0014): `sales.orders` is the table orders of schema sales
    (schema, name), (ref_schema, ref) = _split(table), _split(str(o.get("ref_table") or ""))
    fk = ForeignKey(name, cols, ref, refs, schema, ref_schema)
    return OrphanRule(fk, o.get("severity", "warning"), o.get("max_orphans", 0))


def _split(key: str) -> tuple[str | None, str]:
    schema, dot, name = key.partition(".")
    return (schema, name) if dot else (None, key)


def _mapping(raw: Any, at: str, known: tuple[str, ...] | None, problems: list[str]) -> Mapping:
    """`raw` when it is a mapping with only `known` keys; problems noted, {} when unusable."""
    if not isinstance(raw, Mapping):
        problems.append(f"{at} must be a mapping, not {type(raw).__name__}")
        return {}
    if known is not None:
        allowed = ", ".join(known)
        problems += [f"{at}: unknown key {k!r} (known: {allowed})" for k in raw if k not in known]
    return raw


def _names(value: Any, at: str, problems: list[str]) -> tuple[str, ...]:
    """Column names from a string or a list of strings; anything else is a problem."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    problems.append(f"{at} must be a column name or a list of them, not {value!r}")
    return ()


def rules_for(tables: Sequence[Table]) -> QualityRules:
    """Known datasets (by table names) bring their rules, minus orphan rules pointing at tables
    not copied; anything else gets the key checks only."""
    from sluice.datasets.stackoverflow import TABLE_NAMES

    names = {t.name for t in tables}
    if not names or not names <= set(TABLE_NAMES):
        return QualityRules({})
    from sluice.datasets.stackoverflow.quality import RULES as PLAIN

    RULES = QualityRules.from_dict(PLAIN)

    def kept(r: TableRules) -> TableRules:
        return replace(r, orphans=tuple(o for o in r.orphans if o.foreign_key.ref_table in names))

    return QualityRules({name: kept(RULES.for_table(name)) for name in sorted(names)})


def on_target(rules: QualityRules, tables: Sequence[Any]) -> QualityRules:
    """`rules` written in the source's names (a dataset's, `rules_for`) in the target's: the
    plan's tables (`TablePlan`s) give each table's and column's target name and schema
    (`--identifiers`, `--schema-map`). Tables not renamed keep their rules as they are."""
    plans = {tp.name: tp for tp in tables}
    if not any(tp.names for tp in tables):
        return rules

    def fk_on_target(fk: ForeignKey) -> ForeignKey:
        mine, theirs = plans.get(fk.table_key), plans.get(fk.ref_key)
        return replace(
            fk, table=mine.target.name if mine else fk.table,
            columns=tuple(mine.target_column(c) for c in fk.columns) if mine else fk.columns,
            schema=mine.target_schema if mine else fk.schema,
            ref_table=theirs.target.name if theirs else fk.ref_table,
            ref_columns=(tuple(theirs.target_column(c) for c in fk.ref_columns) if theirs
                         else fk.ref_columns),
            ref_schema=theirs.target_schema if theirs else fk.ref_schema,
        )  # fmt: skip

    out = dict(rules.tables)
    for tp in tables:
        r = out.pop(tp.name, None)
        if r is not None:
            out[tp.target_key] = replace(
                r, required=tuple(tp.target_column(c) for c in r.required),
                orphans=tuple(replace(o, foreign_key=fk_on_target(o.foreign_key))
                              for o in r.orphans),
            )  # fmt: skip
    return QualityRules(out)


def load_rules(path: str | Path) -> QualityRules:
    """Rules from a .json file, or a .yaml/.yml file when PyYAML is installed."""
    path = Path(path)
    kind = {".json": "JSON", ".yaml": "YAML", ".yml": "YAML"}.get(path.suffix.lower())
    if kind is None:
        raise ConfigError(f"{path}: quality rules must be a .json, .yaml or .yml file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputFileError(path, exc.strerror or str(exc)) from None
    parse, bad = json.loads, json.JSONDecodeError
    if kind == "YAML":
        try:
            import yaml
        except ImportError:
            raise ConfigError(f"{path}: YAML rules need PyYAML: pip install pyyaml") from None
        parse, bad = yaml.safe_load, yaml.YAMLError
    try:
        data = parse(text)
    except bad as exc:
        raise InputFileError(path, f"not valid {kind}: {' '.join(str(exc).split())}") from None
    return QualityRules.from_dict(data)


def run_checks(
    target: DbUrl,
    tables: Sequence[Table],
    rules: QualityRules,
    source_rows: Mapping[str, int] | None = None,
) -> list[CheckResult]:
    """Every check on the target over one read-only connection. Rules that do not fit the tables
    stop before connecting (one ConfigError); driver errors become errors naming the table."""
    problems = rules.problems()
    for t in tables:
        r = rules.for_table(t.key)
        wanted = [*r.required, *(c for o in r.orphans for c in o.foreign_key.columns)]
        missing = [c for c in wanted if c not in t.column_names]
        problems += [f"tables.{t.key}: no column {c!r}" for c in dict.fromkeys(missing)]
    if problems:
        raise ConfigError("quality rules do not fit the tables:\n  - " + "\n  - ".join(problems))
    d = get_dialect(target.engine)
    results: list[CheckResult] = []
    conn = d.connect(target)
    try:
        for t in tables:
            try:
                results += _table_checks(d, conn, t, rules.for_table(t.key), source_rows or {})
            except Exception as exc:
                message = redact_all(f"quality checks on {t.key!r}: {' '.join(str(exc).split())}")
                raise d.classify_error(exc)(message) from None
    finally:
        with contextlib.suppress(Exception):  # closing a broken connection must not hide why
            conn.close()  # every query was rolled back: nothing to keep
    return results


def _table_checks(d, conn, t: Table, r: TableRules, source_rows: Mapping[str, int]):
    """One scan for row count and NULL counts, one for duplicate keys, one per orphan rule.
    Results name the table by its key (`t.schema`: its schema on the target, None the
    default one, where it is read)."""
    q, name, key = d.quote, t.key, t.primary_key
    t = live_table(d, t)
    exprs = ["COUNT(*)", *(f"COUNT(*) - COUNT({q(c)})" for c in r.required)]
    if key:
        any_null = " OR ".join(f"{q(k)} IS NULL" for k in key)
        exprs.append(f"SUM(CASE WHEN {any_null} THEN 1 ELSE 0 END)")
    total, *nulls = _fetch(conn, f"SELECT {', '.join(exprs)} FROM {d.relation_sql(t)}")
    out: list[CheckResult] = []
    if key:
        cols, keys = ", ".join(key), ", ".join(q(k) for k in key)
        no_null = " AND ".join(f"{q(k)} IS NOT NULL" for k in key)
        groups = f"SELECT COUNT(*) AS {q('n')} FROM {d.relation_sql(t)} WHERE {no_null}"
        groups += f" GROUP BY {keys} HAVING COUNT(*) > 1"
        (dup,) = _fetch(conn, f"SELECT COALESCE(SUM({q('n')} - 1), 0) FROM ({groups}) {q('g')}")
        text = f"repeat a primary key ({cols}) value of another row"
        out.append(_result("primary_key_unique", name, cols, "error", dup, 0, text))
        text = f"with NULL in the primary key ({cols})"
        out.append(_result("primary_key_not_null", name, cols, "error", nulls.pop(), 0, text))
    for col, n_null in zip(r.required, nulls):
        out.append(_result("not_null", name, col, "error", n_null, 0, f"with NULL {col}"))
    for rule in r.orphans:
        fk, cols = rule.foreign_key, ", ".join(rule.foreign_key.columns)
        n_orph = count_orphans(d, conn, fk)
        text = f"whose {cols} has no {fk.ref_key} row"
        text += f" ({rule.max_orphans} allowed)" if rule.max_orphans else ""
        out.append(_result("orphans", name, cols, rule.severity, n_orph, rule.max_orphans, text))
    if r.drift_tolerance is not None and name in source_rows:
        out.append(drift_check(name, total, int(source_rows[name]), r.drift_tolerance))
    return out


def drift_check(table: str, target_rows: int, source_rows: int, tolerance: float) -> CheckResult:
    """Row-count drift of the target against the source, within `tolerance` (a ratio)."""
    ratio = abs(target_rows - source_rows) / max(source_rows, 1)
    text = f"{table} has {target_rows} rows on the target and {source_rows} on the source"
    text += f" (drift {ratio:.2%}, tolerance {tolerance:.2%})"
    return CheckResult("row_count_drift", table, None, "error", ratio <= tolerance, ratio, text)


def _fetch(conn, sql: str) -> list[int]:
    """One row of counts as ints (SUM gives Decimal or NULL on some engines); then roll back."""
    cur = conn.cursor()
    cur.execute(sql)
    row = cur.fetchone()
    conn.rollback()
    return [int(v or 0) for v in row]


def _result(check, table, column, severity, count, allowed, what) -> CheckResult:
    """A count-based result; `what` completes the sentence '<count> <table> rows ...'."""
    detail = f"{count} {table} {'row' if count == 1 else 'rows'} {what}"
    return CheckResult(check, table, column, severity, count <= allowed, float(count), detail)


def failed(results: Sequence[CheckResult], severity: str | None = "error") -> list[CheckResult]:
    """Results that did not pass, of the given severity (None: any severity)."""
    return [r for r in results if not r.passed and severity in (None, r.severity)]


def summary_lines(results: Sequence[CheckResult]) -> list[str]:
    """One readable line per result, e.g. 'FAIL error Votes orphans PostId: 3 Votes rows ...'."""
    return [
        f"{'PASS' if r.passed else 'FAIL'} {r.severity} {r.table} {r.check}"
        + (f" {r.column}: " if r.column else ": ")
        + r.detail
        for r in results
    ]

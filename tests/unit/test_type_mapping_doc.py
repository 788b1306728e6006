"""docs/type-mapping.md is generated from the dialects by tools/type_mapping.py and kept so."""

from __future__ import annotations

import difflib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "type_mapping.py"
DOC = ROOT / "docs" / "type-mapping.md"
REGENERATE = "python tools/type_mapping.py > docs/type-mapping.md"


def _script():
    spec = importlib.util.spec_from_file_location("sluice_tools_type_mapping", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_doc_is_what_the_script_renders():
    rendered = _script().render()
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    diff = "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True), rendered.splitlines(keepends=True),
            "docs/type-mapping.md", "rendered by the dialects", n=1,
        )
    )  # fmt: skip
    assert current == rendered, f"docs/type-mapping.md is stale; run `{REGENERATE}`:\n{diff}"


def test_check_flag_exit_codes(tmp_path, monkeypatch):
    module = _script()
    doc = tmp_path / "type-mapping.md"
    monkeypatch.setattr(module, "DOC", doc)
    doc.write_text(module.render(), encoding="utf-8")
    assert module.main(["--check"]) == 0
    doc.write_text("# stale\n", encoding="utf-8")
    assert module.main(["--check"]) == 1


def test_script_runs_standalone():
    out = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.startswith("# Type mapping")


def test_promised_sql_server_mappings_hold():
    broken = _script().broken_promises()
    assert not broken, "SQL Server -> PostgreSQL mappings the project promises:\n" + "\n".join(
        broken
    )


def test_plan_example_doc_is_generated_from_the_code():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    check = [sys.executable, str(root / "tools" / "example_plan.py"), "--check"]
    assert subprocess.run(check, cwd=root).returncode == 0, "run tools/example_plan.py"
    doc = (root / "docs" / "plan-stackoverflow-mssql-to-postgres.md").read_text()
    # 80 columns: a cell may wrap between words ("int" / "IDENTITY(1,1)"), never inside one
    assert re.search(r"│ int +│ INTEGER +│.*\n.*│ IDENTITY\(1,1\) +│ GENERATED ALWAYS", doc)
    assert re.search(r"GENERATED ALWAYS\s.*\n.*AS IDENTITY|GENERATED ALWAYS AS IDENTITY", doc)
    assert "nvarchar(max)" in doc and "TEXT" in doc and "uniqueidentifier" in doc


def test_postgresql_own_types_render_verbatim_on_postgresql_only():
    """Every PostgreSQL declaration the doc lists is declared exactly so on PostgreSQL, and a
    `native` one is refused by every other engine."""
    rows = _script().pg_own_rows()
    assert len(rows) == len(_script().PG_OWN)
    for decl, kind, postgres, *others in rows:
        assert postgres == decl, decl
        if kind == "native":
            assert others == ["refused"] * len(others), decl


@pytest.mark.parametrize(("engine", "column"), [("mysql", 4), ("mssql", 3)])
def test_mariadb_and_sql_server_own_types_render_verbatim_on_their_engine(engine, column):
    """Every MariaDB / SQL Server declaration the doc lists is declared exactly so on its own
    engine, and a `native` one (geometry, INET, CLR types) is refused by every other engine."""
    rows = _script().own_rows(engine)
    assert len(rows) == len(_script().MARIADB_OWN if engine == "mysql" else _script().MSSQL_OWN)
    for decl, kind, *targets in rows:
        own = targets[column - 2]
        assert own.split(" (")[0] == decl or own == f"{decl} (lossy: 7th fractional digit " \
            "(100 ns) dropped: Python times carry microseconds)", decl  # fmt: skip
        if kind == "native":
            others = [t for i, t in enumerate(targets) if i != column - 2]
            assert others == ["refused"] * len(others), decl


def test_doc_shows_every_matrix_row_for_every_target():
    """The page is the type matrix: each row's declaration, under its source engine's
    section, with one outcome per target engine."""
    from tests.conformance import type_matrix as tm

    rendered = _script().render()
    for source in tm.ENGINES:
        section = "\n".join(_script().matrix_section(source))
        assert section in rendered
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        assert len(rows) == len(tm.rows_from(source)), source
        for r, line in zip(tm.rows_from(source), rows, strict=True):
            assert line.startswith(f"| `{r.decl.replace('|', chr(92) + '|')}` |"), line
            assert line.count(" exact") + line.count(" widening") + line.count(" lossy") + \
                line.count("refused") >= len(tm.ENGINES), line  # fmt: skip

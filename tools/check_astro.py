"""The Astro project as its image would hold it, checked without Docker (`make check-astro`).

    python tools/check_astro.py [--fresh] [--pytest-args "tests/unit -x"]

1. finds the Python of the Dockerfile's runtime (3.12 for Astro Runtime 3.x unless the tag says
   `-python-X.Y`) under pyenv, or SLUICE_PYTHON312, or on PATH;
2. copies the build context (the checkout's files less .dockerignore, tools/build_context.py)
   to .sluice/astro-context: the image's /usr/local/airflow;
3. in the virtualenv .sluice/astro-venv (reused unless --fresh or an input changed), installs
   what the runtime's ONBUILD step installs: the runtime's Airflow (RUNTIME_AIRFLOW below) and
   requirements.txt; then runs the Dockerfile's own `pip install` line, read from the
   Dockerfile, with /usr/local/airflow standing for the staged context, and reports every
   package that line moved; then pytest, pinned by constraints.txt (the only dev package);
4. parses the DAGs with Airflow's DagBag (no import error, the expected DAG ids), runs
   .astro/test_dag_integrity_default.py as `astro dev parse` does, and `pytest tests/` as
   `astro dev pytest` does, in the staged context with AIRFLOW_HOME there, as in the image.
Prints each step's time and result; exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import build_context

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".sluice"
VENV = STATE / "astro-venv"
CONTEXT = STATE / "astro-context"
IMAGE_HOME = "/usr/local/airflow"  # the runtime's AIRFLOW_HOME and working directory

# Runtime tag -> the Airflow it ships, from Astronomer's runtime constraints file for the tag
# (runtime-constraints/runtime-<tag>-python-<version>.txt on Astronomer's CDN, the file Astro
# CLI's standalone mode reads the Airflow version from). Add a line when the Dockerfile moves.
RUNTIME_AIRFLOW = {"3.3-8": "3.3.2"}
DEFAULT_PYTHON = "3.12"  # Astro Runtime 3.x's Python when the tag names none (Astro CLI's default)
DAG_IDS = {
    f"replicate_stackoverflow_{name}{suffix}"
    for name in ("to_target", "to_postgres", "postgres_to_postgres")
    for suffix in ("", "_incremental")
}
RUNTIME_TAG = re.compile(r"^(?P<base>\d+\.\d+-\d+)(?:-python-(?P<python>\d+\.\d+))?(?:-base)?$")


class CheckError(Exception):
    """A step cannot go on; the message says what is wrong and what to do."""


def runtime(dockerfile: str) -> tuple[str, str, str]:
    """(runtime tag, Airflow version, Python version) from the Dockerfile's FROM line."""
    froms = [ln.split()[1] for ln in dockerfile.splitlines() if ln.upper().startswith("FROM ")]
    if not froms or ":" not in froms[0]:
        raise CheckError("Dockerfile: no `FROM <runtime image>:<tag>` line")
    tag = froms[0].rsplit(":", 1)[1]
    found = RUNTIME_TAG.match(tag)
    if not found:
        raise CheckError(f"Dockerfile: runtime tag {tag!r} is not <3.minor>-<build>[-python-X.Y]")
    base = found["base"]
    if base not in RUNTIME_AIRFLOW:
        raise CheckError(f"Dockerfile: runtime {base} is not in RUNTIME_AIRFLOW of "
                         f"tools/check_astro.py; add the Airflow version it ships")  # fmt: skip
    return base, RUNTIME_AIRFLOW[base], found["python"] or DEFAULT_PYTHON


def pip_line(dockerfile: str, context: Path) -> list[str]:
    """The arguments after `pip install` of the Dockerfile's one pip command (in a RUN), with
    /usr/local/airflow standing for `context`."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    commands = []
    for line in joined.splitlines():
        if line.strip().upper().startswith("RUN "):
            for part in re.split(r"&&|;", line.strip()[4:]):
                words = shlex.split(part)
                if words[:2] == ["pip", "install"] or words[1:4] == ["-m", "pip", "install"]:
                    commands.append(words[words.index("install") + 1 :])
    if len(commands) != 1:
        raise CheckError(f"Dockerfile: expected one `pip install` in its RUN lines, found "
                         f"{len(commands)}")  # fmt: skip
    return [w.replace(IMAGE_HOME, str(context)) for w in commands[0]]


def pinned(name: str) -> str:
    """`name==version` as constraints.txt pins it (the first pin; markers dropped)."""
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if re.match(rf"^{re.escape(name)}==", line, re.I):
            return line.split(";")[0].strip()
    raise CheckError(f"constraints.txt pins no {name}")


def find_python(version: str) -> Path:
    """The interpreter for `version`: $SLUICE_PYTHON312 (for 3.12), pyenv's newest
    `version`.x, or python<version> on PATH."""
    candidates = []
    if version == "3.12" and os.environ.get("SLUICE_PYTHON312"):
        candidates.append(Path(os.environ["SLUICE_PYTHON312"]))
    roots = []
    if shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            roots.append(Path(out.stdout.strip()))
    roots += [Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))]
    for root in roots:
        found = (root / "versions").glob(f"{version}.*")
        found = [p for p in found if p.name[len(version) + 1 :].isdigit()]  # no 3.12.1t, -dev
        for home in sorted(found, key=lambda p: int(p.name.split(".")[2]), reverse=True):
            candidates.append(home / "bin" / f"python{version}")
    if shutil.which(f"python{version}"):
        candidates.append(Path(shutil.which(f"python{version}")))
    ask = "import sys; print('%d.%d' % sys.version_info[:2])"
    for python in candidates:
        if not python.exists():
            continue
        out = subprocess.run([str(python), "-c", ask], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip() == version:
            return python
    raise CheckError(f"Python {version} (the runtime's) not found: looked in pyenv's versions "
                     f"({', '.join(str(r / 'versions') for r in roots)}) and for python{version} "
                     f"on PATH; install it (`pyenv install {version}`) or set "
                     f"SLUICE_PYTHON312=/path/to/python{version}")  # fmt: skip


def stage_context() -> int:
    """Copy the build context to CONTEXT (fresh); the number of files."""
    if CONTEXT.exists():
        shutil.rmtree(CONTEXT)
    untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "-z"],
                               cwd=ROOT, capture_output=True, check=True).stdout  # fmt: skip
    names = build_context.context_files(ROOT, [n for n in untracked.decode().split("\0") if n])
    for name in names:
        (CONTEXT / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, CONTEXT / name)
    return len(names)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("  $", " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], **kw)


def versions(python: Path) -> dict[str, str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format=json"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return {p["name"].lower(): p["version"] for p in json.loads(out)}


def image_env() -> dict[str, str]:
    """The environment of the checks: this one, with Airflow's home where the image has it
    (the staged context) and the virtualenv first on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    path = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(AIRFLOW_HOME=str(CONTEXT), AIRFLOW__CORE__LOAD_EXAMPLES="False", PATH=path,
               VIRTUAL_ENV=str(VENV))  # fmt: skip
    env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
    return env


DAGBAG_CHECK = """
import json, sys
from airflow.dag_processing.dagbag import BundleDagBag
bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=sys.argv[1], bundle_name="dags-folder")
print(json.dumps({"errors": {f: t.strip().splitlines()[-1] for f, t in bag.import_errors.items()},
                  "dag_ids": sorted(bag.dag_ids)}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="recreate the virtualenv")
    parser.add_argument("--pytest-args", default="tests/", help="pytest's arguments there")
    args = parser.parse_args(argv)
    results: list[tuple[str, float, str]] = []
    failed = False

    def step(name: str, ok: bool, detail: str, started: float) -> None:
        nonlocal failed
        results.append((name, time.monotonic() - started, ("ok" if ok else "FAILED") + detail))
        failed |= not ok
        print(f"== {name}: {'ok' if ok else 'FAILED'}{detail}", flush=True)

    total = time.monotonic()
    try:
        t = time.monotonic()
        dockerfile = (ROOT / "Dockerfile").read_text()
        tag, airflow, py_version = runtime(dockerfile)
        if pinned("apache-airflow") != f"apache-airflow=={airflow}":
            raise CheckError(f"constraints.txt pins {pinned('apache-airflow')}, the runtime "
                             f"{tag} ships apache-airflow=={airflow}: the dev venv would test "
                             f"another Airflow than the image runs")  # fmt: skip
        python = find_python(py_version)
        count = stage_context()
        step("runtime and context", True, f": runtime {tag}, Airflow {airflow}, {python}, "
             f"{count} files in {CONTEXT.relative_to(ROOT)}", t)  # fmt: skip

        t = time.monotonic()
        inputs = [str(python), airflow, (ROOT / "requirements.txt").read_text()]
        stamp = hashlib.sha256("\n".join(inputs).encode()).hexdigest()[:16]
        vpy = VENV / "bin" / "python"
        if args.fresh or not (VENV / f".runtime-{stamp}").exists():
            shutil.rmtree(VENV, ignore_errors=True)
            run([python, "-m", "venv", VENV], check=True)
            # the runtime's ONBUILD install of requirements.txt, Airflow held at the runtime's
            run([vpy, "-m", "pip", "install", "--quiet", f"apache-airflow=={airflow}", "-r",
                 ROOT / "requirements.txt"], check=True)  # fmt: skip
            (VENV / f".runtime-{stamp}").touch()
            step("runtime packages", True, f": apache-airflow=={airflow} + requirements.txt", t)
        else:
            step("runtime packages", True, " (reused; --fresh to reinstall)", t)

        t = time.monotonic()
        before = versions(vpy)
        line = pip_line(dockerfile, CONTEXT)
        run([vpy, "-m", "pip", "install", "--quiet", *line], cwd=CONTEXT, check=True)
        after = versions(vpy)
        moved = sorted(f"{n} {before[n]} -> {v}" for n, v in after.items()
                       if n in before and before[n] != v)  # fmt: skip
        added = sorted(f"{n} {v}" for n, v in after.items() if n not in before)
        step("Dockerfile pip line", True, f": added {', '.join(added) or 'nothing'}; "
             f"moved {', '.join(moved) or 'nothing'}", t)  # fmt: skip

        t = time.monotonic()
        run([vpy, "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt",
             pinned("pytest")], check=True)  # fmt: skip
        step("pytest", True, f": {pinned('pytest')}", t)
    except (CheckError, subprocess.CalledProcessError) as exc:
        print(f"check-astro: {exc}", file=sys.stderr)
        return 1

    env = image_env()
    t = time.monotonic()
    out = run([vpy, "-c", DAGBAG_CHECK, CONTEXT / "dags"], cwd=CONTEXT, env=env,
              capture_output=True, text=True)  # fmt: skip
    try:
        bag = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        bag = {"errors": {"(DagBag)": (out.stderr.strip().splitlines() or ["no output"])[-1]},
               "dag_ids": []}  # fmt: skip
    missing = sorted(DAG_IDS - set(bag["dag_ids"]))
    ok = not bag["errors"] and not missing
    detail = f": {len(bag['dag_ids'])} DAGs, the expected {len(DAG_IDS)} among them"
    if not ok:
        detail = f": import errors {bag['errors']}, missing DAG ids {missing}"
    step("DagBag", ok, detail, t)

    t = time.monotonic()
    code = run([vpy, "-m", "pytest", "-q", ".astro/test_dag_integrity_default.py"],
               cwd=CONTEXT, env=env).returncode  # fmt: skip
    step("astro dev parse (integrity test)", code == 0, f": pytest exit {code}", t)

    t = time.monotonic()
    selection = shlex.split(args.pytest_args)
    code = run([vpy, "-m", "pytest", *selection], cwd=CONTEXT, env=env).returncode
    step(f"pytest {args.pytest_args}", code == 0, f": pytest exit {code}", t)

    print("\ncheck-astro summary")
    for name, seconds, result in results:
        print(f"  {seconds:7.1f} s  {name}: {result}")
    print(f"  {time.monotonic() - total:7.1f} s  total: {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

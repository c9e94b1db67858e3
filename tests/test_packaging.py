"""The wheel ships the whole of sales_core: every subpackage, py.typed and the invoice fonts.

The wheel is built the way pip builds one for an install, from the repository itself, without
build isolation (the machine may be offline: the virtualenv's setuptools is the backend), and
then read as a zip. The packages expected are found by walking the source tree, so a new
subpackage is checked without touching this file. Not an e2e test: it runs with the unit tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sales_core"
BUILD_TIMEOUT = 120  # seconds; a build takes about 3


def source_packages() -> list[Path]:
    """Every folder under sales_core/ (itself included) that holds an __init__.py."""
    found = []
    for folder, subfolders, files in os.walk(PACKAGE):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__" and "." not in d)
        if "__init__.py" in files:
            found.append(Path(folder))
    return found


def wheel_backend_missing() -> str | None:
    """Why setuptools cannot build a wheel in this environment, or None when it can."""
    try:
        import setuptools
    except ImportError:
        return "setuptools is not installed in this environment"
    # bdist_wheel comes with setuptools >= 70.1, or from the `wheel` package before that.
    if not entry_points(group="distutils.commands", name="bdist_wheel"):
        return (
            f"setuptools {setuptools.__version__} cannot build wheels here: it needs the "
            f"`wheel` package, or setuptools >= 70.1"
        )
    return None


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The file names inside a wheel freshly built from the repository."""
    missing = wheel_backend_missing()
    # The dev extras install `wheel`, so a test environment that cannot build one is broken.
    assert missing is None, f"cannot build the wheel without build isolation: {missing}"
    work = tmp_path_factory.mktemp("wheel")
    out = work / "dist"
    # Keep setuptools' build/ and egg-info folders out of the repository: a build/lib left by
    # an earlier build would otherwise go into this wheel too and hide a missing package.
    extra_config = work / "build.cfg"
    extra_config.write_text(
        f"[build]\nbuild_base = {work / 'build'}\n\n[egg_info]\negg_base = {work}\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "DIST_EXTRA_CONFIG": str(extra_config),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
    }
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--quiet",
        "-w",
        str(out),
        str(ROOT),
    ]
    done = subprocess.run(
        command, cwd=work, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT
    )
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout}\n{done.stderr}"
    wheels = sorted(out.glob("sales_core-*.whl"))
    assert len(wheels) == 1, f"expected one sales_core wheel in {out}, found {wheels}"
    with zipfile.ZipFile(wheels[0]) as archive:
        return set(archive.namelist())


def test_the_source_tree_has_subpackages() -> None:
    """The walk itself works: sales_core and its known subpackages are found."""
    names = {p.relative_to(ROOT).as_posix() for p in source_packages()}
    assert {"sales_core", "sales_core/fonts", "sales_core/metrics"} <= names


def test_every_package_is_in_the_wheel(wheel_names: set[str]) -> None:
    missing = [
        package.relative_to(ROOT).as_posix()
        for package in source_packages()
        if f"{package.relative_to(ROOT).as_posix()}/__init__.py" not in wheel_names
    ]
    assert not missing, (
        f"packages missing from the wheel: {', '.join(missing)} "
        f"(see [tool.setuptools.packages.find] in pyproject.toml)"
    )


def test_every_module_is_in_the_wheel(wheel_names: set[str]) -> None:
    missing = [
        module.relative_to(ROOT).as_posix()
        for package in source_packages()
        for module in sorted(package.glob("*.py"))
        if module.relative_to(ROOT).as_posix() not in wheel_names
    ]
    assert not missing, f"modules missing from the wheel: {', '.join(missing)}"


def test_package_data_is_in_the_wheel(wheel_names: set[str]) -> None:
    assert "sales_core/py.typed" in wheel_names
    fonts = {name for name in wheel_names if name.startswith("sales_core/fonts/")}
    assert any(name.endswith(".ttf") for name in fonts), "no .ttf font in the wheel"
    shipped = [*(PACKAGE / "fonts").glob("*.ttf"), *(PACKAGE / "fonts").glob("*.otf")]
    source_fonts = {f"sales_core/fonts/{path.name}" for path in shipped}
    assert source_fonts <= fonts, f"fonts missing: {sorted(source_fonts - fonts)}"
    assert {"sales_core/fonts/LICENSE-DejaVu.txt", "sales_core/fonts/LICENSE-Noto.txt"} <= fonts


def test_every_font_the_pdfs_use_is_in_the_wheel(wheel_names: set[str]) -> None:
    """The Arabic, Hebrew and CJK fonts come with the app's install, not only the tests'."""
    from sales_core.fonts import DEJAVU, FALLBACKS

    missing = [
        font.file
        for font in (DEJAVU, *FALLBACKS)
        if f"sales_core/fonts/{font.file}" not in wheel_names
    ]
    assert not missing, f"fonts the PDFs use but the wheel lacks: {missing}"


def test_the_wheel_holds_nothing_but_sales_core(wheel_names: set[str]) -> None:
    """tests/, pages/, benchmarks/ and the like never ship in the library's wheel."""
    strays = sorted(
        name
        for name in wheel_names
        if not name.startswith("sales_core/") and ".dist-info/" not in name
    )
    assert not strays, f"unexpected files in the wheel: {strays[:10]}"


def test_text_shaping_comes_with_the_app_install() -> None:
    """`make run` installs the app's dependencies only: the shaping engine must be one."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {
        requirement.split(">")[0].split("=")[0].strip() for requirement in project["dependencies"]
    }
    assert {"uharfbuzz", "fpdf2", "fonttools"} <= names

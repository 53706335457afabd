"""Settings: every environment setting is read in one place (claimlookup/settings.py),
documented in the README, and named the same everywhere."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from api import APP_SETTINGS, app_config, create_app
from claimlookup.settings import DEFAULT_STORE_URL, Settings

ROOT = Path(__file__).resolve().parent.parent
CODE = ("claimlookup", "api", "indexer")
NAME = re.compile(r"\bCLAIMLOOKUP_[A-Z][A-Z0-9_]*")
ENV_READ = re.compile(r"\bos\.(?:environ|getenv)\b|\bfrom os import [^\n]*\b(?:environ|getenv)\b")


def code_files() -> list[Path]:
    return sorted(p for top in CODE for p in (ROOT / top).rglob("*.py"))


def readme_configuration() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Configuration\n(.*?)(?=^## )", text, flags=re.M | re.S)
    assert section, "README.md has no Configuration section"
    return section.group(1)


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Settings)])
def test_every_setting_is_in_the_readme(name: str) -> None:
    variable = Settings.variable(name)
    assert f"`{variable}`" in readme_configuration(), f"{variable} is not in README.md, Configuration"


def test_every_claimlookup_variable_in_the_code_is_a_setting() -> None:
    known = set(Settings.variables().values())
    unknown = {f"{path.relative_to(ROOT)}: {name}" for path in code_files()
               for name in NAME.findall(path.read_text(encoding="utf-8")) if name not in known}
    assert not unknown, f"CLAIMLOOKUP_ names in the code that Settings does not have: {sorted(unknown)}"


def test_only_settings_reads_the_environment() -> None:
    readers = {str(path.relative_to(ROOT)) for path in code_files()
               if ENV_READ.search(path.read_text(encoding="utf-8"))}
    assert readers == {"claimlookup/settings.py"}, f"reading the environment: {sorted(readers)}"


def test_defaults_and_names() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.store_url == DEFAULT_STORE_URL == "sqlite:///data/claimlookup.db"
    assert Settings.variable("store_url") == "CLAIMLOOKUP_STORE_URL"
    assert Settings.variable("cache_home") == "XDG_CACHE_HOME"
    assert settings.cache_base == Path.home() / ".cache"


def test_values_from_the_environment() -> None:
    settings = Settings.from_env({"CLAIMLOOKUP_STORE_URL": "http://localhost:9200", "CLAIMLOOKUP_API_KEY": "",
                                  "CLAIMLOOKUP_MAX_PAGE_SIZE": "50", "CLAIMLOOKUP_EMBED_THREADS": "2",
                                  "XDG_CACHE_HOME": "/tmp/cache", "CLAIMLOOKUP_UNKNOWN": "x"})
    assert settings.store_url == "http://localhost:9200"
    assert settings.api_key == ""  # as given: an empty key is no key (api.auth)
    assert settings.max_page_size == 50 and settings.embed_threads == 2
    assert settings.cache_base == Path("/tmp/cache")
    assert Settings.from_env({"XDG_CACHE_HOME": ""}).cache_base == Path.home() / ".cache"


def test_a_bad_number_names_its_variable() -> None:
    with pytest.raises(ValueError, match="CLAIMLOOKUP_RETRY_AFTER"):
        Settings.from_env({"CLAIMLOOKUP_RETRY_AFTER": "soon"})


def test_the_app_config_comes_from_the_settings(clean_environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_environment.setenv("CLAIMLOOKUP_MAX_PAGE_SIZE", "7")
    clean_environment.setenv("CLAIMLOOKUP_GC_FULL_EVERY", "0")
    app = create_app({"STORE_URL": f"sqlite:///{tmp_path / 'store.db'}", "TESTING": True})
    try:
        assert app.config["MAX_PAGE_SIZE"] == 7
        assert app.config["RETRY_AFTER"] == Settings().retry_after
        assert set(app_config(Settings())) == {name.upper() for name in APP_SETTINGS}
    finally:
        app.extensions["claimlookup"].close()

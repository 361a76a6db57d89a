"""Theme files: the bundled ones load and apply; broken user files are reported, not fatal."""

from __future__ import annotations

from textual.app import App
from textual.color import Color

from chinwag import paths
from chinwag.tui.themes import load_themes

BUNDLED = {"chinwag-dark", "chinwag-light", "chinwag-amber"}


def by_name(themes):
    return {theme.name: theme for theme in themes}


async def test_bundled_themes_load_register_and_apply(tmp_path):
    themes, warnings = load_themes(user_dir=tmp_path / "none")
    assert warnings == []
    assert BUNDLED <= set(by_name(themes))
    assert by_name(themes)["chinwag-dark"].dark
    assert not by_name(themes)["chinwag-light"].dark

    app = App()
    async with app.run_test() as pilot:
        for theme in themes:
            app.register_theme(theme)
        for theme in themes:
            app.theme = theme.name
            await pilot.pause()
            assert app.current_theme.name == theme.name
            shown = Color.parse(app.get_css_variables()["primary"])
            wanted = Color.parse(theme.primary)
            assert max(abs(a - b) for a, b in zip(shown.rgb, wanted.rgb)) <= 2


def test_broken_user_themes_are_named_and_skipped(tmp_path):
    (tmp_path / "not-toml.toml").write_text('name = "x"\nprimary = \n')
    (tmp_path / "bad-colour.toml").write_text('name = "bad"\nprimary = "#12345"\n')
    (tmp_path / "no-primary.toml").write_text('name = "half"\n')
    (tmp_path / "bad-variable.toml").write_text(
        'name = "v"\nprimary = "#112233"\n[variables]\n"footer-key-foreground" = "nope"\n'
    )
    (tmp_path / "mine.toml").write_text('name = "mine"\nprimary = "#336699"\ndark = false\n')

    themes, warnings = load_themes(user_dir=tmp_path)

    names = set(by_name(themes))
    assert BUNDLED | {"mine"} == names
    assert len(warnings) == 4
    for file in ("not-toml.toml", "bad-colour.toml", "no-primary.toml", "bad-variable.toml"):
        assert any(file in warning for warning in warnings), file
    assert any("primary" in w for w in warnings if "no-primary" in w)


def test_user_theme_overrides_bundled_one_of_the_same_name():
    user_dir = paths.user_themes_dir()  # under the test's XDG_CONFIG_HOME
    user_dir.mkdir(parents=True)
    (user_dir / "my-dark.toml").write_text(
        'name = "chinwag-dark"\nprimary = "#ff0000"\nbackground = "#000000"\n'
    )

    themes, warnings = load_themes()

    assert warnings == []
    assert [t.name for t in themes].count("chinwag-dark") == 1
    assert by_name(themes)["chinwag-dark"].primary == "#ff0000"

"""bench/lighthouse.py runs Lighthouse again when Lighthouse itself asks for it, and only then.
A stand-in `lighthouse` program (a shell script) plays Lighthouse's part."""

import pytest

from bench import lighthouse

RUN_AGAIN = (
    "Runtime error encountered: Something went wrong with recording the trace over your page load. "
    "Please run Lighthouse again. (NO_NAVSTART)"
)


def stand_in(tmp_path, monkeypatch, failures, message):
    """A `lighthouse` that fails `failures` times with `message`, then writes a report."""
    counter = tmp_path / "count"
    script = tmp_path / "lighthouse"
    script.write_text(
        "#!/bin/sh\n"
        f'n=$(cat "{counter}" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "{counter}"\n'
        f'if [ $n -le {failures} ]; then echo "{message}" >&2; exit 1; fi\n'
        'for arg; do case "$arg" in\n'
        '  --output-path=*) echo \'{"ok": true}\' > "${arg#--output-path=}";;\n'
        "esac; done\n"
    )
    script.chmod(0o755)
    monkeypatch.setattr(lighthouse, "LIGHTHOUSE_BIN", script)
    return counter


def test_a_run_lighthouse_could_not_read_is_run_again(tmp_path, monkeypatch, capsys):
    counter = stand_in(tmp_path, monkeypatch, failures=2, message=RUN_AGAIN)

    report = lighthouse.run_lighthouse("http://127.0.0.1:1/", tmp_path / "report.json", {})

    assert report == {"ok": True}
    assert counter.read_text().strip() == "3"
    assert "Lighthouse asks to run again (1/3)" in capsys.readouterr().out


def test_it_gives_up_after_three_attempts(tmp_path, monkeypatch):
    counter = stand_in(tmp_path, monkeypatch, failures=5, message=RUN_AGAIN)

    with pytest.raises(RuntimeError, match="NO_NAVSTART"):
        lighthouse.run_lighthouse("http://127.0.0.1:1/", tmp_path / "report.json", {})
    assert counter.read_text().strip() == "3"


def test_any_other_failure_is_not_run_again(tmp_path, monkeypatch):
    counter = stand_in(tmp_path, monkeypatch, failures=1, message="Unable to connect to Chrome")

    with pytest.raises(RuntimeError, match="Unable to connect to Chrome"):
        lighthouse.run_lighthouse("http://127.0.0.1:1/", tmp_path / "report.json", {})
    assert counter.read_text().strip() == "1"

"""Assertions for commands run through typer's CliRunner: success, or one clean error line."""


def assert_ok(result):
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "error" not in result.stderr, result.output


def assert_one_line_error(result, code: int, *fragments: str):
    """Exit `code` (handled, not a crash), exactly one 'error:' line on stderr, no traceback."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "internal error" not in lines[0], lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert result.stdout == ""

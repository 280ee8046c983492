"""Checks for a marker parser (sample code: the strings below are data, not tasks)."""

CASES = [
    ("# TODO: write docs", "TODO"),
    ("// FIXME(bob): leak", "FIXME"),
    ("/* HACK */", "HACK"),
    ('x = "TODO"', None),
]

WEIGHTS = [
    0.2,  # XXX: guessed from one pass
    # TODO: tune on the 2026 flight data
    0.8,
]


def check(parse) -> int:
    for source, expected in CASES:
        got = parse(source)
        assert got == expected, source  # TODO: print a diff instead of the source
    # BUG(carol): the ''' case is not covered yet
    return len(CASES)


EXPECTED_OUTPUT = '''
TODO: write docs
FIXME(bob): leak
'''


def banner() -> str:
    parts = {"tag": "HACK", "text": "TODO " + "FIXME"}
    return "{tag}: {text}".format(**parts) + EXPECTED_OUTPUT + str(WEIGHTS)

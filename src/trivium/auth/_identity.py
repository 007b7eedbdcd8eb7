"""Identity normalisation: the one place that decides when two spellings are one account.

Emails and user names are stored, looked up, kept unique and throttled in one canonical
form: Unicode NFKC, then case folding, then NFKC again (Unicode's "NFKC_Casefold"
identifier caseless match), with surrounding white space removed. So `ADA@Example.com`,
`ada@example.com` and the same written in full-width letters are one address, and
`Straße` and `STRASSE` one user name.

Accents are not removed: `álice` and `alice` are two accounts on every database. The
auth tables compare these columns byte for byte (MariaDB's default collation would
otherwise find `alice` when asked for `álice`, and refuse the second account), so the
database never decides identity on its own.
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "EMAIL_MAX",
    "NO_NUL",
    "USERNAME_MAX",
    "check_email",
    "check_username",
    "has_nul",
    "normalize_email",
    "normalize_identifier",
    "normalize_username",
    "username_text_error",
]

EMAIL_MAX = 254
"""The longest email address, in characters once normalised (the column's length)."""
USERNAME_MAX = 150
"""The longest user name, in characters once normalised (the column's length)."""
NO_NUL = r"^[^\x00]*$"
"""The pattern of client text that may reach a query: no NUL, which PostgreSQL refuses.

The same constraint as the CRUD API's text fields (`string_pattern_mismatch` in a 422).
"""


def has_nul(value: str) -> bool:
    """Return whether `value` holds a NUL character, which no stored text can hold."""
    return "\x00" in value


def normalize_identifier(value: str) -> str:
    """Return the canonical form of a user name or email: NFKC, case-folded, stripped."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return folded.strip()


def normalize_email(email: str) -> str:
    """Return `email` as it is stored and looked up (see `normalize_identifier`)."""
    return normalize_identifier(email)


def normalize_username(username: str) -> str:
    """Return `username` as it is stored and looked up (see `normalize_identifier`)."""
    return normalize_identifier(username)


def check_email(value: str) -> str:
    """Return `value` normalised if it is a syntactically valid email address.

    Uses `email-validator` without a DNS lookup (no network on sign-up).

    Raises:
        ValueError: it is not an email address (`bob`, `<script>@x`, two `@`...).
    """
    from email_validator import EmailNotValidError
    from email_validator import validate_email

    try:
        checked = validate_email(value.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise ValueError("Enter a valid email address.") from None
    return _fits(normalize_email(checked.normalized), EMAIL_MAX, "An email address")


def username_text_error(value: str) -> str | None:
    """Say why the user name `value`, as typed, cannot be one (its length aside), if it cannot.

    It may not start or end with white space, nor hold a control character (Unicode category Cc), invisible format characters such as
    zero-width joiners and the bidirectional overrides that display `ab` as `ba` (Cf),
    and line and paragraph separators (Zl, Zp): they would let two names look alike,
    or garble the pages and logs that show them.
    """
    for char in value:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return (
                "A user name cannot contain control, invisible formatting or line "
                f"separator characters (U+{ord(char):04X})."
            )
    if value != value.strip():
        return "A user name cannot start or end with white space."
    return None


_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def check_username(value: str) -> str:
    """Return the user name `value` normalised, if it is one a new account may take.

    NFKC can make text longer (`"\ufb00"`, one ligature, becomes `"ff"`), so the length
    is checked on the normalised form, the one stored.

    Raises:
        ValueError: it is blank, is refused by `username_text_error` (white space
            around it, a control or format character), or is longer than
            `USERNAME_MAX` once normalised.
    """
    normalized = normalize_username(value)
    if not normalized:
        raise ValueError("A user name cannot be blank.")
    error = username_text_error(value)
    if error is not None:
        raise ValueError(error)
    return _fits(normalized, USERNAME_MAX, "A user name")


def _fits(normalized: str, limit: int, what: str) -> str:
    if len(normalized) > limit:
        raise ValueError(
            f"{what} can have at most {limit} characters once normalised "
            f"(Unicode NFKC and case folding); this one has {len(normalized)}."
        )
    return normalized

"""k3s join tokens: the secure format `K10<CA hash>::<credentials>` and bootstrap tokens."""

import hashlib
import re
import secrets

TOKEN_PREFIX = "K10"
CA_HASH_LENGTH = 64  # hex digits of a SHA-256 digest

# kubeadm-compatible bootstrap token: `<6 char id>.<16 char secret>`.
BOOTSTRAP_TOKEN_PATTERN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
BOOTSTRAP_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class TokenError(Exception):
    """A token that k3s would reject, with k3s's own message."""


class ParsedToken:
    """Parts of a join token. `bootstrap_id` is set for bootstrap tokens, username otherwise."""

    def __init__(self, ca_hash, username="", password="", bootstrap_id="", bootstrap_secret=""):
        self.ca_hash = ca_hash
        self.username = username
        self.password = password
        self.bootstrap_id = bootstrap_id
        self.bootstrap_secret = bootstrap_secret

    @property
    def is_bootstrap(self):
        return bool(self.bootstrap_id)


def hash_ca(ca_bundle_bytes):
    """Return the hash k3s puts in tokens: SHA-256 of the exact bytes /cacerts serves.

    This holds for a bundle with one certificate, which is what the simulated server writes.
    """
    return hashlib.sha256(ca_bundle_bytes).hexdigest()


def format_token(ca_hash, credentials):
    return TOKEN_PREFIX + ca_hash + "::" + credentials


def random_password():
    """Return 16 random bytes as hex, like k3s's util.Random(16)."""
    return secrets.token_hex(16)


def random_bootstrap_token():
    token_id = "".join(secrets.choice(BOOTSTRAP_ALPHABET) for _ in range(6))
    token_secret = "".join(secrets.choice(BOOTSTRAP_ALPHABET) for _ in range(16))
    return token_id, token_secret


def parse_token(token):
    """Split a token as k3s's parseToken does, raising TokenError with k3s's messages."""
    token = token.strip()
    if not token:
        raise TokenError("token must not be empty")
    if not token.startswith(TOKEN_PREFIX):
        # A short token carries no CA hash. k3s rewrites it to the secure form with an
        # empty hash, and an empty username when it is a plain password.
        if BOOTSTRAP_TOKEN_PATTERN.match(token):
            token = TOKEN_PREFIX + "::" + token
        else:
            token = TOKEN_PREFIX + ":::" + token
    body = token[len(TOKEN_PREFIX):]
    ca_hash, separator, credentials = body.partition("::")
    if not separator:
        raise TokenError("invalid token format")
    if len(ca_hash) not in (0, CA_HASH_LENGTH):
        raise TokenError("invalid token CA hash length")
    bootstrap = BOOTSTRAP_TOKEN_PATTERN.match(credentials)
    if bootstrap:
        return ParsedToken(ca_hash, bootstrap_id=bootstrap.group(1),
                           bootstrap_secret=bootstrap.group(2))
    username, separator, password = credentials.partition(":")
    if not separator:
        raise TokenError("invalid token format")
    return ParsedToken(ca_hash, username=username, password=password)

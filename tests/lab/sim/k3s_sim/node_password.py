"""Node password hashes, stored like k3s in secret kube-system/<node>.node-password.k3s.

The hash string is `$1:<salt hex>:<log2 N>:<r>:<p>:<key hex>` from scrypt, which is the shape
of k3s's own password hasher.
"""

import hashlib
import hmac
import secrets

SCRYPT_LOG2_N = 15
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_KEY_LENGTH = 32
SALT_LENGTH = 8
# scrypt with N=2^15 and r=8 needs 32 MiB, which is exactly hashlib's default limit.
SCRYPT_MAX_MEMORY = 64 * 1024 * 1024


def _derive(password, salt, log2_n, r, p, key_length):
    return hashlib.scrypt(password.encode(), salt=salt, n=2 ** log2_n, r=r, p=p,
                          maxmem=SCRYPT_MAX_MEMORY, dklen=key_length)


def hash_password(password):
    salt = secrets.token_bytes(SALT_LENGTH)
    key = _derive(password, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, SCRYPT_KEY_LENGTH)
    return "$1:%s:%d:%d:%d:%s" % (salt.hex(), SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, key.hex())


def verify_password(password, password_hash):
    """Return True when password matches a hash made by hash_password."""
    try:
        version, salt_hex, log2_n, r, p, key_hex = password_hash.split(":")
        if version != "$1":
            return False
        expected = bytes.fromhex(key_hex)
        key = _derive(password, bytes.fromhex(salt_hex), int(log2_n), int(r), int(p),
                      len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(key, expected)

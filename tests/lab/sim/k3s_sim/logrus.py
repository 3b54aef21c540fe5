"""Log lines in the logrus text format that k3s writes to its journal.

k3s logs through logrus with full timestamps, so a journal line reads
`time="2025-01-08T10:11:12Z" level=info msg="Starting k3s agent v1.31.4+k3s1 (a562d090)"`.
"""

import datetime
import string
import sys
import threading

# logrus leaves a value unquoted only when every character is in this set.
_PLAIN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._/@^+")

_write_lock = threading.Lock()


def _quote_go(text):
    """Quote text the way Go's strconv.Quote does for printable ASCII and common escapes."""
    escaped = []
    for character in text:
        if character == '"':
            escaped.append('\\"')
        elif character == "\\":
            escaped.append("\\\\")
        elif character == "\n":
            escaped.append("\\n")
        elif character == "\t":
            escaped.append("\\t")
        elif character == "\r":
            escaped.append("\\r")
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            escaped.append("\\x%02x" % ord(character))
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


def format_value(text):
    if text and all(character in _PLAIN_CHARACTERS for character in text):
        return text
    return _quote_go(text)


def format_line(level, message, now=None):
    now = now or datetime.datetime.now().astimezone()
    timestamp = now.replace(microsecond=0).isoformat()
    if timestamp.endswith("+00:00"):
        timestamp = timestamp[: -len("+00:00")] + "Z"
    return 'time="%s" level=%s msg=%s' % (timestamp, level, format_value(message))


def log(level, message):
    line = format_line(level, message)
    with _write_lock:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def info(message):
    log("info", message)


def warning(message):
    log("warning", message)


def error(message):
    log("error", message)


def fatal(message, exit_code=1):
    """Log at level fatal and exit, as logrus.Fatal does."""
    log("fatal", message)
    sys.exit(exit_code)

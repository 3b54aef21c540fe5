"""Reader for the subset of YAML that /etc/rancher/k3s/config.yaml uses in practice.

Supported: `key: value` with optional quotes, `key: [a, b]`, and a key followed by `- item`
lines. Nested maps are not, because k3s's configuration file is a flat map of flag names.
"""

import os

DEFAULT_PATH = "/etc/rancher/k3s/config.yaml"


class ConfigError(Exception):
    pass


def _scalar(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _strip_comment(line):
    quote = None
    for index, character in enumerate(line):
        if quote:
            if character == quote:
                quote = None
        elif character in "'\"":
            quote = character
        elif character == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def parse_text(text, path="config"):
    values = {}
    current_list_key = None
    for number, raw_line in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw_line).rstrip()
        if not line.strip() or line.strip() == "---":
            continue
        stripped = line.strip()
        if stripped.startswith("- "):
            if current_list_key is None:
                raise ConfigError("%s:%d: list item without a key" % (path, number))
            values[current_list_key].append(_scalar(stripped[2:]))
            continue
        key, separator, value = stripped.partition(":")
        if not separator or line[0].isspace():
            raise ConfigError("%s:%d: expected `key: value`" % (path, number))
        key = _scalar(key)
        value = value.strip()
        if not value:
            values[key] = []
            current_list_key = key
        elif value.startswith("[") and value.endswith("]"):
            values[key] = [_scalar(item) for item in value[1:-1].split(",") if item.strip()]
            current_list_key = None
        else:
            values[key] = _scalar(value)
            current_list_key = None
    return values


def load(path=DEFAULT_PATH):
    if not os.path.exists(path):
        return {}
    with open(path) as config:
        return parse_text(config.read(), path)

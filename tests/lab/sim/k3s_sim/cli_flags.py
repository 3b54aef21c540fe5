"""Command-line flags in the style of urfave/cli, which k3s uses.

A flag is `--name value`, `--name=value` or `-alias value`; boolean flags take no value
unless written `--name=false`. A flag's value comes from the command line, else from
/etc/rancher/k3s/config.yaml, else from its environment variable.
"""

import os
import sys

from . import config_file, logrus


class Flag:
    def __init__(self, name, kind="string", aliases=(), env=None, default=None):
        self.name = name
        self.kind = kind  # "string", "bool" or "list"
        self.aliases = aliases
        self.env = env
        self.default = default


class UsageError(Exception):
    pass


def _lookup(flags, written_name):
    for flag in flags:
        if written_name == flag.name or written_name in flag.aliases:
            return flag
    return None


def _parse_arguments(flags, arguments):
    values = {}
    positional = []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        index += 1
        if argument == "--":
            positional.extend(arguments[index:])
            break
        if not argument.startswith("-") or argument == "-":
            positional.append(argument)
            continue
        written_name, has_value, value = argument.lstrip("-").partition("=")
        flag = _lookup(flags, written_name)
        if flag is None:
            raise UsageError("flag provided but not defined: -" + written_name)
        if flag.kind == "bool":
            values[flag.name] = value.lower() not in ("false", "0") if has_value else True
            continue
        if not has_value:
            if index >= len(arguments):
                raise UsageError("flag needs an argument: -" + written_name)
            value = arguments[index]
            index += 1
        if flag.kind == "list":
            values.setdefault(flag.name, []).append(value)
        else:
            values[flag.name] = value
    return values, positional


def parse(flags, arguments):
    """Return (values by flag name, positional arguments), raising UsageError.

    The configuration file is --config/-c when the command defines that flag, else
    $K3S_CONFIG_FILE, else /etc/rancher/k3s/config.yaml.
    """
    command_line, positional = _parse_arguments(flags, arguments)
    config_path = command_line.get("config") or os.environ.get("K3S_CONFIG_FILE") or \
        config_file.DEFAULT_PATH
    from_config = {}
    for key, value in config_file.load(config_path).items():
        flag = _lookup(flags, key)
        if flag is None:
            continue  # k3s ignores config keys that the current command does not define
        if flag.kind == "list":
            from_config[flag.name] = value if isinstance(value, list) else [value]
        elif flag.kind == "bool":
            from_config[flag.name] = str(value).lower() in ("true", "1", "yes")
        else:
            from_config[flag.name] = value if isinstance(value, str) else str(value)
    values = {}
    for flag in flags:
        if flag.name in command_line:
            values[flag.name] = command_line[flag.name]
        elif flag.name in from_config:
            values[flag.name] = from_config[flag.name]
        elif flag.env and os.environ.get(flag.env):
            raw = os.environ[flag.env]
            if flag.kind == "list":
                values[flag.name] = [item for item in raw.split(",") if item]
            elif flag.kind == "bool":
                values[flag.name] = raw.lower() in ("true", "1")
            else:
                values[flag.name] = raw
        else:
            values[flag.name] = flag.default if flag.kind != "list" else []
    return values, positional


def parse_or_exit(flags, arguments):
    try:
        return parse(flags, arguments)
    except (UsageError, config_file.ConfigError) as failure:
        if isinstance(failure, UsageError):
            sys.stderr.write("Incorrect Usage: %s\n\n" % failure)
        logrus.fatal(str(failure))

"""The error of a misspelt or misplaced config key."""


class ConfigKeyError(KeyError):
    """A config key is misspelt; the message names it and the fix."""

    def __str__(self):
        return self.args[0]

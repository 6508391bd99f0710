"""Per-user login names from an LDAP directory: connection, cache and lookup.

The answers ask ``Directory.find`` (through ``autoconfig.answers.lookup``); renderers never
see the directory, only the login name it gave. ldap3 is an optional dependency
(``pip install 'mail-autoconfig[ldap]'``): nothing here imports it until a directory is
configured.
"""

from autoconfig.directory.lookup import Directory, DirectoryStatus, directory_from_settings
from autoconfig.directory.personal import UserConfig, personalize
from autoconfig.directory.search import Person

__all__ = [
    "Directory", "DirectoryStatus", "Person", "UserConfig", "directory_from_settings",
    "personalize",
]

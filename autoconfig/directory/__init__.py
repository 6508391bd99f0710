"""Per-user login names from an LDAP directory: connection, cache and lookup.

The views ask ``Directory.find`` (through ``autoconfig.web.lookup``); renderers never
see the directory, only the login name it gave. ldap3 is an optional dependency
(``pip install 'mail-autoconfig[ldap]'``): nothing here imports it until a directory is
configured.
"""

from autoconfig.directory.lookup import Directory, Person, directory_from_settings

__all__ = ["Directory", "Person", "directory_from_settings"]

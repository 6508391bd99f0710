"""DNS: the records a domain should publish, checks of what it does publish, and
the MX lookups that let one domain file serve many hosted domains (docs/dns.md).

Importing this package imports no dnspython; the modules that query do.
"""

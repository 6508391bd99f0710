"""Pure renderers: ``DomainConfig`` (+ address) in, response bytes out.

They never read files, never touch Flask and never look anything up, so the
CLI's ``render`` command and the web views produce the very same bytes.
"""

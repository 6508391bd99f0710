"""Pure renderers: ``DomainConfig`` (+ address) in, response bytes out.

They never read files, never touch the web layer and never look anything up, so the
CLI's ``render`` command and the answers produce the very same bytes.
"""

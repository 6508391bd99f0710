"""Client answers: the route table, the one WSGI front, and one answer function per client
family (request in, status, headers and body out)."""

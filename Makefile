# The two commands of the README: `make serve` and `make test` (docs/contributing.md).
# Both create .venv with the project and its test tools on first use.
# `make test` also builds the sdist and wheel and installs the wheel (not editable)
# into $(WHEEL_VENV): the end-to-end tests run the server from there, as users get it.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
WHEEL_VENV ?= .venv-wheel

.PHONY: serve test test-quick lint check clean dist install-wheel image

$(BIN)/autoconfig: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "autoconfig needs Python 3.11 or newer; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

serve: $(BIN)/autoconfig
	$(BIN)/autoconfig serve --bind 127.0.0.1:8000 --domains domains

lint: $(BIN)/autoconfig
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

check: $(BIN)/autoconfig
	$(BIN)/autoconfig check domains

dist: $(BIN)/autoconfig
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

install-wheel: dist
	rm -rf $(WHEEL_VENV)
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install --quiet "$$(ls dist/*.whl)[ldap]"

test: lint check install-wheel
	WHEEL_VENV_UNDER_TEST=$(WHEEL_VENV) $(BIN)/python -m pytest

# The daily tier: every test that starts no process (tests/conftest.py), in seconds.
test-quick: $(BIN)/autoconfig
	$(BIN)/python -m pytest -m "not slow" -q

clean:
	rm -rf $(VENV) $(WHEEL_VENV) dist .pytest_cache .mypy_cache .ruff_cache

# The OCI image (Containerfile; docs/operating.md, "Container image"), from a fresh clone:
# the Debian base once per machine (deploy/podman/build-base, mmdebstrap), then the image
# from the repository with podman, timestamped with the last commit's time so that two
# builds of one commit give one image ID (deploy/podman/stable-id).
# PODMAN_CONF: the containers.conf podman runs with (the shipped one suits hosts where
# only runc and cgroupfs work; give your own, or /dev/null for podman's defaults).
# CA_BUNDLE: the CAs pip trusts while the image is built (mounted for the build, never in
# the image), the host's, so that proxies which re-sign TLS work; empty: the base's own.
# BUILD_FLAGS: more options for podman build, such as --no-cache.
IMAGE ?= localhost/autoconfig:latest
BASE_IMAGE ?= localhost/autoconfig-base:bookworm
PODMAN_CONF ?= $(CURDIR)/deploy/podman/containers.conf
CA_BUNDLE ?= $(wildcard /etc/ssl/certs/ca-certificates.crt)
BUILD_FLAGS ?=
COMMIT_TIME = $(shell git log -1 --format=%ct 2>/dev/null)

image:
	CONTAINERS_CONF=$(PODMAN_CONF) deploy/podman/build-base $(BASE_IMAGE)
	CONTAINERS_CONF=$(PODMAN_CONF) podman build --format docker --layers=false $(BUILD_FLAGS) \
		$(if $(COMMIT_TIME),--timestamp $(COMMIT_TIME)) \
		$(if $(CA_BUNDLE),--volume $(CA_BUNDLE):/run/host-ca.crt:ro --build-arg PIP_CERT=/run/host-ca.crt) \
		--build-arg BASE=$(BASE_IMAGE) --tag $(IMAGE)-build .
	CONTAINERS_CONF=$(PODMAN_CONF) $(PYTHON) deploy/podman/stable-id $(IMAGE)-build $(IMAGE)

# The edge image (deploy/edge/Containerfile; docs/operating.md, "The edge in a cluster"):
# Debian's nginx running the repository's nginx/ files, in front of the app in a cluster.
# deploy/podman/build-edge builds its base once per machine (mmdebstrap, as for the app
# image) and the image with podman.
EDGE_IMAGE ?= localhost/autoconfig-edge:latest
EDGE_BASE_IMAGE ?= localhost/autoconfig-edge-base:bookworm

.PHONY: edge-image
edge-image:
	CONTAINERS_CONF=$(PODMAN_CONF) deploy/podman/build-edge $(EDGE_IMAGE) $(EDGE_BASE_IMAGE)

# The settings page's languages: extract the English texts, merge them into every
# catalog (autoconfig/translations/<lang>/LC_MESSAGES/messages.po; new languages with
# `pybabel init`), then compile the .mo files the server reads. See docs/contributing.md, "Translations".
.PHONY: translations
translations: $(BIN)/autoconfig
	$(BIN)/pybabel extract -F babel.cfg -k Phrase --no-location --sort-output \
		--project autoconfig --msgid-bugs-address "" -o autoconfig/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i autoconfig/translations/messages.pot \
		-d autoconfig/translations
	$(BIN)/pybabel compile --statistics -d autoconfig/translations

# Teiten: `make run` and `make test` do all the set-up on a fresh Debian
# machine (missing system packages are installed with apt-get).

SWIFT      ?= swift
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Build: libpcap. Country data (tor-geoipdb) is the sensor's default
# database. The benchmark builds C yardsticks and times with GNU time.
# Tests scan the loopback interface with nmap.
DEB_PACKAGES := libpcap-dev libmaxminddb-dev tor-geoipdb gcc time python3 nmap
# Tests write a small MaxMind database with this PyPI package.
PIP_PACKAGES := mmdb-writer
RELEASE_BIN  := .build/release/teiten
SAMPLE       := samples/sample.pcap

.PHONY: all deps test-deps build run test bench clean

all: build

# Installs only what is missing, so a prepared machine is not touched.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Python packages the tests use (PyPI), installed only when missing.
test-deps: deps
	@python3 -c "import mmdb_writer" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check $(PIP_PACKAGES)

build: deps
	$(SWIFT) build -c release --product teiten

# A deterministic, darknet-like sample: 200,000 packets over 4 hours.
$(SAMPLE): | build
	@mkdir -p $(dir $@)
	$(RELEASE_BIN) synth --packets 200000 --hours 4 --seed 1 --output $@

# The sensor on the sample: summary, then the episodes it found and the
# top ports of its hourly count files (written under samples/).
run: build $(SAMPLE)
	@rm -rf samples/alerts.jsonl samples/counts
	$(RELEASE_BIN) run --read $(SAMPLE) --sensor-id sample --alerts samples/alerts.jsonl --counts-dir samples/counts
	@echo; echo "First episodes found (teiten tail samples/alerts.jsonl --no-follow --starts-only):"
	@$(RELEASE_BIN) tail samples/alerts.jsonl --no-follow --starts-only | head -n 15
	@echo; echo "Top destination ports of probes, all hours (teiten counts top samples/counts):"
	@$(RELEASE_BIN) counts top samples/counts -n 10

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-xctest

bench: build
	Benchmarks/bench.sh

clean:
	rm -rf .build samples

# Teiten: `make run` and `make test` do all the set-up on a fresh Debian
# machine (missing system packages are installed with apt-get).

SWIFT      ?= swift
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Build: libpcap. Country data (tor-geoipdb) is the sensor's default
# database. The benchmark builds C yardsticks and times with GNU time.
# Tests scan the loopback interface with nmap.
DEB_PACKAGES := libpcap-dev libmaxminddb-dev tor-geoipdb gcc time python3 nmap
# make test's deployment checks (systemd-analyze, logrotate) and its short
# live load (tcpreplay onto lo).
DEPLOY_PACKAGES := systemd logrotate tcpreplay
# Tests write a small MaxMind database with this PyPI package.
PIP_PACKAGES := mmdb-writer
RELEASE_BIN  := .build/release/teiten
SAMPLE       := samples/sample.pcap

DEPLOY_DIR   := .build/deploy
# Seconds each fuzzer runs in `make fuzz` (and, short, at the end of `make test`).
FUZZ_SECONDS ?= 60

.PHONY: all deps apt-install test-deps build run test bench fuzz man deb install clean

all: build

# Installs only what is missing, so a prepared machine is not touched.
deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(DEB_PACKAGES)"

apt-install:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Python packages the tests use (PyPI), installed only when missing.
test-deps: deps
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(DEPLOY_PACKAGES)"
	@python3 -c "import mmdb_writer" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check $(PIP_PACKAGES)

# The Swift standard library and Foundation are linked statically, so the
# binary (and the .deb) needs only libc, libstdc++, libpcap and libmaxminddb.
build: deps
	$(SWIFT) build -c release --static-swift-stdlib --product teiten

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
	Tests/Deploy/check-deploy.sh
	RATES=20000 SECONDS_PER_RATE=5 REQUIRE_ZERO_AT_LOWEST=1 Benchmarks/live-load.sh
	Fuzz/fuzz.sh $(FUZZ_SECONDS)

bench: build
	@$(MAKE) --no-print-directory apt-install PACKAGES=tcpreplay
	Benchmarks/bench.sh

# libFuzzer on the decoder and the capture-file path, FUZZ_SECONDS each (both
# at once, one per core), seeded from ../shared/corpus; fails on any finding.
fuzz: deps
	Fuzz/fuzz.sh $(FUZZ_SECONDS)

# Man pages (from the argument parser's help text, one page per command) and
# shell completions, into $(DEPLOY_DIR). Uses a debug build, so that it
# never relinks the static release binary.
man: deps
	$(SWIFT) package generate-manual --multi-page --configuration debug
	@rm -rf $(DEPLOY_DIR)/man $(DEPLOY_DIR)/completions; mkdir -p $(DEPLOY_DIR)/man $(DEPLOY_DIR)/completions
	@for page in .build/plugins/GenerateManual/outputs/teiten/*.1; do \
	  name=$$(basename $$page | sed 's/\./-/g; s/-1$$/.1/'); cp $$page $(DEPLOY_DIR)/man/$$name; \
	done
	.build/debug/teiten --generate-completion-script bash > $(DEPLOY_DIR)/completions/teiten.bash
	.build/debug/teiten --generate-completion-script zsh > $(DEPLOY_DIR)/completions/_teiten
	.build/debug/teiten --generate-completion-script fish > $(DEPLOY_DIR)/completions/teiten.fish

# The Debian package: .build/teiten_VERSION_ARCH.deb (Deploy/build-deb.sh).
deb: man
	$(MAKE) --no-print-directory build
	Deploy/build-deb.sh

# Installs from the build tree into / (Deploy/install.sh; root).
install: man
	$(MAKE) --no-print-directory build
	Deploy/install.sh

clean:
	rm -rf .build .build-fuzz samples

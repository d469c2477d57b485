# Thin wrapper over CMake so that the usual words work:
#   make deps    install the Debian packages the build, `make books` and a
#                shared crawl (redis-server) need (root)
#   make test-deps  those and what the tests need (nginx, httpbin, valgrind, node, ...)
#   make bench-deps those and what the benchmarks' peers need (wrk, aiohttp, Scrapy)
#   make         build (build/); CMAKE_FLAGS apply to an already configured tree too
#   make test    build, then run every test with ctest
#   make asan    build (build-asan/) and run the suite under ASan + UBSan
#   make books   build, then the main job: the 9,040-book replica crawled into
#                books.db (SQLite); BOOKS_ARGS replaces the default options
#   make bench   build and run the benchmarks (prints figures and commands)
#   make bench-crawl  the whole book site crawled by acrawl and its peers
#                (bench/crawl.sh: nginx, wrk, Python aiohttp/uvloop/Scrapy)
#   make bench-shared  the crawl shared through Redis: its cost to one worker,
#                four workers on a slow site, its dedup set's memory
#                (bench/shared.sh; BENCH_RUNS runs each, default 7)
#   make fuzz    build the libFuzzer targets with clang (build-fuzz/) and run
#                each for FUZZ_TIME seconds (default 30) through ctest -L fuzz
#   make install install into PREFIX (default /usr/local), whatever the tree
#                was configured with
BUILD ?= build
ASAN_BUILD ?= build-asan
UCONTEXT_BUILD ?= build-ucontext
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME ?= 30
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
CTEST_FLAGS ?=
BOOKS_ARGS ?=

.PHONY: all build test asan fuzz bench bench-crawl bench-shared books deps test-deps bench-deps install clean

all: build

# Configured on every build: a second run is quick, and CMAKE_FLAGS given to
# `make` on a tree configured before still take effect.
build:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

asan:
	cmake -S . -B $(ASAN_BUILD) -DAC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

fuzz:
	cmake -S . -B $(FUZZ_BUILD) -DAC_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DAC_BUILD_EXAMPLES=OFF -DAC_BUILD_BENCH=OFF -DAC_FUZZ_TIME=$(FUZZ_TIME) $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_server_request
	cd $(FUZZ_BUILD) && ctest --output-on-failure -L fuzz $(CTEST_FLAGS)

books: build
	./scripts/books.sh $(BUILD) $(BOOKS_ARGS)

bench: build
	./bench/run.sh $(BUILD)

bench-crawl: build
	./bench/crawl.sh $(BUILD)

bench-shared: build
	./bench/shared.sh $(BUILD)

deps:
	./scripts/deps.sh build

test-deps:
	./scripts/deps.sh test

bench-deps:
	./scripts/deps.sh bench

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(UCONTEXT_BUILD) $(FUZZ_BUILD)

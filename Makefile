# ion-upload: build the C core, run the sandbox, the demo, the tests.
# `make test`, `make demo` and the other targets of WITH_DEPS install what
# they need first (scripts/deps.sh), then run in a sub-make (below).
# docs/testing.md says which target runs what.

LUA         ?= lua5.4
LUA_PC      ?= lua5.4
BUSTED      ?= $(LUA) /usr/bin/busted
CC          ?= cc
PKGS        := libcurl libcrypto
LUA_CFLAGS  := $(shell pkg-config --cflags $(LUA_PC) 2>/dev/null)
DEP_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEP_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcurl -lcrypto)
OPT         ?= -O2 -g
WARN        := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS_ALL  := -std=c99 -D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 -fPIC $(WARN) $(OPT) $(LUA_CFLAGS) $(DEP_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := -shared $(LDFLAGS)
LIBS        := $(DEP_LIBS) -lpthread

BUILD       ?= build
CORE_SRC    := $(wildcard csrc/*.c)
CORE_HDR    := $(wildcard csrc/*.h)
CORE_OBJ    := $(CORE_SRC:csrc/%.c=$(BUILD)/obj/%.o)
CORE_SO     := $(BUILD)/ion/upload/core.so

ASAN_FLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
ASAN_RT     := $(shell $(CC) -print-file-name=libasan.so)
UBSAN_RT    := $(shell $(CC) -print-file-name=libubsan.so)

export LUA_PATH  := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;$(CURDIR)/spec/?.lua;;
export LUA_CPATH := $(CURDIR)/$(BUILD)/?.so;;

.PHONY: all build host examples check-rock deps test test-all test-sandbox test-lua test-one sanitize valgrind lint \
        format sandbox demo bench clean rock soak fuzz dist

# Targets that install their own dependencies. Each runs `deps`, then its
# recipe (_<target>) in a sub-make: this file's pkg-config flags are computed
# when make reads it, so only a make started after deps sees the headers.
# No recipe of these targets runs in the make that ran deps;
# scripts/check-makefile.sh (CI, before deps) keeps it that way.
WITH_DEPS   := test test-all demo examples host valgrind bench soak check-rock sanitize sandbox
.PHONY: $(WITH_DEPS:%=_%)

$(WITH_DEPS): deps
	@$(MAKE) --no-print-directory _$@

all: build
build: $(CORE_SO)

$(BUILD)/obj/%.o: csrc/%.c $(CORE_HDR)
	@test -n "$(LUA_CFLAGS)" || { echo "make: pkg-config finds no $(LUA_PC) headers; make deps installs them" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(CORE_SO): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(CORE_OBJ) $(LIBS)

deps:
	@bash scripts/deps.sh

# examples/host: a C program with its own 10 ms loop that embeds Lua and
# uploads through ion.upload a step per tick (examples/run_all.sh runs it).
HOST        := $(BUILD)/examples/host
LUA_LIBS    := $(shell pkg-config --libs $(LUA_PC) 2>/dev/null || echo -llua5.4)

_host: $(HOST)
$(HOST): examples/host/host.c
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -D_POSIX_C_SOURCE=200809L $(WARN) $(OPT) $(LUA_CFLAGS) $(CFLAGS) -o $@ $< $(LUA_LIBS) -lm

# examples/host/sleeping_host: a loop with no tick that sleeps in poll() on a
# session's fds() and timeout() (bench/host_loop.sh measures it).
.PHONY: sleeping-host
SLEEPING_HOST := $(BUILD)/examples/sleeping_host
sleeping-host: $(SLEEPING_HOST)
$(SLEEPING_HOST): examples/host/sleeping_host.c
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -D_POSIX_C_SOURCE=200809L $(WARN) $(OPT) $(LUA_CFLAGS) $(CFLAGS) -o $@ $< $(LUA_LIBS) -lm

# Every script in examples/ (and the host) against a sandbox started for it.
_examples: build $(HOST)
	@bash examples/run_all.sh

# make test, for a newcomer (a few minutes): the build, the sandbox's own
# specs, then the busted specs (unit, and integration against a sandbox
# started for the run) under Lua 5.4, but those tagged #slow (the leak
# counts over thousands of uploads, a 30 s outage, ...). make test-all (CI):
# the same with every spec, the busted suite under each Lua of MATRIX that
# is installed (scripts/test-matrix.sh; its last line sums them).
MATRIX      ?= 5.1 5.2 5.3 5.4 jit
BUSTED_FLAGS ?=

_test:
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory test-sandbox
	@$(MAKE) --no-print-directory test-lua MATRIX=5.4 BUSTED_FLAGS=--exclude-tags=soak,slow

_test-all:
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory test-sandbox
	@$(MAKE) --no-print-directory test-lua

test-sandbox:
	@if [ -d sandbox/test ]; then cd sandbox && node --test --test-reporter=spec test/; fi

test-lua:
	@BUSTED_FLAGS="$(BUSTED_FLAGS)" bash scripts/test-matrix.sh $(MATRIX)

# One busted run under $(LUA) (lua5.4 unless told), with the build in build/.
test-one: build
	$(BUSTED)

# The C core under AddressSanitizer + UBSan: the interpreter is not
# instrumented, so the runtime is preloaded. --cpath: .busted's own cpath
# (build/) would otherwise win over LUA_CPATH and load the plain build.
_sanitize:
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" build
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LD_PRELOAD="$(ASAN_RT) $(UBSAN_RT)" LUA_CPATH="$(CURDIR)/build-asan/?.so;;" \
	  $(BUSTED) --cpath="build-asan/?.so" --exclude-tags=slow,soak

# valgrind: no definitely lost bytes and no invalid accesses in the core.
# --keep-debuginfo: Lua unloads C modules at exit, so stacks would read ???
_valgrind: build
	valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --keep-debuginfo=yes \
	  --show-leak-kinds=definite --suppressions=scripts/valgrind.supp \
	  $(BUSTED) --exclude-tags=slow,soak

lint:
	luacheck -q lua bin spec examples bench
	@if command -v clang-format >/dev/null; then clang-format --dry-run --Werror csrc/*.c csrc/*.h examples/host/*.c fuzz/*.c; fi

format:
	clang-format -i csrc/*.c csrc/*.h examples/host/*.c

# The sandbox in the foreground, for a person: prints the exports (endpoint,
# token), ids that exist and commands to paste (README.md, "Quick start").
# The core is built first, so that bin/ion-upload runs from the checkout.
_sandbox: build
	node sandbox/server.js --print

_demo: build
	@bash scripts/demo.sh

_bench: build
	@bash bench/run.sh

# The long reliability runs (docs/reliability.md): the fault soak over
# several seeds with files up to 8 MiB, the crash soak of 200 files, 10,000
# uploads for fd/RSS growth. SOAK_SEEDS picks the fault seeds. Then the hot
# folder's soak, bench/watch_soak.sh (WATCH_SOAK_FILES, default 10000).
# SCALE_SOAK=1: then the back-fill of 1,000,000 files (bench/scale.sh; hours).
_soak: build
	@bash scripts/soak.sh

# Each C parser (csrc/parse.c) under libFuzzer + ASan + UBSan for FUZZ_TIME
# seconds (default 30) from its seed corpus in fuzz/corpus/.
fuzz:
	@bash scripts/fuzz.sh

# The source rock, built from the checkout with no network (scripts/dist.sh).
dist:
	@bash scripts/dist.sh

# The rockspec lints; the source rock installs, from the file and by name
# from a local rocks server, into fresh trees under Lua 5.1, 5.3 and 5.4.
_check-rock:
	@bash scripts/check-rock.sh

# luarocks install for LUA_VERSION (default 5.4) into ~/.luarocks, built from
# make dist's rock outside the checkout (scripts/rock.sh says why).
LUA_VERSION ?= 5.4
rock:
	@LUA_VERSION=$(LUA_VERSION) bash scripts/rock.sh

clean:
	rm -rf build build-asan build-fuzz bench/out
